"""Benchmark: headless recalculation against the I/O floor, for the reference workbook and a
generated large one.

    python benchmarks/recalc.py [--units 3000] [--indicators 200] [--repeat 3]

Measured in one run on the same files, each as seconds and as a ratio to the I/O floor:

* the I/O floor: python-calamine reading every input sheet + xlsxwriter (constant memory)
  writing the same result cells ``recalc`` writes — what any tool has to pay;
* the naive path: openpyxl load + save of the whole workbook;
* ``recalc -o`` as a command (a fresh process: start-up, read, compute, write), with its peak
  memory (maximum resident set size);
* for the reference workbook, the command's wall time against ``python -c "import pandas,
  openpyxl"`` (the start-up any Python tool of this kind pays).

Targets (issues #2 and #8): reference workbook under 1 s and ≤ 2× the import baseline;
3,000 × 200 under 10 s, ≤ 1.5× the I/O floor, peak memory < 1 GiB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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
    subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return wall, peak


def measure(label: str, book: Path, folder: Path, repeat: int, startup: bool) -> None:
    """Print the figures for one workbook."""
    import openpyxl

    _result_cells(book)
    floor = timed(lambda: io_floor(book, folder / "floor.xlsx"), repeat)
    naive = timed(lambda: openpyxl.load_workbook(book).save(folder / "naive.xlsx"), repeat)
    runs = [command(["-m", "xl_aiindex", "recalc", str(book), "-o", str(folder / "out.xlsx"),
                     "--top", "0"]) for _ in range(repeat)]
    wall = statistics.median(w for w, _ in runs)
    peak = max(p for _, p in runs)
    print(label)
    print(f"  I/O floor (calamine read + streamed write)  {floor:7.2f} s   1.00×")
    print(f"  openpyxl load + save                       {naive:7.2f} s   {naive / floor:5.2f}×")
    print(f"  xl-aiindex recalc -o (fresh process)       {wall:7.2f} s   {wall / floor:5.2f}×"
          f"   peak memory {peak:.0f} MiB")
    if startup:
        base = statistics.median(command(["-c", "import pandas, openpyxl"])[0]
                                 for _ in range(repeat))
        print(f"  python -c 'import pandas, openpyxl'        {base:7.2f} s   "
              f"recalc / import = {wall / base:.2f}×")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        measure(f"reference workbook {REFERENCE.name}", REFERENCE, folder, args.repeat, True)
        t0 = time.perf_counter()
        large = make_large(folder / "large.xlsx", args.units, args.indicators)
        print(f"(generated {args.units} × {args.indicators} workbook in "
              f"{time.perf_counter() - t0:.1f} s)")
        measure(f"generated {args.units} units × {args.indicators} indicators", large, folder,
                max(1, args.repeat - 2), False)


if __name__ == "__main__":
    main()
