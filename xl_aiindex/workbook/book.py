"""An opened book: a workbook's package read once, its inputs parsed into the model.

:func:`load_workbook` opens the file once (:class:`~xl_aiindex.workbook.package.Package`),
reads the input sheets with the fast reader and returns :class:`Loaded`, which keeps the
package and the reader: every later step of a command (ownership and hand-edit checks, the
write) reads from them, never from the path again. :func:`compute` runs the engine on it and
locates the engine's problems in their cells.

The steps work on any reader (:class:`~xl_aiindex.workbook.grid.BookSource`: the package
reader here, an open Excel book in ``udfs``), so the UDFs and macros run the same code:
:func:`read_inputs` (the input sheets -> :class:`Inputs`), :func:`compute_inputs` (the engine,
problems located) and :func:`read_state` (what the sheets the tool writes hold before a write:
:class:`BookState`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import LOG, LOG_COLUMNS, STORE_SHEET, key
from ..errors import BadArgument
from ..i18n import _
from ..model import IndexModel, IndexResult
from ..panel import panel_of
from .calamine_source import CalamineSource
from .fingerprint import Stored, read_store
from .grid import Grid
from .inputs import Inputs, compute_inputs, read_inputs
from .package import Package
from .read import Locator

__all__ = ["BookState", "Inputs", "Loaded", "compute", "compute_inputs", "find_unit", "for_year",
           "load_workbook", "log_table", "one_edition", "read_inputs", "read_state"]


@dataclass(frozen=True)
class BookState:
    """What a writer reads of the sheets it writes before writing them: every sheet's name and
    kind, the stored fingerprints, and Log's header, rows and width. ``recalc`` reads it with
    the inputs (:class:`Loaded` holds it), a macro from the open book (``udfs.macros``)."""

    names: tuple[str, ...]
    kinds: Mapping[str, str]
    #: the result-sheet fingerprints stored by the last write (None: none, or unreadable)
    stored: Stored | None
    #: the Log's header: column key -> 0-based column (empty: no Log, or no header)
    log_header: Mapping[str, int]
    #: the Log's rows below its header, the contract's columns only (by header)
    log_rows: tuple[tuple[Any, ...], ...]
    #: columns of the Log's header row, the user's own included
    log_width: int


def read_state(names: Sequence[str], kinds: Mapping[str, str],
               grid: Callable[[str], Grid]) -> BookState:
    """:class:`BookState` of a workbook whose sheets are ``names`` (in order), of ``kinds``
    (by name; a name left out is a worksheet), each read by ``grid(name)``. The Log and the
    store are read only when they are worksheets."""
    def worksheet(wanted: str) -> str | None:
        name = next((n for n in names if key(n) == key(wanted)), None)
        return name if name is not None and kinds.get(name, "worksheet") == "worksheet" \
            else None

    log_header: dict[str, int] = {}
    log_rows: tuple[tuple[Any, ...], ...] = ()
    log_width = 0
    log_name = worksheet(LOG)
    if log_name is not None:
        log_header, log_rows, log_width = log_table(grid(log_name).values)
    store_name = worksheet(STORE_SHEET)
    stored = None if store_name is None else read_store(grid(store_name).values)
    return BookState(tuple(names), dict(kinds), stored, log_header, log_rows, log_width)


@dataclass(frozen=True)
class Loaded:
    """A workbook's inputs, read: the model, where each input came from, notes, the old Log rows."""

    path: Path
    model: IndexModel
    locator: Locator
    notes: tuple[str, ...]
    #: the Log's rows below its header, the contract's columns only (by header)
    log_rows: tuple[tuple[Any, ...], ...]
    #: every sheet name of the workbook, in order
    sheet_names: tuple[str, ...] = ()
    #: the result-sheet fingerprints stored by the last recalc (None: none, or unreadable)
    stored: Stored | None = None
    #: the Log's header: column key -> 0-based column (empty: no Log, or no header)
    log_header: Mapping[str, int] = field(default_factory=dict)
    #: columns of the Log's header row, the user's own included
    log_width: int = 0
    #: the reader the inputs were read with, over the package opened once: the ownership and
    #: hand-edit checks read the result sheets from it (None: reopen ``path``)
    source: CalamineSource | None = field(default=None, compare=False, repr=False)

    @property
    def inputs(self) -> Inputs:
        """The inputs read (:func:`read_inputs`)."""
        return Inputs(self.model, self.locator, self.notes)

    @property
    def package(self) -> Package:
        """The workbook's package, opened and checked once by :func:`load_workbook`."""
        return self.reader().package

    def reader(self) -> CalamineSource:
        """The reader of this workbook (the one :func:`load_workbook` read the inputs with)."""
        if self.source is None:
            object.__setattr__(self, "source", CalamineSource(Package(self.path)))
        assert self.source is not None
        return self.source


