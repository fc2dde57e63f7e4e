"""Where cells come from: the openpyxl implementation of the "book" interface.

The reader (:mod:`xl_aiindex.workbook.read`) only needs, for each sheet, its cell values and
which cells hold formulas. :class:`~xl_aiindex.workbook.grid.BookSource` is that interface;
:class:`OpenpyxlSource` reads a file headlessly (the file-based book of ``udfs``), the command
line reads with :class:`~xl_aiindex.workbook.calamine_source.CalamineSource`, and the Excel
side implements the same with xlwings.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import UnreadableWorkbook
from . import grid as _grid
from .grid import ERROR_VALUES, MAX_SHEET_CELLS, BookSource, Grid, check_extent
from .package import (
    DTD_REFUSED,
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    Package,
    check_package,
    unreadable_reason,
)

# what other modules imported from here before the package and grid modules held them
__all__ = ["DTD_REFUSED", "ERROR_VALUES", "MAX_COMPRESSION_RATIO", "MAX_SHEET_CELLS",
           "MAX_UNCOMPRESSED_BYTES", "BookSource", "Grid", "OpenpyxlSource", "check_package",
           "unreadable_reason"]
_DTD_REFUSED = DTD_REFUSED

_MERGE_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([^\"']+)[\"']")


class OpenpyxlSource:
    """Read a workbook with openpyxl (read-only, no calculation), from an opened
    :class:`~xl_aiindex.workbook.package.Package` (a path opens its own, closed by
    :meth:`close`).

    The package is read once for formulas; only when an input sheet holds formulas is it read a
    second time for the cached values (openpyxl gives one or the other per load). A sheet's
    ``<dimension>`` is not trusted (some programs write ``A1`` for any size, which would hide
    every other cell): each sheet is read to its last cell, within :data:`MAX_SHEET_CELLS`,
    checked first on the sheet's XML (as the command line's reader checks it), so a far cell
    is refused before any row is built.
    Anything openpyxl or the XML parser raises while reading becomes
    :class:`~xl_aiindex.errors.UnreadableWorkbook`, so a damaged or hostile file gives one line.
    """

    def __init__(self, package: Package | str | os.PathLike[str]):
        import openpyxl  # lazy: keeps `xl-aiindex --help` fast

        self._own = not isinstance(package, Package)
        self.package = package if isinstance(package, Package) else Package(package)
        self.path = self.package.path
        try:
            self._book = openpyxl.load_workbook(self.package.filelike(), read_only=True,
                                                data_only=False)
        except Exception as e:  # openpyxl raises many kinds for damaged packages
            if self._own:
                self.package.close()
            raise UnreadableWorkbook(str(self.path), unreadable_reason(
                "the workbook", e, failed="cannot be read as a workbook")) from e
        self._cached: Any = None

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
        (:func:`~xl_aiindex.workbook.grid.check_extent`): the sheet's XML says how
        far its cells reach, so a lone cell at XFD1048576 is refused before openpyxl yields a
        million rows."""
        part = getattr(ws, "_worksheet_path", None)
        if not part:
            return
        check_extent(self.path, name, self.package.read(part))

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
                if len(rows) * width > _grid.MAX_SHEET_CELLS:
                    raise UnreadableWorkbook(
                        str(self.path), f"sheet '{name}' is larger than the limit of "
                                        f"{_grid.MAX_SHEET_CELLS:,} cells (at least {len(rows):,} rows "
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
        return [m.group(1).decode("utf-8", "replace").replace("$", "")
                for m in _MERGE_CELL.finditer(self.package.read(part))]

    def _cached_book(self) -> Any:
        if self._cached is None:
            import openpyxl

            try:
                self._cached = openpyxl.load_workbook(self.package.filelike(), read_only=True,
                                                      data_only=True)
            except Exception as e:
                raise UnreadableWorkbook(str(self.path), unreadable_reason("the workbook", e)) \
                    from e
        return self._cached

    def close(self) -> None:
        """Release openpyxl's books (and the Package, when this reader opened it)."""
        self._book.close()
        if self._cached is not None:
            self._cached.close()
        if self._own:
            self.package.close()
