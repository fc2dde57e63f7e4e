"""The macros (``@xw.script``): rebuild the result sheets, list the input problems.

``rebuild_results`` writes the same cells as ``xl-aiindex recalc`` (Scores, Ranking, Tiers,
WeightsUsed from :func:`~xl_aiindex.workbook.results.result_sheets`, one row appended to Log by
:func:`~xl_aiindex.workbook.results.log_sheet`); ``validate_inputs`` writes every problem to the
Problems sheet with a link to its cell (:func:`~xl_aiindex.workbook.results.problems_sheet`).
Both work on a :class:`~xl_aiindex.workbook.xlwings_book.MacroBook`, so the code that runs in Excel
is the code the tests run on a file (``udfs.books.HeadlessBook``).

Scope, compared with ``recalc``: the macro writes values (Settings ``output`` = ``formulas`` is
``recalc``'s job: its live formulas and defined names are not written from Excel), rewrites a
``Calc`` sheet left by a formula-mode run with values as ``recalc`` does, and neither checks nor
refreshes the hand-edit fingerprints ``recalc`` keeps (its Log row makes them stale, so the next
``recalc`` does not mistake the rebuilt cells for hand edits).

How Excel runs them
-------------------
* **Windows**: after *Import Functions* (xlwings ribbon), each macro has a VBA ``Sub`` of the same
  name in the module ``xlwings_udfs`` — ``Sub rebuild_results()``, no arguments, because the
  ``book`` argument is filled in by VBA (``vba="Nothing"``) and resolved here to the calling
  workbook (``xw.Book.caller()``). The buttons of the Examples sheet are bound to those names, and
  they are in the list of Alt+F8.
* **macOS** (no Import Functions there): ``RunPython "import udfs; udfs.rebuild_results()"`` from a
  VBA macro; ``book`` is None there too and resolves to the calling workbook the same way.
* **xlwings ribbon, Run main** (Windows and macOS): it runs ``main()`` of a module named like the
  workbook; a file ``city_ai_index_2020.py`` beside the workbook holding
  ``from udfs.macros import main`` makes that button rebuild the results (:func:`main`).
* **Python**: ``rebuild_results("book.xlsx")`` or ``rebuild_results(HeadlessBook(src, out))``.

The ``@xw.script`` functions return None (what Excel's ``Sub`` expects); :func:`run_rebuild` and
:func:`run_validate` do the work and return a :class:`MacroReport` for callers in Python. Their
annotations are ``Any``: on Windows xlwings turns every annotation into a converter, and only
registered types (``Any``, ``str``, ``list``…) have one — ``-> None`` or ``X | None`` would fail
there after the work is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import xlwings as xw

from xl_aiindex import __version__
from xl_aiindex.errors import Problem
from xl_aiindex.model import IndexResult
from xl_aiindex.staleness import inputs_hash
from xl_aiindex.workbook.fingerprint import STORE_SHEET, result_fingerprint, store_sheet
from xl_aiindex.workbook.io import run_time
from xl_aiindex.workbook.read import key
from xl_aiindex.workbook.results import LOG_COLUMNS, log_sheet, problems_sheet, result_sheets
from xl_aiindex.workbook.sheetspec import SheetSpec
from xl_aiindex.workbook.xlwings_book import MacroBook

from .books import book_of_macro
from .cache import CACHE, Outcome


@dataclass
class MacroReport:
    """What a macro did: the result (None when the inputs have problems), the problems, the
    sheets written and the message shown to the user."""

    result: IndexResult | None
    problems: tuple[Problem, ...] = ()
    sheets: tuple[str, ...] = ()
    message: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def log_rows(book: MacroBook) -> tuple[tuple[Any, ...], ...]:
    """The rows the Log sheet already has (below its header), as ``load_workbook`` reads them."""
    name = next((n for n in book.sheet_names() if key(n) == "log"), None)
    if name is None:
        return ()
    grid = book.grid(name)
    return tuple(tuple(r[: len(LOG_COLUMNS)]) for r in grid.values[1:]
                 if any(v is not None for v in r))


def _calc_values(book: MacroBook, outcome: Outcome) -> list[SheetSpec]:
    """The helper sheets Calc and CalcStats rewritten with values when an earlier formula-mode
    recalc left them (as ``recalc`` does in values mode, so nothing refers to names it no
    longer keeps)."""
    from xl_aiindex.workbook.formulas import CALC, CALC_STATS, helper_values_sheets

    if outcome.result is None or outcome.locator is None:
        return []
    present = [n for n in book.sheet_names() if key(n) in (key(CALC), key(CALC_STATS))]
    if not present:
        return []
    return helper_values_sheets(outcome.result, outcome.locator, present)


def _problems_of(outcome: Outcome) -> tuple[Problem, ...]:
    if outcome.error is not None:
        return (Problem("", problem=f"the workbook cannot be read: {outcome.error}"),)
    return outcome.problems


def run_rebuild(book: MacroBook, command: str = "rebuild_results") -> MacroReport:
    """Recompute ``book`` from its inputs (read now) and write its result sheets and a Log row.

    With problems in the inputs the result sheets are left as they were; the problems go to the
    Problems sheet (and the Log row says how many).
    """
    outcome = CACHE.outcome(book, fresh=True)
    result = outcome.result
    entry: dict[str, Any] = {"time": run_time().isoformat(timespec="seconds"),
                             "command": command, "version": __version__, "file": book.name}
    if result is not None:
        entry.update({"input": result.model.settings.input, "units": len(result.scores),
                      "status": "ok", "notes": "; ".join(outcome.notes),
                      "inputs_hash": inputs_hash(result.model)})
        results = [*result_sheets(result), *_calc_values(book, outcome)]
        previous = log_rows(book)
        # the hand-edit fingerprints of what is written, as recalc keeps them, so the next
        # recalc can tell the cells this rebuild wrote from cells edited by hand afterwards
        store = store_sheet(result_fingerprint(results), log_rows=len(previous) + 1,
                            log_time=str(entry["time"]), inputs_hash=str(entry["inputs_hash"]))
        # a Problems sheet left by an earlier validation would now be wrong: it is emptied
        stale = [problems_sheet(())] if any(key(n) == "problems" for n in book.sheet_names()) \
            else []
        sheets = [*results, *stale, log_sheet(previous, entry)]
        names = [s.name for s in sheets]
        message = (f"rebuilt {', '.join(names[:-1])} and {names[-1]}: {len(result.scores)} "
                   f"units, input = {result.model.settings.input}")
        book.write_sheets([*sheets, store], very_hidden=(STORE_SHEET,))
        book.notify(message, "info")
        return MacroReport(result, (), tuple(s.name for s in sheets), message, outcome.notes)
    problems = _problems_of(outcome)
    n = len(problems)
    entry.update({"status": f"{n} problem{'s' if n != 1 else ''}",
                  "notes": "; ".join(str(p) for p in problems[:3])})
    sheets = [problems_sheet(problems), log_sheet(log_rows(book), entry)]
    message = (f"{n} problem{'s' if n != 1 else ''} in the inputs: nothing was recomputed; see the "
               f"Problems sheet. First: {problems[0]}" if problems else "nothing to do")
    book.write_sheets(sheets, activate="Problems")
    book.notify(message, "error")
    return MacroReport(None, problems, tuple(s.name for s in sheets), message)


def run_validate(book: MacroBook) -> MacroReport:
    """Check ``book``'s inputs (reading and computing, writing nothing else) and write every
    problem to the Problems sheet, each linked to its cell; an empty table when there are none."""
    outcome = CACHE.outcome(book, fresh=True)
    problems = _problems_of(outcome)
    sheet = problems_sheet(problems)
    n = len(problems)
    if n:
        message = f"{n} problem{'s' if n != 1 else ''} found: see the Problems sheet"
        book.write_sheets([sheet], activate="Problems")
        book.notify(message, "error")
    else:
        message = "no problems found"
        book.write_sheets([sheet])
        book.notify(message, "info")
    return MacroReport(outcome.result, problems, (sheet.name,), message, outcome.notes)


@xw.script
@xw.arg("book", vba="Nothing")
def rebuild_results(book: Any = None) -> Any:  # not "-> None": xlwings makes it a converter
    """Recompute the index from the input sheets and rewrite Scores, Ranking, Tiers and WeightsUsed, appending a row to Log (as xl-aiindex recalc); problems go to the Problems sheet."""
    run_rebuild(book_of_macro(book))


@xw.script
@xw.arg("book", vba="Nothing")
def validate_inputs(book: Any = None) -> Any:
    """Check the input sheets and write every problem to the Problems sheet, each with a link to its cell (an empty table when there is none)."""
    run_validate(book_of_macro(book))


def main() -> None:
    """What the xlwings ribbon's *Run main* button calls: rebuild the calling workbook.

    *Run main* runs ``import <workbook name>; <workbook name>.main()``: a one-line file
    ``city_ai_index_2020.py`` next to ``city_ai_index_2020.xlsm`` holding
    ``from udfs.macros import main`` makes it rebuild the results (no VBA import needed, so it
    works on macOS too).
    """
    run_rebuild(book_of_macro(None))
