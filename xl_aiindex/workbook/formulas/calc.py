"""The helper sheets of formula mode: ``Calc`` (per unit: the values an indicator is
normalised from when they are not the raw Data, the rank basis, rank and tier) and ``CalcStats``
(per indicator: the statistics of its range its normalisation reads, computed once)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ...contract import CALC, CALC_STATS
from ..cells import column_letter
from ..layout import fitted_widths
from ..sheetspec import HEADER, INTEGER, NUMBER, PRECISE, Cell, SheetSpec
from .methods import NORMALISATION_STATS, STAT_FORMULAS
from .refs import cached, column_range, num, quote_sheet, with_value
from .state import FormulaState

#: The columns of CalcStats.
STAT_COLUMNS = ("indicator", "method", "direction", "count", "min", "max", "mean", "sd")


def stats_row(state: FormulaState, leaf: str, method: str, x_name: str) -> dict[str, str]:
    """Add the CalcStats row of an indicator: the statistics of its range its
    normalisation reads, each computed once (not once per unit); their names."""
    x = state.result.stages["treated"][leaf].dropna()
    engine = {"count": float(len(x)), "min": float(x.min()), "max": float(x.max()),
              "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan}
    r = 2 + len(state.stats_rows)
    node = state.tree.by_id[leaf]
    row = [Cell(leaf), Cell(method), Cell(node.direction, style=INTEGER)]
    refs: dict[str, str] = {}
    for j, key in enumerate(STAT_COLUMNS[3:], start=3):
        if key not in NORMALISATION_STATS.get(method, ()):
            row.append(Cell(None))
            continue
        row.append(Cell(cached(engine[key]), formula=STAT_FORMULAS[key].format(r=x_name),
                        style=INTEGER if key == "count" else PRECISE))
        cell = f"{quote_sheet(CALC_STATS)}!${column_letter(j)}${r}"
        refs[key] = state.names.add(key, leaf, cell)
    state.stats_rows.append(row)
    return refs


def x_source(state: FormulaState, leaf: str) -> tuple[str, Callable[[int, str], int]]:
    """The name of the range an indicator is normalised over and each unit's position in
    it; adds the indicator's Calc column when it needs one."""
    node = state.tree.by_id[leaf]
    data_name, data_col = state.data_name(leaf)
    assert state.data is not None
    data_pos = state.data.pos
    treated = state.result.stages["treated"][leaf]
    raw = state.result.stages["raw"][leaf]
    den_name = None
    x0 = raw.copy()
    if node.denominator is not None:
        cols = {str(c).lower(): str(c) for c in state.model.units.columns}
        den_col = cols[node.denominator.lower()]
        assert state.unit_rows is not None
        col, ref = state.unit_rows.range(den_col)
        den_name = state.names.add("units", den_col, ref)
        state.note_cells(state.unit_rows, col, leaf)
        den = pd.to_numeric(state.model.units[den_col], errors="coerce").reindex(x0.index)
        x0 = x0 / den
    if node.transform == "log":
        x0 = np.log(x0.where(x0 > 0))
    changed = ~((treated == x0) | (treated.isna() & x0.isna()))
    if den_name is None and node.transform is None and not changed.any():
        state.names.add("x", leaf, state.names.refs[data_name])
        return state.names.get("x", leaf), lambda i, u: data_pos[u]
    # a Calc column: formulas from Data where Python did not change the value, else values
    unit_pos = state.unit_rows.pos if state.unit_rows is not None else {}
    cells: list[Cell] = []
    for i, u in enumerate(state.units):
        value = treated.iloc[i]
        if bool(changed.iloc[i]):
            cells.append(Cell(None if pd.isna(value) else float(value), style=NUMBER))
            continue
        d = f"INDEX({data_name},{data_pos[u]})"
        expr = d if den_name is None else f"{d}/INDEX({den_name},{unit_pos[u]})"
        if node.transform == "log":
            expr = f"LN({expr})"
        cells.append(Cell(cached(value), formula=f'IF(ISNUMBER({d}),{expr},"")', style=NUMBER))
    state.calc_cols.append(leaf)
    state.calc_cells[leaf] = cells
    calc_col = 3 + len(state.calc_cols) - 1
    state.names.add("x", leaf, column_range(CALC, calc_col, 1, state.n))
    return state.names.get("x", leaf), lambda i, u: i + 1


