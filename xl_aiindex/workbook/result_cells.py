"""Cells, header rows and column widths of the result sheets (shared by
:mod:`~xl_aiindex.workbook.results` and :mod:`~xl_aiindex.workbook.visuals`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .sheetspec import HEADER, Cell, Style


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
