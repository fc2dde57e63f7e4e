"""Cell addresses: 0-based row/column indices ↔ Excel's A1 notation."""

from __future__ import annotations

from typing import Any

from ..text import text  # noqa: F401 (re-exported: the readers' cell text)


def column_letter(index: int) -> str:
    """0-based column index → Excel letters.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16383)
    ('A', 'Z', 'AA', 'XFD')
    """
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str | bytes) -> int:
    """Excel letters → 0-based column index (``"A"`` → 0, ``b"AA"`` → 26).

    >>> column_index("A"), column_index(b"AA"), column_index("XFD")
    (0, 26, 16383)
    """
    n = 0
    for ch in letters.encode() if isinstance(letters, str) else letters:
        n = n * 26 + ch - 64
    return n - 1


def address(row: int, col: int) -> str:
    """0-based row/column → A1 address (row 0 is sheet row 1).

    >>> address(0, 0), address(4, 27)
    ('A1', 'AB5')
    """
    return f"{column_letter(col)}{row + 1}"


#: Signs and words accepted for a leaf's ``direction`` besides 1 and -1 (ASCII, full-width,
#: minus sign; the words Chinese indicator tables use: 正向/负向 indicators, 逆向 = 负向).
DIRECTION_SIGNS = {"+": 1, "-": -1, "＋": 1, "－": -1, "−": -1,
                   "正": 1, "正向": 1, "正指标": 1, "正向指标": 1,
                   "负": -1, "负向": -1, "负指标": -1, "负向指标": -1,
                   "逆": -1, "逆向": -1, "逆指标": -1, "逆向指标": -1}


def direction_sign(value: Any) -> int | None:
    """``+``/``-`` or 正向/负向 (正/负, 逆向, 正指标/负指标) typed as a leaf's direction: 1 or
    -1; None for anything else.

    >>> direction_sign("正向"), direction_sign(" 负 "), direction_sign("逆向"), direction_sign("x")
    (1, -1, -1, None)
    """
    return DIRECTION_SIGNS.get(value.strip()) if isinstance(value, str) else None
