"""Fast reading of input sheets with python-calamine (a Rust reader; ~5× faster than openpyxl).

calamine gives each cell's cached value but not which cells hold formulas, and it reads error
cells (``#N/A``) as blanks. Both matter to the reader (a formula with no stored value and an
error value are problems, never a silent blank), so the sheet's XML is scanned for formula and
error cells — a byte search first, the cell-by-cell scan only when the sheet has any.

The reader works on an opened :class:`~xl_aiindex.workbook.package.Package`: calamine reads
the package's bytes from memory, the sheet parts and kinds come from the Package, and nothing
opens the file again.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date, datetime
from typing import Any

import numpy as np

from ..errors import UnreadableWorkbook
from ..i18n import _
from . import grid as _grid
from .cells import address, column_index
from .grid import Grid, check_extent, sheet_extent
from .ooxml.xmltext import unescape
from .package import DTD_REFUSED, Package, unreadable_reason

__all__ = ["CalamineSource", "check_extent", "sheet_extent"]

# one <c …>…</c> cell (optionally prefixed), its reference, attributes and content
_CELL = re.compile(rb"<(?:\w+:)?c\s+([^>]*?)(/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb"""\br\s*=\s*["']\$?([A-Za-z]+)\$?([0-9]+)["']""")
_TYPE_ERROR = re.compile(rb'\bt="e"')
_TYPE_STR = re.compile(rb'\bt="(?:str|inlineStr|s)"')
_EMPTY_VALUE = re.compile(rb"<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>|<(?:\w+:)?is>")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_FORMULA_TEXT = re.compile(rb"<(?:\w+:)?f(\s[^>]*?)?(?:/>|>([^<]*)</(?:\w+:)?f>)")
_SHARED_INDEX = re.compile(rb"""\bsi\s*=\s*["']([0-9]+)["']""")


class CalamineSource:
    """A :class:`~xl_aiindex.workbook.grid.BookSource` reading with python-calamine from an
    opened :class:`~xl_aiindex.workbook.package.Package` (a path opens its own Package, closed
    by :meth:`close`)."""

    def __init__(self, package: Package | str | os.PathLike[str]):
        from python_calamine import CalamineWorkbook

        self._own = not isinstance(package, Package)
        self.package = package if isinstance(package, Package) else Package(package)
        self.path = self.package.path
        skip = {n for n, k in self.package.kinds().items()
                if k == "missing" or k in _FOREIGN_SHEETS}
        utf16 = _utf16_parts(self.package)
        try:
            data = _calamine_copy(self.package, skip, utf16) if skip or utf16 \
                else self.package.filelike()
            self._book = CalamineWorkbook.from_filelike(data)
        except Exception as e:  # calamine raises its own error kinds for damaged packages
            if self._own:
                self.package.close()
            raise UnreadableWorkbook(str(self.path), _("cannot be read as a workbook ({error})")
                                     .format(error=e)) from e
        self._readable = list(self._book.sheet_names)

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order (every sheet but the Excel 4 macro and dialog sheets,
        which calamine does not read)."""
        readable = set(self._readable)
        return [n for n in self.package.sheet_names()
                if n in readable or self.package.kind(n) == "missing"]

    def kind(self, name: str) -> str:
        """The kind of sheet ``name``: ``worksheet``, ``chartsheet``, ``dialogsheet``,
        ``xlMacrosheet``…, ``missing`` (:meth:`~xl_aiindex.workbook.package.Package.kinds`)."""
        return self.package.kind(name)

    def grid(self, name: str) -> Grid:
        """Cached values, formula cells and merged ranges of sheet ``name``."""
        if self.package.kind(name) == "missing":
            raise UnreadableWorkbook(str(self.path), self.package.missing_part(name))
        try:
            return self._grid(name)
        except UnreadableWorkbook:
            raise
        except Exception as e:  # calamine's XML and zip errors of a damaged or hostile sheet
            xml = self._sheet_xml(name) or b""
            if b"<!DOCTYPE" in xml[:65536] or b"<!ENTITY" in xml[:65536]:
                raise UnreadableWorkbook(str(self.path), f"the workbook {DTD_REFUSED}") from e
            raise UnreadableWorkbook(str(self.path), unreadable_reason(f"sheet '{name}'", e)) from e

    def _grid(self, name: str) -> Grid:
        limit = _grid.MAX_SHEET_CELLS  # read at call time: tests lower it
        xml = self._sheet_xml(name)
        if xml is not None:
            check_extent(self.path, name, xml)
        sheet = self._book.get_sheet_by_name(name)
        end = sheet.end  # last used cell, 0-based; the grid starts at A1
        height, width = (end[0] + 1, end[1] + 1) if end else (0, 0)
        if height * width > limit:
            raise UnreadableWorkbook(str(self.path), _(
                "sheet '{sheet}' is larger than the limit of {limit} cells ({rows} rows × "
                "{columns} columns)").format(sheet=name, limit=f"{limit:,}", rows=f"{height:,}",
                                             columns=f"{width:,}"))
        values: list[list[Any]] = [_values(row) for row in sheet.to_python(skip_empty_area=False)]
        formulas: set[tuple[int, int]] = set()
        if xml is not None and may_hold_formulas(xml):
            for m in _CELL.finditer(xml):
                attrs, body = m.group(1), m.group(3) or b""
                ref = _REF.search(attrs)
                if ref is None:
                    continue
                r, c = int(ref.group(2)) - 1, column_index(ref.group(1).upper())
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

    def formula_texts(self, name: str) -> dict[tuple[int, int], str]:
        """Each formula cell of sheet ``name`` -> its formula as openpyxl reads it (``=…``;
        a shared formula translated to the cell, as Excel shows it)."""
        xml = self._sheet_xml(name)
        if xml is None or not (b"<f" in xml or b":f>" in xml):
            return {}
        out: dict[tuple[int, int], str] = {}
        shared: dict[str, tuple[str, str]] = {}   # si -> (formula, its cell)
        children: list[tuple[int, int, str, str]] = []
        for m in _CELL.finditer(xml):
            attrs, body = m.group(1), m.group(3) or b""
            f = _FORMULA_TEXT.search(body)
            if f is None:
                continue
            ref = _REF.search(attrs)
            if ref is None:
                continue
            letters, row = ref.group(1).decode().upper(), ref.group(2).decode()
            r, c = int(row) - 1, column_index(letters)
            f_attrs, text = f.group(1) or b"", unescape(f.group(2).decode("utf-8", "replace")
                                                         if f.group(2) else "")
            si = _SHARED_INDEX.search(f_attrs) if b"shared" in f_attrs else None
            if si is not None and not text:
                children.append((r, c, si.group(1).decode(), letters + row))
                continue
            if si is not None:
                shared[si.group(1).decode()] = (text, letters + row)
            out[(r, c)] = "=" + text
        if children:
            from openpyxl.formula.translate import Translator

            for r, c, index, cell in children:
                master = shared.get(index)
                if master is not None:
                    out[(r, c)] = Translator("=" + master[0], master[1]).translate_formula(cell)
        return out

    def _sheet_xml(self, name: str) -> bytes | None:
        """The sheet's XML as UTF-8 (a UTF-16 part transcoded), None when it has no part."""
        part = self.package.part(name)
        if part is None:
            return None
        return _utf8(self.package.read(part))

    def close(self) -> None:
        """Release calamine's book (and the Package, when this reader opened it)."""
        self._book.close()
        if self._own:
            self.package.close()


#: Sheet kinds calamine cannot read (it refuses the whole book): left out of its copy.
_FOREIGN_SHEETS = ("xlMacrosheet", "xlIntlMacrosheet", "dialogsheet")
_SHEET_EL = re.compile(r"<(?:\w+:)?sheet\b[^>]*/>")
_SHEET_NAME = re.compile(r"""\bname\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENCODING_DECL = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def _utf16_parts(package: Package) -> list[str]:
    """The XML parts of the package written in UTF-16 (calamine reads UTF-8 only)."""
    out = []
    for name in package.names:
        if name.lower().endswith((".xml", ".rels")):
            head = package.head(name)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\0", b"\0<"):
                out.append(name)
    return out


def _utf8(data: bytes) -> bytes:
    """An XML part as UTF-8: a UTF-16 one (with its byte order mark, or starting ``<\\0``)
    decoded, its declaration saying UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif data[:2] == b"<\0":
        text = data.decode("utf-16-le")
    elif data[:2] == b"\0<":
        text = data.decode("utf-16-be")
    else:
        return data
    return _ENCODING_DECL.sub(r"\1\2UTF-8\2", text, count=1).encode("utf-8")


def _calamine_copy(package: Package, skip: set[str], utf16: list[str]) -> io.BytesIO:
    """A copy of the package, in memory, that calamine can read: the workbook lists none of the
    sheets ``skip`` (macro and dialog sheets, sheets whose part is missing; their parts stay,
    unreferenced), and the UTF-16 parts ``utf16`` are UTF-8. The file is not changed."""
    out = io.BytesIO()
    book_part = package.actual("xl/workbook.xml") or "xl/workbook.xml"
    book = _utf8(package.read(book_part)).decode("utf-8")

    def keep(m: re.Match[str]) -> str:
        name = _SHEET_NAME.search(m.group(0))
        if name is None:
            return m.group(0)
        real = unescape(name.group(1) if name.group(1) is not None else name.group(2),
                        {"&quot;": '"', "&apos;": "'"})
        return "" if real in skip else m.group(0)

    if skip:
        book = _SHEET_EL.sub(keep, book)
    transcode = set(utf16)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for name in package.names:
            if name == book_part:
                data = book.encode("utf-8")
            elif name in transcode:
                data = _utf8(package.read(name))
            else:
                data = package.read(name)
            w.writestr(name, data)
    out.seek(0)
    return out


def _values(row: list[Any]) -> list[Any]:
    """A row of calamine's values as openpyxl gives them (:func:`_value`); a row with neither
    a blank nor a date is kept as it is (issue 20: most rows of a large sheet)."""
    if "" in row or date in set(map(type, row)):
        return [_value(v) for v in row]
    return row


def may_hold_formulas(xml: bytes) -> bool:
    """Whether a sheet's XML holds ``<f``, ``:f>`` or ``t="e"`` (a formula or an error cell,
    which the cell-by-cell scan then reads): one vectorised pass over the bytes ``f`` and
    ``e``, rare in a sheet of numbers, instead of three searches of the whole text (issue 20:
    25 ms instead of 50 on a 25 MB Data sheet)."""
    if len(xml) < 64:
        return b"<f" in xml or b":f>" in xml or b't="e"' in xml
    a = np.frombuffer(xml, dtype=np.uint8)
    f = np.flatnonzero(a[1:-1] == ord("f")) + 1
    if ((a[f - 1] == ord("<")) | ((a[f - 1] == ord(":")) & (a[f + 1] == ord(">")))).any():
        return True
    e = np.flatnonzero(a[3:-1] == ord("e")) + 3
    if ((a[e - 3] == ord("t")) & (a[e - 2] == ord("=")) & (a[e - 1] == ord('"'))
            & (a[e + 1] == ord('"'))).any():
        return True
    return xml.endswith(b"<f")   # the one place the pass above leaves out


def _value(v: Any) -> Any:
    """calamine's cell value as openpyxl gives it: blank → None, a date → a datetime."""
    if v == "":
        return None
    if type(v) is date:
        return datetime(v.year, v.month, v.day)
    return v


def _sheet_parts(path: str | os.PathLike[str]) -> dict[str, str]:
    """Sheet name → part name inside the package at ``path`` (tests; readers ask their
    :class:`~xl_aiindex.workbook.package.Package`)."""
    with Package(path) as package:
        return package.sheet_parts()
