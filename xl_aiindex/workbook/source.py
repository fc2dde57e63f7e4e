"""Where cells come from: a small "book" interface with an openpyxl implementation.

The reader (:mod:`xl_aiindex.workbook.read`) only needs, for each sheet, its cell values and
which cells hold formulas. :class:`BookSource` is that interface; :class:`OpenpyxlSource` reads
a file headlessly, and the Excel side (``udfs``) implements the same with xlwings.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import UnreadableWorkbook

#: Excel's error values as they appear in a cell's cached value.
ERROR_VALUES = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})

#: Limits that keep a hostile or accidental giant file from exhausting memory: the package may
#: unpack to at most MAX_UNCOMPRESSED_BYTES, and to at most MAX_COMPRESSION_RATIO times its
#: packed size once it unpacks to more than 50 MB (real workbooks compress 5-20x; a zip bomb
#: thousands of times); a sheet that is read may hold at most MAX_SHEET_CELLS cells (rows x the
#: widest row, counted while reading, whatever the sheet's <dimension> claims).
MAX_UNCOMPRESSED_BYTES = 1_000_000_000
MAX_COMPRESSION_RATIO = 200
MAX_SHEET_CELLS = 20_000_000

#: where an XML prolog ends: the root element's start tag
_PROLOG_END = re.compile(r"<[A-Za-z_]")
_MERGE_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([^\"']+)[\"']")


@dataclass
class Grid:
    """One sheet as read: ``values[r][c]`` (0-based; row 0 is the header row), the set of
    ``(r, c)`` cells that hold a formula (whose value is the cached one, None if never computed)
    and the merged ranges (``"B3:C3"``) of the sheet."""

    name: str
    values: list[list[Any]]
    formulas: set[tuple[int, int]] = field(default_factory=set)
    merged: list[str] = field(default_factory=list)


class BookSource(Protocol):
    """What the reader needs from a workbook."""

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        ...

    def grid(self, name: str) -> Grid:
        """The cells of sheet ``name`` (an exact name from :meth:`sheet_names`)."""
        ...


def check_package(path: str | os.PathLike[str]) -> None:
    """Raise :class:`UnreadableWorkbook` unless ``path`` is a readable .xlsx/.xlsm package.

    Says what the file is instead when it can tell: missing, a folder, a legacy or encrypted
    (OLE2) file, CSV or other text, a zip that is not a workbook, a zip bomb.
    """
    p = Path(path)
    if not p.exists():
        raise UnreadableWorkbook(str(p), "no such file")
    if p.is_dir():
        raise UnreadableWorkbook(str(p), "is a folder, not a workbook")
    if not p.is_file():   # a named pipe would block the reader forever; a device is no workbook
        raise UnreadableWorkbook(str(p), "is not a regular file (a named pipe, a device…): give "
                                         "the workbook file itself")
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise UnreadableWorkbook(str(p), f"cannot be opened ({e.strerror})") from e
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnreadableWorkbook(str(p), "is a password-protected workbook or a legacy .xls file "
                                         "(OLE2 format): save it unencrypted as .xlsx")
    if not head.startswith(b"PK"):
        kind = "an empty file" if not head else (
            "a text file (CSV?)" if all(32 <= b < 127 or b in (9, 10, 13) for b in head)
            else "not a zip package")
        raise UnreadableWorkbook(str(p), f"is {kind}, not an .xlsx/.xlsm workbook")
    try:
        with zipfile.ZipFile(p) as z:
            listed = z.namelist()
            names = set(listed)
            if len(names) != len(listed):
                from collections import Counter

                twice = sorted(n for n, k in Counter(listed).items() if k > 1)
                raise UnreadableWorkbook(str(p), f"holds two zip entries named "
                                                 f"'{twice[0]}': a damaged or tampered package "
                                                 "(refused, as Excel refuses it)")
            total = sum(i.file_size for i in z.infolist())
            packed = sum(i.compress_size for i in z.infolist()) or 1
    except (zipfile.BadZipFile, OSError) as e:
        raise UnreadableWorkbook(str(p), f"is a damaged zip package ({e})") from e
    if "xl/workbook.xml" not in names:
        raise UnreadableWorkbook(str(p), "is a zip package but not an Excel workbook "
                                         "(no xl/workbook.xml)")
    if total > MAX_UNCOMPRESSED_BYTES or total / packed > MAX_COMPRESSION_RATIO and total > 50_000_000:
        raise UnreadableWorkbook(str(p), f"unpacks to {total:,} bytes (limit "
                                         f"{MAX_UNCOMPRESSED_BYTES:,}; compression ratio "
                                         f"{total / packed:.0f}): refused as a possible zip bomb")
    part = _part_with_dtd(p)
    if part is not None:
        raise UnreadableWorkbook(str(p), f"part {part} {_DTD_REFUSED}")


_DTD_REFUSED = ("holds an XML document type declaration (DTD), which workbook parts never have: "
                "refused as a possible entity-expansion attack")


def _part_with_dtd(path: Path) -> str | None:
    """The first XML part of the package whose prolog declares a DTD (the place entities are
    declared: "billion laughs" and friends), if any. Only the prolog is read (up to the root
    element, at most 64 KiB per part); the XML parsers refuse entities anywhere else."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.filename.lower().endswith((".xml", ".rels")) or info.is_dir():
                    continue
                with z.open(info) as fh:
                    head = fh.read(1 << 16)
                utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
                text = head.decode("utf-16" if utf16 else "utf-8", "ignore")
                prolog = _PROLOG_END.split(text, maxsplit=1)[0].upper()
                if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
                    return info.filename
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError, zlib.error):
        return None   # the reader says what is wrong with the package
    return None


