"""Text as a terminal shows it: wide (CJK) characters take two columns."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: East Asian wide and full-width characters count
    two, combining marks none, everything else one."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display columns (on the left when ``right``,
    for numbers)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
