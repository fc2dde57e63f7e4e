"""The Scores sheet in formula mode: one cell maker per column (indicators normalised, nodes
given directly, inner nodes aggregated, coverage counted), each giving a cell's formula and the
engine's value cached in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd

from ..cells import column_letter
from ..sheetspec import Cell, SheetSpec
from .calc import stats_row, x_source
from .methods import (
    FORMULA_AGGREGATIONS,
    FORMULA_NORMALISATIONS,
    aggregate_formula,
    normalise_formula,
)
from .panel import PER_YEAR_NORMALISATIONS, is_calc_range, year_stats
from .refs import block_range, cached, column_range, count_args, with_value
from .state import FormulaState


def scores_sheet(state: FormulaState, spec: SheetSpec) -> SheetSpec:
    """The Scores sheet ``spec`` with a formula (or the engine's value) in every node and
    coverage cell; adds the ``xlai_unit`` and ``xlai_s_<node>`` names."""
    state.names.add("", "unit", state.scores_ref(0))
    if state.panel is not None:
        state.names.add("", "year", state.scores_ref(1))
    for node in state.score_cols:
        if state.result.scores[node].notna().any() or node in formula_nodes(state):
            state.names.add("s", node, state.scores_ref(state.col_of[node]))
    makers = column_makers(state)
    rows: list[list[Cell]] = [list(spec.rows[0])]
    for i, u in enumerate(state.units):
        old = list(spec.rows[i + 1])
        for col, make in makers.items():
            formula, value = make(i, u)
            if formula is None:
                old[col] = with_value(old[col], value)
            else:
                old[col] = with_value(old[col], cached(value), formula=formula)
        rows.append(old)
    return replace(spec, rows=rows)


def formula_nodes(state: FormulaState) -> set[str]:
    """Nodes whose Scores column gets formulas (or Python values standing for them)."""
    s = state.result.stages["scores"]
    return set(s.columns) | set(state.result.stages["raw"].columns if
                                 state.settings.input == "given" else ())


def column_makers(state: FormulaState) -> dict[int, Callable[[int, str], tuple[str | None, Any]]]:
    """Scores column -> the maker of its cells (unit position, unit id -> formula, value)."""
    makers: dict[int, Callable[[int, str], tuple[str | None, Any]]] = {}
    stage_scores = state.result.stages["scores"]
    if state.settings.input == "data":
        for leaf in state.tree.leaves:
            makers[state.col_of[leaf]] = leaf_maker(state, leaf)
    else:
        raw = state.result.stages["raw"]
        used = set(state.result.stages["treated"].columns)
        for node in raw.columns:
            makers[state.col_of[node]] = given_maker(state, str(node), str(node) in used)
    for node in state.tree.inner:
        if node in stage_scores.columns and not (state.settings.input == "given"
                                                 and node in state.result.stages["raw"]):
            makers[state.col_of[node]] = inner_maker(state, node)
    makers[state.coverage_col] = coverage_maker(state)
    return makers


def leaf_maker(state: FormulaState, leaf: str) -> Callable[[int, str], tuple[str | None, Any]]:
    """The cells of an indicator: its normalisation formula, or the engine's value when the
    method has no formula form."""
    node = state.tree.by_id[leaf]
    s = state.settings
    method = node.normalisation or s.normalisation
    params = {"low": s.minmax_range[0], "high": s.minmax_range[1], "a": s.efficacy_a,
              "b": s.efficacy_b, "goal_low": node.goal_low if node.goal_low is not None else 0.0,
              "goal_high": node.goal_high if node.goal_high is not None else 1.0,
              "scale": s.goalposts_scale}
    x_name, pos = x_source(state, leaf)
    values = state.result.scores[leaf]
    by_year = state.panel is not None and state.panel.mode != "pooled"
    has_formula = method in (PER_YEAR_NORMALISATIONS if by_year else FORMULA_NORMALISATIONS)
    stats = stats_row(state, leaf, method, x_name) if has_formula and not by_year else {}
    years = panel_years_range(state, x_name) if by_year else ""

    def make(i: int, u: str) -> tuple[str | None, Any]:
        if not has_formula:   # no formula form: the engine's value
            v = values.iloc[i]
            return None, None if pd.isna(v) else float(v)
        x = f"INDEX({x_name},{pos(i, u)})"
        assert state.panel is not None or not by_year
        row_stats = year_stats(state.panel, i, x_name, years) if by_year and \
            state.panel is not None else stats
        return normalise_formula(method, x, x_name, int(node.direction), params,
                                 state.missing, row_stats), values.iloc[i]
    return make


def panel_years_range(state: FormulaState, x_name: str) -> str:
    """The years beside the range ``x_name`` (a Calc column: Scores' year column; an input
    column: Data's or Given's year column, same rows)."""
    if is_calc_range(state.names.refs[x_name]):
        return state.names.get("", "year")
    rows = state.data if state.settings.input == "data" else state.given
    assert rows is not None and state.panel is not None and state.panel.input_year_col is not None
    return state.names.add("", "input_year", column_range(rows.sheet, state.panel.input_year_col,
                                                          rows.first, rows.last))


def given_maker(state: FormulaState, node: str, used: bool
                ) -> Callable[[int, str], tuple[str | None, Any]]:
    """The cells of a node given directly: its Given cell, or the value imputed in Python."""
    assert state.given is not None
    name = state.given_name(node)
    pos = state.given.pos
    raw = state.result.stages["raw"][node]
    values = state.result.scores[node]
    missing = state.missing if used else '""'

    def make(i: int, u: str) -> tuple[str | None, Any]:
        v = values.iloc[i]
        if u not in pos or (pd.isna(raw.iloc[i]) and not pd.isna(v)):   # imputed: a value
            return None, None if pd.isna(v) else float(v)
        g = f"INDEX({name},{pos[u]})"
        return f"IF(ISNUMBER({g}),{g},{missing})", v
    return make


def inner_maker(state: FormulaState, node: str) -> Callable[[int, str], tuple[str | None, Any]]:
    """The cells of an inner node: the aggregation of its children's cells with their weights."""
    n = state.tree.by_id[node]
    method = n.aggregation or state.settings.aggregation
    kids = state.tree.children[node]
    weights = [state.names.get("w", k) for k in kids]
    letters = {k: column_letter(state.col_of[k]) for k in kids}
    values = state.result.scores[node]

    def make(i: int, u: str) -> tuple[str | None, Any]:
        v = values.iloc[i]
        if method not in FORMULA_AGGREGATIONS:   # copeland: no closed formula, a value
            return None, None if pd.isna(v) else float(v)
        cells = [f"{letters[k]}{i + 2}" for k in kids]
        return aggregate_formula(method, cells, weights, state.reweight), v
    return make


def coverage_maker(state: FormulaState) -> Callable[[int, str], tuple[str | None, Any]]:
    """The cells of ``coverage``: the unit's input cells counted over their number."""
    raw = state.result.stages["raw"]
    rows = state.data if state.settings.input == "data" else state.given
    coverage = state.result.coverage.reindex(state.result.scores.index)
    if rows is None or raw.shape[1] == 0:
        return lambda i, u: (None, float(coverage.iloc[i]))
    cols = sorted(rows.cols[str(c).lower()] for c in raw.columns)
    runs: list[tuple[int, int]] = []
    for c in cols:
        if runs and c == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    names = [state.names.add("cov", str(j + 1), block_range(rows.sheet, a, b, rows.first,
                                                           rows.last))
             for j, (a, b) in enumerate(runs)]
    m = raw.shape[1]
    pos = rows.pos

    def make(i: int, u: str) -> tuple[str | None, Any]:
        if u not in pos:
            return None, float(coverage.iloc[i])
        refs = [f"INDEX({name},{pos[u]},0)" for name in names]
        return f"{count_args(refs)}/{m}", float(coverage.iloc[i])
    return make
