"""Benchmark: batch recalculation of many copies of the reference workbook.

    python benchmarks/batch.py [--copies 200]

Prints files per second with --jobs 1 and --jobs 2 and their ratio (target ≥ 1.7× on 2 cores),
and the cost of one workbook next to a bare openpyxl load + save of the same file (target
≤ 1.5×), all measured in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"


def copies(folder: Path, n: int) -> Path:
    """``n`` copies of the reference workbook in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shutil.copy(REFERENCE, folder / f"book_{i:04d}.xlsx")
    return folder


def batch_seconds(folder: Path, out: Path, jobs: int) -> float:
    """Wall time of ``xl-aiindex recalc FOLDER --out-dir OUT --jobs N`` (a fresh process)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xl_aiindex", "recalc", str(folder), "--out-dir",
                    str(out), "--jobs", str(jobs), "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--copies", type=int, default=200)
    args = parser.parse_args()
    import openpyxl

    from xl_aiindex.workbook.io import recalc_file

    with tempfile.TemporaryDirectory() as tmp:
        folder = copies(Path(tmp) / "in", args.copies)
        one = folder / "book_0000.xlsx"
        # per-workbook cost against the bare openpyxl load + save of the same file
        bare = statistics.median(
            _timed(lambda: openpyxl.load_workbook(one).save(Path(tmp) / "bare.xlsx")) for _ in range(10))
        ours = statistics.median(
            _timed(lambda: recalc_file(one, Path(tmp) / "ours.xlsx")) for _ in range(10))
        print(f"one workbook: recalc {ours * 1000:.0f} ms, openpyxl load + save {bare * 1000:.0f} ms "
              f"→ {ours / bare:.2f}× (target ≤ 1.5×)")
        t1 = batch_seconds(folder, Path(tmp) / "out1", 1)
        t2 = batch_seconds(folder, Path(tmp) / "out2", 2)
        n = args.copies
        print(f"{n} workbooks, --jobs 1: {t1:.1f} s ({n / t1:.1f} files/s)")
        print(f"{n} workbooks, --jobs 2: {t2:.1f} s ({n / t2:.1f} files/s)")
        print(f"speed-up --jobs 2 / --jobs 1: {t1 / t2:.2f}× (target ≥ 1.7×)")


def _timed(f: object) -> float:
    t0 = time.perf_counter()
    f()  # type: ignore[operator]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
