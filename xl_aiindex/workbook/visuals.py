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

from collections.abc import Callable

import numpy as np
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
    others), the series the charts colour by tier. The rows of :func:`top_table` per node,
    chosen with numpy on the whole columns (one DataFrame at the end: a recalc builds this
    table every run, and pandas costs a fraction of a millisecond per operation)."""
    n = result.model.settings.chart_top
    k = result.model.settings.tiers.count
    tier_cols = [f"tier_{t}" for t in range(1, k + 1)]
    nodes = [result.root, *root_children(result)] if n > 0 else []
    if not nodes:
        return pd.DataFrame(columns=[*CHARTS_COLUMNS, *tier_cols])
    index = result.scores.index
    units = result.model.units
    unit_ids = np.asarray(index.astype(str), dtype=object)
    unit_order = np.argsort(unit_ids.astype(str), kind="stable")
    unit_key = np.empty(len(unit_order), dtype=np.intp)   # position of each unit id, sorted
    unit_key[unit_order] = np.arange(len(unit_order))
    ranks = _node_ranks(result, nodes[1:])
    charts, picks, rank_parts, score_parts = [], [], [], []
    for node in nodes:
        score = result.scores[node].to_numpy(dtype=float)
        rank = result.rank.reindex(index).to_numpy(dtype=float) if node == result.root \
            else ranks[node]
        ranked = np.flatnonzero(~np.isnan(rank))
        # sort_values(["rank", "unit"], kind="stable") of the ranked units, first N
        order = ranked[np.lexsort((unit_key[ranked], rank[ranked]))][:n]
        charts.extend([node] * len(order))
        picks.append(order)
        rank_parts.append(rank[order])
        score_parts.append(score[order])
    rows = np.concatenate(picks)
    scores = np.concatenate(score_parts)
    tiers = result.tier.reindex(index).iloc[rows].reset_index(drop=True)
    positions = np.concatenate([np.arange(1, len(p) + 1) for p in picks])
    columns: dict[str, object] = {
        "chart": charts, "position": positions, "rank": np.concatenate(rank_parts),
        "unit": unit_ids[rows], "name_zh": units["name_zh"].reindex(index).iloc[rows]
        .reset_index(drop=True), "name_en": units["name_en"].reindex(index).iloc[rows]
        .reset_index(drop=True), "score": scores, "tier": tiers}
    tier_values = tiers.to_numpy()
    for t, col in enumerate(tier_cols, 1):
        columns[col] = np.where(tier_values == t, scores, np.nan)
    return pd.DataFrame(columns)[[*CHARTS_COLUMNS, *tier_cols]]


def _node_ranks(result: IndexResult, nodes: list[str]) -> dict[str, np.ndarray]:
    """:func:`node_rank` of each of ``nodes`` as arrays in the order of ``result.scores``'
    rows, ranked in one pandas call."""
    if not nodes:
        return {}
    table = result.scores[nodes].astype(float).rank(method="min", ascending=False)
    return {node: table[node].to_numpy(dtype=float) for node in nodes}


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
    return _axis(pd.to_numeric(values, errors="coerce").dropna().tolist())


def _axis(values: list[float]) -> tuple[float | None, float | None]:
    """:func:`score_axis` of numbers (no blanks among them)."""
    if not values or min(values) < 0:
        return None, None
    if SCORE_SCALE / 10 < max(values) <= SCORE_SCALE:
        return 0.0, SCORE_SCALE
    return 0.0, None


def _numbers(values: list[object]) -> list[float]:
    """The numbers among cell values ``values`` as floats, blanks (None, NaN) left out."""
    return [float(v) for v in values  # type: ignore[arg-type]
            if v is not None and not isinstance(v, str) and v == v]


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
    at_tier = cols.index("tier")
    # one style object per column and tier (equal styles: the cells share it, not a copy each)
    looks: dict[int, list[Style]] = {}
    for rec in table.itertuples(index=False, name=None):
        t = int(rec[at_tier]) if pd.notna(rec[at_tier]) else 0
        values = list(rec)
        values[at_tier] = rule.label(t) if t > 0 else None
        if t not in looks:
            looks[t] = [tier_style(styles[c], t) for c in cols]
        rows.append([_cell(v, look) for v, look in zip(values, looks[t], strict=True)])
    charts: list[bytes] = []
    name = result.model.settings.sheet(CHARTS)   # Settings sheet_charts: the references follow
    col_name = column_letter(cols.index("name_zh"))
    first = 2
    n = result.model.settings.chart_top
    chart_of = table["chart"].tolist()
    score_of = table["score"].tolist()
    for block in _groups(chart_of):
        block_len = len(block)
        last = first + block_len - 1
        series = []
        for t, col in enumerate(tier_cols, 1):
            letter = column_letter(cols.index(col))
            series.append(Series(sheet_ref(name, letter, first, letter, last),
                                 name=rule.label(t), color=tier_fill(t), outline=OUTLINE))
        title = f"{_node_title(result, str(chart_of[block[0]]))} TOP {block_len}"
        low, high = _axis(_numbers([score_of[i] for i in block]))
        charts.append(clustered_bar_chart(
            title, sheet_ref(name, col_name, first, col_name, last), series, horizontal=True,
            overlap=100, axis_min=low, axis_max=high))
        first += block_len
    anchors = grid_anchors(len(charts), first_col=len(cols) + 1,
                           height=max(12, 8 + int(n * 1.1)))
    return SheetSpec(name, rows, fit(rows, cols),
                     drawing=Drawing(tuple(zip(anchors, charts, strict=True))))


def _groups(keys: list[object]) -> list[list[int]]:
    """The positions of each distinct value of ``keys``, values in order of first appearance
    (as ``groupby(sort=False)``)."""
    groups: dict[object, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return list(groups.values())


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
    for u, (scores, ranks) in zip(units, _unit_columns(result, nodes, units), strict=True):
        table[f"score:{u}"] = scores
        table[f"rank:{u}"] = ranks
    return table


def _unit_columns(result: IndexResult, nodes: list[str], units: list[str]
                  ) -> list[tuple[list[float], list[float]]]:
    """Per unit of ``units``: its score and its rank on each of ``nodes`` (the root's: the
    total and the index rank), every node ranked once."""
    column = _unit_column(result, nodes)
    return [column(u) for u in units]


def _unit_column(result: IndexResult, nodes: list[str]
                 ) -> Callable[[str], tuple[list[float], list[float]]]:
    """The function giving a unit's score and rank on each of ``nodes`` (see
    :func:`_unit_columns`), the nodes ranked once, here."""
    root = result.root
    ranks = _node_ranks(result, [n for n in nodes if n != root])
    row = {unit: i for i, unit in enumerate(result.scores.index)}
    scores = result.scores[nodes].to_numpy(dtype=float)
    index_rank = dict(zip(result.rank.index, result.rank.to_numpy(dtype=float), strict=True))

    def column(u: str) -> tuple[list[float], list[float]]:
        unit_ranks = [float(index_rank[u]) if n == root else float(ranks[n][row[u]])
                      for n in nodes]
        return scores[row[u]].tolist(), unit_ranks

    return column


def compare_table(result: IndexResult, pairs: list[tuple[str, str]] | None = None
                  ) -> pd.DataFrame:
    """The Compare sheet's table: per pair (ids; default the Settings ``compare`` pairs), a row
    per child of the root and one for the total, both units' score and rank, ``diff`` = a − b.
    Built from lists, one DataFrame at the end (the recalc builds it every run)."""
    pairs = resolve_pairs(result) if pairs is None else pairs
    if not pairs:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    nodes = [*root_children(result), result.root]
    names_zh = [result.model.node(n).name_zh for n in nodes]
    names_en = [result.model.node(n).name_en for n in nodes]
    columns: dict[str, list[object]] = {c: [] for c in COMPARE_COLUMNS}
    unit_column = _unit_column(result, nodes)
    for a, b in pairs:
        (score_a, rank_a), (score_b, rank_b) = unit_column(a), unit_column(b)
        name_a, name_b = unit_label(result, a), unit_label(result, b)
        size = len(nodes)
        columns["pair"] += [f"{name_a}/{name_b}"] * size
        columns["node"] += nodes
        columns["name_zh"] += names_zh
        columns["name_en"] += names_en
        columns["unit_a"] += [a] * size
        columns["name_a"] += [name_a] * size
        columns["score_a"] += score_a
        columns["rank_a"] += rank_a
        columns["unit_b"] += [b] * size
        columns["name_b"] += [name_b] * size
        columns["score_b"] += score_b
        columns["rank_b"] += rank_b
        columns["diff"] += [x - y for x, y in zip(score_a, score_b, strict=True)]
    return pd.DataFrame(columns)


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
    root = result.root
    for rec in table.itertuples(index=False, name=None):
        look = bold if rec[1] == root else styles   # rec[1]: the node
        rows.append([_cell(v, look[c]) for c, v in zip(cols, rec, strict=True)])
    letter = {c: column_letter(i) for i, c in enumerate(cols)}
    name = result.model.settings.sheet(COMPARE)   # Settings sheet_compare
    charts = []
    n_children = len(root_children(result))
    first = 2
    column = {c: table[c].tolist() for c in ("pair", "name_a", "name_b", "score_a", "score_b")}
    for block in _groups(column["pair"]):
        last = first + n_children - 1
        title = f"{column['name_a'][block[0]]} / {column['name_b'][block[0]]}"
        series = [Series(sheet_ref(name, letter[f"score_{s}"], first, letter[f"score_{s}"], last),
                         name_ref=sheet_ref(name, letter[f"name_{s}"], first))
                  for s in ("a", "b")]
        low, high = _axis(_numbers([column[f"score_{s}"][i] for i in block for s in "ab"]))
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
