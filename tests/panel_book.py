"""A 3-unit × 3-year panel workbook (Data with a ``year`` column; unit c has no row in 2021),
the same inputs as ``tests/engine/test_panel.py``, with the index the engine test computes by
hand for each ``panel_normalisation``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from conftest import write_book

PANEL: dict[str, list[list[Any]]] = {
    "Settings": [
        ["key", "value"],
        ["name_en", "Panel test index"],
        ["input", "data"],
        ["normalisation", "minmax"],
        ["minmax_range", "0,100"],
        ["aggregation", "arithmetic"],
        ["weights", "strict"],
        ["tiers", "rank:1,2"],
        ["tier_labels", "top;middle;bottom"],
        ["missing", "error"],
        ["chart_top", 2],
        ["panel_normalisation", "pooled"],
    ],
    "Framework": [
        ["id", "parent", "name_zh", "name_en", "weight", "direction"],
        ["index", None, "总指数", "Index", None, None],
        ["x", "index", "指标x", "X", 0.5, 1],
        ["y", "index", "指标y", "Y", 0.5, -1],
    ],
    "Units": [
        ["id", "name_zh", "name_en"],
        ["a", "甲", "A"],
        ["b", "乙", "B"],
        ["c", "丙", "C"],
    ],
    "Data": [
        ["unit", "year", "x", "y"],
        ["a", 2020, 10, 5],
        ["b", 2020, 20, 3],
        ["c", 2020, 30, 1],
        ["a", 2021, 20, 4],
        ["b", 2021, 40, 2],
        ["a", 2022, 30, 3],
        ["b", 2022, 50, 1],
        ["c", 2022, 60, 0],
    ],
}

#: The index by hand (x min-max up, y min-max mirrored, mean of the two): tests/engine/test_panel.
EXPECTED: dict[str, dict[int, dict[str, float]]] = {
    # x over all years: 10..60; y over all years: 0..5
    "pooled": {2020: {"a": 0, "b": 30, "c": 60}, 2021: {"a": 20, "b": 60},
               2022: {"a": 40, "b": 80, "c": 100}},
    # each year its own min and max
    "per_year": {2020: {"a": 0, "b": 50, "c": 100}, 2021: {"a": 0, "b": 100},
                 2022: {"a": 0, "b": 200 / 3, "c": 100}},
    # 2021's min and max (x 20..40, y 2..4) applied to every year: scores leave 0–100
    "base:2021": {2020: {"a": -50, "b": 25, "c": 100}, 2021: {"a": 0, "b": 100},
                  2022: {"a": 50, "b": 150, "c": 200}},
}


def panel_sheets(mode: str = "pooled", **settings: Any) -> dict[str, list[list[Any]]]:
    """The panel's sheets (a deep copy), Settings ``panel_normalisation`` = ``mode`` and any
    other Settings keys given."""
    sheets = copy.deepcopy(PANEL)
    values = {"panel_normalisation": mode, **settings}
    rows = sheets["Settings"]
    for k, v in values.items():
        for row in rows:
            if row[0] == k:
                row[1] = v
                break
        else:
            rows.append([k, v])
    return sheets


def panel_book(path: Path, mode: str = "pooled", **settings: Any) -> Path:
    """The panel workbook written to ``path``."""
    return write_book(path, panel_sheets(mode, **settings))
