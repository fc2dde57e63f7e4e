"""How wide a result sheet's columns are: the display width of what a cell shows.

A cell shows its value through its number format (``0.00``, ``0%``…), and a spreadsheet
measures a column in characters of the default font's digit width; a CJK character takes about
two of them. A column is as wide as its widest shown text (its header included) plus a margin,
so that no number turns into ``###`` and no text is cut by its neighbour; wrapped columns keep
the width they were given (their text wraps instead).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .sheetspec import Cell, ColumnRows, Style

#: Characters added to the widest text of a column: the cell's padding and a gap to the next.
MARGIN = 2.0
#: Bold header text is about this much wider than regular text.
BOLD = 1.1
#: A column is never narrower than this (an empty column, a one-digit rank)…
NARROWEST = 6.0
#: …nor wider than this (longer text is cut by a filled neighbour, or wraps when styled so).
WIDEST = 80.0
#: Cells of a big column measured: its extremes and up to this many of its values.
_SAMPLE = 5000


def display_width(text: str) -> int:
    """Columns ``text`` takes: 2 for a wide (CJK) character, 0 for a combining mark, else 1.

    >>> display_width("新疆维吾尔自治区"), display_width("beijing"), display_width("92.93")
    (16, 7, 5)
    """
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


_SECTION = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|.', re.S)


def format_number(value: float, num_format: str = "General") -> str:
    """``value`` as a cell with the number format ``num_format`` shows it (the formats the
    result sheets use: ``General``, ``0``, ``0.00``, ``0.000%``, ``#,##0``, sections split by
    ``;`` with literal signs and text).

    >>> format_number(92.92851, "0.00"), format_number(0.953, "0%"), format_number(3.0, "0")
    ('92.93', '95%', '3')
    >>> format_number(-1.5, "+0.00;-0.00;0.00"), format_number(9.22628244)
    ('-1.50', '9.22628244')
    """
    if not math.isfinite(value):
        return "#NUM!"
    sections = _split_sections(num_format or "General")
    if len(sections) >= 3 and value == 0:
        body, signed = sections[2], False
    elif len(sections) >= 2 and value < 0:
        body, signed = sections[1], False
    else:
        body, signed = sections[0], True
    magnitude = abs(value) if not signed else value
    if body.strip().lower() in ("general", ""):
        if body == "" and len(sections) > 1:
            return ""   # an empty section hides the value
        return _general(magnitude)
    tokens = _SECTION.findall(body)
    digits = [t for t in tokens if t in ("0", "#", "?", ".", ",")]
    percent = "%" in tokens
    if percent:
        magnitude *= 100
    pattern = "".join(digits)
    decimals = len(pattern.split(".", 1)[1].replace(",", "")) if "." in pattern else 0
    grouped = "," in pattern.split(".", 1)[0]
    number = f"{abs(magnitude):,.{decimals}f}" if grouped else f"{abs(magnitude):.{decimals}f}"
    if signed and magnitude < 0:   # as Excel and LibreOffice: -0.004 shows -0.00
        number = "-" + number
    out, placed = [], False
    for t in tokens:
        if t in ("0", "#", "?", ".", ","):
            if not placed:
                out.append(number)
                placed = True
        elif t.startswith('"'):
            out.append(t[1:-1])
        elif t.startswith("\\"):
            out.append(t[1:])
        elif t.startswith("[") or t in ("_", "*", "@"):
            continue
        else:
            out.append(t)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _split_sections(num_format: str) -> list[str]:
    sections: list[str] = []
    part: list[str] = []
    for t in _SECTION.findall(num_format or "General"):
        if t == ";":
            sections.append("".join(part))
            part = []
        else:
            part.append(t)
    sections.append("".join(part))
    return sections


def _general(value: float) -> str:
    """A number in the General format: up to 10 significant digits in a standard column."""
    if value == int(value) and abs(value) < 1e11:
        return str(int(value))
    text = f"{value:.10g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{float(mantissa):.5g}E{int(exp):+03d}"
    return text


def shown(value: Any, style: Style | None) -> str:
    """The text a cell of ``value`` shows with ``style`` (blank: ``""``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format_number(float(value), style.num_format if style else "General")
    return str(value)


def text_width(value: Any, style: Style | None) -> float:
    """The display width of :func:`shown` (the widest line; bold text counts wider)."""
    text = shown(value, style)
    if not text:
        return 0.0
    width = max(display_width(line) for line in text.split("\n"))
    return width * BOLD if style is not None and style.bold else float(width)


def fitted_widths(rows: Sequence[Sequence[Cell]], least: Mapping[int, float] | None = None,
                  most: Mapping[int, float] | None = None) -> dict[int, float]:
    """Each column's width (0-based column -> characters): its widest shown text, the header
    included, plus :data:`MARGIN`; at least ``least[c]`` (and :data:`NARROWEST`), at most
    ``most[c]`` (default :data:`WIDEST`). A column whose cells wrap keeps its ``least`` width
    for them (only its header is measured)."""
    least = least or {}
    most = most or {}
    widest: dict[int, float] = {}
    wraps: set[int] = set()

    def see(c: int, value: Any, style: Style | None) -> None:
        if style is not None and style.wrap and c in least:
            wraps.add(c)
            return
        w = text_width(value, style)
        if w > widest.get(c, 0.0):
            widest[c] = w

    if isinstance(rows, ColumnRows):
        for c, cell in enumerate(rows.header):
            # the header wraps where it must: a word of it stays on one line
            widest[c] = max(text_width(w, cell.style) for w in str(cell.value or "").split()) \
                if str(cell.value or "").strip() else 0.0
        for c, col in enumerate(rows.columns):
            looks = [col.style] if col.styles is None else \
                list({id(st): st for st in col.styles}.values())
            formats = {st.num_format if st is not None else "General" for st in looks}
            values = col.values
            if isinstance(values, np.ndarray) and values.dtype.kind == "f" and \
                    len(formats) == 1 and "General" not in formats:
                # one fixed number format: the widest text is that of an extreme value
                picked: Sequence[int] = _extremes(values)
            else:
                picked = _sample(values)
            for i in picked:
                v = rows._plain(values[i])
                see(c, v, col.style if col.styles is None else col.styles[i])
    else:
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if r == 0 and cell.style is not None and cell.style.wrap and \
                        isinstance(cell.value, str):
                    widest[c] = max(widest.get(c, 0.0), max(
                        (text_width(w, cell.style) for w in cell.value.split()), default=0.0))
                    continue
                see(c, cell.value, cell.style)
    n_cols = max([*widest, *least, -1]) + 1
    out = {}
    for c in range(n_cols):
        width = max(widest.get(c, 0.0) + MARGIN, NARROWEST, least.get(c, 0.0))
        if c not in wraps:
            width = min(width, max(most.get(c, WIDEST), least.get(c, 0.0)))
        out[c] = float(math.ceil(width))   # whole characters: every writer keeps them exactly
    return out


def _extremes(values: np.ndarray) -> list[int]:
    """Rows of the largest, the smallest and the largest magnitude of a float column."""
    finite = np.where(np.isfinite(values), values, np.nan)
    if not np.isfinite(finite).any():
        return []
    return sorted({int(np.nanargmax(finite)), int(np.nanargmin(finite)),
                   int(np.nanargmax(np.abs(finite)))})


def _sample(values: Any) -> Sequence[int]:
    """Rows of a column to measure: all of a small one; the extremes and a spread of a big
    numeric one (its widest text is the longest of its largest and smallest numbers)."""
    n = len(values)
    if n <= _SAMPLE:
        return range(n)
    picked = set(range(0, n, max(1, n // _SAMPLE)))
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        finite = np.where(np.isfinite(values), values, np.nan)
        if np.isfinite(finite).any():
            picked.update((int(np.nanargmax(finite)), int(np.nanargmin(finite)),
                           int(np.nanargmax(np.abs(finite)))))
    else:
        lengths = [len(str(v)) for v in values]
        picked.add(int(np.argmax(lengths)))
    return sorted(picked)
