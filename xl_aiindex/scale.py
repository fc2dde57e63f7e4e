"""Values on another scale than the rest of their indicator: a likely unit error.

A ×100 typo (a share typed as a percentage, 万 typed as 元) puts a unit first or last with no
other sign. :func:`scale_outliers` finds the values of one indicator that are :data:`FACTOR`
times or more away from the indicator's median, in absolute terms, where the other values are
not: the flagged ones stand apart from the rest by a gap of at least :data:`GAP` times, so an
indicator whose values honestly span many orders of magnitude (a log-normal spread) is left
alone. Zeros are never flagged (a zero cannot be a ×100 typo) and do not count in the median;
negative values count by their magnitude, and an indicator with values of both signs (a change,
a balance) is left alone: near zero, magnitudes say nothing about a scale.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

#: How far from the indicator's median (a ratio of magnitudes) a value must be to be flagged.
FACTOR = 100.0
#: How far the flagged values must stand apart from the nearest unflagged one.
GAP = 10.0
#: Fewer non-zero values than this tell nothing about their scale.
MIN_VALUES = 4


def scale_outliers(values: pd.Series) -> list[tuple[object, float, float]]:
    """``(index label, value, ratio to the median)`` of each value of ``values`` that is
    :data:`FACTOR` times the median magnitude or more (or as many times less) while its
    neighbours are not (fewer than a third of the values are that far, the others lie within
    :data:`FACTOR` times of each other, and a gap of :data:`GAP` times parts the flagged ones
    from them); largest departure first. Empty when there are fewer than
    :data:`MIN_VALUES` non-zero values or nothing stands apart.

    >>> s = pd.Series([30.0, 41, 35, 3800, 28, 0.33, 39, 0], index=list("abcdefgh"))
    >>> [(u, v, round(r, 1)) for u, v, r in scale_outliers(s)]
    [('d', 3800.0, 108.6), ('f', 0.33, 0.0)]
    >>> scale_outliers(pd.Series([1.0, 10, 100, 1000, 10000, 100000]))
    []
    >>> scale_outliers(pd.Series([-0.9, 0.004, 1.2, -1.5, 0.8, 1.1]))
    []
    """
    x = pd.to_numeric(values, errors="coerce").dropna()
    if (x < 0).any() and (x > 0).any():
        return []   # values of both signs: their magnitudes tell no scale
    magnitude = x.abs()
    nonzero = magnitude[(magnitude > 0) & np.isfinite(magnitude)]
    if len(nonzero) < MIN_VALUES:
        return []
    median = float(nonzero.median())
    high = nonzero[nonzero >= FACTOR * median]
    low = nonzero[nonzero <= median / FACTOR]
    rest = nonzero.drop(high.index).drop(low.index)
    if 3 * (len(high) + len(low)) > len(nonzero) or float(rest.max()) >= FACTOR * float(rest.min()):
        return []   # a third or more far away, or the rest spread as wide: not a typo
    flagged: list[tuple[object, float, float]] = []
    if not high.empty and float(high.min()) >= GAP * float(rest.max()):
        flagged += [(u, float(x[u]), float(high[u]) / median) for u in high.index]
    if not low.empty and float(low.max()) * GAP <= float(rest.min()):
        flagged += [(u, float(x[u]), float(low[u]) / median) for u in low.index]
    # a ratio that under- or overflows (5e-324 against 3) says nothing a person can act on
    flagged = [f for f in flagged if 0 < f[2] < np.inf]
    return sorted(flagged, key=lambda f: -abs(np.log(f[2])))


def columns_to_check(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` where :func:`scale_outliers` may find something: some value is
    :data:`FACTOR` times the median magnitude or more, or as many times less (one vectorised
    pass, so that a wide Data sheet costs milliseconds; the rest of the test runs only on these).

    >>> columns_to_check(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 2, 300], "c": [0.0, 5, 6]}))
    ['b']
    """
    if frame.empty:
        return []
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    magnitude = np.abs(values)
    magnitude[~(magnitude > 0) | ~np.isfinite(magnitude)] = np.nan
    present = ~np.isnan(magnitude).all(axis=0)
    with warnings.catch_warnings():   # an all-blank column: NaN, and "All-NaN slice" warnings
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(magnitude, axis=0)
        high = np.nanmax(magnitude, axis=0)
        low = np.nanmin(magnitude, axis=0)
    far = present & ((high >= FACTOR * median) | (low <= median / FACTOR))
    return [str(c) for c, f in zip(frame.columns, far, strict=True) if f]
