"""Fast reading of input sheets with python-calamine (a Rust reader; ~5× faster than openpyxl).

calamine gives each cell's cached value but not which cells hold formulas, and it reads error
cells (``#N/A``) as blanks. Both matter to the reader (a formula with no stored value and an
error value are problems, never a silent blank), so the sheet's XML is scanned for formula and
error cells — a byte search first, the cell-by-cell scan only when the sheet has any.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from ..errors import UnreadableWorkbook
from . import source
from .cells import address, column_index
from .source import _DTD_REFUSED, Grid, check_package, unreadable_reason

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

# one <c …>…</c> cell (optionally prefixed), its reference, attributes and content
_CELL = re.compile(rb"<(?:\w+:)?c\s+([^>]*?)(/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_TYPE_ERROR = re.compile(rb'\bt="e"')
_TYPE_STR = re.compile(rb'\bt="(?:str|inlineStr|s)"')
_EMPTY_VALUE = re.compile(rb"<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>|<(?:\w+:)?is>")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


class CalamineSource:
    """A :class:`~xl_aiindex.workbook.source.BookSource` reading with python-calamine."""

    def __init__(self, path: str | os.PathLike[str]):
        check_package(path)
        from python_calamine import CalamineWorkbook

        self.path = Path(path)
        try:
            self._book = CalamineWorkbook.from_path(str(self.path))
        except Exception as e:  # calamine raises its own error kinds for damaged packages
            if "Unrecognized sheet" not in str(e):
                raise UnreadableWorkbook(str(self.path), f"cannot be read as a workbook ({e})") \
                    from e
            # an Excel 4 macro sheet or a dialog sheet, which calamine does not know: read the
            # worksheets from a copy that leaves those sheets out (the file is not changed)
            try:
                self._book = CalamineWorkbook.from_filelike(_without_foreign_sheets(self.path))
            except Exception as e2:
                raise UnreadableWorkbook(str(self.path), f"cannot be read as a workbook ({e})") \
                    from e2
        self._parts: dict[str, str] | None = None
        self._kinds: dict[str, str] | None = None

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self._book.sheet_names)

    def kind(self, name: str) -> str:
        """The kind of sheet ``name``: ``worksheet``, ``chartsheet``, ``dialogsheet``,
        ``xlMacrosheet``… (:func:`~xl_aiindex.workbook.ooxml.sheet_kinds`)."""
        if self._kinds is None:
            from .ooxml import sheet_kinds

            try:
                self._kinds = sheet_kinds(self.path)
            except (ValueError, KeyError, zipfile.BadZipFile):
                self._kinds = {}
        return self._kinds.get(name, "worksheet")

    def grid(self, name: str) -> Grid:
        """Cached values, formula cells and merged ranges of sheet ``name``."""
        try:
            return self._grid(name)
        except UnreadableWorkbook:
            raise
        except Exception as e:  # calamine's XML and zip errors of a damaged or hostile sheet
            xml = self._sheet_xml(name) or b""
            if b"<!DOCTYPE" in xml[:65536] or b"<!ENTITY" in xml[:65536]:
                raise UnreadableWorkbook(str(self.path), f"the workbook {_DTD_REFUSED}") from e
            raise UnreadableWorkbook(str(self.path), unreadable_reason(f"sheet '{name}'", e)) from e

    def _grid(self, name: str) -> Grid:
        limit = source.MAX_SHEET_CELLS  # read at call time: tests lower it
        xml = self._sheet_xml(name)
        if xml is not None:
            check_extent(self.path, name, xml)
        sheet = self._book.get_sheet_by_name(name)
        end = sheet.end  # last used cell, 0-based; the grid starts at A1
        height, width = (end[0] + 1, end[1] + 1) if end else (0, 0)
        if height * width > limit:
            raise UnreadableWorkbook(str(self.path), f"sheet '{name}' is larger than the limit of "
                                                     f"{limit:,} cells ({height:,} rows × "
                                                     f"{width:,} columns)")
        values: list[list[Any]] = [[_value(v) for v in row]
                                   for row in sheet.to_python(skip_empty_area=False)]
        formulas: set[tuple[int, int]] = set()
        if xml is not None and (b"<f" in xml or b":f>" in xml or b't="e"' in xml):
            for m in _CELL.finditer(xml):
                attrs, body = m.group(1), m.group(3) or b""
                ref = _REF.search(attrs)
                if ref is None:
                    continue
                r, c = int(ref.group(2)) - 1, column_index(ref.group(1))
                is_formula = _FORMULA.search(body) is not None
                is_error = _TYPE_ERROR.search(attrs) is not None
                if not (is_formula or is_error):
                    continue
                while len(values) <= r:
                    values.append([])
                row = values[r]
                while len(row) <= c:
                    row.append(None)
                if is_formula:
                    formulas.add((r, c))
                    if row[c] is None and _TYPE_STR.search(attrs) and _EMPTY_VALUE.search(body):
                        row[c] = ""   # cached empty text (LibreOffice writes it): a blank
                if is_error:
                    v = _VALUE.search(body)
                    row[c] = v.group(1).decode() if v else "#N/A"
        while values and all(v is None for v in values[-1]):
            values.pop()
        merged = [f"{address(*a)}:{address(*b)}"
                  for a, b in (sheet.merged_cell_ranges or [])]
        return Grid(name, values, formulas, merged)

    def _sheet_xml(self, name: str) -> bytes | None:
        if self._parts is None:
            self._parts = _sheet_parts(self.path)
        part = self._parts.get(name)
        if part is None:
            return None
        with zipfile.ZipFile(self.path) as z:
            return z.read(part)

    def close(self) -> None:
        """Release the file."""
        self._book.close()


def check_extent(path: str | os.PathLike[str], name: str, xml: bytes) -> None:
    """Refuse sheet ``name`` of the workbook at ``path`` (its XML ``xml``) when the grid its
    cells span from A1 (:func:`sheet_extent`) exceeds :data:`~xl_aiindex.workbook.source.
    MAX_SHEET_CELLS`: what every reader checks before it builds a grid."""
    limit = source.MAX_SHEET_CELLS  # read at call time: tests lower it
    height, width = sheet_extent(xml, limit)
    if height * width > limit:
        raise UnreadableWorkbook(str(path), f"sheet '{name}' is larger than the limit of "
                                            f"{limit:,} cells ({height:,} rows × {width:,} "
                                            "columns)")


_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]+)"')
_ANY_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')


def sheet_extent(xml: bytes, limit: int) -> tuple[int, int]:
    """Rows and columns of the grid a sheet's cells span from A1 (an upper bound when that is
    below ``limit`` anyway), read from its XML before any reader builds the grid: a single
    cell at XFD1048576 in a tiny file must not make anyone allocate 17 billion cells."""
    rows = [int(r) for r in _ROW_NUMBER.findall(xml)]
    height = max(rows, default=0)
    # a cell may claim a row beyond its <row>: bound it by the number of digits
    digits = len(str(height)) if height else 1
    if re.search(rb'\br="[A-Z]{1,3}[0-9]{%d,}"' % (digits + 1), xml) is not None:
        height_bound = 10 ** 7
    else:
        height_bound = 10 ** digits - 1
    three = re.findall(rb'\br="([A-Z]{3})[0-9]', xml)
    if three:
        width_bound = max(column_index(c) for c in three) + 1
    elif re.search(rb'\br="[A-Z]{2}[0-9]', xml) is not None:
        width_bound = 702
    else:
        width_bound = 26
    if height_bound * width_bound <= limit:
        return height, width_bound
    # the cheap bound is too coarse: the exact extent, one pass over the cell references
    height = width = 0
    for m in _ANY_REF.finditer(xml):
        r = int(m.group(2))
        if r > height:
            height = r
        c = column_index(m.group(1)) + 1
        if c > width:
            width = c
    return max(height, max(rows, default=0)), width


_FOREIGN_SHEETS = ("/xlMacrosheet", "/xlIntlMacrosheet", "/dialogsheet")


def _without_foreign_sheets(path: Path) -> io.BytesIO:
    """A copy of the package at ``path``, in memory, whose workbook lists no macro or dialog
    sheet (their parts stay, unreferenced): what calamine can read."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as z:
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        foreign = {r.get("Id") for r in rels.iter(f"{{{_NS_PKG}}}Relationship")
                   if (r.get("Type") or "").endswith(_FOREIGN_SHEETS)}
        book = z.read("xl/workbook.xml").decode("utf-8")

        def keep(m: re.Match[str]) -> str:
            rid = re.search(r'\br:id="([^"]*)"', m.group(0))
            return "" if rid is not None and rid.group(1) in foreign else m.group(0)

        book = re.sub(r"<(?:\w+:)?sheet\b[^>]*/>", keep, book)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
            for info in z.infolist():
                data = book.encode() if info.filename == "xl/workbook.xml" else z.read(info)
                w.writestr(info.filename, data)
    out.seek(0)
    return out


def _value(v: Any) -> Any:
    """calamine's cell value as openpyxl gives it: blank → None, a date → a datetime."""
    if v == "":
        return None
    if type(v) is date:
        return datetime(v.year, v.month, v.day)
    return v


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → part name inside the package (from workbook.xml and its relationships)."""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_NS_PKG}}}Relationship")}
    out = {}
    for sheet in book.iter(f"{{{_NS_MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{_NS_REL}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target))
        out[sheet.get("name", "")] = part
    return out
