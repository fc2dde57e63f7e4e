"""Benchmark: the uncertainty analysis — vectorised runs against one ``build_index`` per run,
and the accuracy of the default run against exact enumeration.

    python benchmarks/uncertainty.py [--loop-runs 100] [--skip-large]

Measured in one run:

1. **Per-run cost** on the benchmark index (51 units × 49 indicators, 4 levels, 2 % blanks,
   ``missing = reweight``; Uncertainty: weights / uniform / 0.25, normalisation / choice /
   minmax;zscore): the same design rows computed by the loop (``build_index`` per run, how
   ``uncertainty`` ran before) and vectorised; the ratio (target ≥ 50×).
2. **Accuracy**: first-order and total indices of the default run against their exact values
   (every combination of the factors' levels enumerated: 1,000 weight draws × 2 normalisations
   for the benchmark index, × 3 normalisations × 21 left-out indicators for the 2020 data
   workbook); every difference should be ≤ 0.05. The enumeration is vectorised (equal to one
   ``build_index`` per run, as the tests check); ``--loop-reference`` uses the loop instead.
3. **The 2020 data workbook, 10,000 runs** (its own Uncertainty sheet; analysis only, the
   workbook read once beforehand; target < 2 s), and the whole command for comparison.
4. **3,000 units × 200 indicators × 10,000 runs** in a fresh process (target < 60 s and peak
   memory < 4 GiB on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA_BOOK = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"

LARGE = """
import resource, sys, time
from xl_aiindex.synthetic import synthetic_model
from xl_aiindex.uncertainty import parse_assumptions, run_uncertainty
m = synthetic_model(3000, 200, (10,), seed=2)
a, _ = parse_assumptions([("weights", "uniform", 0.25), ("normalisation", "choice", "minmax;zscore")])
t = time.perf_counter()
r = run_uncertainty(m, a, samples=2500, budget=0)
print(time.perf_counter() - t, r.runs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop-runs", type=int, default=100,
                        help="runs the loop computes to measure its per-run cost")
    parser.add_argument("--loop-reference", action="store_true",
                        help="enumerate the benchmark index's combinations with one build_index "
                             "each (minutes) instead of vectorised")
    parser.add_argument("--skip-large", action="store_true", help="skip the 3,000 × 200 case")
    args = parser.parse_args(argv)

    from xl_aiindex import build_index
    from xl_aiindex.synthetic import synthetic_model
    from xl_aiindex.uncertainty import (
        exact_indices,
        make_plan,
        parse_assumptions,
        run_levels,
        run_loop,
        run_uncertainty,
        run_vectorised,
        saltelli_design,
    )
    from xl_aiindex.workbook.io import load_workbook
    from xl_aiindex.workbook.uncertainty_io import read_assumptions

    # 1. PER-RUN COST ----
    model = synthetic_model()
    a, _ = parse_assumptions([("weights", "uniform", 0.25),
                              ("normalisation", "choice", "minmax;zscore")])
    plan = make_plan(model, a)
    rows = saltelli_design(plan.levels, np.random.default_rng(1).random((2500, 4)))  # 10,000 runs
    t = time.perf_counter()
    run_loop(plan, rows[:args.loop_runs])
    loop = (time.perf_counter() - t) / args.loop_runs
    t = time.perf_counter()
    run_vectorised(plan, rows)
    vector = (time.perf_counter() - t) / len(rows)
    print("1. benchmark index 51 units × 49 indicators, 4 levels, blanks (reweight)")
    print(f"   loop (build_index per run): {loop * 1e3:8.3f} ms a run ({args.loop_runs} runs)")
    print(f"   vectorised:                 {vector * 1e3:8.3f} ms a run ({len(rows)} runs)")
    print(f"   ratio: {loop / vector:.0f}× faster (target ≥ 50×)")

    # 2. ACCURACY OF THE DEFAULT RUN ----
    def accuracy(title: str, m: Any, assumptions: list[Any], loop_reference: bool) -> None:
        p = make_plan(m, assumptions)
        grid = np.array(list(np.ndindex(*p.levels)))
        runs = run_loop(p, grid) if loop_reference else run_levels(p, grid)[0]
        nominal = build_index(m).rank.to_numpy()
        y = np.nanmean(np.abs(runs.ranks - nominal), axis=1).reshape(p.levels)
        exact = exact_indices(y)
        t = time.perf_counter()
        result = run_uncertainty(m, assumptions)
        took = time.perf_counter() - t
        s = result.sensitivity
        how = "one build_index each" if loop_reference else "vectorised"
        print(f"2. {title}: default run (N = {result.samples}, {result.runs} runs, {took:.2f} s) "
              f"against exact enumeration ({len(grid)} combinations, {how})")
        print("   factor          S1 exact  S1 run [95% CI]          ST exact  ST run [95% CI]")
        for i, rec in enumerate(s.itertuples(index=False)):
            print(f"   {rec.assumption:14s}  {exact.loc[i, 'first_order']:8.3f}  "
                  f"{rec.first_order:6.3f} [{rec.first_order_low:6.3f}, {rec.first_order_high:6.3f}]"
                  f"  {exact.loc[i, 'total']:8.3f}  {rec.total:6.3f} [{rec.total_low:6.3f}, "
                  f"{rec.total_high:6.3f}]")
        worst = max(np.abs(s["first_order"] - exact["first_order"]).max(),
                    np.abs(s["total"] - exact["total"]).max())
        print(f"   largest difference: {worst:.3f} (target ≤ 0.05)")

    accuracy("benchmark index", model, a, args.loop_reference)
    loaded = load_workbook(DATA_BOOK)
    book_a, _ = parse_assumptions([r[:3] for r in read_assumptions(DATA_BOOK)])
    accuracy("2020 data workbook", loaded.model, book_a, False)

    # 3. THE 2020 DATA WORKBOOK ----
    samples = 10_000 // (len(book_a) + 2)
    t = time.perf_counter()
    result = run_uncertainty(loaded.model, book_a, samples=samples, budget=0)
    took = time.perf_counter() - t
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "xl-aiindex-bench-uncertainty.xlsx"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xl_aiindex", "uncertainty", str(DATA_BOOK), "-o",
                    str(out), "--samples", str(samples), "--budget", "0", "--top", "0"],
                   check=True, env=env, capture_output=True)
    command = time.perf_counter() - t
    print(f"3. 2020 data workbook, {result.runs} runs ({result.path}): {took:.2f} s "
          f"(target < 2 s); the whole command (start-up, read, write): {command:.2f} s")

    # 4. 3,000 × 200 ----
    if not args.skip_large:
        done = subprocess.run([sys.executable, "-c", LARGE], check=True, env=env,
                              capture_output=True, text=True)
        seconds, count, rss_kib = done.stdout.split()
        print(f"4. 3,000 units × 200 indicators, {count} runs: {float(seconds):.1f} s "
              f"(target < 60 s), peak memory {int(rss_kib) / 2**20:.2f} GiB (target < 4 GiB), "
              f"{os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
