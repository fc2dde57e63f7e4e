"""Where cells come from: a small "book" interface with an openpyxl implementation.

The reader (:mod:`xl_aiindex.workbook.read`) only needs, for each sheet, its cell values and
which cells hold formulas. :class:`BookSource` is that interface; :class:`OpenpyxlSource` reads
a file headlessly, and the Excel side (``udfs``) implements the same with xlwings.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import UnreadableWorkbook

#: Excel's error values as they appear in a cell's cached value.
ERROR_VALUES = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})

#: Limits that keep a hostile or accidental giant file from exhausting memory.
MAX_UNCOMPRESSED_BYTES = 1_000_000_000
MAX_COMPRESSION_RATIO = 200
MAX_SHEET_CELLS = 20_000_000


@dataclass
class Grid:
    """One sheet as read: ``values[r][c]`` (0-based; row 0 is the header row) and the set of
    ``(r, c)`` cells that hold a formula (whose value is the cached one, None if never computed)."""

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
            names = set(z.namelist())
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


class OpenpyxlSource:
    """Read a workbook file with openpyxl (read-only, no calculation).

    The file is read once for formulas; only when an input sheet holds formulas is it read a
    second time for the cached values (openpyxl gives one or the other per load).
    """

    def __init__(self, path: str | os.PathLike[str]):
        check_package(path)
        import openpyxl  # lazy: keeps `xl-aiindex --help` fast

        self.path = Path(path)
        try:
            self._book = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        except Exception as e:  # openpyxl raises many kinds for damaged packages
            raise UnreadableWorkbook(str(self.path), f"cannot be read as a workbook ({e})") from e
        self._cached: Any = None

    def sheet_names(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self._book.sheetnames)

    def grid(self, name: str) -> Grid:
        """Values (cached values for formula cells) and formula positions of sheet ``name``."""
        ws = self._book[name]
        if ws.max_row is not None and ws.max_column is not None \
                and ws.max_row * ws.max_column > MAX_SHEET_CELLS:
            raise UnreadableWorkbook(str(self.path), f"sheet '{name}' spans {ws.max_row:,} rows × "
                                                     f"{ws.max_column:,} columns (limit "
                                                     f"{MAX_SHEET_CELLS:,} cells)")
        values: list[list[Any]] = []
        formulas: set[tuple[int, int]] = set()
        for r, row in enumerate(ws.iter_rows(values_only=True)):
            out = list(row)
            for c, v in enumerate(out):
                if isinstance(v, str) and v.startswith("=") and len(v) > 1 or v is not None and type(v).__name__ == "ArrayFormula":
                    formulas.add((r, c))
            values.append(out)
        if formulas:
            cached = self._cached_book()[name]
            cached_rows = [list(row) for row in cached.iter_rows(values_only=True)]
            for r, c in formulas:
                values[r][c] = cached_rows[r][c] if r < len(cached_rows) and c < len(cached_rows[r]) \
                    else None
        while values and all(v is None for v in values[-1]):
            values.pop()
        return Grid(name, values, formulas)

    def _cached_book(self) -> Any:
        if self._cached is None:
            import openpyxl

            self._cached = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        return self._cached

    def close(self) -> None:
        """Release the file handles."""
        self._book.close()
        if self._cached is not None:
            self._cached.close()
