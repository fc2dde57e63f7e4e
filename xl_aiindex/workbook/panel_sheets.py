"""The result tables of a panel (Data/Given with a ``year`` column): Scores, Ranking and Tiers
per year (:func:`~xl_aiindex.workbook.results.result_sheets` styles them), and the Trends
sheet.

Each year's result is an ordinary :class:`~xl_aiindex.model.IndexResult`
(:class:`~xl_aiindex.panel.PanelResult`), so the tables are the single-year tables
(:mod:`~xl_aiindex.workbook.result_tables`) of every year, a ``year`` column added after
``unit`` (Scores, Ranking) or first (Tiers), years in ascending order; ranks and tiers are
within the year. ``Trends`` has one row per unit: the index per year side by side, the change
and the rank change from the first year to the last, and a native line chart of the TOP-N
(Settings ``chart_top``) over the years.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..contract import TRENDS, YEAR_COLUMN
from ..i18n import _
from ..model import IndexResult
from ..panel import PanelResult, trends
from .cells import column_letter
from .charts import Drawing, Series, grid_anchors, line_chart, sheet_ref
from .result_cells import _cell, _header, fit, score_style
from .result_tables import ranking_table, scores_table, tiers_table
from .sheetspec import TEXT, Cell, SheetSpec, Style, tier_style
from .visuals import score_axis

#: The Trends sheet's columns after the years: the change first → last year.
TRENDS_CHANGES = ("change", "rank_change")


def tier_of(result: IndexResult, unit: str) -> int:
    """The tier of ``unit`` in ``result`` (0: none, or not ranked that year)."""
    t = result.tier.get(unit, 0)
    return int(t) if t == t and t else 0


def _every_year(panel: PanelResult, table_of: Callable[[IndexResult], pd.DataFrame],
                at: int) -> pd.DataFrame:
    """``table_of`` each year's result, a ``year`` column inserted at position ``at``, the
    years one after another (ascending)."""
    frames = []
    for y in panel.years:
        table = table_of(panel.by_year[y])
        table.insert(at, YEAR_COLUMN, y)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def panel_scores_table(panel: PanelResult) -> pd.DataFrame:
    """Scores of every year: ``unit, year, name_zh, name_en``, the nodes, ``coverage``; one
    row per unit-year, years ascending (within a year the units in Units order)."""
    return _every_year(panel, scores_table, 1)


def panel_ranking_table(panel: PanelResult) -> pd.DataFrame:
    """The ranking of every year (``rank`` and ``tier`` within the year), a ``year`` column
    after ``unit``; years ascending, each year by rank."""
    return _every_year(panel, ranking_table, 2)


def panel_tiers_table(panel: PanelResult) -> pd.DataFrame:
    """``year, tier, label, units, count``: the tiers of every year."""
    return _every_year(panel, tiers_table, 0)


def trends_table(panel: PanelResult) -> pd.DataFrame:
    """``unit, name_zh, name_en``, the index in each year (columns named by the year, as
    text), ``change`` and ``rank_change`` first → last year (positive: rose; blank when the
    unit has no score in either year); ordered by the last year's rank
    (:func:`~xl_aiindex.panel.trends`)."""
    table = trends(panel)
    # every unit of any year (a year's model holds the units present that year)
    units = pd.concat([panel.by_year[y].model.units for y in panel.years])
    units = units[~units.index.duplicated(keep="last")]
    out = pd.DataFrame({"unit": table.index.astype(str),
                        "name_zh": units["name_zh"].reindex(table.index).tolist(),
                        "name_en": units["name_en"].reindex(table.index).tolist()})
    for y in panel.years:
        out[str(y)] = table[y].to_numpy(dtype=float)
    for c in TRENDS_CHANGES:
        out[c] = table[c].to_numpy(dtype=float)
    return out


def trends_sheet(result: IndexResult, panel: PanelResult) -> SheetSpec:
    """The Trends sheet (:func:`trends_table`) and a line chart of the TOP-N units (by the
    last year's rank; N = Settings ``chart_top``, 0: no chart): one line per unit over the
    years, its name and values read from the sheet's cells."""
    settings = result.model.settings
    table = trends_table(panel)
    cols = list(table.columns)
    years = [str(y) for y in panel.years]
    last = panel.by_year[panel.latest]
    tiers = [tier_of(last, u) for u in table["unit"]]
    rows: list[list[Cell]] = [_header(cols)]
    score = score_style(settings)
    change = Style(num_format="+0.00;-0.00;0.00")
    rank_change = Style(num_format="+0;-0;0")
    for rec, t in zip(table.itertuples(index=False), tiers, strict=True):
        values = dict(zip(cols, rec, strict=True))
        rows.append([_cell(values[c], tier_style(
            TEXT if c in ("unit", "name_zh", "name_en") else change if c == "change"
            else rank_change if c == "rank_change" else score, t)) for c in cols])
    name = settings.sheet(TRENDS)
    n = min(settings.chart_top, int(table[years[-1]].notna().sum()))
    charts: list[bytes] = []
    if n > 0 and len(years) > 1:
        first_year, last_year = column_letter(cols.index(years[0])), \
            column_letter(cols.index(years[-1]))
        label = column_letter(cols.index("name_zh"))
        series = [Series(sheet_ref(name, first_year, r, last_year, r),
                         name_ref=sheet_ref(name, label, r)) for r in range(2, n + 2)]
        root = result.model.node(result.root)
        title = _("{index}: TOP {n} over the years").format(
            index=root.name_zh or root.name_en or root.id, n=n)
        # the same 0–100 axis as every other score chart of the workbook
        low, high = score_axis(table[years].iloc[:n].stack())
        charts.append(line_chart(title, sheet_ref(name, first_year, 1, last_year, 1), series,
                                 axis_min=low, axis_max=high))
    anchors = grid_anchors(len(charts), first_col=len(cols) + 1, per_row=1, width=12,
                           height=max(16, 8 + n))
    return SheetSpec(name, rows, fit(rows, cols), freeze=(1, 3),
                     drawing=Drawing(tuple(zip(anchors, charts, strict=True))))


__all__ = ["TRENDS_CHANGES", "panel_ranking_table", "panel_scores_table", "panel_tiers_table",
          "tier_of", "trends_sheet", "trends_table"]
