"""An opened book: a workbook's package read once, its inputs parsed into the model.

:func:`load_workbook` opens the file once (:class:`~xl_aiindex.workbook.package.Package`),
reads the input sheets with the fast reader and returns :class:`Loaded`, which keeps the
package and the reader: every later step of a command (ownership and hand-edit checks, the
write) reads from them, never from the path again. :func:`compute` runs the engine on it and
locates the engine's problems in their cells.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProblemsFound
from ..model import IndexModel, IndexResult
from ..pipeline import build_index
from .calamine_source import CalamineSource
from .fingerprint import STORE_SHEET, Stored, read_store
from .package import Package
from .read import Locator, key, read_model
from .results import LOG_COLUMNS

__all__ = ["Loaded", "compute", "load_workbook", "log_table"]


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
        model, locator, notes = read_model(source)
        log_rows: tuple[tuple[Any, ...], ...] = ()
        log_header: dict[str, int] = {}
        log_width = 0
        log_name = next((n for n in source.sheet_names() if key(n) == "log"), None)
        if log_name is not None and source.kind(log_name) == "worksheet":
            log_header, log_rows, log_width = log_table(source.grid(log_name).values)
        names = tuple(package.sheet_names())
        store_name = next((n for n in names if key(n) == STORE_SHEET.lower()), None)
        stored = None if store_name is None or source.kind(store_name) != "worksheet" \
            else read_store(source.grid(store_name).values)
    except BaseException:
        source.close()
        package.close()
        raise
    return Loaded(Path(path), model, locator, tuple(notes), log_rows, names, stored, log_header,
                  log_width, source)


def compute(loaded: Loaded) -> IndexResult:
    """Build the index of a loaded workbook; the engine's problems get their cells."""
    try:
        return build_index(loaded.model)
    except ProblemsFound as e:
        raise ProblemsFound([loaded.locator.locate(p) for p in e.problems]) from None
