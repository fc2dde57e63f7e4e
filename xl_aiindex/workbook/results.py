"""The result sheets (:class:`SheetSpec`) built from the result tables.

The tables (pure DataFrames, :mod:`~xl_aiindex.workbook.result_tables`, re-exported here) are
what the CLI prints and the UDFs return; the sheets add the look (number formats, widths, tier
colours, links). Both are built from an :class:`IndexResult` only. Imports go one way:
this module uses :mod:`~xl_aiindex.workbook.visuals` (Charts, Compare), never the reverse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..contract import (  # noqa: F401 (LOG_COLUMNS, LOG_WIDTHS: re-exported, their old home)
    AUDIT,
    GROUP_RANKING,
    LOG_COLUMNS,
    LOG_WIDTHS,
    PROBLEMS_HEADER,
    YEAR_COLUMN,
)
from ..errors import Problem
from ..groups import group_ranking
from ..model import IndexResult
from ..panel import PanelResult, panel_of
from .panel_sheets import (
    panel_ranking_table,
    panel_scores_table,
    panel_tiers_table,
    tier_of,
    trends_sheet,
)
from .result_cells import _TEXT_WIDTHS, _cell, _header, column_style, fit, score_style
from .result_tables import (  # noqa: F401 (re-exported: the tables' historical home)
    decimals_of,
    display_name,
    ranking_table,
    score_columns,
    scores_table,
    tiers_table,
)
from .sheetspec import (
    INTEGER,
    PRECISE,
    TEXT,
    WRAPPED,
    Cell,
    Column,
    ColumnRows,
    SheetSpec,
    Style,
    tier_style,
)
from .visuals import visual_sheets

#: Result sheets added for issue #15 (statistical audit, group rankings), written by the tool:
#: ``GroupRanking`` by every recalc when Units has a grouping column, ``Audit`` by ``audit``.
GROUP_RANKING_SHEET = GROUP_RANKING
AUDIT_SHEET = AUDIT
AUDIT_RESULT_SHEETS = (AUDIT_SHEET, GROUP_RANKING_SHEET)


#: The Ranking header note of ``diff``: its sign, and why it is rounded.
DIFF_NOTE = ("diff = score − published (computed minus printed), rounded to the decimals of "
             "'published'. 差值 = 计算得分 − 公布值，按公布值的小数位数取整。")


# ---- sheets ----

def scores_sheet(result: IndexResult) -> SheetSpec:
    """The Scores sheet: every node's score for every unit (normalised values for indicators)."""
    table = scores_table(result)
    tiers = result.tier.reindex(table["unit"]).fillna(0).astype(int).tolist()
    return scores_spec(table, tiers, result)


def _style(column: str, score: Style) -> Style:
    """:func:`column_style`, a panel's ``year`` a whole number without separators."""
    return INTEGER if column == YEAR_COLUMN else column_style(column, score)


def scores_spec(table: pd.DataFrame, tiers: list[int], result: IndexResult) -> SheetSpec:
    """The Scores sheet of ``table`` (:func:`scores_table`, or a panel's, with ``year``), the
    root's cells coloured by each row's tier (``tiers``, 0: none)."""
    cols = list(table.columns)
    score = score_style(result.model.settings)
    root_styles = {t: tier_style(score, t) for t in set(tiers)}
    # column by column, numbers as float arrays: ~10⁶ cells built and written without a Cell each
    columns = []
    for col in cols:
        series = table[col]
        values: Any = (series.to_numpy(dtype=float) if series.dtype.kind == "f"
                       else [_plain(v) for v in series.tolist()])
        if col == result.root:
            columns.append(Column(values, styles=[root_styles[t] for t in tiers]))
        else:
            columns.append(Column(values, _style(col, score)))
    rows = ColumnRows(_header(cols), columns)
    return SheetSpec("Scores", rows, fit(rows, cols), freeze=(1, 4 if YEAR_COLUMN in cols else 3))


