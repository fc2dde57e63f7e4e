"""The formula mode's entry points: :func:`formula_output` (the result sheets with live
formulas, Calc and CalcStats, and the defined names) and :func:`helper_values_sheets`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ...contract import CALC, CALC_STATS, TRENDS
from ...errors import ProblemsFound
from ...model import IndexResult
from ...panel import panel_of
from ..read import Locator
from ..results import result_sheets
from ..sheetspec import SheetSpec
from .calc import calc_sheet, stats_sheet
from .checks import check_lengths, check_numbers
from .panel import stacked
from .panel import trends_sheet as panel_trends
from .refs import with_value
from .scores import scores_sheet
from .state import FormulaState
from .tables import ranking_sheet, tiers_sheet, weights_sheet


@dataclass(frozen=True)
class FormulaOutput:
    """What the formula mode writes: the result sheets and the defined names."""

    sheets: list[SheetSpec]
    names: dict[str, str]


def build(state: FormulaState) -> FormulaOutput:
    """Every result sheet in formula mode, Calc and CalcStats, and the defined names; raises
    :class:`ProblemsFound` with every reason the workbook cannot be written with formulas."""
    # a panel's sheets are those of the year shown (every year, a year column): the rows of
    # its Scores are the stacked unit-years of ``state.result``, in the same order
    specs = {s.name: s for s in result_sheets(state.panel.shown if state.panel is not None
                                              else state.result)}
    weights = weights_sheet(state, specs["WeightsUsed"])
    scores = scores_sheet(state, specs["Scores"])
    calc = calc_sheet(state)
    ranking = ranking_sheet(state, specs["Ranking"])
    tiers = tiers_sheet(state, specs["Tiers"])
    if state.numeric_check:
        check_numbers(state)
    live = {"Scores": scores, "Ranking": ranking, "Tiers": tiers, "WeightsUsed": weights}
    if state.panel is not None:
        name = state.settings.sheet(TRENDS)
        live[name] = panel_trends(specs[name], state.panel, state.names)
    # other result sheets (Treatment…) have no formulas: as values mode writes them
    sheets = [live.get(name, spec) for name, spec in specs.items()] + [calc]
    sheets.append(stats_sheet(state))     # header only when no indicator is normalised
    for spec in sheets:
        check_lengths(state, spec)
    if state.problems:
        raise ProblemsFound(state.problems)
    return FormulaOutput(sheets, dict(state.names.refs))


def formula_output(result: IndexResult, locator: Locator, source: str | Path | None = None
                   ) -> FormulaOutput:
    """The result sheets of ``result`` with live formulas and cached values, and the defined
    names they use (:data:`CALC` is the helper sheet).

    ``locator``: where the inputs are (from reading the workbook). ``source``: the workbook
    file, to check that every input cell the formulas read holds a number (the engine reads
    text such as "1,234" as a number; a formula would not).
    Raises :class:`ProblemsFound` when the workbook cannot be written with formulas.
    """
    return build(_state(result, locator, source is not None,
                        None if source is None else Path(source)))


def _state(result: IndexResult, locator: Locator, numeric_check: bool, source: Path | None
           ) -> FormulaState:
    """The builder's state; a year of a panel is built as its unit-years stacked
    (:mod:`.panel`)."""
    panel = panel_of(result)
    if panel is None:
        return FormulaState(result, locator, numeric_check, source)
    whole, located, layout = stacked(panel, result, locator)
    return FormulaState(whole, located, numeric_check, source, layout)


def helper_values_sheets(result: IndexResult, locator: Locator,
                         sheets: Sequence[str] = (CALC, CALC_STATS)) -> list[SheetSpec]:
    """The helper sheets (Calc, CalcStats) named in ``sheets``, with values only: what values
    mode writes over those an earlier formula-mode run left, so that nothing refers to the
    names it removes."""
    out = build(_state(result, locator, False, None))
    by_name = {s.name.lower(): s for s in out.sheets}
    wanted = [n.strip().lower() for n in sheets]
    return [replace(by_name[key], rows=[[with_value(c, None if c.value == "" else c.value)
                                         for c in row] for row in by_name[key].rows])
            for key in (CALC.lower(), CALC_STATS.lower()) if key in wanted]
