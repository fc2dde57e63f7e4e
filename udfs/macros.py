"""The macros (``@xw.script``): rebuild the result sheets, list the input problems.

``rebuild_results`` writes the same cells as ``xl-aiindex recalc`` (Scores, Ranking, Tiers,
WeightsUsed… from :func:`~xl_aiindex.workbook.results.result_sheets`) and appends one row to
Log; ``validate_inputs`` writes every problem to the Problems sheet with a link to its cell
(:func:`~xl_aiindex.workbook.results.problems_sheet`). Both work on a
:class:`~xl_aiindex.workbook.xlwings_book.MacroBook`, so the code that runs in Excel is the code
the tests run on a file (``udfs.books.HeadlessBook``).

What they guarantee, as ``recalc`` does (the same functions of :mod:`xl_aiindex.workbook.io`
and :mod:`xl_aiindex.workbook.ownership`, applied to the book):

* **Log is appended to, never rewritten**: one row below its last used row, each value in the
  column its header names (:func:`~xl_aiindex.workbook.io.log_row`); only that row's cells and
  the header cells Log lacks are written, so the user's columns, rows, notes, comments and
  formulas there stay.
* **Only the tool's own sheets are replaced**: a sheet with a result sheet's name that holds
  content the tool did not write (no stored fingerprint; not empty or header-only), or a chart
  sheet under such a name, stops the macro before anything is written
  (:func:`~xl_aiindex.workbook.ownership.foreign_sheet_problems`); the refusals go to the
  Problems sheet (unless that is the refused sheet) and a message box.
* **Every sheet written is fingerprinted** (the result sheets; Problems, by either macro) in the
  very hidden store, merged with the fingerprints other commands stored
  (:func:`~xl_aiindex.workbook.io.store_after`), with the inputs hash of a rebuild: the next
  ``recalc`` tells cells typed over by hand from cells a macro wrote, and ``recalc --check``
  knows what the results come from.

Scope, compared with ``recalc``: the macro writes values (Settings ``output`` = ``formulas`` is
``recalc``'s job: its live formulas and defined names are not written from Excel), rewrites a
``Calc`` sheet left by a formula-mode run with values as ``recalc`` does, and does not itself
refuse result cells edited by hand (Excel has no ``--force``: the button rewrites them, as a
rebuild is asked to; it stores the fingerprints by which ``recalc`` refuses later edits).

How Excel runs them
-------------------
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

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import xlwings as xw

from xl_aiindex import __version__
from xl_aiindex.contract import LOG, PROBLEMS, STORE_SHEET, key
from xl_aiindex.errors import Problem, XlAiIndexError
from xl_aiindex.i18n import N_, _, ngettext, use_language
from xl_aiindex.model import IndexResult
from xl_aiindex.staleness import inputs_hash
from xl_aiindex.workbook.book import BookState, read_state
from xl_aiindex.workbook.io import log_row, run_time, stale_problems, store_after
from xl_aiindex.workbook.ownership import foreign_sheet_problems, kind_problems, skip_optional
from xl_aiindex.workbook.results import problems_sheet, result_sheets
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


def book_state(book: MacroBook) -> BookState:
    """What ``book``'s sheets the macro writes hold before it writes them, read as ``recalc``
    reads them (:func:`~xl_aiindex.workbook.book.read_state`; Log and the store only when they
    are worksheets)."""
    return read_state(book.sheet_names(), book.sheet_kinds(), book.grid)


#: What a refused macro tells the user to do (Excel has no ``--force``).
MACRO_REMEDY = N_("rename your sheet (or delete it); only xl-aiindex recalc --force replaces it")


def refusals(book: MacroBook, state: BookState, sheets: Sequence[SheetSpec],
             appended: Sequence[str], verb: str) -> list[Problem]:
    """What refuses writing ``sheets`` (and appending to ``appended``) into ``book``: a sheet
    of one of their names that is not a worksheet, or that the tool did not write
    (:mod:`xl_aiindex.workbook.ownership`, the check ``recalc`` makes); a sheet that cannot be
    read is one problem saying why."""
    problems = kind_problems(state.kinds, [*(s.name for s in sheets), *appended], verb)
    if problems:
        return problems
    try:
        return foreign_sheet_problems(lambda name: book.grid(name).values, sheets, state.names,
                                      state.stored, verb, remedy=MACRO_REMEDY)
    except XlAiIndexError as e:
        return [Problem("", problem=_("the workbook cannot be read: {error}").format(error=e))]


def _state(book: MacroBook) -> tuple[BookState | None, list[Problem]]:
    """:func:`book_state`, or the problem saying why the book cannot be read."""
    try:
        return book_state(book), []
    except XlAiIndexError as e:
        return None, [Problem("", problem=_("the workbook cannot be read: {error}").format(
            error=e))]


def _refuse(book: MacroBook, state: BookState | None, problems: Sequence[Problem],
            outcome: Outcome) -> MacroReport:
    """Write nothing but the Problems sheet listing ``problems`` (and its fingerprint) — not
    even that when Problems is a refused sheet or the book cannot be read: then the message
    alone — and tell the user."""
    n = len(problems)
    what = ngettext("{n} problem with the sheets it writes",
                    "{n} problems with the sheets it writes", n).format(n=n)
    kinds = {} if state is None else {key(k): v for k, v in state.kinds.items()}
    if state is not None and kinds.get(key(PROBLEMS), "worksheet") == "worksheet" and \
            not any(key(p.sheet) == key(PROBLEMS) for p in problems):
        sheet = problems_sheet(problems)
        store = store_after(state.stored, state.names, len(state.log_rows), [sheet], None)
        book.write_sheets([sheet, store], activate=PROBLEMS, very_hidden=(STORE_SHEET,))
        message = _("nothing was written: {what}; see the Problems sheet. First: {first}").format(
            what=what, first=problems[0])
        written: tuple[str, ...] = (sheet.name,)
    else:
        message = _("nothing was written: {what}. First: {first}").format(what=what,
                                                                           first=problems[0])
        written = ()
    book.notify(message, "error")
    return MacroReport(outcome.result, tuple(problems), written, message, outcome.notes)


def _calc_values(book: MacroBook, outcome: Outcome) -> list[SheetSpec]:
    """The helper sheets Calc and CalcStats rewritten with values when an earlier formula-mode
    recalc left them (as ``recalc`` does in values mode, so nothing refers to names it no
    longer keeps)."""
    from xl_aiindex.contract import CALC, CALC_STATS
    from xl_aiindex.workbook.formulas import helper_values_sheets

    if outcome.result is None or outcome.locator is None:
        return []
    present = [n for n in book.sheet_names() if key(n) in (key(CALC), key(CALC_STATS))]
    if not present:
        return []
    return helper_values_sheets(outcome.result, outcome.locator, present)


def _problems_of(outcome: Outcome) -> tuple[Problem, ...]:
    if outcome.error is not None:
        return (Problem("", problem=_("the workbook cannot be read: {error}").format(
            error=outcome.error)),)
    return outcome.problems


def run_rebuild(book: MacroBook, command: str = "rebuild_results") -> MacroReport:
    """Recompute ``book`` from its inputs (read now), write its result sheets and append a row
    to Log; its messages in the workbook's language (Settings ``language``).

    With problems in the inputs the result sheets are left as they were; the problems go to the
    Problems sheet (and the Log row says how many). A sheet the tool may not replace (module
    docstring) stops it before anything is written but the Problems sheet listing why.
    """
    outcome = CACHE.outcome(book, fresh=True)
    with use_language(outcome.language):
        return _rebuild(book, command, outcome)


def _rebuild(book: MacroBook, command: str, outcome: Outcome) -> MacroReport:
    result = outcome.result
    entry: dict[str, Any] = {"time": run_time().isoformat(timespec="seconds"),
                             "command": command, "version": __version__, "file": book.name}
    state, unreadable = _state(book)
    if state is None:
        return _refuse(book, None, unreadable, outcome)
    if result is not None:
        entry.update({"input": result.model.settings.input, "units": len(result.scores),
                      "status": "ok", "notes": "; ".join(outcome.notes),
                      "inputs_hash": inputs_hash(result.model)})
        stale = stale_problems(state.names)
        written = [*result_sheets(result), *_calc_values(book, outcome), *stale]
        # an extra (Charts…) whose name a sheet of the user's has is skipped, as recalc does
        skipped: list[str] = []
        with contextlib.suppress(XlAiIndexError):   # refusals (next) says why it is unreadable
            written, skipped = skip_optional(state.kinds, lambda name: book.grid(name).values,
                                             written, state.names, state.stored,
                                             result.model.settings)
        refused = refusals(book, state, written, (LOG,), command)
        if refused:
            return _refuse(book, state, refused, outcome)
        # the hand-edit fingerprints of what is written, as recalc keeps them, so the next
        # recalc can tell the cells this rebuild wrote from cells edited by hand afterwards
        store = store_after(state.stored, state.names, len(state.log_rows) + 1, written,
                            str(entry["time"]), str(entry["inputs_hash"]))
        names = [*(s.name for s in written), LOG]
        message = _("rebuilt {sheets} and {last}: {units} units, input = {input}").format(
            sheets=", ".join(names[:-1]), last=names[-1], units=len(result.scores),
            input=result.model.settings.input) + "".join(f"\n{note}" for note in skipped)
        appends = [log_row(state.log_header, state.log_width, entry)]
        book.write_sheets([*written, store], very_hidden=(STORE_SHEET,), appends=appends)
        book.notify(message, "info")
        return MacroReport(result, (), tuple(names), message, (*outcome.notes, *skipped))
    problems = _problems_of(outcome)
    n = len(problems)
    entry.update({"status": ngettext("{n} problem", "{n} problems", n).format(n=n),
                  "notes": "; ".join(str(p) for p in problems[:3])})
    sheet = problems_sheet(problems)
    refused = refusals(book, state, [sheet], (LOG,), command)
    if refused:
        return _refuse(book, state, refused, outcome)
    store = store_after(state.stored, state.names, len(state.log_rows) + 1, [sheet], None)
    message = ngettext("{n} problem in the inputs: nothing was recomputed; see the Problems "
                       "sheet. First: {first}",
                       "{n} problems in the inputs: nothing was recomputed; see the Problems "
                       "sheet. First: {first}", n).format(n=n, first=problems[0]) \
        if problems else _("nothing to do")
    appends = [log_row(state.log_header, state.log_width, entry)]
    book.write_sheets([sheet, store], activate=PROBLEMS, very_hidden=(STORE_SHEET,),
                      appends=appends)
    book.notify(message, "error")
    return MacroReport(None, problems, (sheet.name, LOG), message)


def run_validate(book: MacroBook) -> MacroReport:
    """Check ``book``'s inputs (reading and computing, writing nothing else) and write every
    problem to the Problems sheet, each linked to its cell; an empty table when there are none.
    The Problems sheet is fingerprinted (so ``recalc`` tells a Problems sheet typed over by
    hand) and, like a result sheet, not written over a user's own sheet of that name. Its
    messages are in the workbook's language (Settings ``language``)."""
    outcome = CACHE.outcome(book, fresh=True)
    with use_language(outcome.language):
        return _validate(book, outcome)


def _validate(book: MacroBook, outcome: Outcome) -> MacroReport:
    problems = _problems_of(outcome)
    sheet = problems_sheet(problems)
    state, refused = _state(book)
    if state is not None:
        refused = refusals(book, state, [sheet], (), "validate_inputs")
    if state is None or refused:
        return _refuse(book, state, refused, outcome)
    store = store_after(state.stored, state.names, len(state.log_rows), [sheet], None)
    n = len(problems)
    if n:
        message = ngettext("{n} problem found: see the Problems sheet",
                           "{n} problems found: see the Problems sheet", n).format(n=n)
        book.write_sheets([sheet, store], activate=PROBLEMS, very_hidden=(STORE_SHEET,))
        book.notify(message, "error")
    else:
        message = _("no problems found")
        book.write_sheets([sheet, store], very_hidden=(STORE_SHEET,))
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
