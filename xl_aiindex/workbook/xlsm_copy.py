"""Copying a sheet of an opened workbook (openpyxl) into the macro-enabled one (xlsxwriter).

:func:`copy_sheet` writes every cell (values, formulas with their cached values, formats,
links, comments, merged ranges), the column widths, **row heights** and hidden rows, frozen
panes, the filter, the tab colour and the sheet's visibility, its drop-down and number
validations and its simple conditional formats (colour scales and data bars are not copied).
A formula that calls one of the ``udfs`` functions is written as a one-cell dynamic-array
formula (:func:`write_formula`), as Excel 365 stores it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from functools import cache
from typing import Any

from .excel_vba import udf_wrappers


@cache
def udf_names() -> frozenset[str]:
    """The worksheet functions of ``udfs``, upper-case: the ``Function`` procedures of its generated VBA
    wrappers (on Linux xlwings' decorators leave no mark on the Python functions)."""
    return frozenset(n.upper() for n in re.findall(r"^Function (\w+)\(", udf_wrappers(), re.M))


def calls_udf(formula: str) -> bool:
    """Whether ``formula`` calls one of the ``udfs`` worksheet functions (outside string
    literals)."""
    code = re.sub(r'"(?:[^"]|"")*"', '""', formula)
    return any(name.upper() in udf_names() for name in re.findall(r"([A-Za-z_][\w.]*)\s*\(", code))


def _rgb(color: Any) -> str | None:
    """An openpyxl colour as ``#RRGGBB``; None for theme/indexed colours and "no colour"."""
    rgb = getattr(color, "rgb", None) if color is not None else None
    if isinstance(rgb, str) and len(rgb) == 8 and rgb != "00000000":
        return "#" + rgb[2:]
    return None


class Formats:
    """xlsxwriter formats made from openpyxl cell styles, one per distinct look."""

    def __init__(self, book: Any):
        self.book = book
        self.cache: dict[tuple[Any, ...], Any] = {}

    def of(self, cell: Any) -> Any:
        if not getattr(cell, "has_style", False):
            return None
        font, fill, al, border = cell.font, cell.fill, cell.alignment, cell.border
        props: dict[str, Any] = {}
        if cell.number_format and cell.number_format != "General":
            props["num_format"] = cell.number_format
        if font is not None:
            if font.b:
                props["bold"] = True
            if font.i:
                props["italic"] = True
            if font.u:
                props["underline"] = 1
            c = _rgb(font.color)
            if c:
                props["font_color"] = c
        if fill is not None and fill.fill_type == "solid":
            c = _rgb(fill.fgColor)
            if c:
                props["bg_color"] = c
                props["pattern"] = 1
        if al is not None:
            if al.wrap_text:
                props["text_wrap"] = True
            if al.horizontal:
                props["align"] = al.horizontal
            if al.vertical:
                props["valign"] = "vcenter" if al.vertical == "center" else al.vertical
        if border is not None and border.bottom is not None and border.bottom.style:
            props["bottom"] = 2 if border.bottom.style == "medium" else 1
        if not props:
            return None
        k = tuple(sorted(props.items()))
        if k not in self.cache:
            self.cache[k] = self.book.add_format(props)
        return self.cache[k]


def _pixels(width: float) -> int:
    """A column width as stored in the file (characters of the default font) → pixels, which
    xlsxwriter stores back as the same width (Calibri 11: 7 pixels a digit)."""
    return round(width * 7)


def _copy_validations(ws: Any, out: Any) -> None:
    errors = {None: "stop", "stop": "stop", "warning": "warning", "information": "information"}
    ops = {None: "between", "between": "between", "notBetween": "not between", "equal": "==",
           "notEqual": "!=", "greaterThan": ">", "lessThan": "<", "greaterThanOrEqual": ">=",
           "lessThanOrEqual": "<="}
    kinds = {"list": "list", "decimal": "decimal", "whole": "integer", "custom": "custom",
             "textLength": "length", "date": "date", "time": "time"}
    for dv in ws.data_validations.dataValidation:
        kind = kinds.get(dv.type)
        if kind is None:
            continue
        opts: dict[str, Any] = {"validate": kind, "ignore_blank": bool(dv.allow_blank),
                                "error_type": errors.get(dv.errorStyle, "stop")}
        if kind == "list":
            opts["source"] = dv.formula1
            opts["dropdown"] = not dv.showDropDown  # the file's flag means "hide the arrow"
        elif kind == "custom":
            opts["value"] = dv.formula1
        else:
            opts["criteria"] = ops.get(dv.operator, "between")
            opts["value"] = dv.formula1
            if opts["criteria"] in ("between", "not between"):
                opts["maximum"] = dv.formula2
        for src_attr, dst in (("promptTitle", "input_title"), ("prompt", "input_message"),
                              ("errorTitle", "error_title"), ("error", "error_message")):
            if getattr(dv, src_attr):
                opts[dst] = getattr(dv, src_attr)
        opts["show_input"] = bool(dv.showInputMessage)
        opts["show_error"] = bool(dv.showErrorMessage)
        for rng in dv.sqref.ranges:
            out.data_validation(rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1,
                                dict(opts))


def _copy_conditional_formats(ws: Any, out: Any, book: Any) -> None:
    ops = {"greaterThan": ">", "lessThan": "<", "equal": "==", "notEqual": "!=",
           "greaterThanOrEqual": ">=", "lessThanOrEqual": "<=", "between": "between",
           "notBetween": "not between"}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            props: dict[str, Any] = {}
            dxf = rule.dxf
            if dxf is not None:
                if dxf.font is not None:
                    c = _rgb(dxf.font.color)
                    if c:
                        props["font_color"] = c
                    if dxf.font.b:
                        props["bold"] = True
                if dxf.fill is not None:
                    c = _rgb(dxf.fill.bgColor) or _rgb(dxf.fill.fgColor)
                    if c:
                        props["bg_color"] = c
            fmt = book.add_format(props) if props else None
            if rule.type == "expression" and rule.formula:
                opts: dict[str, Any] = {"type": "formula", "criteria": "=" + rule.formula[0]}
            elif rule.type == "cellIs" and rule.operator in ops and rule.formula:
                opts = {"type": "cell", "criteria": ops[rule.operator], "value": rule.formula[0]}
                if len(rule.formula) > 1:
                    opts = {"type": "cell", "criteria": ops[rule.operator],
                            "minimum": rule.formula[0], "maximum": rule.formula[1]}
            else:
                continue  # colour scales, data bars… are not copied
            if fmt is not None:
                opts["format"] = fmt
            for rng in cf.sqref.ranges:
                out.conditional_format(rng.coord, dict(opts))


def _write_value(out: Any, r: int, c: int, value: Any, fmt: Any, cached: Any,
                 formula: bool) -> None:
    """Write one copied cell; ``formula``: the source cell holds a formula (openpyxl's data
    type ``f``). A text cell that starts with ``=`` (a name typed after a ``'``) stays text."""
    from openpyxl.worksheet.formula import ArrayFormula

    if isinstance(value, ArrayFormula):
        out.write_array_formula(value.ref, value.text, fmt, "" if cached is None else cached)
    elif formula and isinstance(value, str) and value.startswith("=") and len(value) > 1:
        write_formula(out, r, c, value, fmt, "" if cached is None else cached)
    elif isinstance(value, str):
        out.write_string(r, c, value, fmt)
    elif isinstance(value, bool):
        out.write_boolean(r, c, value, fmt)
    elif isinstance(value, int | float):
        if math.isfinite(value):
            out.write_number(r, c, value, fmt)
    elif isinstance(value, datetime | date | time):
        out.write_datetime(r, c, value, fmt)
    elif value is None:
        if fmt is not None:
            out.write_blank(r, c, None, fmt)
    else:
        out.write_string(r, c, str(value), fmt)


def write_formula(out: Any, r: int, c: int, formula: str, fmt: Any = None, value: Any = 0) -> None:
    """Write ``formula``; one that calls a ``udfs`` function as a (one-cell) dynamic-array
    formula, as Excel 365 stores it, so that Excel never adds an implicit-intersection ``@``."""
    if calls_udf(formula):
        out.write_dynamic_array_formula(r, c, r, c, formula, fmt, value)
    else:
        out.write_formula(r, c, formula, fmt, value)


def copy_sheet(ws: Any, cached_ws: Any, out: Any, formats: Formats, book: Any) -> None:
    """Write the openpyxl sheet ``ws`` (``cached_ws``: the same sheet read for its cached
    values) into the xlsxwriter sheet ``out`` of ``book`` (module docstring)."""
    cached_rows = {(c.row, c.column): c.value for row in cached_ws.iter_rows() for c in row
                   if c.value is not None}
    merged = {(rng.min_row, rng.min_col): rng for rng in ws.merged_cells.ranges}
    inside_merge = {(r, c) for rng in ws.merged_cells.ranges
                    for r in range(rng.min_row, rng.max_row + 1)
                    for c in range(rng.min_col, rng.max_col + 1)}
    for row in ws.iter_rows():
        for cell in row:
            if type(cell).__name__ == "MergedCell":
                continue
            r, c = cell.row - 1, cell.column - 1
            fmt = formats.of(cell)
            rng = merged.get((cell.row, cell.column))
            if rng is not None:
                out.merge_range(rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1,
                                "", fmt)
            elif (cell.row, cell.column) in inside_merge:
                continue
            _write_value(out, r, c, cell.value, fmt, cached_rows.get((cell.row, cell.column)),
                         cell.data_type == "f")
            if cell.hyperlink is not None:
                link = cell.hyperlink
                text = None if cell.value is None else str(cell.value)
                if link.location:
                    out.write_url(r, c, "internal:" + link.location, fmt, text)
                elif link.target:
                    out.write_url(r, c, link.target, fmt, text)
            if cell.comment is not None:
                out.write_comment(r, c, cell.comment.text,
                                  {"author": cell.comment.author or "xl-aiindex", "x_scale": 2.4,
                                   "y_scale": 1.6})
    for number, row_dim in ws.row_dimensions.items():   # row heights (README: 48 pt rows)
        height = row_dim.ht if row_dim.customHeight and row_dim.ht else None
        if height is not None or row_dim.hidden:
            out.set_row(number - 1, height, None, {"hidden": True} if row_dim.hidden else None)
    for dim in ws.column_dimensions.values():
        if dim.width or dim.hidden:
            lo, hi = (dim.min or 1) - 1, (dim.max or dim.min or 1) - 1
            width = _pixels(dim.width) if dim.width else None
            out.set_column_pixels(lo, hi, width, None, {"hidden": True} if dim.hidden else None)
    if ws.freeze_panes:
        out.freeze_panes(ws.freeze_panes)
    if ws.auto_filter.ref:
        out.autofilter(ws.auto_filter.ref)
    tab = _rgb(ws.sheet_properties.tabColor)
    if tab:
        out.set_tab_color(tab)
    if ws.sheet_state == "veryHidden":
        out.very_hidden()
    elif ws.sheet_state != "visible":
        out.hide()
    _copy_validations(ws, out)
    _copy_conditional_formats(ws, out, book)
