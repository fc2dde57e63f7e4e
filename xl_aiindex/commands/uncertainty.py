"""``xl-aiindex uncertainty``: how far ranks move when the Uncertainty sheet's assumptions (or
the default analysis's) vary."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from ..uncertainty import UncertaintyResult


@dataclass(frozen=True)
class UncertaintyRun:
    """What :func:`uncertainty` computed and wrote.

    ``path``: the workbook written; ``samples``: the base sample size N reached; ``runs``:
    how many times the index ran; ``sensitivity``: per assumption, first-order and total
    Sobol' indices with their 95 % intervals; ``summary``: per unit in nominal order, the
    nominal, 5 %, median and 95 % ranks, the share of runs in the nominal tier and the mean
    rank shift; ``notes``; ``result``: the whole
    :class:`~xl_aiindex.uncertainty.UncertaintyResult`.
    """

    book: Path
    path: Path
    samples: int
    runs: int
    sensitivity: pd.DataFrame
    summary: pd.DataFrame
    notes: tuple[str, ...]
    result: UncertaintyResult


def uncertainty(book: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
                samples: int | None = None, budget: float | None = None, seed: int = 1,
                force: bool = False, progress: Callable[[int, int], None] | None = None,
                year: int | None = None) -> UncertaintyRun:
    """Vary what the Uncertainty sheet lists (weights, methods, indicators), run the index many
    times, and write UncertaintyResults (how far each unit's rank moves) and Sensitivity
    (which assumption moves the ranks most), with one Log row.

    :param book: the workbook to read; without an Uncertainty sheet the default analysis
        runs (:mod:`xl_aiindex.uncertainty_defaults`), with a note
    :param output: where to write (default: ``book``, in place)
    :param samples: the base sample size N to start from (default 512); the index runs
        N × (assumptions + 2) times, N doubled while the indices are not precise enough
    :param budget: seconds the doubling of N may take (default 10; 0: run N as given)
    :param seed: the seed of the sample, for repeatable runs
    :param force: overwrite cells of UncertaintyResults and Sensitivity edited by hand (or
        sheets of those names the tool did not write)
    :param progress: called with (runs done, runs in this round) as the runs go
    :param year: the year of a panel (Data with a ``year`` column; default: the latest): that year's
        data, each run normalised within the year; a
        workbook of one edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns an :class:`UncertaintyRun`. Raises :class:`~xl_aiindex.errors.ProblemsFound` (the
    Uncertainty sheet's or the inputs' problems, hand edits), and what :func:`recalc` raises
    for refused destinations.
    """
    from ..uncertainty import DEFAULT_BUDGET, DEFAULT_SAMPLES
    from ..workbook.uncertainty_io import uncertainty_file

    result = uncertainty_file(book, output,
                              DEFAULT_SAMPLES if samples is None else samples, seed,
                              DEFAULT_BUDGET if budget is None else budget, progress, force=force,
                              year=year)
    return UncertaintyRun(book=Path(book), path=Path(output if output is not None else book),
                          samples=result.samples, runs=result.runs,
                          sensitivity=result.sensitivity, summary=result.summary,
                          notes=tuple(result.notes), result=result)
