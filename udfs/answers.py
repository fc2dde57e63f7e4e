"""What each UDF answers: the shared answers (:mod:`xl_aiindex.workbook.answers`, also used by
xlwings Lite) re-exported, and the two that only the desktop add-in has: ``AI_FIT_WEIGHTS``
(:func:`fit_table`, SciPy) and ``AI_RANK_INTERVAL`` (:func:`rank_interval`, reads a result
sheet of the open book).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from xl_aiindex.contract import UNCERTAINTY_RESULTS, key
from xl_aiindex.fit import fit_weights
from xl_aiindex.i18n import _
from xl_aiindex.lookup import match_key
from xl_aiindex.normalise import MethodInputError
from xl_aiindex.workbook.answers import (  # noqa: F401 (re-exported: their old home)
    GIVEN_ONLY,
    PROBLEM_CHARS,
    Outcome,
    UdfError,
    find_node,
    find_unit,
    flag,
    index_of,
    ok_result,
    one_value,
    problems_text,
    rank_of,
    ranking_rows,
    scores_rows,
    subindex_of,
    tier_of,
    weight_of,
)
from xl_aiindex.workbook.cells import text
from xl_aiindex.workbook.number_text import parse_number

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
