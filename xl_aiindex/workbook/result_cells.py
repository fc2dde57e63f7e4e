"""Cells, header rows, number formats and column widths of the result sheets (shared by
:mod:`~xl_aiindex.workbook.results`, :mod:`~xl_aiindex.workbook.visuals`,
:mod:`~xl_aiindex.workbook.audit_io` and :mod:`~xl_aiindex.workbook.uncertainty_io`).

A column's number format follows from what it holds, decided here once for every sheet
(:func:`column_style`): ranks and counts as whole numbers, scores with the workbook's decimals,
probabilities and shares as percentages, weights with three decimals, statistics with four.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..model import Settings
from .layout import fitted_widths
from .sheetspec import HEADER, INTEGER, NUMBER, PRECISE, PROBABILITY, TEXT, WEIGHT, Cell, Style

#: Decimals of a score when Settings ``rank_decimals`` is blank.
SCORE_DECIMALS = 2


def _cell(value: Any, style: Style | None = None) -> Cell:
    if isinstance(value, float) and not math.isfinite(value) or value is pd.NA or value is pd.NaT:
        value = None
    elif hasattr(value, "item"):  # numpy scalar
        value = value.item()
    return Cell(value, style=style)


def _header(columns: Sequence[str]) -> list[Cell]:
    return [Cell(c, style=HEADER) for c in columns]


def fit(rows: Sequence[Sequence[Cell]], columns: Sequence[str],
        least: Mapping[str, float] | None = None) -> dict[int, float]:
    """The widths of a result sheet whose header is ``columns``: each column as wide as what
    it shows (:func:`~xl_aiindex.workbook.layout.fitted_widths`); ``least``: a column's width
    when its cells wrap, and a floor otherwise."""
    floors = {i: least[c] for i, c in enumerate(columns) if least and c in least}
    return fitted_widths(rows, floors)


#: Widths of the columns whose text wraps (or is long prose): the column keeps this width.
_TEXT_WIDTHS = {"units": 80.0, "problem": 90.0, "notes": 80.0, "flags": 90.0,
                "treatment": 70.0, "note": 40.0}

#: What each result column holds, by its header (node columns, the root's children and the
#: ``tier_<n>`` series are scores; :func:`column_style`).
COLUMN_KINDS: dict[str, str] = {
    **dict.fromkeys(("rank", "position", "count", "nominal_rank", "rank_q05", "median_rank",
                     "rank_q95", "nominal_tier", "below_median", "above_median", "rank_a",
                     "rank_b", "depth", "n", "missing", "levels", "samples", "runs", "children",
                     "rank_old", "rank_new"), "integer"),
    **dict.fromkeys(("p_nominal_tier", "coverage", "group_pc1_share", "pc1_share"), "percent"),
    **dict.fromkeys(("weight", "weight_in_total"), "weight"),
    **dict.fromkeys(("skewness", "kurtosis", "r_parent", "r_total", "importance", "group_alpha",
                     "alpha", "r", "first_order", "first_order_low", "first_order_high", "total",
                     "total_low", "total_high", "skew_before", "skew_after", "kurtosis_before",
                     "kurtosis_after"), "statistic"),
    **dict.fromkeys(("min", "max", "mean", "sd"), "raw"),
    **dict.fromkeys(("mean_abs_shift",), "shift"),
    **dict.fromkeys(("unit", "name_zh", "name_en", "name", "label", "units", "node", "parent",
                     "child", "method", "pair", "unit_a", "name_a", "unit_b", "name_b", "chart",
                     "grouping", "group", "assumption", "note", "indicator", "treatment",
                     "flags", "sheet", "cell", "problem", "time", "command", "version", "file",
                     "input", "status", "notes", "inputs_hash", "needs_treatment"), "text"),
}

#: Raw-unit statistics (an indicator's min, max, mean, sd): thousands grouped, two decimals.
RAW = Style(num_format="#,##0.00")


def score_style(settings: Settings | None = None) -> Style:
    """The number format of a score in this workbook: Settings ``rank_decimals`` decimals when
    set (the ranking is on scores rounded so), else :data:`SCORE_DECIMALS`."""
    places = SCORE_DECIMALS
    if settings is not None and settings.rank_decimals is not None:
        places = settings.rank_decimals
    return NUMBER if places == SCORE_DECIMALS else \
        Style(num_format="0." + "0" * places if places else "0")


def column_style(column: str, score: Style = NUMBER) -> Style:
    """The style of the cells of result column ``column`` (``score``: the workbook's score
    style, :func:`score_style`): by :data:`COLUMN_KINDS`, else a score (a node's column, a
    ``score_*``, ``tier_<n>`` or ``diff`` column)."""
    kind = COLUMN_KINDS.get(column)
    if kind is None and column.startswith("score"):
        kind = "score"
    return {"integer": INTEGER, "percent": PROBABILITY, "weight": WEIGHT, "statistic": PRECISE,
            "raw": RAW, "shift": NUMBER, "text": TEXT}.get(kind or "score", score)


def yes_no(value: bool) -> str:
    """A yes/no cell in the workbook's language (是/否 in Chinese)."""
    from ..i18n import _

    return _("yes") if value else _("no")
