"""What each UDF answers, from a cached :class:`~udfs.cache.Outcome`; plain Python, no Excel.

Every failure is a :class:`UdfError` whose :attr:`~UdfError.text` is the short ``#AI! …`` text a
cell shows (never a traceback): an unknown city or node (with a "did you mean"), a malformed
argument, the workbook's first problem and the count, a node below the given level.
Cities and nodes are matched as :mod:`xl_aiindex.lookup` does: by id, Chinese name or English
name, ignoring case, spaces and full-width forms (``" BEI JING "`` finds ``beijing``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from xl_aiindex.contract import ERROR_VALUES, UNCERTAINTY_RESULTS, key
from xl_aiindex.errors import AmbiguousName, Problem
from xl_aiindex.fit import fit_weights
from xl_aiindex.groups import find_grouping, group_ranks, grouping_columns
from xl_aiindex.i18n import _
from xl_aiindex.lookup import NameIndex, match_key
from xl_aiindex.model import IndexResult
from xl_aiindex.normalise import MethodInputError
from xl_aiindex.workbook.read import parse_number, text

from .cache import Outcome

#: How much of the first problem a cell shows.
PROBLEM_CHARS = 200
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
    if isinstance(arg, list | tuple):
        flat = [v for row in arg for v in (row if isinstance(row, list | tuple) else [row])]
        if len(flat) != 1:
            raise UdfError(_("{what} must be one cell, not a range of {count} cells").format(
                what=what, count=len(flat)))
        arg = flat[0]
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
    """The unit or node name index of the outcome's model, built once per input state."""
    memo_key = "index:" + kind
    if memo_key not in outcome.memo:
        outcome.memo[memo_key] = NameIndex.of(ok_result(outcome).model, kind)
    return outcome.memo[memo_key]  # type: ignore[no-any-return]


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

def index_of(outcome: Outcome, city: Any) -> float:
    """AI_INDEX: the root's score."""
    result = ok_result(outcome)
    return _score(result, find_unit(outcome, city), result.root)


def subindex_of(outcome: Outcome, city: Any, node: Any) -> float:
    """AI_SUBINDEX: any node's score (an indicator's normalised value)."""
    result = ok_result(outcome)
    unit = find_unit(outcome, city)
    return _score(result, unit, find_node(outcome, node))


def _score(result: IndexResult, unit: str, node_id: str) -> float:
    v = result.scores.at[unit, node_id]
    if pd.isna(v):
        if _given_only(result, node_id):
            raise UdfError(_given_only_text(node_id))
        raise UdfError(_("{unit} has no score for {node} (its inputs are blank)").format(
            unit=unit, node=node_id))
    return float(v)


def rank_of(outcome: Outcome, city: Any, group: Any = None) -> int:
    """AI_RANK: 1 = best; ties share the better rank. ``group``: a grouping column of Units
    (e.g. ``region``): the rank among the units of the city's group in that column."""
    result = ok_result(outcome)
    unit = find_unit(outcome, city)
    r = result.rank.get(unit)
    if r is None or pd.isna(r):
        raise UdfError(_("{unit} is not ranked (no total score, or coverage below "
                         "coverage_min)").format(unit=unit))
    if group is None or (isinstance(group, str) and not group.strip()):
        return int(r)
    column = _grouping(outcome, one_value(group, "group"))
    memo_key = "group_ranks:" + column
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


def tier_of(outcome: Outcome, city: Any, label: Any = False) -> int | str:
    """AI_TIER: the tier number (1 = best), or its label when ``label`` is TRUE."""
    result = ok_result(outcome)
    unit = find_unit(outcome, city)
    t = result.tier.get(unit)
    if t is None or pd.isna(t) or int(t) <= 0:
        raise UdfError(_("{unit} has no tier (it is not ranked)").format(unit=unit))
    if flag(label, "as_label"):
        return result.model.settings.tiers.label(int(t))
    return int(t)


def flag(arg: Any, what: str) -> bool:
    """A TRUE/FALSE argument: TRUE, FALSE, 1 or 0 (a blank cell or a left-out argument is FALSE);
    anything else, a text "TRUE" included, is a :class:`UdfError` naming the argument."""
    if isinstance(arg, list | tuple):
        flat = [v for row in arg for v in (row if isinstance(row, list | tuple) else [row])]
        if len(flat) != 1:
            raise UdfError(_("{what} must be one cell, not a range of {count} cells").format(
                what=what, count=len(flat)))
        arg = flat[0]
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


# ---- AI_FIT_WEIGHTS ----

def _rows(arg: Any) -> list[list[Any]]:
    if isinstance(arg, list | tuple):
        if arg and all(isinstance(r, list | tuple) for r in arg):
            return [list(r) for r in arg]
        return [[v] for v in arg]  # one column (xlwings gives a 1-D list for one row or column)
    return [[arg]]


def _is_label(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip()) and parse_number(v)[0] is None


def _numbers(rows: list[list[Any]], what: str, first_row: int) -> list[list[float]]:
    out = []
    for i, row in enumerate(rows):
        vals = []
        for j, v in enumerate(row):
            n, why = parse_number(v)
            if n is None and why:
                raise UdfError(_("{what}: row {row}, column {column}: {why}").format(
                    what=what, row=first_row + i, column=j + 1, why=why))
            vals.append(math.nan if n is None else n)
        out.append(vals)
    return out


