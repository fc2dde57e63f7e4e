"""The result tables (pure DataFrames) and the result sheets (:class:`SheetSpec`) built from them.

The tables are what the CLI prints and the UDFs return; the sheets add the look (number
formats, widths, tier colours, links). Both are built from an :class:`IndexResult` only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import Problem
from ..groups import group_ranking
from ..model import IndexResult
from .sheetspec import HEADER, INTEGER, NUMBER, PRECISE, TEXT, Cell, SheetSpec, Style, tier_style

#: Result sheets added for issue #15 (statistical audit, group rankings), written by the tool:
#: ``GroupRanking`` by every recalc when Units has a grouping column, ``Audit`` by ``audit``.
GROUP_RANKING_SHEET = "GroupRanking"
AUDIT_SHEET = "Audit"
AUDIT_RESULT_SHEETS = (AUDIT_SHEET, GROUP_RANKING_SHEET)


def display_name(result: IndexResult, unit: str) -> str:
    """How people see a unit: its Chinese name, else its English name, else its id."""
    units = result.model.units
    if unit in units.index:
        for col in ("name_zh", "name_en"):
            v = str(units.at[unit, col] or "").strip()
            if v:
                return v
    return unit


def score_columns(result: IndexResult) -> list[str]:
    """The node columns of Scores: every node, root last — with ``input = given`` only the
    nodes that have a score (the given level and above), not the empty columns below it."""
    columns = [str(c) for c in result.scores.columns]
    if result.model.settings.input == "given":
        columns = [c for c in columns if result.scores[c].notna().any()]
    return columns


def scores_table(result: IndexResult) -> pd.DataFrame:
    """``unit, name_zh, name_en``, the nodes of :func:`score_columns`, ``coverage``: one row
    per unit."""
    units = result.model.units
    table = result.scores[score_columns(result)].copy()
    table.insert(0, "name_en", units["name_en"].reindex(table.index))
    table.insert(0, "name_zh", units["name_zh"].reindex(table.index))
    table.insert(0, "unit", table.index.astype(str))
    table["coverage"] = result.coverage
    return table.reset_index(drop=True)


def decimals_of(values: pd.Series, most: int = 6) -> int:
    """The decimals the numbers in ``values`` are written with (the most any of them needs,
    at most ``most``): 2 for a column of ``79.55, 92.93``."""
    need = 0
    for v in values.dropna().astype(float):
        d = 0
        while d < most and round(v, d) != v:
            d += 1
        need = max(need, d)
    return need


#: The Ranking header note of ``diff``: its sign, and why it is rounded.
DIFF_NOTE = ("diff = score − published (computed minus printed), rounded to the decimals of "
             "'published'. 差值 = 计算得分 − 公布值，按公布值的小数位数取整。")


def ranking_table(result: IndexResult) -> pd.DataFrame:
    """``rank, unit, name_zh, name_en, score, tier``, the root's children, then ``published, diff``
    when Given has ``published``; sorted by rank (unranked units last, by id).

    ``tier`` is the tier's label when Settings ``tier_labels`` names them (as the analyst reads
    it), else its number; the number is in ``Tiers`` and ``result.tier``. ``rank`` is a whole
    number (an ``Int64`` column; blank when unranked). ``diff`` (score − published) is rounded to
    the decimals of ``published``: a difference finer than the printed figures is noise."""
    model = result.model
    root = result.root
    children = [n.id for n in model.nodes if n.parent == root]
    units = model.units
    rule = model.settings.tiers
    tier = result.tier.where(result.tier > 0)
    table = pd.DataFrame({
        "rank": result.rank.round().astype("Int64"),
        "unit": result.scores.index.astype(str),
        "name_zh": units["name_zh"].reindex(result.scores.index),
        "name_en": units["name_en"].reindex(result.scores.index),
        "score": result.total,
        "tier": tier.map(lambda t: rule.label(int(t)), na_action="ignore") if rule.labels
        else tier.astype("Int64"),
    }, index=result.scores.index)
    # the children's columns joined at once (one column at a time fragments a wide frame)
    table = pd.concat([table, result.scores[children]], axis=1)
    if model.given is not None and "published" in model.given.columns:
        published = model.given["published"].reindex(table.index)
        table["published"] = published
        # + 0.0: a rounded −0.004 is 0, not −0
        table["diff"] = (table["score"] - published).round(decimals_of(published)) + 0.0
    table.index.name = None
    table["_unranked"] = table["rank"].isna()
    table = table.sort_values(["_unranked", "rank", "unit"], kind="stable").drop(columns="_unranked")
    return table.reset_index(drop=True)


def tiers_table(result: IndexResult) -> pd.DataFrame:
    """``tier, label, units, count``: one row per tier, units by display name in rank order."""
    rule = result.model.settings.tiers
    ranking = ranking_table(result)
    tier_of = ranking["unit"].map(result.tier)
    rows = []
    for tier in range(1, rule.count + 1):
        members = ranking[tier_of == tier]["unit"]
        names = [display_name(result, u) for u in members]
        rows.append({"tier": tier, "label": rule.label(tier), "units": ", ".join(names),
                     "count": len(names)})
    return pd.DataFrame(rows, columns=["tier", "label", "units", "count"])


# ---- sheets ----

def _cell(value: Any, style: Style | None = None) -> Cell:
    if isinstance(value, float) and not math.isfinite(value) or value is pd.NA or value is pd.NaT:
        value = None
    elif hasattr(value, "item"):  # numpy scalar
        value = value.item()
    return Cell(value, style=style)


def _header(columns: Sequence[str]) -> list[Cell]:
    return [Cell(c, style=HEADER) for c in columns]


def _widths(columns: Sequence[str], wide: dict[str, float]) -> dict[int, float]:
    return {i: wide.get(c, max(10.0, len(c) + 2.0)) for i, c in enumerate(columns)}


_TEXT_WIDTHS = {"unit": 14.0, "name_zh": 12.0, "name_en": 16.0, "label": 14.0, "units": 80.0,
                "problem": 90.0, "notes": 80.0, "node": 16.0, "child": 16.0, "method": 12.0,
                "time": 20.0, "file": 40.0, "command": 12.0}


def scores_sheet(result: IndexResult) -> SheetSpec:
    """The Scores sheet: every node's score for every unit (normalised values for indicators)."""
    table = scores_table(result)
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    tiers = result.tier.reindex(table["unit"]).fillna(0).astype(int).tolist()
    root_styles = {t: tier_style(NUMBER, t) for t in set(tiers)}
    # column by column as plain Python values: building ~10⁶ cells must stay cheap
    styled = []
    for col in cols:
        values = [_plain(v) for v in table[col].tolist()]
        if col == result.root:
            styled.append([Cell(v, style=root_styles[t]) for v, t in zip(values, tiers, strict=True)])
        else:
            style = TEXT if col in ("unit", "name_zh", "name_en") else \
                PRECISE if col == "coverage" else NUMBER
            styled.append([Cell(v, style=style) for v in values])
    rows.extend(list(r) for r in zip(*styled, strict=True))
    return SheetSpec("Scores", rows, _widths(cols, _TEXT_WIDTHS), freeze=(1, 3))


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
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    tiers = table["unit"].map(result.tier).fillna(0).astype(int).tolist()
    diff_format = None
    if "diff" in cols:
        places = decimals_of(table["published"])
        diff_format = Style(num_format="0." + "0" * places if places else "0")
    for rec, t in zip(table.itertuples(index=False), tiers, strict=True):
        values = dict(zip(cols, rec, strict=True))
        row = []
        for col in cols:
            base = INTEGER if col == "rank" or col == "tier" and not isinstance(values[col], str) \
                else TEXT if col in ("unit", "name_zh", "name_en", "tier") \
                else diff_format if col == "diff" and diff_format is not None else NUMBER
            row.append(_cell(values[col], tier_style(base, t)))
        rows.append(row)
    labelled = bool(result.model.settings.tiers.labels)
    notes = {cols.index("diff"): DIFF_NOTE} if "diff" in cols else {}
    return SheetSpec("Ranking", rows, _widths(cols, _TEXT_WIDTHS | {
        "rank": 7.0, "tier": 12.0 if labelled else 7.0}), freeze=(1, 4), header_notes=notes)


