"""The Uncertainty sheet in, the UncertaintyResults and Sensitivity sheets out."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..contract import UNCERTAINTY, UNCERTAINTY_RESULTS, UNCERTAINTY_RESULTS_COLUMNS, key
from ..errors import BadArgument, Problem, ProblemsFound
from ..i18n import _
from ..uncertainty import (
    DEFAULT_BUDGET,
    DEFAULT_SAMPLES,
    Assumption,
    UncertaintyResult,
    parse_assumptions,
    run_uncertainty,
)
from ..uncertainty_defaults import default_assumptions, describe
from .book import one_edition
from .calamine_source import CalamineSource
from .cells import address, column_letter
from .charts import Anchor, Drawing, rank_interval_chart, sheet_ref
from .files import guard_destination
from .io import Loaded
from .layout import display_width
from .read import text
from .result_cells import _header, column_style, fit
from .sheetspec import TEXT, Cell, SheetSpec
from .writer import Update, update_workbook


def read_assumptions(path: str | os.PathLike[str]) -> list[tuple[Any, Any, Any, str]] | None:
    """Rows ``(assumption, how, values, cell)`` of the workbook's Uncertainty sheet; None when
    the workbook has no such sheet (the default analysis then runs).

    Raises :class:`ProblemsFound` when one of the sheet's columns is missing.
    """
    source = CalamineSource(path)
    try:
        real = next((n for n in source.sheet_names() if key(n) == key(UNCERTAINTY)), None)
        if real is None:
            return None
        grid = source.grid(real)
    finally:
        source.close()
    header = {key(v): c for c, v in enumerate(grid.values[0] if grid.values else []) if key(v)}
    missing = [c for c in ("assumption", "how", "values") if c not in header]
    if missing:
        raise ProblemsFound([Problem(real, "A1", problem=_(
            "sheet '{sheet}' has no column {columns} in its header row").format(
                sheet=real, columns=", ".join(repr(m) for m in missing)))])
    rows = []
    for r, row in enumerate(grid.values[1:], start=1):
        def get(col: str, row: list[Any] = row) -> Any:
            c = header[col]
            return row[c] if c < len(row) else None
        if text(get("assumption")):
            rows.append((get("assumption"), get("how"), get("values"),
                         address(r, header["assumption"])))
    return rows


def uncertainty_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None,
                     samples: int = DEFAULT_SAMPLES, seed: int = 1, budget: float = DEFAULT_BUDGET,
                     progress: Callable[[int, int], None] | None = None, *,
                     force: bool = False, year: int | None = None) -> UncertaintyResult:
    """Run the Uncertainty sheet's analysis on the workbook at ``src``; write the sheets
    UncertaintyResults (per unit) and Sensitivity (per assumption) to ``dst`` (None: in place)
    and a Log row.

    ``samples``, ``seed``, ``budget``: as :func:`~xl_aiindex.uncertainty.run_uncertainty`.
    As :func:`~xl_aiindex.workbook.io.recalc_file`: a sheet of those names the tool did not
    write, or cells of them edited by hand since it did, raise :class:`ProblemsFound` (nothing
    written) unless ``force``; their fingerprints join the store.

    A panel (Data with a ``year`` column) is analysed in one year (``year``; None: the latest):
    that year's data, each run normalised within the year (a note says so).
    """
    src_path = Path(src)
    guard_destination(src_path, Path(dst) if dst is not None else src_path)
    rows = read_assumptions(src_path)
    assumptions, problems = parse_assumptions([r[:3] for r in rows or ()])
    if problems and rows is not None:
        cells = {text(r[0]).lower(): r[3] for r in rows}
        raise ProblemsFound([p.at(cells.get(p.field, "")) for p in problems])

    def build(loaded: Loaded) -> Update[UncertaintyResult]:
        nonlocal assumptions
        defaults: list[str] = []
        try:
            model, defaults = analysed_model(loaded, year)
            if rows is None:
                assumptions, more = default_analysis(model)
                defaults = [*more, *defaults]
            result = run_uncertainty(model, assumptions, samples, seed, budget, progress)
        except ProblemsFound as e:   # the inputs' problems, with their cells
            raise ProblemsFound([loaded.locator.locate(p) for p in e.problems]) from None
        if defaults:
            result = replace(result, notes=(*defaults, *result.notes))
        specs = [units_sheet(result, model), sensitivity_sheet(result)]
        entry = {"input": loaded.model.settings.input, "units": int(len(model.units)),
                 "status": "ok", "notes": "; ".join(result.notes)}
        return Update(result, specs, entry)

    return update_workbook(src_path, dst, build, command="uncertainty", force=force)


def analysed_model(loaded: Loaded, year: int | None) -> tuple[Any, list[str]]:
    """The model an uncertainty run varies and a note: the workbook's model, or for a panel
    the model of ``year`` (None: the latest). ``year`` for a workbook of one edition raises
    :class:`~xl_aiindex.errors.BadArgument` (:func:`~xl_aiindex.workbook.book.for_year`)."""
    from ..panel import is_panel, panel_years, year_model

    model = loaded.model
    if not is_panel(model.data if model.settings.input == "data" else model.given):
        if year is not None:
            raise BadArgument(one_edition(year))
        return model, []
    years = panel_years(model)
    chosen = years[-1] if year is None else int(year)
    if chosen not in years:
        raise BadArgument(_("year {year}: the workbook has no results for that year (years: "
                            "{years})").format(year=year, years=", ".join(map(str, years))))
    note = _("uncertainty of {year}: that year's data, each run normalised within the year "
             "(Settings panel_normalisation is not varied)").format(year=chosen)
    return year_model(model, chosen), [note]


def default_analysis(model: Any) -> tuple[list[Assumption], list[str]]:
    """The assumptions of the default analysis for ``model`` (a workbook without an Uncertainty
    sheet: :func:`~xl_aiindex.uncertainty_defaults.default_assumptions`) and the notes saying
    so, first the one naming what varies. Raises the model's own problems first, as recalc
    would."""
    from ..pipeline import build_index

    build_index(model)   # the inputs' problems, before any alternative is tried
    rows, left_out = default_assumptions(model)
    assumptions, problems = parse_assumptions(rows)
    assert not problems, problems   # the defaults are valid rows by construction
    note = _("the workbook has no Uncertainty sheet: ran the default analysis ({what}; see "
             "docs/commands.md); add an Uncertainty sheet to choose what varies").format(
        what=describe(rows))
    return assumptions, [note, *left_out]


#: The UncertaintyResults sheet (per unit) and its columns, by their names in this module.
UNITS_SHEET, UNITS_COLUMNS = UNCERTAINTY_RESULTS, UNCERTAINTY_RESULTS_COLUMNS
INTERVAL_TITLE = "排名区间 Rank intervals (5–95 %)"


def _number(v: Any) -> float | None:
    return None if v is None or v != v else float(v)


def _gap(a: Any, b: Any) -> float | None:
    """``a − b`` as a whole number, None when either is missing."""
    x, y = _number(a), _number(b)
    return None if x is None or y is None else float(round(x - y))


def label_column(zh: list[str], en: list[str]) -> str:
    """The column naming the units on the chart: ``name_zh`` when every unit has a Chinese
    name, else ``name_en`` when every unit has an English one, else ``unit`` (the id)."""
    if all(s.strip() for s in zh):
        return "name_zh"
    if all(s.strip() for s in en):
        return "name_en"
    return "unit"


def interval_drawing(count: int, labels: str, longest: int = 0) -> Drawing:
    """The UncertaintyResults sheet's rank-interval chart for ``count`` units (rows 2…count+1),
    named by the column ``labels`` whose longest name is ``longest`` characters wide (CJK count
    2): right of the table, wider with more units and taller with longer names (the names stand
    upright below the plot, none clipped). It depends on its arguments only, so a rerun over the
    same units keeps its parts unchanged."""
    if count == 0:
        return Drawing()
    letter = {c: column_letter(i) for i, c in enumerate(UNITS_COLUMNS)}
    last = count + 1

    def ref(col: str) -> str:
        return sheet_ref(UNITS_SHEET, letter[col], 2, letter[col], last)

    chart = rank_interval_chart(INTERVAL_TITLE, ref(labels), ref("median_rank"),
                                ref("below_median"), ref("above_median"), count,
                                name="median_rank")
    col = len(UNITS_COLUMNS) + 1
    width = min(60, max(10, 4 + math.ceil(count * 0.4)))
    # an upright name takes about a row (20 px) per 3 characters of 9-pt text
    height = 24 + math.ceil(max(longest - 8, 0) / 3)
    return Drawing(((Anchor(col, 1, col + width, 1 + height), chart),))


def units_sheet(result: UncertaintyResult, model: Any) -> SheetSpec:
    """UncertaintyResults: per unit (in nominal rank order), the nominal rank, the 5 %, median
    and 95 % ranks over all runs (whole ranks), the nominal tier and the share of runs that keep
    the unit in it, the mean absolute rank shift, and ``below_median`` = median − 5 % and
    ``above_median`` = 95 % − median, the error bars of the rank-interval chart drawn right of
    the table (:func:`interval_drawing`)."""
    rows: list[list[Cell]] = [_header(UNITS_COLUMNS)]
    style = {c: column_style(c) for c in UNITS_COLUMNS}
    units = model.units
    names_zh, names_en = [], []
    for rec in result.summary.itertuples(index=False):
        zh, en = ((str(units.at[rec.unit, "name_zh"] or ""), str(units.at[rec.unit, "name_en"] or ""))
                  if rec.unit in units.index else ("", ""))
        names_zh.append(zh)
        names_en.append(en)
        rows.append([Cell(rec.unit, style=TEXT), Cell(zh, style=TEXT), Cell(en, style=TEXT),
                     *(Cell(_number(getattr(rec, c)), style=style[c])
                       for c in ("nominal_rank", "rank_q05", "median_rank", "rank_q95")),
                     Cell(int(rec.nominal_tier), style=style["nominal_tier"]),
                     Cell(_number(rec.p_nominal_tier), style=style["p_nominal_tier"]),
                     Cell(_number(rec.mean_abs_shift), style=style["mean_abs_shift"]),
                     Cell(_gap(rec.median_rank, rec.rank_q05), style=style["below_median"]),
                     Cell(_gap(rec.rank_q95, rec.median_rank), style=style["above_median"])])
    widths = fit(rows, UNITS_COLUMNS)
    notes = {UNITS_COLUMNS.index("rank_q05"): "5 % of the runs rank the unit better than this",
             UNITS_COLUMNS.index("rank_q95"): "5 % of the runs rank the unit worse than this",
             UNITS_COLUMNS.index("p_nominal_tier"): "share of the runs that keep the unit in "
                                                     "its nominal tier",
             UNITS_COLUMNS.index("below_median"): "median_rank − rank_q05: the chart's bar "
                                                   "above the dot",
             UNITS_COLUMNS.index("above_median"): "rank_q95 − median_rank: the chart's bar "
                                                   "below the dot"}
    labels = label_column(names_zh, names_en)
    shown = {"name_zh": names_zh, "name_en": names_en}.get(
        labels, [str(r[0].value) for r in rows[1:]])
    drawing = interval_drawing(len(rows) - 1, labels,
                               max((display_width(s) for s in shown), default=0))
    return SheetSpec(UNITS_SHEET, rows, widths, freeze=(1, 3), header_notes=notes,
                     drawing=drawing)


def sensitivity_sheet(result: UncertaintyResult) -> SheetSpec:
    """Sensitivity: per assumption, first-order and total Sobol' indices of the mean rank
    shift with their 95 % bootstrap intervals, the base sample N and the runs made."""
    table = result.sensitivity.assign(samples=result.samples, runs=result.runs)
    cols = list(table.columns)
    rows: list[list[Cell]] = [_header(cols)]
    for rec in table.itertuples(index=False):
        rows.append([Cell(str(v), style=TEXT) if c in ("assumption", "note") else
                     Cell(int(v), style=column_style(c)) if c in ("levels", "samples", "runs")
                     else Cell(float(v), style=column_style(c))
                     for c, v in zip(cols, rec, strict=True)])
    return SheetSpec("Sensitivity", rows, fit(rows, cols), autofilter=False)
