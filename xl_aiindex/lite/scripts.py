"""The xlwings Lite scripts (``@script``, buttons and the task pane): ``rebuild_results`` and
``validate_inputs``.

Unlike a function, a script receives the whole book (an ``xw.Book`` of xlwings Lite) and may
write to it. Both read the input sheets through the Lite book API (``sheet.used_range``,
``sheet.range(…).options(ndim=2).value``), from A1, and build the index through the same cache
as ``AI_MODEL`` (the same inputs are built once). They write values with
``sheet.clear()`` and ``sheet.range("A1").value = rows``:

* ``rebuild_results``: Scores, Ranking and Tiers as ``xl-aiindex recalc`` computes them, and the
  Problems sheet (its header alone when there is none); with problems in the inputs the result
  sheets are left as they were and the problems are listed in Problems. A row is appended to Log
  when the book has a Log sheet with a header.
* ``validate_inputs``: every problem of the input sheets in Problems, one row each (sheet, cell,
  unit, node, problem).

What is kept from the desktop macros' rules: **only the tool's own sheets are replaced** — a
sheet with a result sheet's name whose first row is not the header the tool writes there (a
sheet of the user's that happens to have the name) stops the script before anything is written
but Problems, which then says why. What is not available in Lite: the very hidden fingerprint
store (the desktop tools' hand-edit detection), formula mode, the optional sheets (WeightsUsed,
Charts, Compare…), cell links and styles: run ``xl-aiindex recalc`` on the file for those.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import __version__
from ..contract import (
    AHP_PREFIX,
    BUDGET_PREFIX,
    DATA,
    INPUT_SHEETS,
    LOG,
    LOG_COLUMNS,
    PROBLEMS,
    PROBLEMS_HEADER,
    RANKING,
    SCORES,
    TIERS,
    TIERS_COLUMNS,
    key,
)
from ..errors import Problem
from ..i18n import _, ngettext
from ..staleness import inputs_hash
from ..workbook.answers import Outcome, table_rows
from ..workbook.result_tables import tiers_table
from .functions import CACHE
from .ranges import ValuesBook, input_kind, rows_of
from .runtime import Book, script

#: The first header cells that mark a sheet as the tool's own (what the tool writes in row 1).
OWN_HEADERS = {
    SCORES: ("unit",),
    RANKING: ("rank", "unit"),
    TIERS: TIERS_COLUMNS,
    PROBLEMS: PROBLEMS_HEADER,
}


@dataclass
class LiteReport:
    """What a script did: the sheets written, the problems listed, the message shown."""

    written: tuple[str, ...]
    problems: tuple[Problem, ...]
    message: str
    outcome: Outcome | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _sheets(book: Any) -> dict[str, Any]:
    """The book's sheets by their matching key (case and spaces ignored)."""
    return {key(s.name): s for s in book.sheets}


def sheet_values(sheet: Any) -> list[list[Any]]:
    """A sheet's values from A1 to the last cell it uses (a 2-D list; [] for an empty sheet);
    an error cell as its text (``"#DIV/0!"``), which the reader reports, never as a blank."""
    used = sheet.used_range
    last = used.last_cell
    rows = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, err_to_str=True).value
    return rows_of(rows)


def read_book(book: Any) -> ValuesBook:
    """The input sheets of an xlwings Lite book, as ``AI_MODEL`` would be given them (Data or
    Given as Settings ``input`` says, Given beside Data), and every ``AHP_…``/``Budget_…``
    sheet (a script can read them; a function cannot)."""
    found = _sheets(book)
    values = {name: sheet_values(found[key(name)]) for name in INPUT_SHEETS
              if key(name) in found}
    given = input_kind(values.get(INPUT_SHEETS[0], [])) == "given"
    wanted = [n for n in INPUT_SHEETS if not (n == DATA and given)]
    sheets = {n: values[n] for n in wanted if n in values}
    prefixes = (key(AHP_PREFIX) + "_", key(BUDGET_PREFIX) + "_")
    for s in book.sheets:
        if key(s.name).startswith(prefixes):
            sheets[s.name] = sheet_values(s)
    return ValuesBook(sheets)


def _problem_rows(problems: Sequence[Problem]) -> list[list[Any]]:
    return [list(PROBLEMS_HEADER)] + [[p.sheet, p.cell, p.unit, p.node, p.problem]
                                      for p in problems]


def _problems_of(outcome: Outcome) -> tuple[Problem, ...]:
    if outcome.error is not None:
        return (Problem("", problem=_("the workbook cannot be read: {reason}")
                        .format(reason=outcome.error)),)
    return outcome.problems


def foreign_sheets(book: Any, names: Sequence[str]) -> list[Problem]:
    """A problem for each sheet of ``names`` that the book has but the tool did not write: its
    first row is neither blank nor the header the tool writes there."""
    found = _sheets(book)
    out = []
    for name in names:
        sheet = found.get(key(name))
        if sheet is None:
            continue
        rows = sheet_values(sheet)
        first = [key(v) for v in rows[0]] if rows else []
        own = [key(v) for v in OWN_HEADERS[name]]
        if first and first[: len(own)] != own:
            out.append(Problem(sheet.name, "A1", problem=_(
                "sheet '{sheet}' is not one xl-aiindex wrote (its first row is not "
                "{header}); rename your sheet (or delete it) so the results can be written")
                .format(sheet=sheet.name, header=", ".join(OWN_HEADERS[name]))))
    return out


