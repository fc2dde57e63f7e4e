"""``xl-aiindex report``: a self-contained bilingual HTML report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Report:
    """The report :func:`report` wrote: its ``path``, the numbers of ``sections`` and
    ``charts``, and of ``units`` ranked in it."""

    path: Path
    sections: int
    charts: int
    units: int


def report(book: str | os.PathLike[str], *, output: str | os.PathLike[str],
           year: int | None = None) -> Report:
    """Write a self-contained bilingual HTML report of ``book``: ranking with tiers, the TOP-N
    and comparison charts (inline SVG), the weights in use, the uncertainty and audit results
    when the workbook has them, and a methodology annex. It opens offline and prints to PDF.

    :param book: the workbook to read
    :param output: the HTML file to write (named ``.html`` or ``.htm``; never the workbook)
    :param year: the year of a panel (Data with a ``year`` column; default: the latest; the report
        gets a trends section); a
        workbook of one edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns a :class:`Report`. Raises :class:`~xl_aiindex.errors.UnsafeWrite` for an output
    that cannot hold the report (another suffix, the workbook itself, read-only, open), before
    anything is computed, and what reading raises.
    """
    from ..workbook.files import check_destination
    from ..workbook.io import compute, load_workbook
    from ..workbook.report import REPORT_SUFFIXES, write_report

    # a name that cannot hold the report is refused before minutes of computing
    check_destination(Path(output), REPORT_SUFFIXES, "HTML report", [Path(book)])
    result = compute(load_workbook(book), year)
    counts = write_report(result, book, output)
    return Report(path=Path(output), sections=counts["sections"], charts=counts["charts"],
                  units=len(result.scores))
