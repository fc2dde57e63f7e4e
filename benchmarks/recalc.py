"""Benchmark: headless recalculation of the reference workbook and of a generated large one.

    python benchmarks/recalc.py [--units 3000] [--indicators 200] [--repeat 3]

Prints seconds per step and, as ratios, the cost of ``recalc`` against a bare openpyxl
load + save of the same file measured in the same run (the I/O baseline). Targets (issue #2):
reference workbook under 1 s, 3,000 × 200 under 10 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
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


def measure(label: str, book: Path, out: Path, repeat: int) -> None:
    import openpyxl

    from xl_aiindex.workbook.io import recalc_file, validate_file

    baseline = timed(lambda: openpyxl.load_workbook(book).save(out), repeat)
    validate = timed(lambda: validate_file(book), repeat)
    recalc = timed(lambda: recalc_file(book, out), repeat)
    tracemalloc.start()
    recalc_file(book, out)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"{label}")
    print(f"  openpyxl load + save (baseline)  {baseline:7.2f} s")
    print(f"  validate (read + compute)        {validate:7.2f} s   {validate / baseline:5.2f}× baseline")
    print(f"  recalc -o (read, compute, write) {recalc:7.2f} s   {recalc / baseline:5.2f}× baseline")
    print(f"  recalc peak Python memory        {peak:7.0f} MiB (tracemalloc)")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if REFERENCE.exists():
            measure(f"reference workbook {REFERENCE.name}", REFERENCE, folder / "ref_out.xlsx",
                    args.repeat)
        t0 = time.perf_counter()
        large = make_large(folder / "large.xlsx", args.units, args.indicators)
        print(f"(generated {args.units} × {args.indicators} workbook in "
              f"{time.perf_counter() - t0:.1f} s)")
        measure(f"generated {args.units} units × {args.indicators} indicators", large,
                folder / "large_out.xlsx", max(1, args.repeat - 2))


if __name__ == "__main__":
    main()