def tiers_sheet(result: IndexResult) -> SheetSpec:
    """The Tiers sheet: one row per tier, its label, its units in rank order and their count."""
    table = tiers_table(result)
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        t = int(rec.tier)
        rows.append([_cell(rec.tier, tier_style(INTEGER, t)), _cell(rec.label, tier_style(TEXT, t)),
                     _cell(rec.units, tier_style(Style(wrap=True), t)),
                     _cell(rec.count, tier_style(INTEGER, t))])
    return SheetSpec("Tiers", rows, _widths(cols, _TEXT_WIDTHS | {"tier": 7.0}), autofilter=False)


def weights_sheet(result: IndexResult) -> SheetSpec:
    """The WeightsUsed sheet: the weight of every child within its parent and in the total."""
    table = result.weights_used
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        rows.append([_cell(v, PRECISE if c.startswith("weight") else TEXT)
                     for c, v in zip(cols, rec, strict=True)])
    return SheetSpec("WeightsUsed", rows, _widths(cols, _TEXT_WIDTHS | {"weight_in_total": 16.0}))


def problems_sheet(problems: Sequence[Problem]) -> SheetSpec:
    """The Problems sheet: one row per problem, the cell linked to where it is."""
    cols = ["sheet", "cell", "unit", "node", "problem"]
    rows: list[list[Cell]] = [_header(cols)]
    for p in problems:
        link = f"'{p.sheet}'!{p.cell}" if p.sheet and p.cell else None
        rows.append([Cell(p.sheet), Cell(p.cell, link=link), Cell(p.unit), Cell(p.node),
                     Cell(p.problem, style=Style(wrap=True))])
    return SheetSpec("Problems", rows, _widths(cols, _TEXT_WIDTHS), tab_color="C00000" if problems
                     else None)