def log_table(values: Sequence[Sequence[Any]]
               ) -> tuple[dict[str, int], tuple[tuple[Any, ...], ...], int]:
    """The Log's header (key -> column), its rows as the contract's columns (by header,
    wherever the user moved them; a column it lacks reads as blank) and its header's width."""
    header: dict[str, int] = {}
    width = 0
    for c, v in enumerate(values[0] if values else []):
        k = key(v)
        if k:
            width = c + 1
        if k in LOG_COLUMNS and k not in header:
            header[k] = c
    rows = []
    for row in values[1:]:
        if not any(v is not None for v in row):
            continue
        rows.append(tuple(row[header[k]] if k in header and header[k] < len(row) else None
                          for k in LOG_COLUMNS))
    return header, tuple(rows), width


def load_workbook(path: str | os.PathLike[str]) -> Loaded:
    """Read the input sheets of the workbook at ``path``.

    The file is opened once (:class:`~xl_aiindex.workbook.package.Package`); the returned
    :class:`Loaded` keeps the package and its reader, so the checks before a write (ownership,
    hand edits) read from them instead of opening the file again.

    Raises :class:`~xl_aiindex.errors.UnreadableWorkbook` (the file is not a workbook) or
    :class:`~xl_aiindex.errors.ProblemsFound` (every problem in the sheets, with cells).
    """
    package = Package(path)
    try:
        source = CalamineSource(package)
    except BaseException:
        package.close()
        raise
    try:
        inputs = read_inputs(source)
        state = read_state(package.sheet_names(), package.kinds(), source.grid)
    except BaseException:
        source.close()
        package.close()
        raise
    return Loaded(Path(path), inputs.model, inputs.locator, inputs.notes, state.log_rows,
                  state.names, state.stored, state.log_header, state.log_width, source)


def compute(loaded: Loaded, year: int | None = None) -> IndexResult:
    """Build the index of a loaded workbook; the engine's problems get their cells
    (:func:`compute_inputs`). ``year``: the year of a panel to return (:func:`for_year`;
    None: the latest)."""
    return for_year(compute_inputs(loaded.inputs), year)


def find_unit(result: IndexResult, text: str) -> str:
    """The unit id ``text`` names in ``result`` (:class:`~xl_aiindex.lookup.NameIndex`). In a
    year of a panel, a unit of another year that has no row in this one is an
    :class:`~xl_aiindex.errors.UnknownName` saying so, not an unknown name."""
    from ..errors import UnknownName
    from ..lookup import NameIndex

    try:
        return NameIndex.of(result.model, "unit").find(text)
    except UnknownName:
        panel = panel_of(result)
        if panel is None:
            raise
        for other in panel.years:
            index = NameIndex.of(panel.by_year[other].model, "unit")
            if index.get(text) is not None:
                raise UnknownName(_("{unit} has no row in {year} (Data or Given)").format(
                    unit=index.get(text), year=getattr(result, "year", panel.latest))) from None
        raise


def one_edition(year: int) -> str:
    """Why ``year`` cannot be chosen in a workbook of one edition."""
    return _("year {year}: this workbook holds one edition (Data and Given have no year "
             "column), so there is no year to choose").format(year=year)


def for_year(result: IndexResult, year: int | None) -> IndexResult:
    """The result of ``year`` when ``result`` is a year of a panel (None: ``result`` as it
    is, the latest year as computed). Raises :class:`~xl_aiindex.errors.BadArgument` saying
    why when the workbook holds one edition (no ``year`` column) or the panel has no such
    year."""
    if year is None:
        return result
    panel = panel_of(result)
    if panel is None:
        raise BadArgument(one_edition(year))
    if int(year) not in panel.by_year:
        raise BadArgument(_("year {year}: the workbook has no results for that year (years: "
                            "{years})").format(year=year,
                                               years=", ".join(map(str, panel.years))))
    return panel.result(int(year))
