"""``xl-aiindex report``: a self-contained bilingual report, as an HTML page or a PDF."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Report:
    """The report :func:`report` wrote: its ``path``, the numbers of ``sections`` and
    ``charts``, and of ``units`` ranked in it; ``notes`` for the one who made it (the engine's
    notes, and advice such as running the uncertainty analysis with more samples, which the
    published page does not carry)."""

    path: Path
    sections: int
    charts: int
    units: int
    notes: tuple[str, ...] = ()


def report(book: str | os.PathLike[str], *, output: str | os.PathLike[str],
           year: int | None = None) -> Report:
    """Write a self-contained bilingual report of ``book``: ranking with tiers, the TOP-N
    and comparison charts (inline SVG), the weights in use, the uncertainty and audit results
    when the workbook has them, and a methodology annex. An HTML page opens offline and
    prints to A4; a ``.pdf`` output is printed by headless Chromium (or WeasyPrint).

    :param book: the workbook to read
    :param output: the file to write: ``.html`` or ``.htm`` (the page) or ``.pdf`` (the page
        printed); never the workbook
    :param year: the year of a panel (Data with a ``year`` column; default: the latest): its
        ranking, charts and weights, and a Trends section of every year; a workbook of one
        edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns a :class:`Report`. Raises :class:`~xl_aiindex.errors.UnsafeWrite` for an output
    that cannot hold the report (another suffix, the workbook itself, read-only, open, a PDF
    with no Chromium or WeasyPrint installed), before anything is computed, and what reading
    raises.
    """
    from ..workbook.io import compute, load_workbook
    from ..workbook.report import check_report_destination, write_report

    # a name that cannot hold the report is refused before minutes of computing
    check_report_destination(output, book)
    result = compute(load_workbook(book), year)
    page = write_report(result, book, output)
    return Report(path=Path(output), sections=page.sections, charts=page.charts,
                  units=len(result.scores), notes=(*result.notes, *page.notes))