def _values(series: pd.Series) -> Any:
    """A column's cell values as :class:`ColumnRows` holds them: a float array for float
    columns (NaN and ±inf are blank cells), else plain values (what :func:`_cell` makes of
    each: NaN, NA and NaT blank, numpy scalars as Python ones)."""
    if series.dtype.kind == "f":
        return series.to_numpy(dtype=float)
    return [_cell(v).value for v in series.tolist()]


def _plain(v: Any) -> Any:
    """NaN, NA and non-finite numbers → None (a blank cell); other values as they are."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if v is None or v is pd.NA:
        return None
    return v


def ranking_sheet(result: IndexResult) -> SheetSpec:
    """The Ranking sheet, coloured by tier."""
    table = ranking_table(result)
    tiers = table["unit"].map(result.tier).fillna(0).astype(int).tolist()
    return ranking_spec(table, tiers, result)


def ranking_spec(table: pd.DataFrame, tiers: list[int], result: IndexResult) -> SheetSpec:
    """The Ranking sheet of ``table`` (:func:`ranking_table`, or a panel's, with ``year``),
    each row coloured by its tier (``tiers``, 0: none)."""
    cols = list(table.columns)
    score = score_style(result.model.settings)
    diff_format = None
    if "diff" in cols:
        places = decimals_of(table["published"])
        diff_format = Style(num_format="0." + "0" * places if places else "0")
    columns = []
    for col in cols:
        values = _values(table[col])
        if col == "tier":
            bases = [TEXT if isinstance(v, str) else INTEGER for v in values]
        else:
            base = diff_format if col == "diff" and diff_format is not None else \
                _style(col, score)
            bases = [base] * len(tiers)
        columns.append(Column(values, styles=[tier_style(b, t)
                                              for b, t in zip(bases, tiers, strict=True)]))
    rows = ColumnRows(_header(cols), columns)
    notes = {cols.index("diff"): DIFF_NOTE} if "diff" in cols else {}
    return SheetSpec("Ranking", rows, fit(rows, cols), freeze=(1, 5 if YEAR_COLUMN in cols else 4),
                     header_notes=notes)


def tiers_sheet(result: IndexResult) -> SheetSpec:
    """The Tiers sheet: one row per tier, its label, its units in rank order and their count."""
    return tiers_spec(tiers_table(result))


def tiers_spec(table: pd.DataFrame) -> SheetSpec:
    """The Tiers sheet of ``table`` (:func:`tiers_table`, or a panel's, with ``year`` first)."""
    cols = list(table.columns)
    styles = {"tier": INTEGER, YEAR_COLUMN: INTEGER, "label": TEXT, "units": WRAPPED,
              "count": INTEGER}
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        values = dict(zip(cols, rec, strict=True))
        t = int(values["tier"])
        rows.append([_cell(values[c], tier_style(styles[c], t)) for c in cols])
    return SheetSpec("Tiers", rows, fit(rows, cols, _TEXT_WIDTHS),
                     autofilter=YEAR_COLUMN in cols)


def weights_sheet(result: IndexResult) -> SheetSpec:
    """The WeightsUsed sheet: the weight of every child within its parent and in the total."""
    table = result.weights_used
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        rows.append([_cell(v, column_style(c)) for c, v in zip(cols, rec, strict=True)])
    return SheetSpec("WeightsUsed", rows, fit(rows, cols))


def problems_sheet(problems: Sequence[Problem]) -> SheetSpec:
    """The Problems sheet: one row per problem, the cell linked to where it is."""
    cols = list(PROBLEMS_HEADER)
    rows: list[list[Cell]] = [_header(cols)]
    for p in problems:
        link = f"'{p.sheet}'!{p.cell}" if p.sheet and p.cell else None
        rows.append([Cell(p.sheet, style=TEXT), Cell(p.cell, style=TEXT, link=link),
                     Cell(p.unit, style=TEXT), Cell(p.node, style=TEXT),
                     Cell(p.problem, style=WRAPPED)])
    return SheetSpec("Problems", rows, fit(rows, cols, _TEXT_WIDTHS),
                     tab_color="C00000" if problems else None)




def log_sheet(previous: Sequence[Sequence[Any]], entry: dict[str, Any]) -> SheetSpec:
    """The Log sheet: the rows it had (never rewritten) and one more."""
    cols = list(LOG_COLUMNS)
    rows: list[list[Cell]] = [_header(cols)]
    for old in previous:
        rows.append([_cell(v) for v in list(old)[: len(cols)]])
    rows.append([_cell(None if entry.get(c) == "" else entry.get(c),
                       WRAPPED if c == "notes" else None) for c in cols])
    return SheetSpec("Log", rows, {i: LOG_WIDTHS[c] for i, c in enumerate(cols)})


def treatment_sheet(result: IndexResult) -> SheetSpec:
    """The Treatment sheet: per indicator, the outlier rule applied, skew and kurtosis before and
    after (Excel's SKEW and KURT), and what was done."""
    table = result.treatment
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        rows.append([_cell(v, PRECISE if c.startswith(("skew", "kurtosis")) else TEXT)
                     for c, v in zip(cols, rec, strict=True)])
    return SheetSpec(result.model.settings.sheet("Treatment"), rows, fit(rows, cols))


def group_ranking_sheet(result: IndexResult, table: pd.DataFrame | None = None) -> SheetSpec:
    """The GroupRanking sheet: per grouping column of Units and group, each unit's rank in it
    (``table``: :func:`~xl_aiindex.groups.group_ranking` of ``result``, if already computed)."""
    table = group_ranking(result) if table is None else table
    cols = list(table.columns)
    score = score_style(result.model.settings)
    rows = ColumnRows(_header(cols), [Column(_values(table[c]), column_style(c, score))
                                      for c in cols])
    return SheetSpec(result.model.settings.sheet(GROUP_RANKING_SHEET), rows, fit(rows, cols),
                     freeze=(1, 2))


def panel_core_sheets(result: IndexResult, panel: PanelResult) -> list[SheetSpec]:
    """Scores, Ranking and Tiers of a panel: every year's rows, a ``year`` column
    (:mod:`~xl_aiindex.workbook.panel_sheets`). ``result``: a year of ``panel``."""
    scores = panel_scores_table(panel)
    scores_tiers = [tier_of(panel.by_year[y], u)
                    for u, y in zip(scores["unit"], scores[YEAR_COLUMN], strict=True)]
    ranking = panel_ranking_table(panel)
    ranking_tiers = [tier_of(panel.by_year[y], u)
                     for u, y in zip(ranking["unit"], ranking[YEAR_COLUMN], strict=True)]
    return [scores_spec(scores, scores_tiers, result),
            ranking_spec(ranking, ranking_tiers, result), tiers_spec(panel_tiers_table(panel))]


def result_sheets(result: IndexResult) -> list[SheetSpec]:
    """Scores, Ranking, Tiers and WeightsUsed, in that order; Treatment when outliers are
    treated; GroupRanking when Units has a grouping (text) column; then Charts, and Compare
    when Settings ``compare`` lists pairs (:mod:`~xl_aiindex.workbook.visuals`).

    A year of a panel (:class:`~xl_aiindex.panel.YearResult`): Scores, Ranking and Tiers hold
    every year, Trends comes last; the other sheets are the year's (the latest, as recalc
    computes it)."""
    panel = panel_of(result)
    sheets = [*(panel_core_sheets(result, panel) if panel is not None else
                [scores_sheet(result), ranking_sheet(result), tiers_sheet(result)]),
              weights_sheet(result)]
    if result.model.settings.outliers != "none":
        sheets.append(treatment_sheet(result))
    groups = group_ranking(result)
    if not groups.empty:
        sheets.append(group_ranking_sheet(result, groups))
    sheets.extend(visual_sheets(result))
    if panel is not None:
        sheets.append(trends_sheet(result, panel))
    return sheets
