"""Sobol' sensitivity indices from a Saltelli design: the design itself, the Janon (first
order) and Jansen (total) estimators with bootstrap intervals, and the exact indices of a full
grid (the brute-force reference the estimates are checked against). Pure numpy/pandas."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Bootstrap resamples for the confidence intervals.
BOOTSTRAP = 500


def saltelli_design(levels: Sequence[int], points: np.ndarray) -> np.ndarray:
    """Saltelli's rows [A; B; AB_1 … AB_k] (levels per factor) from points in [0, 1)^2k."""
    k = len(levels)
    scale = np.asarray(levels)
    lv = np.minimum((points * np.concatenate([scale, scale])).astype(int),
                    np.concatenate([scale, scale]) - 1)
    a, b = lv[:, :k], lv[:, k:]
    blocks = [a, b]
    for i in range(k):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.concatenate(blocks)


def sobol_indices(y: np.ndarray, n: int, k: int, seed: int = 1,
                  resamples: int = BOOTSTRAP) -> pd.DataFrame:
    """First-order (Janon) and total (Jansen) indices of ``y`` laid out as
    :func:`saltelli_design` rows, with bootstrap 95 % intervals; one row per factor, plus the sum
    of the first-order indices and its interval in the ``attrs``."""
    f_a, f_b = y[:n], y[n:2 * n]
    f_ab = y[2 * n:].reshape(k, n)
    rng = np.random.default_rng([seed, 7])
    boot = np.concatenate([np.arange(n)[None, :], rng.integers(0, n, size=(resamples, n))])

    def estimate(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, ab = f_a[idx], f_b[idx], f_ab[:, idx]
        v = np.var(np.concatenate([a, b], axis=-1), axis=-1)
        mid = np.mean((b + ab) / 2, axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            s1 = (np.mean(b * ab, axis=-1) - mid[..., 0] ** 2) \
                / (np.mean((b**2 + ab**2) / 2, axis=-1) - mid[..., 0] ** 2)
            st = 0.5 * np.mean((a - ab) ** 2, axis=-1) / v
        return np.nan_to_num(s1), np.nan_to_num(st)

    s1, st = estimate(boot)  # factors × (1 + resamples)
    lo1, hi1 = np.percentile(s1[:, 1:], [2.5, 97.5], axis=1)
    lot, hit = np.percentile(st[:, 1:], [2.5, 97.5], axis=1)
    table = pd.DataFrame({"first_order": s1[:, 0], "first_order_low": lo1,
                          "first_order_high": hi1, "total": st[:, 0], "total_low": lot,
                          "total_high": hit})
    sums = s1.sum(axis=0)
    table.attrs["first_order_sum"] = (float(sums[0]), *map(float, np.percentile(sums[1:], [2.5, 97.5])))
    return table


def exact_indices(grid: np.ndarray) -> pd.DataFrame:
    """Exact first-order and total indices of an output known at every combination of levels
    (``grid[l1, l2, …]``, every level equally likely): the brute-force reference.

    >>> g = np.array([[0.0, 1.0], [0.0, 1.0]])   # only the second factor matters
    >>> exact_indices(g).round(6).to_dict("list")
    {'first_order': [0.0, 1.0], 'total': [0.0, 1.0]}
    """
    v = grid.var()
    k = grid.ndim
    s1, st = [], []
    for i in range(k):
        others = tuple(j for j in range(k) if j != i)
        s1.append(grid.mean(axis=others).var() / v)
        st.append(grid.var(axis=i).mean() / v)
    return pd.DataFrame({"first_order": s1, "total": st})


def _saltelli_order(parts: list[np.ndarray], k: int) -> np.ndarray:
    """Blocks of runs from successive doublings → one [A; B; AB_1 … AB_k] layout."""
    return _saltelli_order_rows([p[:, None] for p in parts], k)[:, 0]


def _saltelli_order_rows(parts: list[np.ndarray], k: int) -> np.ndarray:
    pieces = [p.reshape(k + 2, -1, *p.shape[1:]) for p in parts]
    return np.concatenate(pieces, axis=1).reshape(-1, *parts[0].shape[1:])
