"""``xl-aiindex excel BOOK --lite``: a workbook ready for xlwings Lite (docs/lite.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..errors import Problem

#: The Lite functions the Lite Examples sheet calls (xl_aiindex.lite).
LITE_FUNCTIONS = ("AI_MODEL", "AI_INDEX", "AI_SUBINDEX", "AI_RANK", "AI_TIER", "AI_WEIGHT",
                  "AI_RANKING", "AI_SCORES")


@dataclass(frozen=True)
class LiteWorkbook:
    """What :func:`excel_lite` wrote: the workbook's ``path``, the defined ``names`` it now has
    for the input sheets (name -> reference), the ``functions`` its Lite Examples sheet calls,
    and the inputs' ``problems`` when they do not compute yet."""

    path: Path
    names: dict[str, str]
    functions: tuple[str, ...]
    problems: tuple[Problem, ...]


def excel_lite(book: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
               force: bool = False) -> LiteWorkbook:
    """Prepare a workbook of the contract for xlwings Lite: a defined name per input sheet
    (``AI_Settings``, ``AI_Framework``, ``AI_Units``, ``AI_Data``, ``AI_Given``) and a sheet
    "Lite Examples" calling every Lite function, written as every workbook is (guarded,
    atomic, one Log row).

    :param book: the workbook (``.xlsx`` or ``.xlsm``)
    :param output: where to write (default: ``book`` itself)
    :param force: replace a "Lite Examples" sheet, or ``AI_…`` defined names, that the tool did
        not write

    Raises :class:`~xl_aiindex.errors.ProblemsFound` (a sheet or a name of the user's in the
    way; inputs that cannot be read), :class:`~xl_aiindex.errors.UnsafeWrite`,
    :class:`~xl_aiindex.errors.UnreadableWorkbook`.
    """
    from ..errors import ProblemsFound
    from ..staleness import inputs_hash
    from ..workbook.answers import Outcome
    from ..workbook.book import Loaded, compute
    from ..workbook.lite_book import (
        LITE_PREFIX,
        foreign_names,
        input_names,
        lite_examples_sheet,
        workbook_names,
    )
    from ..workbook.package import WORKBOOK_PART
    from ..workbook.writer import Update, update_workbook

    def build(loaded: Loaded) -> Update[LiteWorkbook]:
        reader = loaded.reader()
        grids = {n: reader.grid(n).values for n in loaded.sheet_names
                 if loaded.package.kind(n) == "worksheet" and loaded.package.part(n)}
        names = input_names(loaded.sheet_names, grids)
        if not force:
            taken = foreign_names(workbook_names(loaded.package.read(WORKBOOK_PART)), names)
            if taken:
                raise ProblemsFound(taken)
        try:
            result = compute(loaded)
            problems: tuple[Problem, ...] = ()
        except ProblemsFound as e:
            result, problems = None, tuple(e.problems)
        outcome = Outcome(result=result, problems=problems)
        sheet = lite_examples_sheet(loaded.model, outcome, names)
        entry = {"input": loaded.model.settings.input, "status": "ok" if result else "problems",
                 "inputs_hash": inputs_hash(loaded.model) if result else None}
        done = LiteWorkbook(Path(output) if output is not None else Path(book), names,
                            LITE_FUNCTIONS, problems)
        return Update(done, [sheet], entry, defined_names=names, names_prefix=LITE_PREFIX)

    return update_workbook(book, output, build, command="excel --lite", force=force)
