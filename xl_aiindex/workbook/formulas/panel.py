"""Formula mode for a panel (Data or Given with a ``year`` column): the years stacked as one
table of unit-years, so the single-year builders write one formula row per unit-year.

* ``pooled``: every statistic spans the whole column (all years): the single-year formulas
  as they are (``MIN(xlai_x_<leaf>)`` in CalcStats);
* ``per_year``: the statistics of the row's year (``_xlfn.MINIFS(x, year, 2021)``…);
* ``base:YEAR``: the statistics of the base year (``_xlfn.MINIFS(x, year, 2020)``).

Ranks are within the year (``COUNTIFS(xlai_year, year, xlai_basis, ">"&basis) + 1``: ties
share the better rank, as RANK does), tiers follow, Tiers counts with COUNTIFS per year, and
Ranking looks a row up by unit and year (``MATCH(unit&"|"&year, xlai_key, 0)``: Calc's first
column holds the key). Methods whose statistic has no per-year formula (``zscore``: no
conditional standard deviation; ``rank`` and ``percentile``) are written as the engine's values
under ``per_year`` and ``base:YEAR``, with a note; so are the weights of a data-driven weighting
(the latest year's weights are not every year's).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import pandas as pd

from ...model import IndexResult
from ...panel import PanelResult, panel_of, parse_panel_mode
from ..cells import column_letter
from ..read import Locator, panel_row_key
from ..sheetspec import Cell, SheetSpec
from .refs import Names, cached, quote_sheet, with_value

#: Normalisations with a formula form under ``per_year`` and ``base:YEAR`` (their statistics
#: have a conditional formula: MINIFS, MAXIFS; goalposts needs none).
PER_YEAR_NORMALISATIONS = frozenset({"minmax", "efficacy", "goalposts"})
#: Weightings whose weights are the same in every year (no statistic of the data).
FIXED_WEIGHTINGS = frozenset({"", "given", "equal", "ahp", "budget"})
#: Conditional forms of the statistics a per-year normalisation reads.
STAT_IFS = {"min": "_xlfn.MINIFS({r},{y},{v})", "max": "_xlfn.MAXIFS({r},{y},{v})"}


@dataclass(frozen=True)
class PanelLayout:
    """What formula mode knows of a panel: ``shown`` (the year result whose sheets are
    written), ``mode`` (``pooled``, ``per_year``, ``base``), ``base`` (the base year), the
    year of each stacked row (``years``, in Scores order) and the grid columns of the year
    on Data/Given (``input_year_col``)."""

    shown: IndexResult
    mode: str
    base: int | None
    years: tuple[int, ...]
    input_year_col: int | None


def stacked(panel: PanelResult, shown: IndexResult, locator: Locator
            ) -> tuple[IndexResult, Locator, PanelLayout]:
    """The panel as one result whose units are unit-years (ids ``unit|year``, as the Locator
    keys Data's rows), in the order of the panel's Scores sheet; a Locator whose Units rows
    also answer to those ids (denominators); and the :class:`PanelLayout`."""
    results = [panel.by_year[y] for y in panel.years]
    keys: list[str] = []
    years: list[int] = []
    for y, r in zip(panel.years, results, strict=True):
        keys.extend(panel_row_key(str(u), y) for u in r.scores.index)
        years.extend([y] * len(r.scores))

    def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(frames).set_axis(keys, axis=0)

    stages = {k: stack([r.stages[k] for r in results]) for k in results[-1].stages}
    units = stack([r.model.units.reindex(r.scores.index) for r in results])
    model = shown.model
    change = {"units": units}
    for name in ("data", "given"):
        if getattr(model, name) is not None:
            change[name] = stack([getattr(r.model, name).reindex(r.scores.index)
                                  for r in results])
    whole = IndexResult(
        model=model._replace(**change), stages=stages,
        scores=stack([r.scores for r in results]),
        coverage=pd.concat([r.coverage.reindex(r.scores.index) for r in results]).set_axis(keys),
        rank=pd.concat([r.rank.reindex(r.scores.index) for r in results]).set_axis(keys),
        tier=pd.concat([r.tier.reindex(r.scores.index) for r in results]).set_axis(keys),
        weights_used=shown.weights_used, treatment=shown.treatment, notes=shown.notes,
        log=shown.log)
    located = copy.deepcopy(locator)
    unit_sheet = located.sheets.get("units")
    if unit_sheet is not None:
        for k in keys:
            unit = k.rpartition("|")[0]
            if unit.lower() in unit_sheet.rows:
                unit_sheet.rows[k.lower()] = unit_sheet.rows[unit.lower()]
    name, base = parse_panel_mode(panel.mode, panel.years)
    sheet = located.sheets.get("data" if model.settings.input == "data" else "given")
    year_col = sheet.cols.get("year") if sheet is not None else None
    return whole, located, PanelLayout(shown, name, base, tuple(years), year_col)


def trends_sheet(spec: SheetSpec, layout: PanelLayout, names: Names) -> SheetSpec:
    """The Trends sheet ``spec`` with formulas: each year's index looked up by unit and year
    (blank where the unit has no row that year), ``change`` and ``rank_change`` from them and
    from the ranks; the rows stay in the order written (by the last year's rank then)."""
    panel = panel_of(layout.shown)
    assert panel is not None
    header = [str(c.value) for c in spec.rows[0]]
    years = [str(y) for y in panel.years]
    key, score = names.get("", "key"), names.get("s", layout.shown.root)
    rank = names.get("", "rank")
    first, last = column_letter(header.index(years[0])), column_letter(header.index(years[-1]))
    rows: list[list[Cell]] = [list(spec.rows[0])]
    for i, old_row in enumerate(spec.rows[1:]):
        r = i + 2
        row = list(old_row)

        def look(name: str, year: str, r: int = r) -> str:
            return f'INDEX({name},MATCH($A{r}&"|"&{year},{key},0))'

        for y in years:
            j = header.index(y)
            row[j] = with_value(row[j], cached(row[j].value),
                                formula=f'IFERROR({look(score, y)},"")')
        j = header.index("change")
        row[j] = with_value(row[j], cached(row[j].value), formula=(
            f'IF(AND(ISNUMBER({first}{r}),ISNUMBER({last}{r})),{last}{r}-{first}{r},"")'))
        j = header.index("rank_change")
        row[j] = with_value(row[j], cached(row[j].value), formula=(
            f'IFERROR({look(rank, years[0])}-{look(rank, years[-1])},"")'))
        rows.append(row)
    return replace(spec, rows=rows)


def year_stats(layout: PanelLayout, row: int, x_ref: str, year_range: str
               ) -> dict[str, str]:
    """The statistics (``min``, ``max``) a per-year or base-year normalisation of stacked row
    ``row`` reads, as conditional formulas over ``x_ref`` with the years in ``year_range``."""
    year = layout.base if layout.mode == "base" else layout.years[row]
    return {k: f.format(r=x_ref, y=year_range, v=year) for k, f in STAT_IFS.items()}


def is_calc_range(ref: str) -> bool:
    """Whether a defined name's reference is a Calc column (rows in Scores order) rather
    than an input column (rows in Data's order)."""
    return ref.startswith(quote_sheet("Calc") + "!") or ref.startswith("Calc!")