#: ``inputs_hash`` (:func:`xl_aiindex.staleness.inputs_hash`): what ``recalc --check`` compares.
LOG_COLUMNS = ("time", "command", "version", "file", "input", "units", "status", "notes",
               "inputs_hash")
#: Column widths of a new Log sheet.
LOG_WIDTHS = {"time": 26.0, "command": 12.0, "version": 10.0, "file": 30.0, "input": 8.0,
              "units": 8.0, "status": 12.0, "notes": 60.0, "inputs_hash": 18.0}


def log_sheet(previous: Sequence[Sequence[Any]], entry: dict[str, Any]) -> SheetSpec:
    """The Log sheet: the rows it had (never rewritten) and one more."""
    cols = list(LOG_COLUMNS)
    rows: list[list[Cell]] = [_header(cols)]
    for old in previous:
        rows.append([_cell(v) for v in list(old)[: len(cols)]])
    rows.append([_cell(None if entry.get(c) == "" else entry.get(c),
                       Style(wrap=True) if c == "notes" else None) for c in cols])
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
    return SheetSpec("Treatment", rows, _widths(cols, _TEXT_WIDTHS | {"indicator": 14.0,
                                                                     "treatment": 70.0}))


def group_ranking_sheet(result: IndexResult, table: pd.DataFrame | None = None) -> SheetSpec:
    """The GroupRanking sheet: per grouping column of Units and group, each unit's rank in it
    (``table``: :func:`~xl_aiindex.groups.group_ranking` of ``result``, if already computed)."""
    table = group_ranking(result) if table is None else table
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        rows.append([_cell(v, INTEGER if c == "rank" else NUMBER if c == "score" else TEXT)
                     for c, v in zip(cols, rec, strict=True)])
    return SheetSpec(GROUP_RANKING_SHEET, rows,
                     _widths(cols, _TEXT_WIDTHS | {"rank": 7.0, "grouping": 14.0, "group": 14.0}),
                     freeze=(1, 2))


def result_sheets(result: IndexResult) -> list[SheetSpec]:
    """Scores, Ranking, Tiers and WeightsUsed, in that order; Treatment when outliers are
    treated; GroupRanking when Units has a grouping (text) column; then Charts, and Compare
    when Settings ``compare`` lists pairs (:mod:`~xl_aiindex.workbook.visuals`)."""
    from .visuals import visual_sheets

    sheets = [scores_sheet(result), ranking_sheet(result), tiers_sheet(result),
              weights_sheet(result)]
    if result.model.settings.outliers != "none":
        sheets.append(treatment_sheet(result))
    groups = group_ranking(result)
    if not groups.empty:
        sheets.append(group_ranking_sheet(result, groups))
    sheets.extend(visual_sheets(result))
    return sheets
