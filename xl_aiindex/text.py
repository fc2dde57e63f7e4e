"""Cell values as text, the one way every reader and the settings read a typed value."""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def text(value: Any) -> str:
    """A cell as text: None → ``""``, 3.0 → ``"3"``, other values as written, stripped.

    >>> text(None), text(3.0), text(" a "), text(2.5)
    ('', '3', 'a', '2.5')
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


#: What separates the items of a list typed in one cell: ``;``, or the full-width ``；`` and the
#: enumeration comma ``、`` a Chinese keyboard types.
_ITEM_SEPARATORS = re.compile("[;；、]")
#: The same, when the items themselves never hold a comma (method names, numbers): ``,`` and
#: ``，`` separate too.
_ITEM_OR_COMMA_SEPARATORS = re.compile("[;；、,，]")


def split_list(value: str, commas: bool = False) -> list[str]:
    """The items of a list typed in one cell, stripped, blanks dropped: separated by ``;``,
    ``；`` or ``、`` (and ``,``/``，`` with ``commas``).

    >>> split_list("第一梯队；第二梯队;第三梯队"), split_list("minmax，zscore", commas=True)
    (['第一梯队', '第二梯队', '第三梯队'], ['minmax', 'zscore'])
    """
    pattern = _ITEM_OR_COMMA_SEPARATORS if commas else _ITEM_SEPARATORS
    return [item.strip() for item in pattern.split(value) if item.strip()]


def ascii_punctuation(value: str) -> str:
    """``value`` with full-width forms as ASCII (``rank：10，20`` → ``rank:10,20``, ``３０％``
    → ``30%``; NFKC), for settings made of numbers, names of methods and separators.

    >>> ascii_punctuation("rank：10，20"), ascii_punctuation("０，１００")
    ('rank:10,20', '0,100')
    """
    return unicodedata.normalize("NFKC", value)


def share(value: Any) -> float:
    """A number typed as a number or as text, a percentage as a share (``"25%"``, ``"２５％"``
    → 0.25). Raises ``ValueError`` (``TypeError`` for None) when it is not one.

    >>> share(0.25), share("25%"), share("２５％"), share(" 0.3 ")
    (0.25, 0.25, 0.25, 0.3)
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value is None:
        raise TypeError("no value")
    s = ascii_punctuation(str(value)).strip()
    if s.endswith("%"):
        return float(s[:-1]) / 100
    return float(s)
