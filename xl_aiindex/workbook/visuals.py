"""The report's pictures in the workbook: the ``Charts`` and ``Compare`` result sheets.

``Charts`` holds one table — the TOP-N units (Settings ``chart_top``) of the total and of each
child of the root, a block of rows per chart — and a native bar chart per block whose
categories and values are that block's cells (:mod:`xl_aiindex.workbook.charts`), bars filled
with the unit's tier colour (as on the Ranking sheet). ``Compare`` holds, per pair of Settings
``compare``, the children of the root and the total for both units with their difference, and
a clustered bar chart per pair. Both sheets are rewritten by every recalc; the chart parts
only change when the layout does (N, the tree, the names, the tier of a bar's position), so a
recalc that only changes numbers leaves them byte-identical and the bars move with the cells.

The table builders (``*_table``) are pure DataFrames, shared with the command line, the HTML
report and the exports.
"""

from __future__ import annotations

import pandas as pd

from ..contract import CHANGES, CHARTS, COMPARE
from ..lookup import NameIndex
from ..model import IndexResult
from .cells import column_letter
from .charts import OUTLINE, Drawing, Series, clustered_bar_chart, grid_anchors, sheet_ref
from .result_cells import _cell, _header, column_style, fit, score_style
from .result_tables import ranking_table
from .sheetspec import INTEGER, NUMBER, TEXT, TIER_FILLS, Cell, SheetSpec, Style, tier_style

#: The result sheets this module writes, and the one ``compare-editions`` writes.
VISUAL_SHEETS = (CHARTS, COMPARE, CHANGES)

CHARTS_COLUMNS = ("chart", "position", "rank", "unit", "name_zh", "name_en", "score", "tier")
COMPARE_COLUMNS = ("pair", "node", "name_zh", "name_en", "unit_a", "name_a", "score_a", "rank_a",
                   "unit_b", "name_b", "score_b", "rank_b", "diff")


def tier_fill(tier: int) -> str:
    """The fill of tier ``tier`` (1-based) as on the Ranking sheet; white for no tier."""
    if tier <= 0:
        return "FFFFFF"
    return TIER_FILLS[min(tier, len(TIER_FILLS)) - 1]


def root_children(result: IndexResult) -> list[str]:
    """The ids of the root's children, in Framework order."""
    return [n.id for n in result.model.nodes if n.parent == result.root]


def node_rank(result: IndexResult, node: str) -> pd.Series:
    """Rank of every unit on ``node``'s score (1 = highest; ties share the better rank; units
    without a score have none)."""
    return result.scores[node].astype(float).rank(method="min", ascending=False)


def top_table(result: IndexResult, node: str, n: int) -> pd.DataFrame:
    """The ``n`` best units on ``node`` (the total for the root): ``rank, unit, name_zh,
    name_en, score, tier`` (tier = the unit's tier in the index)."""
    units = result.model.units
    score = result.total if node == result.root else result.scores[node].astype(float)
    rank = result.rank if node == result.root else node_rank(result, node)
    table = pd.DataFrame({"rank": rank, "unit": score.index.astype(str),
                          "name_zh": units["name_zh"].reindex(score.index),
                          "name_en": units["name_en"].reindex(score.index),
                          "score": score, "tier": result.tier.reindex(score.index)},
                         index=score.index)
    table.index.name = None
    table = table[table["rank"].notna()].sort_values(["rank", "unit"], kind="stable")
    return table.head(max(n, 0)).reset_index(drop=True)


def charts_table(result: IndexResult) -> pd.DataFrame:
    """The Charts sheet's table: for the total and each child of the root, its TOP-N units
    (N = Settings ``chart_top``), a block of rows per chart, ``position`` 1…N within it; then
    ``tier_1`` … ``tier_k``: the score again in the column of the unit's tier (blank in the
    others), the series the charts colour by tier."""
    n = result.model.settings.chart_top
    k = result.model.settings.tiers.count
    tier_cols = [f"tier_{t}" for t in range(1, k + 1)]
    frames = []
    for node in [result.root, *root_children(result)] if n > 0 else []:
        top = top_table(result, node, n)
        top.insert(0, "position", range(1, len(top) + 1))
        top.insert(0, "chart", node)
        for t, col in enumerate(tier_cols, 1):
            top[col] = top["score"].where(top["tier"] == t)
        frames.append(top)
    if not frames:
        return pd.DataFrame(columns=[*CHARTS_COLUMNS, *tier_cols])
    return pd.concat(frames, ignore_index=True)[[*CHARTS_COLUMNS, *tier_cols]]


def _node_title(result: IndexResult, node: str) -> str:
    nd = result.model.node(node)
    return nd.name_zh or nd.name_en or nd.id


#: Scores on this scale get a fixed axis from 0 to it (every chart of a workbook alike).
SCORE_SCALE = 100.0


