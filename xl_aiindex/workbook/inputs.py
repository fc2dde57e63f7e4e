"""A workbook's input sheets read into the model, and the engine run on them, for any reader.

The steps every reader shares: :func:`read_inputs` (the input sheets of a
:class:`~xl_aiindex.workbook.grid.BookSource` -> :class:`Inputs`) and :func:`compute_inputs`
(the engine, its problems placed in cells). The package reader
(:mod:`~xl_aiindex.workbook.book`), an open Excel book (``udfs``) and the range values an xlwings
Lite function receives (:mod:`xl_aiindex.lite`) all go through them. This module imports no file
reader (no calamine, openpyxl or XML parser), so the Lite path can import it with only numpy and
pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import pipeline
from ..errors import ProblemsFound
from ..model import IndexModel, IndexResult
from ..panel import build_panel, is_panel
from .grid import BookSource
from .read import Locator, read_model


@dataclass(frozen=True)
class Inputs:
    """A workbook's input sheets, read: the model, where each input came from (to place the
    engine's problems in cells) and notes (text read as numbers, columns ignored…)."""

    model: IndexModel
    locator: Locator
    notes: tuple[str, ...]


def read_inputs(source: BookSource) -> Inputs:
    """Read the input sheets of the workbook ``source`` reads (any reader: the package reader,
    an open Excel book). Raises :class:`~xl_aiindex.errors.ProblemsFound` (every problem in the
    sheets, with cells) or :class:`~xl_aiindex.errors.UnreadableWorkbook`."""
    model, locator, notes = read_model(source)
    return Inputs(model, locator, tuple(notes))


def compute_inputs(inputs: Inputs) -> IndexResult:
    """Build the index of workbook inputs; the engine's problems get their cells (raised as
    :class:`~xl_aiindex.errors.ProblemsFound`). ``pipeline.build_index`` is looked up at call
    time (tests count the engine runs).

    A panel (Data/Given with a ``year`` column) is built whole (:func:`~xl_aiindex.panel.
    build_panel`, Settings ``panel_normalisation``) and its latest year returned as a
    :class:`~xl_aiindex.panel.YearResult`: whatever reads one result reads the latest year, the
    panel writers find every year in its ``panel`` (a single-year book is built as before)."""
    model = inputs.model
    try:
        if is_panel(model.data if model.settings.input == "data" else model.given):
            return build_panel(model, model.settings.panel_normalisation).result()
        return pipeline.build_index(model)
    except ProblemsFound as e:
        raise ProblemsFound([inputs.locator.locate(p) for p in e.problems]) from None