def calc_sheet(state: FormulaState) -> SheetSpec:
    """The Calc sheet: the Calc columns of the indicators that need one, then per unit the
    rank basis, rank and tier as formulas over Scores."""
    s = state.settings
    header = ["unit", "name_zh", "name_en", *state.calc_cols, "rank_basis", "rank", "tier"]
    b_col = 3 + len(state.calc_cols)
    root_letter = column_letter(state.col_of[state.root])
    cov_letter = column_letter(state.coverage_col)
    state.names.add("", "basis", column_range(CALC, b_col, 1, state.n))
    state.names.add("", "rank", column_range(CALC, b_col + 1, 1, state.n))
    state.names.add("", "tier", column_range(CALC, b_col + 2, 1, state.n))
    if state.panel is not None:   # a panel: unit|year, what Ranking looks a row up by
        state.names.add("", "key", column_range(CALC, 0, 1, state.n))
    total = state.result.total
    rank = state.result.rank
    tier = state.result.tier
    eligible = total.notna() & (state.result.coverage >= s.coverage_min)
    basis = total.where(eligible)
    if s.rank_decimals is not None:
        from ...rank import excel_round

        basis = basis.map(lambda v: excel_round(v, s.rank_decimals) if pd.notna(v) else v)
    units = state.model.units
    rows: list[list[Cell]] = [[Cell(h, style=HEADER) for h in header]]
    bl, rl = column_letter(b_col), column_letter(b_col + 1)
    for i, u in enumerate(state.units):
        r = i + 2
        t = f"Scores!${root_letter}{r}"
        cond = f"ISNUMBER({t})"
        if s.coverage_min > 0:
            cond = f"AND({cond},Scores!${cov_letter}{r}>={num(s.coverage_min)})"
        value = t if s.rank_decimals is None else f"ROUND({t},{s.rank_decimals})"
        rk = f"{rl}{r}"
        if s.tiers.kind == "rank":
            steps = "".join(f"+({rk}>{num(b)})" for b in s.tiers.bounds)
        else:
            # the rank basis (rounded as the ranks are): tied units share a tier
            steps = "".join(f"+({bl}{r}<{num(b)})" for b in s.tiers.bounds)
        t_val = int(tier.iloc[i]) if tier.iloc[i] > 0 else ""
        row = [Cell(u), Cell(str(units.at[u, "name_zh"] or "") or None),
               Cell(str(units.at[u, "name_en"] or "") or None)]
        row += [state.calc_cells[leaf][i] for leaf in state.calc_cols]
        row += [Cell(cached(basis.iloc[i]), formula=f'IF({cond},{value},"")', style=NUMBER),
                Cell(cached(rank.iloc[i]), formula=f'IF(ISNUMBER({bl}{r}),RANK({bl}{r},'
                     f'{state.names.get("", "basis")},0),"")', style=INTEGER),
                Cell(t_val, formula=f'IF(ISNUMBER({rk}),1{steps},"")', style=INTEGER)]
        if state.panel is not None:
            # within the year: ties share the better rank, as RANK does
            year = f"Scores!$B{r}"
            row[-2] = with_value(row[-2], row[-2].value, formula=(
                f'IF(ISNUMBER({bl}{r}),COUNTIFS({state.names.get("", "year")},{year},'
                f'{state.names.get("", "basis")},">"&{bl}{r})+1,"")'))
        rows.append(row)
    # as wide as what the columns show (a sample of the rows: every row has the same formats)
    widths = fitted_widths(rows[:501], {0: 14.0, 1: 12.0, 2: 16.0})
    return SheetSpec(CALC, rows, widths, freeze=(1, 3))


def stats_sheet(state: FormulaState) -> SheetSpec:
    """The CalcStats sheet: one row per indicator normalised with a formula."""
    rows = [[Cell(h, style=HEADER) for h in STAT_COLUMNS], *state.stats_rows]
    return SheetSpec(CALC_STATS, rows, fitted_widths(rows, {0: 14.0}), freeze=(1, 1))