def score_axis(values: pd.Series) -> tuple[float | None, float | None]:
    """The value axis' (minimum, maximum) for bars of ``values``: 0 to 100 when they are
    scores on 0–100 (all within it, the largest above 10: not shares of 1), so that every
    chart reads on the same scale; else 0 to the application's choice when none is negative;
    else the application's choice of both."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    if not len(v) or float(v.min()) < 0:
        return None, None
    if float(v.max()) <= SCORE_SCALE and float(v.max()) > SCORE_SCALE / 10:
        return 0.0, SCORE_SCALE
    return 0.0, None


def charts_sheet(result: IndexResult) -> SheetSpec:
    """The Charts sheet: :func:`charts_table` and a bar chart per block (Chinese names against
    scores), laid out two to a row right of the table. Each chart has a series per tier
    (columns ``tier_1``…, overlapping bars, one value per row), so a bar's colour follows its
    cells: a recalc that changes numbers, ranks or tiers leaves the chart parts as they were."""
    table = charts_table(result)
    rule = result.model.settings.tiers
    cols = list(table.columns)
    tier_cols = [c for c in cols if c.startswith("tier_")]
    rows: list[list[Cell]] = [_header(cols)]
    score = score_style(result.model.settings)
    styles = {c: TEXT if c == "tier" else column_style(c, score) for c in cols}
    for rec in table.itertuples(index=False):
        t = int(rec.tier) if pd.notna(rec.tier) else 0
        values = dict(zip(cols, rec, strict=True))
        values["tier"] = rule.label(t) if t > 0 else None
        rows.append([_cell(values[c], tier_style(styles[c], t)) for c in cols])
    charts: list[bytes] = []
    name = result.model.settings.sheet(CHARTS)   # Settings sheet_charts: the references follow
    col_name = column_letter(cols.index("name_zh"))
    first = 2
    n = result.model.settings.chart_top
    for node, block in table.groupby("chart", sort=False):
        last = first + len(block) - 1
        series = []
        for t, col in enumerate(tier_cols, 1):
            letter = column_letter(cols.index(col))
            series.append(Series(sheet_ref(name, letter, first, letter, last),
                                 name=rule.label(t), color=tier_fill(t), outline=OUTLINE))
        title = f"{_node_title(result, str(node))} TOP {len(block)}"
        low, high = score_axis(block["score"])
        charts.append(clustered_bar_chart(
            title, sheet_ref(name, col_name, first, col_name, last), series, horizontal=True,
            overlap=100, axis_min=low, axis_max=high))
        first += len(block)
    anchors = grid_anchors(len(charts), first_col=len(cols) + 1,
                           height=max(12, 8 + int(n * 1.1)))
    return SheetSpec(name, rows, fit(rows, cols),
                     drawing=Drawing(tuple(zip(anchors, charts, strict=True))))


def resolve_pairs(result: IndexResult) -> list[tuple[str, str]]:
    """Settings ``compare`` as unit ids (names already checked by the pipeline)."""
    index = NameIndex.of(result.model, "unit")
    return [(index.find(a), index.find(b)) for a, b in result.model.settings.compare]


def unit_label(result: IndexResult, unit: str) -> str:
    """The unit's Chinese name, else English name, else id."""
    units = result.model.units
    for col in ("name_zh", "name_en"):
        v = str(units.at[unit, col] or "").strip() if unit in units.index else ""
        if v:
            return v
    return unit


def compare_units(result: IndexResult, units: list[str]) -> pd.DataFrame:
    """The children of the root and the total (last) for ``units`` (ids): ``node, name_zh,
    name_en``, then per unit ``score:<id>`` and ``rank:<id>`` (its rank on that node)."""
    nodes = [*root_children(result), result.root]
    table = pd.DataFrame({"node": nodes,
                          "name_zh": [result.model.node(n).name_zh for n in nodes],
                          "name_en": [result.model.node(n).name_en for n in nodes]})
    for u in units:
        table[f"score:{u}"] = [float(result.total[u]) if n == result.root
                               else float(result.scores.at[u, n]) for n in nodes]
        table[f"rank:{u}"] = [result.rank[u] if n == result.root else node_rank(result, n)[u]
                              for n in nodes]
    return table


def compare_table(result: IndexResult, pairs: list[tuple[str, str]] | None = None
                  ) -> pd.DataFrame:
    """The Compare sheet's table: per pair (ids; default the Settings ``compare`` pairs), a row
    per child of the root and one for the total, both units' score and rank, ``diff`` = a − b."""
    pairs = resolve_pairs(result) if pairs is None else pairs
    frames = []
    for a, b in pairs:
        t = compare_units(result, [a, b])
        frames.append(pd.DataFrame({
            "pair": f"{unit_label(result, a)}/{unit_label(result, b)}",
            "node": t["node"], "name_zh": t["name_zh"], "name_en": t["name_en"],
            "unit_a": a, "name_a": unit_label(result, a), "score_a": t[f"score:{a}"],
            "rank_a": t[f"rank:{a}"], "unit_b": b, "name_b": unit_label(result, b),
            "score_b": t[f"score:{b}"], "rank_b": t[f"rank:{b}"],
            "diff": t[f"score:{a}"] - t[f"score:{b}"]}))
    if not frames:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(COMPARE_COLUMNS)]


