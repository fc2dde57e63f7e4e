"""Fast reading of input sheets with python-calamine (a Rust reader; ~5× faster than openpyxl).

calamine gives each cell's cached value but not which cells hold formulas, and it reads error
cells (``#N/A``) as blanks. Both matter to the reader (a formula with no stored value and an
error value are problems, never a silent blank), so the sheet's XML is scanned for formula and
error cells — a byte search first, the cell-by-cell scan only when the sheet has any.
"""

from __future__ import annotations

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
            raise UnreadableWorkbook(str(self.path), f"cannot be read as a workbook ({e})") from e
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
        sheet = self._book.get_sheet_by_name(name)
        end = sheet.end  # last used cell, 0-based; the grid starts at A1
        height, width = (end[0] + 1, end[1] + 1) if end else (0, 0)
        limit = source.MAX_SHEET_CELLS  # read at call time: tests lower it
        if height * width > limit:
            raise UnreadableWorkbook(str(self.path), f"sheet '{name}' is larger than the limit of "
                                                     f"{limit:,} cells ({height:,} rows × "
                                                     f"{width:,} columns)")
        values: list[list[Any]] = [[_value(v) for v in row]
                                   for row in sheet.to_python(skip_empty_area=False)]
        formulas: set[tuple[int, int]] = set()
        xml = self._sheet_xml(name)
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