def write_sheet(book: Any, name: str, rows: list[list[Any]]) -> None:
    """Replace the values of sheet ``name`` with ``rows`` from A1 (the sheet added when the
    book has none of that name)."""
    sheet = _sheets(book).get(key(name))
    if sheet is None:
        sheet = book.sheets.add(name=name, after=list(book.sheets)[-1])
    sheet.clear()
    sheet.range("A1").value = rows


def append_log(book: Any, outcome: Outcome, command: str) -> bool:
    """One row below the last used row of Log, each value under the column its header names;
    nothing when the book has no Log sheet or Log has no header (returns whether written)."""
    sheet = _sheets(book).get(key(LOG))
    if sheet is None:
        return False
    rows = sheet_values(sheet)
    header = {key(v): c for c, v in enumerate(rows[0])} if rows else {}
    if not any(k in header for k in LOG_COLUMNS):
        return False
    entry: dict[str, Any] = {"time": datetime.now().astimezone().isoformat(timespec="seconds"),
                             "command": command, "version": __version__,
                             "file": str(getattr(book, "name", "") or "")}
    result = outcome.result
    if result is not None:
        entry.update({"input": result.model.settings.input, "units": len(result.scores),
                      "status": "ok", "notes": "; ".join(outcome.notes),
                      "inputs_hash": inputs_hash(result.model)})
    else:
        n = len(_problems_of(outcome))
        entry.update({"status": ngettext("{count} problem", "{count} problems", n).format(count=n)})
    for column, value in entry.items():
        c = header.get(column)
        if c is not None:
            sheet.range((len(rows) + 1, c + 1)).value = value
    return True


def _tell(book: Any, message: str) -> None:
    """Show ``message`` in the add-in (``book.app.alert``) where the book can; never fails."""
    with contextlib.suppress(Exception):  # a courtesy: the Problems sheet has the details
        book.app.alert(message, title="xl-aiindex")


def run_validate(book: Any) -> LiteReport:
    """``validate_inputs``' work, returning what was done (for tests and callers in Python)."""
    outcome = CACHE.handle(read_book(book)).outcome
    problems = _problems_of(outcome)
    refused = foreign_sheets(book, [PROBLEMS])
    if refused:
        message = str(refused[0])
        _tell(book, message)
        return LiteReport((), tuple(refused), message, outcome)
    write_sheet(book, PROBLEMS, _problem_rows(problems))
    message = (_("no problems in the input sheets") if not problems else
               ngettext("{count} problem in the input sheets; see the Problems sheet",
                        "{count} problems in the input sheets; see the Problems sheet",
                        len(problems)).format(count=len(problems)))
    _tell(book, message)
    return LiteReport((PROBLEMS,), problems, message, outcome, outcome.notes)


def run_rebuild(book: Any) -> LiteReport:
    """``rebuild_results``' work, returning what was done (for tests and callers in Python)."""
    outcome = CACHE.handle(read_book(book)).outcome
    result = outcome.result
    targets = [SCORES, RANKING, TIERS, PROBLEMS] if result is not None else [PROBLEMS]
    refused = foreign_sheets(book, targets)
    if refused:
        written: tuple[str, ...] = ()
        if not any(key(p.sheet) == key(PROBLEMS) for p in refused):
            write_sheet(book, PROBLEMS, _problem_rows(refused))
            written = (PROBLEMS,)
        message = _("nothing was written: {first}").format(first=refused[0])
        _tell(book, message)
        return LiteReport(written, tuple(refused), message, outcome)
    if result is None:
        problems = _problems_of(outcome)
        write_sheet(book, PROBLEMS, _problem_rows(problems))
        append_log(book, outcome, "lite rebuild_results")
        message = ngettext("{count} problem in the input sheets: the results were not "
                           "rewritten; see the Problems sheet",
                           "{count} problems in the input sheets: the results were not "
                           "rewritten; see the Problems sheet", len(problems)
                           ).format(count=len(problems))
        _tell(book, message)
        return LiteReport((PROBLEMS,), problems, message, outcome)
    write_sheet(book, SCORES, outcome.scores_rows)
    write_sheet(book, RANKING, outcome.ranking_rows)
    write_sheet(book, TIERS, table_rows(tiers_table(result), integers=("tier", "count")))
    write_sheet(book, PROBLEMS, _problem_rows(()))
    append_log(book, outcome, "lite rebuild_results")
    return LiteReport((SCORES, RANKING, TIERS, PROBLEMS), (), "", outcome, outcome.notes)


@script
def rebuild_results(book: Book) -> None:
    """Recompute the index from the input sheets and rewrite Scores, Ranking and Tiers (problems go to the Problems sheet)."""
    run_rebuild(book)


@script
def validate_inputs(book: Book) -> None:
    """Check the input sheets and list every problem in the Problems sheet."""
    run_validate(book)
