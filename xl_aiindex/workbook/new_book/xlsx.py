"""Cells of a new workbook with xlsxwriter: one format per :class:`Style`, values written as
numbers or text (never a formula), styled header rows with comments, column widths fitted to
CJK text, and the data-validation rules of the input sheets."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..sheetspec import HEADER, Style

#: The author of the workbook and of its header comments.
AUTHOR = "xl-aiindex"
_RED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}


def is_blank(value: Any) -> bool:
    """Whether ``value`` is an empty cell: None, NaN, ``pd.NA`` or ``pd.NaT``."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    try:
        return value is pd.NA or value is pd.NaT
    except TypeError:  # pragma: no cover - exotic scalars
        return False


def cell_width(value: Any) -> int:
    """Display width of ``value`` as a cell shows it (CJK characters count double)."""
    text = "" if is_blank(value) else (f"{value:.2f}" if isinstance(value, float) else str(value))
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class SheetWriter:
    """One xlsxwriter workbook with a cache of formats, one per :class:`Style`."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._formats: dict[Style, Format] = {}
        self.red = wb.add_format(_RED)

    def fmt(self, style: Style | None) -> Format | None:
        """The workbook's format of ``style`` (None for None), added once."""
        if style is None:
            return None
        if style not in self._formats:
            spec: dict[str, Any] = {"num_format": style.num_format}
            if style.bold:
                spec["bold"] = True
            if style.fill:
                spec.update(bg_color="#" + style.fill, pattern=1)
            if style.font_color:
                spec["font_color"] = "#" + style.font_color
            if style.wrap:
                spec.update(text_wrap=True, valign="top")
            if style.align:
                spec["align"] = style.align
            if style.indent:
                spec["indent"] = style.indent
            if style.border_bottom:
                spec["bottom"] = 1
            self._formats[style] = self.wb.add_format(spec)
        return self._formats[style]

    def value(self, ws: Worksheet, r: int, c: int, value: Any, style: Style | None = None) -> None:
        """Write one value: numbers as numbers, everything else as text (never a formula)."""
        f = self.fmt(style)
        if is_blank(value):
            if f is not None:
                ws.write_blank(r, c, None, f)
        elif isinstance(value, bool | np.bool_):
            ws.write_boolean(r, c, bool(value), f)
        elif isinstance(value, int | float | np.integer | np.floating):
            v = float(value)
            if math.isfinite(v):
                ws.write_number(r, c, v, f)
            else:
                ws.write_string(r, c, str(value), f)
        else:
            ws.write_string(r, c, str(value), f)

    def header(self, ws: Worksheet, columns: Sequence[str], notes: Mapping[str, str] | None = None,
               widths: Mapping[str, float] | None = None, min_width: float = 8) -> None:
        """Styled header row, frozen, with a comment on every column that has a note."""
        f = self.fmt(HEADER)
        for c, col in enumerate(columns):
            ws.write_string(0, c, col, f)
            note = (notes or {}).get(col)
            if note:
                lines = max(2, sum(1 + cell_width(part) // 48 for part in note.split("\n")))
                ws.write_comment(0, c, note, {"author": AUTHOR, "x_scale": 2.4,
                                              "y_scale": min(8.0, 0.35 * lines + 0.6)})
            width = (widths or {}).get(col, max(min_width, cell_width(col) + 2))
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)

    def fit(self, ws: Worksheet, columns: Sequence[str], rows: Sequence[Sequence[Any]],
            low: float = 8, high: float = 48, styles: Mapping[int, Style] | None = None) -> None:
        """Set each column's width from its longest value (CJK characters count double)."""
        for c, col in enumerate(columns):
            width = max([cell_width(col) + 2] + [cell_width(r[c]) + 2 for r in rows
                                                 if c < len(r)])
            ws.set_column(c, c, min(high, max(low, width)), self.fmt((styles or {}).get(c)))


def number_validation(what_zh: str, what_en: str) -> dict[str, Any]:
    """The data-validation rule of a number cell (blank allowed), explained in both languages."""
    return {
        "validate": "decimal", "criteria": "between", "minimum": "-1E+307", "maximum": "1E+307",
        "ignore_blank": True, "input_title": "数值 / number",
        "input_message": f"{what_zh}：数字，留空 = 缺失 / {what_en}: a number; blank = missing",
        "error_title": "不是数字 / not a number",
        "error_message": "请输入数字（或留空）/ enter a number (or leave blank)",
    }


def list_validation(choices: Sequence[str], what: str) -> dict[str, Any]:
    """The drop-down of ``choices`` for the column ``what`` (another value only warns)."""
    return {
        "validate": "list", "source": list(choices), "ignore_blank": True,
        "input_title": what[:32],
        "input_message": ("可选 / choose: " + ", ".join(choices))[:255],
        "error_type": "warning",
        "error_title": "未知名称 / unknown name",
        "error_message": ("可选 / choose one of: " + ", ".join(choices))[:255],
    }
