"""What each worksheet function answers, shared by the desktop UDFs (``udfs``) and xlwings Lite
(:mod:`xl_aiindex.lite`): plain Python over a :class:`~xl_aiindex.workbook.grid.BookSource`, no
Excel, no file reader.

:func:`evaluate` reads the input sheets and builds the index once, keeping the result, the
problems or why the book is unreadable as an :class:`Outcome`; the answer functions
(:func:`index_of`, :func:`subindex_of`, :func:`rank_of`, :func:`tier_of`, :func:`weight_of`,
:func:`ranking_rows`, :func:`scores_rows`) turn an outcome into one cell's value. Every failure is
a :class:`UdfError` whose :attr:`~UdfError.text` is the short ``#AI! …`` text a cell shows (never
a traceback): an unknown city or node (with a "did you mean"), a malformed argument, the
workbook's first problem and the count, a node below the given level.
Cities and nodes are matched as :mod:`xl_aiindex.lookup` does: by id, Chinese name or English
name, ignoring case, spaces and full-width forms (``" BEI JING "`` finds ``beijing``).

This module imports no calamine, openpyxl, XML parser, SciPy or xlwings: the Lite path needs
only numpy and pandas (``tests/excel/test_lite.py`` checks ``sys.modules``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from ..contract import ERROR_VALUES
from ..errors import AmbiguousName, Problem, ProblemsFound, UnreadableWorkbook, XlAiIndexError
from ..groups import find_grouping, group_ranks, grouping_columns
from ..i18n import _, current_language, use_language
from ..lookup import NameIndex
from ..model import IndexResult
from ..panel import panel_of
from .cells import text
from .grid import BookSource
from .inputs import compute_inputs, read_inputs
from .number_text import parse_number
from .read import Locator
from .result_tables import ranking_table, scores_table


@dataclass
class Outcome:
    """What building a workbook's index gave: a result, or the problems, or why it is unreadable."""

    result: IndexResult | None = None
    problems: tuple[Problem, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()
    locator: Locator | None = None
    #: per-outcome memo for derived answers (lookup tables, spilled tables)
    memo: dict[str, Any] = field(default_factory=dict)
    #: the language the answers about this workbook are in: its Settings ``language``, else
    #: the locale's (read with the inputs; the UDFs answer in it)
    language: str | None = None

    @cached_property
    def ranking_rows(self) -> list[list[Any]]:
        """The Ranking table as Excel rows, header first."""
        assert self.result is not None
        return table_rows(ranking_table(self.result), integers=("rank", "tier"))

    @cached_property
    def scores_rows(self) -> list[list[Any]]:
        """The Scores table as Excel rows, header first."""
        assert self.result is not None
        return table_rows(scores_table(self.result))


def table_rows(table: pd.DataFrame, integers: Sequence[str] = ()) -> list[list[Any]]:
    """A DataFrame as a header row and plain Python values (blank for missing, ints where whole)."""
    rows: list[list[Any]] = [[str(c) for c in table.columns]]
    whole = {i for i, c in enumerate(table.columns) if c in integers}
    for rec in table.itertuples(index=False):
        row: list[Any] = []
        for i, v in enumerate(rec):
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                row.append(None)
                continue
            if hasattr(v, "item"):
                v = v.item()
            if i in whole and isinstance(v, float) and v.is_integer():
                v = int(v)
            row.append(v)
        rows.append(row)
    return rows


def evaluate(source: BookSource) -> Outcome:
    """Read the inputs from ``source`` and build the index, as ``recalc`` does
    (:func:`~xl_aiindex.workbook.book.read_inputs`, :func:`~xl_aiindex.workbook.book.compute_inputs`),
    the problems or the reason it cannot be read kept as the outcome instead of raised; in the
    workbook's language (its Settings ``language``), which the outcome keeps."""
    with use_language(None):   # the workbook's language lasts for this workbook only
        outcome = _evaluate(source)
        outcome.language = current_language()
    return outcome


def _evaluate(source: BookSource) -> Outcome:
    try:
        inputs = read_inputs(source)
    except ProblemsFound as e:
        return Outcome(problems=e.problems)
    except UnreadableWorkbook as e:
        return Outcome(error=str(e))
    try:
        result = compute_inputs(inputs)
    except ProblemsFound as e:
        return Outcome(problems=e.problems, locator=inputs.locator)
    except XlAiIndexError as e:
        return Outcome(error=str(e), locator=inputs.locator)
    return Outcome(result=result, notes=inputs.notes + tuple(result.notes), locator=inputs.locator)


#: How much of the first problem a cell shows.
PROBLEM_CHARS = 200
GIVEN_ONLY = "not available with input = given"
#: The tags the workbook's VBA reads an answer's Excel error from (``XlAiIndexResult``,
#: :func:`udfs.why.error_code`): English words, also in a Chinese workbook's answers.
UNKNOWN_TAG = "unknown "
ARGUMENT_ERROR_TAG = " is the error value "


def _given_only_text(node_id: str) -> str:
    return _("not available with input = given — {node} is below the nodes whose scores Given "
             "holds").format(node=node_id)


class UdfError(Exception):
    """An answer that is an error: ``text`` is what the cell shows (``#AI! …``). The Excel
    error it stands for is ``#VALUE!`` unless ``unknown`` (a name that names nothing: ``#N/A``)
    or ``error_value`` (an argument's own error value, passed on): a message in another
    language than English gets the English tag the VBA reads (:data:`UNKNOWN_TAG` before it,
    ``[ is the error value #X]`` after it); ``AI_WHY`` shows the message without it
    (:func:`udfs.why.reason_of`)."""

    def __init__(self, message: str, *, unknown: bool = False, error_value: str | None = None):
        super().__init__(message)
        text = message
        if unknown and not message.startswith(UNKNOWN_TAG):
            text = UNKNOWN_TAG + message
        elif error_value is not None and ARGUMENT_ERROR_TAG not in message:
            text = f"{message} [{ARGUMENT_ERROR_TAG}{error_value}]"
        self.text = "#AI! " + text


def one_value(arg: Any, what: str) -> str:
    """A UDF argument that must be one non-blank cell, as text.

    A 1-cell range is unwrapped; a bigger range, a blank, TRUE/FALSE or an error value is a
    :class:`UdfError` naming the argument.
    """
    arg = one_cell(arg, what)
    if isinstance(arg, bool):
        raise UdfError(_("{what} is {value}: give a text such as \"北京\"").format(
            what=what, value="TRUE" if arg else "FALSE"))
    if isinstance(arg, float) and not math.isfinite(arg):
        raise UdfError(_("{what} is not a finite number").format(what=what))
    if arg is not None and not isinstance(arg, str | int | float):
        raise UdfError(_("{what} is a {kind}, not a text").format(what=what,
                                                                  kind=type(arg).__name__))
    value = text(arg)
    if not value:
        raise UdfError(_("{what} is blank").format(what=what))
    if value in ERROR_VALUES:
        raise UdfError(_("{what} is the error value {value}").format(what=what, value=value),
                       error_value=value)
    return value


def ok_result(outcome: Outcome) -> IndexResult:
    """The result, or the :class:`UdfError` saying why there is none."""
    if outcome.result is not None:
        return outcome.result
    if outcome.error is not None:
        raise UdfError(_("cannot read the workbook: {error}").format(error=outcome.error))
    raise UdfError(problems_text(outcome.problems))


def problems_text(problems: tuple[Problem, ...] | list[Problem]) -> str:
    """``1 problem in the workbook: …`` / ``N problems in the workbook; first: …``."""
    n = len(problems)
    first = str(problems[0]) if problems else _("unknown")
    if len(first) > PROBLEM_CHARS:
        first = first[: PROBLEM_CHARS - 1] + "…"
    if n == 1:
        return _("1 problem in the workbook: {first}").format(first=first)
    return _("{count} problems in the workbook; first: {first} (run validate_inputs to list them "
             "all)").format(count=n, first=first)


# ---- lookups ----

def _names(outcome: Outcome, kind: str) -> NameIndex:
    """The unit or node name index of the outcome's model, built once per input state (a
    panel: the units of every year, so a unit absent from one year is still found)."""
    memo_key = "index:" + kind
    if memo_key not in outcome.memo:
        model = ok_result(outcome).model
        panel = panel_of(ok_result(outcome))
        if panel is not None and kind == "unit":
            units = pd.concat([panel.by_year[y].model.units for y in panel.years])
            model = model._replace(units=units[~units.index.duplicated(keep="last")])
        outcome.memo[memo_key] = NameIndex.of(model, kind)
    return outcome.memo[memo_key]  # type: ignore[no-any-return]


def year_result(outcome: Outcome, year: Any = None) -> IndexResult:
    """The result a UDF with the optional ``year`` argument answers from: the result (a
    panel's latest year) when ``year`` is left out or blank, else that year of the panel. A
    year that is not a whole number, a workbook of one edition, or a year the panel lacks is a
    :class:`UdfError` saying so."""
    result = ok_result(outcome)
    if year is None or (isinstance(year, str) and not year.strip()):
        return result
    value = one_value(year, "year")
    n, _unused = parse_number(value)
    if n is None or not float(n).is_integer():
        raise UdfError(_("year must be a whole number such as 2021, not \"{value}\"").format(
            value=value))
    y = int(n)
    panel = panel_of(result)
    if panel is None:
        raise UdfError(_("year {year}: this workbook holds one edition (Data and Given have no "
                         "year column)").format(year=y))
    if y not in panel.by_year:
        raise UdfError(_("year {year}: the workbook has no results for that year (years: "
                         "{years})").format(year=y, years=", ".join(map(str, panel.years))))
    memo_key = f"year:{y}"
    if memo_key not in outcome.memo:
        outcome.memo[memo_key] = panel.result(y)
    return outcome.memo[memo_key]  # type: ignore[no-any-return]


def _present(result: IndexResult, unit: str) -> None:
    """A :class:`UdfError` when ``unit`` has no row in the year ``result`` is of (a panel)."""
    if unit not in result.scores.index:
        year = getattr(result, "year", "")
        raise UdfError(_("{unit} has no row in {year} (Data or Given)").format(unit=unit,
                                                                              year=year))


def _find(outcome: Outcome, arg: Any, kind: str) -> str:
    query = one_value(arg, "city" if kind == "unit" else "node")
    names = _names(outcome, kind)
    try:
        ident = names.get(query)
    except AmbiguousName as e:  # two units share the name: list them, never pick one
        raise UdfError(str(e)) from None
    if ident is not None:
        return ident
    memo_key = f"unknown:{kind}:{query}"  # 200 cells with the same typo: one search
    if memo_key not in outcome.memo:
        outcome.memo[memo_key] = names.unknown_text(query)
    raise UdfError(outcome.memo[memo_key], unknown=True)


def find_unit(outcome: Outcome, city: Any) -> str:
    """The unit id ``city`` names (id, name_zh or name_en)."""
    return _find(outcome, city, "unit")


def find_node(outcome: Outcome, node: Any) -> str:
    """The node id ``node`` names (id, name_zh or name_en)."""
    return _find(outcome, node, "node")


def _given_only(result: IndexResult, node: str) -> bool:
    """Whether ``node`` has no score because it lies below the given level."""
    model = result.model
    if model.settings.input != "given":
        return False
    scored = set(result.stages["scores"].columns)
    given = set(model.given.columns) if model.given is not None else set()
    return node not in scored and node not in given


# ---- answers ----

def index_of(outcome: Outcome, city: Any, year: Any = None) -> float:
    """AI_INDEX: the root's score (``year``: of that year of a panel; left out: the latest)."""
    result = year_result(outcome, year)
    return _score(result, find_unit(outcome, city), result.root)


def subindex_of(outcome: Outcome, city: Any, node: Any, year: Any = None) -> float:
    """AI_SUBINDEX: any node's score (an indicator's normalised value; ``year`` as
    :func:`index_of`)."""
    result = year_result(outcome, year)
    unit = find_unit(outcome, city)
    return _score(result, unit, find_node(outcome, node))


def _score(result: IndexResult, unit: str, node_id: str) -> float:
    _present(result, unit)
    v = result.scores.at[unit, node_id]
    if pd.isna(v):
        if _given_only(result, node_id):
            raise UdfError(_given_only_text(node_id))
        raise UdfError(_("{unit} has no score for {node} (its inputs are blank)").format(
            unit=unit, node=node_id))
    return float(v)


def rank_of(outcome: Outcome, city: Any, group: Any = None, year: Any = None) -> int:
    """AI_RANK: 1 = best; ties share the better rank. ``group``: a grouping column of Units
    (e.g. ``region``): the rank among the units of the city's group in that column. ``year``:
    the rank within that year of a panel (left out: the latest)."""
    result = year_result(outcome, year)
    unit = find_unit(outcome, city)
    _present(result, unit)
    r = result.rank.get(unit)
    if r is None or pd.isna(r):
        raise UdfError(_("{unit} is not ranked (no total score, or coverage below "
                         "coverage_min)").format(unit=unit))
    if group is None or (isinstance(group, str) and not group.strip()):
        return int(r)
    column = _grouping(outcome, one_value(group, "group"))
    memo_key = f"group_ranks:{column}:{getattr(result, 'year', '')}"
    if memo_key not in outcome.memo:
        outcome.memo[memo_key] = group_ranks(result, column)
    g = outcome.memo[memo_key].get(unit)
    if g is None or pd.isna(g):
        raise UdfError(_("{unit} has no {column} in Units: it is in no group of that "
                         "column").format(unit=unit, column=column))
    return int(g)


def _grouping(outcome: Outcome, name: str) -> str:
    units = ok_result(outcome).model.units
    column = find_grouping(units, name)
    if column is None:
        columns = grouping_columns(units)
        listing = ", ".join(columns) if columns else \
            _("none (add a text column such as region)")
        raise UdfError(_("group \"{name}\" is not a grouping column of Units; grouping "
                         "columns: {columns}").format(name=name, columns=listing))
    return column


def tier_of(outcome: Outcome, city: Any, label: Any = False, year: Any = None) -> int | str:
    """AI_TIER: the tier number (1 = best), or its label when ``label`` is TRUE (``year``: the
    tier within that year of a panel; left out: the latest)."""
    result = year_result(outcome, year)
    unit = find_unit(outcome, city)
    _present(result, unit)
    t = result.tier.get(unit)
    if t is None or pd.isna(t) or int(t) <= 0:
        raise UdfError(_("{unit} has no tier (it is not ranked)").format(unit=unit))
    if flag(label, "as_label"):
        return result.model.settings.tiers.label(int(t))
    return int(t)


def one_cell(arg: Any, what: str) -> Any:
    """The value of a 1-cell range argument (a value as is); a bigger range is a
    :class:`UdfError` naming the argument."""
    if isinstance(arg, list | tuple):
        flat = [v for row in arg for v in (row if isinstance(row, list | tuple) else [row])]
        if len(flat) != 1:
            raise UdfError(_("{what} must be one cell, not a range of {count} cells").format(
                what=what, count=len(flat)))
        return flat[0]
    return arg


def flag(arg: Any, what: str) -> bool:
    """A TRUE/FALSE argument: TRUE, FALSE, 1 or 0 (a blank cell or a left-out argument is FALSE);
    anything else, a text "TRUE" included, is a :class:`UdfError` naming the argument."""
    arg = one_cell(arg, what)
    if arg is None or isinstance(arg, bool):
        return bool(arg)
    if isinstance(arg, int | float) and arg in (0, 1):
        return bool(arg)
    if isinstance(arg, str) and arg in ERROR_VALUES:
        raise UdfError(_("{what} is the error value {value}").format(what=what, value=arg),
                       error_value=arg)
    shown = f'"{arg}"' if isinstance(arg, str) else repr(arg)
    raise UdfError(_("{what} must be TRUE, FALSE, 1 or 0, not {value}").format(what=what,
                                                                               value=shown))


def weight_of(outcome: Outcome, node: Any) -> float:
    """AI_WEIGHT: the node's effective weight in the total (product of weights up from it)."""
    result = ok_result(outcome)
    node_id = find_node(outcome, node)
    if node_id == result.root:
        return 1.0
    used = result.weights_used
    row = used[used["child"] == node_id]
    if row.empty:
        if result.model.settings.input == "given":
            raise UdfError(_given_only_text(node_id))
        raise UdfError(_("{node} has no weight in the total").format(node=node_id))
    return float(row["weight_in_total"].iloc[0])


def ranking_rows(outcome: Outcome) -> list[list[Any]]:
    """AI_RANKING: the Ranking table with its header."""
    ok_result(outcome)
    return outcome.ranking_rows


def scores_rows(outcome: Outcome) -> list[list[Any]]:
    """AI_SCORES: the Scores table with its header."""
    ok_result(outcome)
    return outcome.scores_rows