def fit_table(subscores: Any, totals: Any) -> list[list[Any]]:
    """AI_FIT_WEIGHTS: least-squares weights (≥ 0, summing to 1) turning sub-scores into totals.

    ``subscores``: one column per sub-score, one row per unit, optionally a header row of names;
    ``totals``: one column (or row) of totals, same units, optionally a header. Rows with a blank
    are left out of the fit. Returns two columns: ``node, weight`` per sub-score, ``rmse``,
    ``max |residual|``, then ``row, residual`` (total − fitted) per data row.
    """
    sub = _rows(subscores)
    tot = [v for row in _rows(totals) for v in row]
    if not sub or not sub[0]:
        raise UdfError(_("{what} is empty").format(what="subscores"))
    width = len(sub[0])
    if any(len(r) != width for r in sub):
        raise UdfError(_("{what} must be a rectangular range").format(what="subscores"))
    header = [text(v) for v in sub[0]] if all(_is_label(v) for v in sub[0]) else None
    data = sub[1:] if header else sub
    if tot and _is_label(tot[0]):
        tot = tot[1:]
    if len(tot) != len(data):
        raise UdfError(_("subscores has {rows} data rows but totals has {totals}: give the same "
                         "units in the same order").format(rows=len(data), totals=len(tot)))
    if not data:
        raise UdfError(_("{what} has no data rows").format(what="subscores"))
    start = 2 if header else 1
    names = header or [_("column {number}").format(number=j + 1) for j in range(width)]
    if len(set(names)) != len(names):
        raise UdfError(_("{what}: the header names a column twice").format(what="subscores"))
    x = pd.DataFrame(_numbers(data, "subscores", start), columns=names)
    y = pd.Series([row[0] for row in _numbers([[v] for v in tot], "totals", start)])
    try:
        fit = fit_weights(x, y)
    except MethodInputError as e:
        raise UdfError(_("{function} {problem}").format(function="AI_FIT_WEIGHTS",
                                                         problem=e)) from None
    out: list[list[Any]] = [["node", "weight"]]
    out += [[name, float(w)] for name, w in fit.weights.items()]
    out += [["rmse", fit.rmse], ["max |residual|", fit.max_abs_residual], ["row", "residual"]]
    out += [[i + 1, None if pd.isna(r) else float(r)] for i, r in enumerate(fit.residuals)]
    return out


# ---- AI_RANK_INTERVAL ----

_INTERVAL = ("rank_q05", "median_rank", "rank_q95")


def rank_interval(book: Any, city: Any) -> list[list[Any]]:
    """AI_RANK_INTERVAL: ``[[5 %, median, 95 %]]`` ranks of ``city`` as the last uncertainty run
    wrote them in the ``UncertaintyResults`` sheet of ``book`` (a :class:`MacroBook`). Reads that
    sheet only: it never starts a run, and needs no valid inputs."""
    query = one_value(city, "city")
    sheet = next((n for n in book.sheet_names() if key(n) == key(UNCERTAINTY_RESULTS)),
                 None)
    if sheet is None:
        raise UdfError(_("no uncertainty run yet (no UncertaintyResults sheet): run xl-aiindex "
                         "uncertainty on this workbook first"))
    rows = book.grid(sheet).values
    header = {match_key(text(v)): c for c, v in enumerate(rows[0] if rows else []) if text(v)}
    lacking = [c for c in ("unit", *_INTERVAL) if c not in header]
    if lacking or len(rows) < 2:
        raise UdfError((_("sheet {sheet} has no column {columns}: run xl-aiindex uncertainty "
                          "on this workbook again") if lacking else
                        _("sheet {sheet} has no units: run xl-aiindex uncertainty on this "
                          "workbook again")).format(sheet=sheet, columns=", ".join(lacking)))
    wanted = match_key(query)
    unit_col = header["unit"]
    hits: dict[str, list[Any]] = {}  # unit id -> its row, for every row the query names
    for col in ("unit", "name_zh", "name_en"):
        c = header.get(col)
        for r in rows[1:]:
            if c is not None and c < len(r) and match_key(text(r[c])) == wanted:
                hits.setdefault(text(r[unit_col]) if unit_col < len(r) else "", r)
    if len(hits) > 1:  # never pick one of two units silently
        raise UdfError(_('ambiguous city "{query}" in sheet {sheet}: it could be {first} or '
                         '{last}; use the unit id').format(query=query, sheet=sheet,
                                                          first=", ".join(list(hits)[:-1]),
                                                          last=list(hits)[-1]))
    found = next(iter(hits.values()), None)
    if found is None:
        raise UdfError(_('unknown city "{query}" in sheet {sheet} (use a unit id, name_zh or '
                         'name_en)').format(query=query, sheet=sheet), unknown=True)
    out: list[Any] = []
    for col in _INTERVAL:
        c = header[col]
        v = found[c] if c < len(found) else None
        number = parse_number(v)[0]
        out.append(int(number) if number is not None and number.is_integer() else number)
    return [out]