def compare_sheet(result: IndexResult) -> SheetSpec | None:
    """The Compare sheet (None when Settings ``compare`` is empty): :func:`compare_table` and a
    clustered bar chart per pair over the children of the root."""
    if not result.model.settings.compare:
        return None
    table = compare_table(result)
    cols = list(COMPARE_COLUMNS)
    rows: list[list[Cell]] = [_header(cols)]
    score = score_style(result.model.settings)
    styles = {c: column_style(c, score) for c in cols}
    # the total's row in bold, with the same number formats as the rows above it
    bold = {c: Style(st.num_format, True, st.fill, st.font_color, st.wrap, st.align,
                     st.border_bottom, st.indent) for c, st in styles.items()}
    for rec in table.itertuples(index=False):
        look = bold if rec.node == result.root else styles
        rows.append([_cell(v, look[c]) for c, v in zip(cols, rec, strict=True)])
    letter = {c: column_letter(i) for i, c in enumerate(cols)}
    name = result.model.settings.sheet(COMPARE)   # Settings sheet_compare
    charts = []
    n_children = len(root_children(result))
    first = 2
    for _pair, block in table.groupby("pair", sort=False):
        last = first + n_children - 1
        title = f"{block['name_a'].iloc[0]} / {block['name_b'].iloc[0]}"
        series = [Series(sheet_ref(name, letter[f"score_{s}"], first, letter[f"score_{s}"], last),
                         name_ref=sheet_ref(name, letter[f"name_{s}"], first))
                  for s in ("a", "b")]
        low, high = score_axis(block[["score_a", "score_b"]].stack())
        charts.append(clustered_bar_chart(
            title, sheet_ref(name, letter["name_zh"], first, letter["name_zh"], last), series,
            axis_min=low, axis_max=high))
        first += len(block)
    anchors = grid_anchors(len(charts), first_col=len(cols) + 1, height=16)
    return SheetSpec(name, rows, fit(rows, cols),
                     drawing=Drawing(tuple(zip(anchors, charts, strict=True))))


def visual_sheets(result: IndexResult) -> list[SheetSpec]:
    """Charts (always; without charts when ``chart_top`` is 0), and Compare when Settings
    ``compare`` lists pairs."""
    sheets = [charts_sheet(result)]
    compare = compare_sheet(result)
    if compare is not None:
        sheets.append(compare)
    return sheets


__all__ = ["CHARTS", "COMPARE", "CHANGES", "VISUAL_SHEETS", "charts_sheet", "charts_table",
           "compare_sheet", "compare_table", "compare_units", "node_rank", "ranking_table",
           "top_table", "visual_sheets"]


def changes_sheet(table: pd.DataFrame) -> SheetSpec:
    """The Changes sheet of ``compare-editions`` (:func:`xl_aiindex.editions.compare_editions`):
    one row per unit, rises in green and falls in red on the change columns."""
    cols = [str(c) for c in table.columns]
    rows: list[list[Cell]] = [_header(cols)]
    up, down = Style(num_format="+0.00;-0.00;0.00", font_color="006100"), \
        Style(num_format="+0.00;-0.00;0.00", font_color="9C0006")
    up_i, down_i = Style(num_format="+0;-0;0", font_color="006100"), \
        Style(num_format="+0;-0;0", font_color="9C0006")
    for rec in table.itertuples(index=False, name=None):
        row = []
        for c, v in zip(cols, rec, strict=True):
            if c.endswith("_change"):
                whole = c in ("rank_change", "tier_change") or c.endswith("_rank_change")
                good = isinstance(v, int | float) and v == v and v > 0
                bad = isinstance(v, int | float) and v == v and v < 0
                style = (up_i if good else down_i if bad else INTEGER) if whole else \
                    (up if good else down if bad else NUMBER)
            elif c.startswith(("rank", "tier_")) and c not in ("tier_old", "tier_new",
                                                                "tier_move"):
                style = INTEGER
            elif c.endswith(("_old", "_new")) and c not in ("tier_old", "tier_new"):
                style = INTEGER if c.startswith("rank") else NUMBER
            else:
                style = TEXT
            row.append(_cell(v, style))
        rows.append(row)
    return SheetSpec(CHANGES, rows, fit(rows, cols), freeze=(1, 3))
