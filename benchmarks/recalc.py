"""Benchmark: headless recalculation against the I/O floor, for the reference workbook and a
generated large one.

    python benchmarks/recalc.py [--units 3000] [--indicators 200] [--repeat 3]

Measured in one run on the same files, each as seconds and as a ratio to the I/O floor:

* the I/O floor: python-calamine reading every input sheet + xlsxwriter (constant memory)
  writing the same result cells ``recalc`` writes — what any tool has to pay;
* the second floor, read + raw copy: calamine reading every input sheet, then the package
  copied unchanged with every zip entry raw — the physical limit of a surgical write;
* ``recalc -o`` as a command (a fresh process: start-up, read, compute, write), then a second
  ``recalc`` in place on its output (the hand-edit check runs), with their peak memory
  (maximum resident set size); ``--naive`` adds openpyxl load + save of the whole workbook;
* for the reference workbook, the command's wall time against ``python -c "import pandas,
  openpyxl"`` (the start-up any Python tool of this kind pays);
* books: the reference workbook, 3,000 units × 200 indicators ("large") and 10,000 units × 20
  indicators ("long").

Goals (issue 20, printed at the end): reference recalc ≤ 1.2× the import baseline; large first
recalc ≤ 1.3× the I/O floor; a second recalc ≤ 1.1× the first (large and long); peak memory of
the large book < 300 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xlsxwriter

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"


def make_large(path: Path, n_units: int, n_indicators: int, seed: int = 1) -> Path:
    """A data-mode workbook: root → 10 dimensions → ``n_indicators`` indicators, random data,
    some blanks (reweighted) and a quarter of the indicators lower-is-better."""
    rng = np.random.default_rng(seed)
    dims = 10
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("Settings")
    for r, row in enumerate([("key", "value"), ("input", "data"), ("normalisation", "minmax"),
                             ("aggregation", "arithmetic"), ("weights", "rescale"),
                             ("missing", "reweight"), ("tiers", "score:70,50")]):
        ws.write_row(r, 0, row)
    ws = book.add_worksheet("Framework")
    ws.write_row(0, 0, ("id", "parent", "name_zh", "name_en", "weight", "direction"))
    ws.write_row(1, 0, ("index", "", "总指数", "Index"))
    r = 2
    for d in range(dims):
        ws.write_row(r, 0, (f"d{d}", "index", f"维度{d}", f"Dimension {d}", 1 / dims))
        r += 1
    for i in range(n_indicators):
        ws.write_row(r, 0, (f"i{i:03d}", f"d{i % dims}", f"指标{i}", f"Indicator {i}",
                            dims / n_indicators, -1 if i % 4 == 3 else 1))
        r += 1
    ws = book.add_worksheet("Units")
    ws.write_row(0, 0, ("id", "name_zh", "name_en", "region"))
    for u in range(n_units):
        ws.write_row(u + 1, 0, (f"u{u:05d}", f"单位{u}", f"Unit {u}", f"r{u % 7}"))
    ws = book.add_worksheet("Data")
    ws.write_row(0, 0, ["unit", *[f"i{i:03d}" for i in range(n_indicators)]])
    values = rng.lognormal(3, 1, size=(n_units, n_indicators))
    blanks = rng.random(size=values.shape) < 0.01
    for u in range(n_units):
        ws.write_string(u + 1, 0, f"u{u:05d}")
        for i in range(n_indicators):
            if not blanks[u, i]:
                ws.write_number(u + 1, i + 1, float(values[u, i]))
    book.close()
    return path


def timed(f: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def io_floor(book: Path, out: Path) -> None:
    """Read every input sheet with calamine; write the result cells recalc writes with
    xlsxwriter in constant-memory mode."""
    from python_calamine import CalamineWorkbook

    reader = CalamineWorkbook.from_path(str(book))
    for name in reader.sheet_names:
        reader.get_sheet_by_name(name).to_python()
    sheets = _result_cells(book)
    writer = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    for name, rows in sheets:
        ws = writer.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif v is not None and v == v:
                    ws.write_number(r, c, v)
    writer.close()


_CELLS: dict[Path, list[tuple[str, list[list[object]]]]] = {}


def _result_cells(book: Path) -> list[tuple[str, list[list[object]]]]:
    """The values of the result sheets recalc writes for ``book`` (computed once, not timed)."""
    if book not in _CELLS:
        from xl_aiindex.workbook.io import compute, load_workbook
        from xl_aiindex.workbook.results import result_sheets

        specs = result_sheets(compute(load_workbook(book)))
        _CELLS[book] = [(s.name, [[c.value for c in row] for row in s.rows]) for s in specs]
    return _CELLS[book]


def command(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of a fresh ``python`` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise subprocess.CalledProcessError(proc.returncode, args)
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


def raw_copy_floor(book: Path, out: Path) -> None:
    """The physical limit of a surgical write: read every input sheet with calamine, then copy
    the package unchanged, every entry raw (no inflating, no deflating)."""
    from python_calamine import CalamineWorkbook

    from xl_aiindex.workbook.ooxml.zipcopy import copy_raw

    reader = CalamineWorkbook.from_path(str(book))
    for name in reader.sheet_names:
        reader.get_sheet_by_name(name).to_python()
    with open(book, "rb") as raw, zipfile.ZipFile(book) as zin, \
            zipfile.ZipFile(out, "w", allowZip64=True) as zout:
        for info in zin.infolist():
            if not copy_raw(raw, info, zout):
                zout.writestr(info, zin.read(info))


def recalc_runs(book: Path, folder: Path, repeat: int) -> tuple[float, float, float, float]:
    """Median wall time of ``recalc -o`` (a fresh process), of a second recalc in place on
    its output (the hand-edit check then runs), and the peak memory of each (MiB)."""
    firsts, seconds, peak, peak2 = [], [], 0.0, 0.0
    for _ in range(repeat):
        out = folder / "out.xlsx"
        wall, mem = command(["-m", "xl_aiindex", "recalc", str(book), "-o", str(out),
                             "--top", "0"])
        firsts.append(wall)
        again = folder / "again.xlsx"
        shutil.copy(out, again)
        wall2, mem2 = command(["-m", "xl_aiindex", "recalc", str(again), "--top", "0"])
        seconds.append(wall2)
        peak, peak2 = max(peak, mem), max(peak2, mem2)
    return statistics.median(firsts), statistics.median(seconds), peak, peak2


def measure(label: str, book: Path, folder: Path, repeat: int, startup: bool,
            naive: bool, ratios: dict[str, float]) -> None:
    """Print the figures for one workbook; add its ratios to ``ratios``."""
    _result_cells(book)
    floor = timed(lambda: io_floor(book, folder / "floor.xlsx"), repeat)
    copy_floor = timed(lambda: raw_copy_floor(book, folder / "copy.xlsx"), repeat)
    first, second, peak, peak2 = recalc_runs(book, folder, repeat)
    print(label)
    print(f"  I/O floor (calamine read + xlsxwriter)     {floor:7.2f} s   1.00×")
    print(f"  read + raw copy of the package unchanged   {copy_floor:7.2f} s   "
          f"{copy_floor / floor:5.2f}×")
    if naive:
        import openpyxl

        t = timed(lambda: openpyxl.load_workbook(book).save(folder / "naive.xlsx"), repeat)
        print(f"  openpyxl load + save                       {t:7.2f} s   {t / floor:5.2f}×")
    print(f"  recalc -o (fresh process), first run       {first:7.2f} s   {first / floor:5.2f}×"
          f"   vs read + raw copy {first / copy_floor:5.2f}×")
    print(f"  recalc in place, second run                {second:7.2f} s   "
          f"{second / floor:5.2f}×   second / first {second / first:5.2f}×")
    print(f"  peak memory, first run / second run        {peak:7.0f} MiB / {peak2:.0f} MiB")
    key = label.split(":")[0]
    ratios[f"{key}: first / I/O floor"] = first / floor
    ratios[f"{key}: first / read + raw copy"] = first / copy_floor
    ratios[f"{key}: second / first"] = second / first
    ratios[f"{key}: peak MiB"] = max(peak, peak2)
    if startup:
        base = statistics.median(command(["-c", "import pandas, openpyxl"])[0]
                                 for _ in range(repeat))
        print(f"  python -c 'import pandas, openpyxl'        {base:7.2f} s   "
              f"recalc / import = {first / base:.2f}×")
        ratios[f"{key}: recalc -o / import"] = first / base


#: Issue 20's goals: (ratio key, goal, True when the ratio must be at most the goal).
GOALS = [("reference: recalc -o / import", 1.2), ("large: first / I/O floor", 1.3),
         ("large: second / first", 1.1), ("long: second / first", 1.1),
         ("large: peak MiB", 300.0)]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--long-units", type=int, default=10_000)
    parser.add_argument("--long-indicators", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive", action="store_true", help="also time openpyxl load + save")
    args = parser.parse_args()
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        measure(f"reference: workbook {REFERENCE.name}", REFERENCE, folder, args.repeat, True,
                args.naive, ratios)
        for key, units, indicators in (("large", args.units, args.indicators),
                                       ("long", args.long_units, args.long_indicators)):
            t0 = time.perf_counter()
            book = make_large(folder / f"{key}.xlsx", units, indicators)
            print(f"(generated {units} × {indicators} workbook in "
                  f"{time.perf_counter() - t0:.1f} s)")
            measure(f"{key}: {units} units × {indicators} indicators", book, folder,
                    max(1, args.repeat - 2), False, args.naive, ratios)
    print("\nissue 20's ratios (goal)")
    for key, goal in GOALS:
        if key in ratios:
            ok = "ok" if ratios[key] <= goal else "MISSED"
            unit = " MiB" if "MiB" in key else "×"
            print(f"  {key:34s} {ratios[key]:8.2f}{unit}   goal ≤ {goal:g}{unit}   {ok}")


if __name__ == "__main__":
    main()
