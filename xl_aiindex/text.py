"""Cell values as text, the one way every reader and the settings read a typed value."""

from __future__ import annotations

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
