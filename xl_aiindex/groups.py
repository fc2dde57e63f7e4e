"""Rankings within groups: for every text (grouping) column of Units, each unit's rank among
the units of its group (e.g. its region), by the same rule as the overall rank.

Ranks within a group follow :func:`xl_aiindex.rank.rank_units`: 1 = highest total, ties share
the better rank, totals rounded to ``rank_decimals`` first, units the overall ranking leaves out
(no total, coverage below ``coverage_min``) are left out here too. A unit whose grouping cell is
blank belongs to no group of that column.

>>> import pandas as pd
>>> from xl_aiindex.model import IndexModel, Node, Settings
>>> from xl_aiindex.pipeline import build_index
>>> nodes = (Node("index", None), Node("a", "index", weight=1.0))
>>> units = pd.DataFrame({"name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"],
...                       "region": ["n", "s", "n"]}, index=["u1", "u2", "u3"])
>>> data = pd.DataFrame({"a": [1.0, 3.0, 2.0]}, index=units.index)
>>> table = group_ranking(build_index(IndexModel(nodes, Settings(), units, data)))
>>> table[["group", "rank", "unit"]].values.tolist()
[['n', 1, 'u3'], ['n', 2, 'u1'], ['s', 1, 'u2']]
"""

from __future__ import annotations

import pandas as pd

from .contract import ALIASES_COLUMN
from .model import IndexResult
from .rank import rank_units

#: Columns of the GroupRanking table (and sheet).
COLUMNS = ("grouping", "group", "rank", "unit", "name_zh", "name_en", "score")

#: Units columns that are never groupings, whatever their type.
_NOT_GROUPINGS = frozenset({"name_zh", "name_en", ALIASES_COLUMN})


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or str(v).strip() == "" or v is pd.NA


def grouping_columns(units: pd.DataFrame) -> list[str]:
    """The Units columns that group units: text columns (besides the names) with a value.

    A column is text when it holds anything that is not a number (numeric columns serve as
    denominators, e.g. ``population``).
    """
    out = []
    for col in units.columns:
        if str(col).lower() in _NOT_GROUPINGS:
            continue
        values = [v for v in units[col].tolist() if not _blank(v)]
        if values and not all(isinstance(v, int | float) and not isinstance(v, bool)
                              for v in values):
            out.append(str(col))
    return out


def _group_key(v: object) -> str:
    return str(v).strip()


def find_grouping(units: pd.DataFrame, name: str) -> str | None:
    """The grouping column ``name`` names (case and surrounding spaces ignored), or None."""
    wanted = name.strip().casefold()
    return next((c for c in grouping_columns(units) if c.strip().casefold() == wanted), None)


def group_ranks(result: IndexResult, column: str) -> pd.Series:
    """Each unit's rank within its group of Units column ``column`` (NaN: not ranked, or no group)."""
    units = result.model.units
    s = result.model.settings
    total = result.total
    eligible = result.rank.notna()
    groups = units[column].reindex(total.index)
    out = pd.Series(float("nan"), index=total.index)
    for group in dict.fromkeys(_group_key(v) for v in groups.tolist() if not _blank(v)):
        members = [u for u, v in groups.items() if not _blank(v) and _group_key(v) == group]
        out[members] = rank_units(total[members], s.rank_decimals, eligible[members])
    return out


def group_ranking(result: IndexResult) -> pd.DataFrame:
    """The GroupRanking table: ``grouping, group, rank, unit, name_zh, name_en, score``.

    One block per grouping column (Units order), groups in order of first appearance in
    Units, units by rank within the group (ties by id). Units not ranked overall, or with a
    blank group, are left out. Empty (with the columns) when Units has no grouping column.
    """
    units = result.model.units
    rows = []
    # the Units columns as plain dicts (a DataFrame lookup per unit costs ~10 µs each)
    at = ((lambda col: dict(zip(units.index, units[col].tolist(), strict=True)))
          if units.index.is_unique else (lambda col: units[col]))
    names_zh, names_en, totals = at("name_zh"), at("name_en"), result.total.to_dict()
    for column in grouping_columns(units):
        ranks = group_ranks(result, column)
        groups = at(column)
        order: dict[str, int] = {}
        for v in units[column].tolist():
            if not _blank(v):
                order.setdefault(_group_key(v), len(order))
        for unit, rank in ranks.dropna().items():
            group = _group_key(groups[unit])
            rows.append({"grouping": column, "group": group,
                         "rank": int(rank), "unit": str(unit),
                         "name_zh": names_zh[unit], "name_en": names_en[unit],
                         "score": float(totals[unit]), "_c": len(order), "_g": order[group]})
    if not rows:
        return pd.DataFrame(columns=list(COLUMNS))
    table = pd.DataFrame(rows)
    col_order = {c: i for i, c in enumerate(grouping_columns(units))}
    table["_c"] = table["grouping"].map(col_order)
    table = table.sort_values(["_c", "_g", "rank", "unit"], kind="stable")
    return table[list(COLUMNS)].reset_index(drop=True)
