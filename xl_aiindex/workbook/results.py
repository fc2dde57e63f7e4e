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
from ..model import IndexResult
from .sheetspec import HEADER, INTEGER, NUMBER, PRECISE, TEXT, Cell, SheetSpec, Style, tier_style


def display_name(result: IndexResult, unit: str) -> str:
    """How people see a unit: its Chinese name, else its English name, else its id."""
    units = result.model.units
    if unit in units.index:
        for col in ("name_zh", "name_en"):
            v = str(units.at[unit, col] or "").strip()
            if v:
                return v
    return unit


def scores_table(result: IndexResult) -> pd.DataFrame:
    """``unit, name_zh, name_en``, every node (root last), ``coverage``: one row per unit."""
    units = result.model.units
    table = result.scores.copy()
    table.insert(0, "name_en", units["name_en"].reindex(table.index))
    table.insert(0, "name_zh", units["name_zh"].reindex(table.index))
    table.insert(0, "unit", table.index.astype(str))
    table["coverage"] = result.coverage
    return table.reset_index(drop=True)


def ranking_table(result: IndexResult) -> pd.DataFrame:
    """``rank, unit, name_zh, name_en, score, tier``, the root's children, then ``published, diff``
    when Given has ``published``; sorted by rank (unranked units last, by id)."""
    model = result.model
    root = result.root
    children = [n.id for n in model.nodes if n.parent == root]
    units = model.units
    table = pd.DataFrame({
        "rank": result.rank,
        "unit": result.scores.index.astype(str),
        "name_zh": units["name_zh"].reindex(result.scores.index),
        "name_en": units["name_en"].reindex(result.scores.index),
        "score": result.total,
        "tier": result.tier.where(result.tier > 0),
    }, index=result.scores.index)
    for child in children:
        table[child] = result.scores[child]
    if model.given is not None and "published" in model.given.columns:
        table["published"] = model.given["published"].reindex(table.index)
        table["diff"] = table["score"] - table["published"]
    table.index.name = None
    table["_unranked"] = table["rank"].isna()
    table = table.sort_values(["_unranked", "rank", "unit"], kind="stable").drop(columns="_unranked")
    return table.reset_index(drop=True)


def tiers_table(result: IndexResult) -> pd.DataFrame:
    """``tier, label, units, count``: one row per tier, units by display name in rank order."""
    rule = result.model.settings.tiers
    ranking = ranking_table(result)
    rows = []
    for tier in range(1, rule.count + 1):
        members = ranking[ranking["tier"] == tier]["unit"]
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
    for rec in table.itertuples(index=False):
        values = dict(zip(cols, rec, strict=True))
        t = int(values["tier"]) if pd.notna(values["tier"]) else 0
        row = []
        for col in cols:
            base = INTEGER if col in ("rank", "tier") else TEXT if col in ("unit", "name_zh", "name_en") \
                else NUMBER
            row.append(_cell(values[col], tier_style(base, t)))
        rows.append(row)
    return SheetSpec("Ranking", rows, _widths(cols, _TEXT_WIDTHS | {"rank": 7.0, "tier": 7.0}),
                     freeze=(1, 4))


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


LOG_COLUMNS = ("time", "command", "version", "file", "input", "units", "status", "notes")


def log_sheet(previous: Sequence[Sequence[Any]], entry: dict[str, Any]) -> SheetSpec:
    """The Log sheet: the rows it had (never rewritten) and one more."""
    cols = list(LOG_COLUMNS)
    rows: list[list[Cell]] = [_header(cols)]
    for old in previous:
        rows.append([_cell(v) for v in list(old)[: len(cols)]])
    rows.append([_cell(entry.get(c, ""), Style(wrap=True) if c == "notes" else None) for c in cols])
    return SheetSpec("Log", rows, _widths(cols, _TEXT_WIDTHS))


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


def result_sheets(result: IndexResult) -> list[SheetSpec]:
    """Scores, Ranking, Tiers and WeightsUsed, in that order; Treatment when outliers are treated;
    then Charts, and Compare when Settings ``compare`` lists pairs
    (:mod:`~xl_aiindex.workbook.visuals`)."""
    from .visuals import visual_sheets

    sheets = [scores_sheet(result), ranking_sheet(result), tiers_sheet(result),
              weights_sheet(result)]
    if result.model.settings.outliers != "none":
        sheets.append(treatment_sheet(result))
    sheets.extend(visual_sheets(result))
    return sheets
