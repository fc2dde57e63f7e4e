"""``xl-aiindex recalc``: recompute a workbook and rewrite its result sheets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..workbook.files import LOCK_WAIT

if TYPE_CHECKING:
    from ..model import IndexResult


@dataclass(frozen=True)
class RankedUnit:
    """One row of the ranking as printed: ``rank`` (None: not ranked), the unit's id and
    name (Chinese, else English), its score and its tier's label ("" when in no tier)."""

    rank: int | None
    unit: str
    name: str
    score: float
    tier: str


@dataclass(frozen=True)
class Recalculated:
    """What :func:`recalc` did.

    ``book``: the workbook read; ``path``: the workbook written (``book`` when in place);
    ``sheets``: the sheets written, in order, each once (Log last); ``mode``: ``values`` or
    ``formulas`` (live formulas with cached values); ``units`` / ``nodes``: counts;
    ``input``: the Settings key ``input`` (``data`` or ``given``); ``notes``: what reading and
    computing did on the user's behalf; ``top``: the first ranked units (as many as asked for);
    ``more``: how many units the ranking has beyond them; ``result``: the whole index result.
    """

    book: Path
    path: Path
    sheets: tuple[str, ...]
    mode: str
    units: int
    nodes: int
    input: str
    notes: tuple[str, ...]
    top: tuple[RankedUnit, ...]
    more: int
    result: IndexResult


def recalc(book: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
           formulas: bool | None = None, force: bool = False, wait: float = LOCK_WAIT,
           top: int = 10) -> Recalculated:
    """Recompute the workbook ``book`` and rewrite its result sheets (Scores, Ranking, Tiers,
    WeightsUsed, GroupRanking, Charts, Compare, Treatment as they apply), appending one Log row.

    :param book: the workbook to read
    :param output: where to write it (default: ``book``, in place; replaced atomically)
    :param formulas: True writes live formulas with cached values, False values; None (default)
        takes the Settings key ``output``
    :param force: overwrite result cells edited by hand since the last recalc, and replace
        sheets with result-sheet names that the tool did not write
    :param wait: seconds to wait while another xl-aiindex writes the same workbook
    :param top: how many ranked units to return in ``top`` (0: none, and no table is built)

    Returns a :class:`Recalculated`. Raises :class:`~xl_aiindex.errors.ProblemsFound` (the
    inputs' problems, hand edits, a sheet the tool did not write: nothing written),
    :class:`~xl_aiindex.errors.UnreadableWorkbook`, :class:`~xl_aiindex.errors.UnsafeWrite`
    (a destination open in Excel, read-only, of the wrong kind, or busy).
    """
    from ..workbook.writer import recalc_file

    mode = None if formulas is None else ("formulas" if formulas else "values")
    written: list[str] = []
    result = recalc_file(book, output, output=mode, force=force, wait=wait, written=written)
    rows: tuple[RankedUnit, ...] = ()
    more = 0
    if top > 0:
        rows, more = ranked_units(result, top)
    return Recalculated(
        book=Path(book), path=Path(output if output is not None else book),
        sheets=tuple(dict.fromkeys(written)), mode=written_mode(result, mode),
        units=len(result.scores), nodes=len(result.model.nodes),
        input=result.model.settings.input, notes=tuple(result.notes), top=rows, more=more,
        result=result)


def written_mode(result: IndexResult, asked: str | None) -> str:
    """The mode the results were written in: ``asked`` (None: Settings ``output``), but
    values for a panel that formula mode cannot write (the notes say why)."""
    from ..workbook.formulas import panel_output_mode

    return panel_output_mode(result, asked or result.model.settings.output)[0]


def ranked_units(result: IndexResult, top: int) -> tuple[tuple[RankedUnit, ...], int]:
    """The first ``top`` rows of the ranking (:func:`~xl_aiindex.workbook.results.ranking_table`)
    as :class:`RankedUnit` rows, and how many rows it has beyond them."""
    import pandas as pd

    from ..workbook.results import ranking_table

    ranking = ranking_table(result)
    rule = result.model.settings.tiers
    rows = []
    for rec in ranking.head(top).itertuples(index=False):
        t = result.tier.get(rec.unit, 0)
        rows.append(RankedUnit(
            rank=None if pd.isna(rec.rank) else int(rec.rank), unit=str(rec.unit),
            name=str(rec.name_zh or rec.name_en or ""), score=float(rec.score),
            tier=rule.label(int(t)) if t == t and t else ""))
    return tuple(rows), max(len(ranking) - top, 0)
