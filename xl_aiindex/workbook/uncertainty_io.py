"""The Uncertainty sheet in, the UncertaintyResults and Sensitivity sheets out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Problem, ProblemsFound
from ..uncertainty import UncertaintyResult, parse_assumptions, run_uncertainty
from .calamine_source import CalamineSource
from .cells import address
from .fingerprint import STORE_SHEET
from .io import (
    check_hand_edits,
    guard_destination,
    load_workbook,
    log_append,
    merged_store,
    run_time,
    workbook_lock,
    write_problems,
    write_sheets,
)
from .read import key, text
from .sheetspec import HEADER, INTEGER, NUMBER, PRECISE, TEXT, Cell, SheetSpec

UNCERTAINTY = "Uncertainty"


def read_assumptions(path: str | os.PathLike[str]) -> list[tuple[Any, Any, Any, str]]:
    """Rows ``(assumption, how, values, cell)`` of the workbook's Uncertainty sheet.

    Raises :class:`ProblemsFound` when the sheet or one of its columns is missing.
    """
    source = CalamineSource(path)
    try:
        real = next((n for n in source.sheet_names() if key(n) == key(UNCERTAINTY)), None)
        if real is None:
            raise ProblemsFound([Problem(UNCERTAINTY, problem="the workbook has no sheet "
                                         "'Uncertainty' (columns assumption, how, values; one row "
                                         "per assumption to vary)")])
        grid = source.grid(real)
    finally:
        source.close()
    header = {key(v): c for c, v in enumerate(grid.values[0] if grid.values else []) if key(v)}
    missing = [c for c in ("assumption", "how", "values") if c not in header]
    if missing:
        raise ProblemsFound([Problem(real, "A1", problem=f"sheet '{real}' has no column "
                                     f"{', '.join(repr(m) for m in missing)} in its header row")])
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
                     samples: int = 64, seed: int = 1,
                     progress: Callable[[int, int], None] | None = None, *,
                     force: bool = False) -> UncertaintyResult:
    """Run the Uncertainty sheet's analysis on the workbook at ``src``; write the sheets
    UncertaintyResults (per unit) and Sensitivity (per assumption) to ``dst`` (None: in place)
    and a Log row.

    As :func:`~xl_aiindex.workbook.io.recalc_file`: a sheet of those names the tool did not
    write, or cells of them edited by hand since it did, raise :class:`ProblemsFound` (nothing
    written) unless ``force``; their fingerprints join the store.
    """
    src_path = Path(src)
    dst_path = Path(dst) if dst is not None else src_path
    guard_destination(src_path, dst_path)
    rows = read_assumptions(src_path)
    assumptions, problems = parse_assumptions([r[:3] for r in rows])
    if problems:
        cells = {text(r[0]).lower(): r[3] for r in rows}
        raise ProblemsFound([p.at(cells.get(p.field, "")) for p in problems])
    with workbook_lock(dst_path):
        loaded = load_workbook(src_path)
        result = run_uncertainty(loaded.model, assumptions, samples, seed, progress)
        specs = [units_sheet(result, loaded.model), sensitivity_sheet(result)]
        problems = write_problems(loaded, specs, ("Log",), force=force, verb="uncertainty")
        if problems:
            raise ProblemsFound(problems)
        if not force:
            check_hand_edits(loaded, specs)
        entry = {"time": run_time().isoformat(timespec="seconds"), "command": "uncertainty",
                 "version": __version__, "file": src_path.name,
                 "input": loaded.model.settings.input, "units": int(len(loaded.model.units)),
                 "status": "ok", "notes": "; ".join(result.notes)}
        store = merged_store(loaded, specs, str(entry["time"]))
        hide = () if any(key(n) == key(STORE_SHEET) for n in loaded.sheet_names) \
            else (STORE_SHEET,)
        write_sheets(src_path, dst_path, [*specs, store], very_hidden=hide,
                     appends=[log_append(loaded, entry)])
    return result


def units_sheet(result: UncertaintyResult, model: Any) -> SheetSpec:
    """UncertaintyResults: per unit, nominal rank and the spread of ranks over all runs."""
    cols = ["unit", "name_zh", "name_en", "nominal_rank", "median_rank", "rank_q05", "rank_q95",
            "mean_abs_shift"]
    rows: list[list[Cell]] = [[Cell(c, style=HEADER) for c in cols]]
    for rec in result.summary.itertuples(index=False):
        units = model.units
        zh, en = ((str(units.at[rec.unit, "name_zh"] or ""), str(units.at[rec.unit, "name_en"] or ""))
                  if rec.unit in units.index else ("", ""))
        rows.append([Cell(rec.unit, style=TEXT), Cell(zh, style=TEXT), Cell(en, style=TEXT),
                     Cell(float(rec.nominal_rank), style=INTEGER),
                     Cell(float(rec.median_rank), style=NUMBER),
                     Cell(float(rec.rank_q05), style=NUMBER), Cell(float(rec.rank_q95), style=NUMBER),
                     Cell(float(rec.mean_abs_shift), style=NUMBER)])
    widths = {0: 14.0, 1: 12.0, 2: 16.0, **{i: 14.0 for i in range(3, len(cols))}}
    return SheetSpec("UncertaintyResults", rows, widths, freeze=(1, 3))


def sensitivity_sheet(result: UncertaintyResult) -> SheetSpec:
    """Sensitivity: first-order and total Sobol indices of the mean rank shift, per assumption."""
    table = result.sensitivity.assign(runs=result.runs)
    cols = list(table.columns)
    rows: list[list[Cell]] = [[Cell(c, style=HEADER) for c in cols]]
    for rec in table.itertuples(index=False):
        rows.append([Cell(v, style=TEXT) if c == "assumption" else
                     Cell(int(v), style=INTEGER) if c == "runs" else Cell(float(v), style=PRECISE)
                     for c, v in zip(cols, rec, strict=True)])
    return SheetSpec("Sensitivity", rows, {0: 16.0, **{i: 18.0 for i in range(1, len(cols))}},
                     autofilter=False)
