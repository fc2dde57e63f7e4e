"""What ``recalc`` writes in each output mode: :func:`output_mode` (values or formulas) and
:func:`output_sheets` (the result sheets and defined names of that mode)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...contract import CALC, CALC_STATS, key
from ...i18n import _
from ...model import IndexResult
from ...panel import panel_of
from ..read import Locator
from ..results import result_sheets
from ..sheetspec import SheetSpec


def output_mode(settings_output: str, override: str | None) -> str:
    """``values`` or ``formulas``: the CLI flag when given, else the Settings value."""
    mode = override or settings_output or "values"
    if mode not in ("values", "formulas"):
        raise ValueError(f"output must be 'values' or 'formulas', not {mode!r}")
    return mode


def panel_output_mode(result: IndexResult, mode: str) -> tuple[str, tuple[str, ...]]:
    """The mode a result is written in and a note when it is not the mode asked for: a panel
    (a :class:`~xl_aiindex.panel.YearResult`) is written as values, its Scores and Ranking
    having one row per unit-year that formula mode's per-unit formulas do not cover."""
    if mode == "formulas" and panel_of(result) is not None:
        return "values", (_("output = formulas is not available for a panel (Data or Given with a "
                            "year column) yet: the results are written as values"),)
    return mode, ()


def output_sheets(result: IndexResult, locator: Locator, source: str | Path, mode: str,
                  sheet_names: Sequence[str] | None = None
                  ) -> tuple[list[SheetSpec], dict[str, str]]:
    """The result sheets ``recalc`` writes in ``mode`` (``values`` or ``formulas``) and the
    defined names to leave in the workbook (values mode: none of ours).

    Values mode also rewrites the Calc and CalcStats sheets an earlier formula-mode run left,
    with values, so nothing refers to the names it removes. ``sheet_names``: the workbook's
    sheets as already read (None: read them from ``source``).
    """
    if mode == "formulas":
        from .build import formula_output  # the formula builders: loaded when used

        out = formula_output(result, locator, source)
        return out.sheets, out.names
    sheets = result_sheets(result)
    if sheet_names is None:
        from ..ooxml import sheet_names as read_sheet_names

        sheet_names = read_sheet_names(source)
    present = [n for n in sheet_names if key(n) in (key(CALC), key(CALC_STATS))]
    if present:
        from .build import helper_values_sheets

        sheets.extend(helper_values_sheets(result, locator, present))
    return sheets, {}
