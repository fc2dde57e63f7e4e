"""The result tables: pure DataFrames built from an :class:`IndexResult` only.

What the command line prints, the UDFs return and the exports write; the result sheets
(:mod:`~xl_aiindex.workbook.results`, :mod:`~xl_aiindex.workbook.visuals`) add the look.
"""

from __future__ import annotations

import weakref
from typing import Any

import pandas as pd

from ..model import IndexResult


def display_name(result: IndexResult, unit: str) -> str:
    """How people see a unit: its Chinese name, else its English name, else its id."""
    units = result.model.units
    if unit in units.index:
        return _shown(unit, units.at[unit, "name_zh"], units.at[unit, "name_en"])
    return unit


def _shown(unit: str, name_zh: object, name_en: object) -> str:
    for name in (name_zh, name_en):
        v = str(name or "").strip()
        if v:
            return v
    return unit


def display_names(result: IndexResult, units: list[str]) -> list[str]:
    """:func:`display_name` of each of ``units``, the Units columns read once (not a lookup
    per unit)."""
    table = result.model.units
    if not table.index.is_unique:
        return [display_name(result, u) for u in units]
    names = dict(zip(table.index, zip(table["name_zh"].tolist(), table["name_en"].tolist(),
                                      strict=True), strict=True))
    return [_shown(u, *names[u]) if u in names else u for u in units]


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


#: The ranking table of each live result, built once: a recalc needs it for the Ranking and
#: Tiers sheets and for the terminal. Keyed by the frames it is built from (a result copied
#: with other notes shares them), held while its ``scores`` frame lives.
_RANKINGS: dict[tuple[int, ...], tuple[tuple[weakref.ref[Any], ...], pd.DataFrame]] = {}


def ranking_table(result: IndexResult) -> pd.DataFrame:
    """:func:`build_ranking_table` of ``result``, built once per result (each caller gets its
    own copy, so nothing it does changes another's)."""
    # (``total`` is a column of ``scores``, made anew at each access: not part of the key)
    parts = (result.scores, result.rank, result.tier, result.model)
    key = tuple(id(p) for p in parts)
    hit = _RANKINGS.get(key)
    if hit is None or any(ref() is not p for ref, p in zip(hit[0], parts, strict=True)):
        hit = (tuple(weakref.ref(p) for p in parts), build_ranking_table(result))
        _RANKINGS[key] = hit
        weakref.finalize(result.scores, _RANKINGS.pop, key, None)
    return hit[1].copy()


def build_ranking_table(result: IndexResult) -> pd.DataFrame:
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
        names = display_names(result, members.tolist())
        rows.append({"tier": tier, "label": rule.label(tier), "units": ", ".join(names),
                     "count": len(names)})
    return pd.DataFrame(rows, columns=["tier", "label", "units", "count"])