def unreadable_reason(what: str, error: BaseException, failed: str = "") -> str:
    """One line saying why ``what`` (``"sheet 'Data'"``, ``"the workbook"``) could not be read;
    ``failed`` replaces the default ``"<what> cannot be read"`` before the error's own text."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = error
    while cause is not None:   # openpyxl wraps the parser's error in its own
        if isinstance(cause, DefusedXmlException):
            return f"{what} {_DTD_REFUSED}"
        cause = cause.__cause__ or cause.__context__
    detail = " ".join(str(error).split()) or type(error).__name__
    return f"{failed or what + ' cannot be read'} ({detail})"


class OpenpyxlSource:
    """Read a workbook file with openpyxl (read-only, no calculation).

    The file is read once for formulas; only when an input sheet holds formulas is it read a
    second time for the cached values (openpyxl gives one or the other per load). A sheet's
    ``<dimension>`` is not trusted (some programs write ``A1`` for any size, which would hide
    every other cell): each sheet is read to its last cell, within :data:`MAX_SHEET_CELLS`,
    checked first on the sheet's XML (as the command line's reader checks it), so a far cell
    is refused before any row is built.
    Anything openpyxl or the XML parser raises while reading becomes
    :class:`~xl_aiindex.errors.UnreadableWorkbook`, so a damaged or hostile file gives one line.
    """

    def __init__(self, path: str | os.PathLike[str]):
        check_package(path)
        import openpyxl  # lazy: keeps `xl-aiindex --help` fast

        self.path = Path(path)
        try:
            self._book = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        except Exception as e:  # openpyxl raises many kinds for damaged packages
            raise UnreadableWorkbook(str(self.path), unreadable_reason(
                "the workbook", e, failed="cannot be read as a workbook")) from e
        self._cached: Any = None
        self._zip: zipfile.ZipFile | None = None

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self._book.sheetnames)

    def grid(self, name: str) -> Grid:
        """Values (cached values for formula cells), formula positions and merged ranges of
        sheet ``name``."""
        ws = self._book[name]
        self._check_extent(ws, name)
        values = self._rows(ws, name)
        formulas: set[tuple[int, int]] = set()
        for r, row in enumerate(values):
            for c, v in enumerate(row):
                if isinstance(v, str) and v.startswith("=") and len(v) > 1 \
                        or v is not None and type(v).__name__ == "ArrayFormula":
                    formulas.add((r, c))
        if formulas:
            cached_rows = self._rows(self._cached_book()[name], name)
            for r, c in formulas:
                values[r][c] = cached_rows[r][c] if r < len(cached_rows) and c < len(cached_rows[r]) \
                    else None
        while values and all(v is None for v in values[-1]):
            values.pop()
        return Grid(name, values, formulas, self._merged(ws, name))

    def _check_extent(self, ws: Any, name: str) -> None:
        """The check the CLI's reader makes before building a grid
        (:func:`~xl_aiindex.workbook.calamine_source.check_extent`): the sheet's XML says how
        far its cells reach, so a lone cell at XFD1048576 is refused before openpyxl yields a
        million rows."""
        from .calamine_source import check_extent

        part = getattr(ws, "_worksheet_path", None)
        if not part:
            return
        try:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.path)
            xml = self._zip.read(part.lstrip("/"))
        except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
            raise UnreadableWorkbook(str(self.path), unreadable_reason(f"sheet '{name}'", e)) from e
        check_extent(self.path, name, xml)

    def _rows(self, ws: Any, name: str) -> list[list[Any]]:
        """Every row of ``ws`` to its last cell, padded to the widest row."""
        ws.reset_dimensions()
        rows: list[list[Any]] = []
        width = 0
        try:
            for row in ws.iter_rows(values_only=True):
                if len(row) > width:
                    width = len(row)
                rows.append(list(row))
                if len(rows) * width > MAX_SHEET_CELLS:
                    raise UnreadableWorkbook(
                        str(self.path), f"sheet '{name}' is larger than the limit of "
                                        f"{MAX_SHEET_CELLS:,} cells (at least {len(rows):,} rows "
                                        f"× {width:,} columns)")
        except UnreadableWorkbook:
            raise
        except Exception as e:  # XML, zip and openpyxl errors of a damaged or hostile sheet
            raise UnreadableWorkbook(str(self.path), unreadable_reason(f"sheet '{name}'", e)) from e
        for row in rows:
            if len(row) < width:
                row.extend([None] * (width - len(row)))
        return rows

    def _merged(self, ws: Any, name: str) -> list[str]:
        """The merged ranges of a sheet, read from its XML (openpyxl's read-only mode has none)."""
        part = getattr(ws, "_worksheet_path", None)
        if not part:
            return []
        found: list[str] = []
        try:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.path)
            with self._zip.open(part.lstrip("/")) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    buf = tail + chunk
                    # a match ending inside ``tail`` was found in the previous buffer already
                    found.extend(m.group(1).decode("utf-8", "replace").replace("$", "")
                                 for m in _MERGE_CELL.finditer(buf) if m.end() > len(tail))
                    tail = buf[-1024:]  # a <mergeCell> tag may straddle two chunks
        except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
            raise UnreadableWorkbook(str(self.path), unreadable_reason(f"sheet '{name}'", e)) from e
        return found

    def _cached_book(self) -> Any:
        if self._cached is None:
            import openpyxl

            try:
                self._cached = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            except Exception as e:
                raise UnreadableWorkbook(str(self.path), unreadable_reason("the workbook", e)) \
                    from e
        return self._cached

    def close(self) -> None:
        """Release the file handles."""
        self._book.close()
        if self._cached is not None:
            self._cached.close()
        if self._zip is not None:
            self._zip.close()
