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
    """The mode a result is written in and notes on what formula mode leaves as values in a
    panel (a :class:`~xl_aiindex.panel.YearResult`, :mod:`.panel`): under ``per_year`` a
    weighting computed from the data gives every year its own weights, which one WeightsUsed
    sheet cannot hold, so such a panel is written as values; normalisations without a
    per-year formula are written as values (a note names them)."""
    panel = panel_of(result)
    if mode != "formulas" or panel is None:
        return mode, ()
    from .panel import FIXED_WEIGHTINGS, PER_YEAR_NORMALISATIONS

    model = result.model
    if panel.mode == "per_year":
        learned = sorted(n.id for n in model.nodes
                         if (n.weighting or "").lower() not in FIXED_WEIGHTINGS)
        if learned:
            return "values", (_("output = formulas with panel_normalisation = per_year: the "
                                "weights of {nodes} are computed from each year's data, so each "
                                "year has its own; the results are written as values").format(
                nodes=", ".join(learned)),)
    if panel.mode == "pooled" or model.settings.input != "data":
        return mode, ()
    parents = {n.parent for n in model.nodes}
    values = sorted(n.id for n in model.nodes if n.id not in parents and
                    (n.normalisation or model.settings.normalisation)
                    not in PER_YEAR_NORMALISATIONS)
    if not values:
        return mode, ()
    return mode, (_("panel_normalisation = {mode}: the normalisation of {leaves} has no per-year "
                    "formula (only minmax, efficacy and goalposts have one): written as "
                    "values").format(mode=panel.mode, leaves=", ".join(values)),)


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
