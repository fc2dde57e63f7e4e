"""Outlier treatment of raw indicators: ``t_*`` functions and their registry.

Each takes one indicator's values (NaN = missing, left alone) and the settings, and returns the
treated values and a one-line description of what was done (empty when nothing was).
Skewness and kurtosis are the sample statistics of Excel's SKEW and KURT (excess kurtosis).

Formula form: none; treated values are written as values (sheet ``Treatment``) that the formula
mode's normalisation formulas reference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .model import Settings


def _skew_kurt(x: pd.Series) -> tuple[float, float]:
    v = x.dropna()
    return float(v.skew()), float(v.kurt())


def _flagged(x: pd.Series, s: Settings) -> bool:
    skew, kurt = _skew_kurt(x)
    return bool(abs(skew) > s.outlier_skew and kurt > s.outlier_kurtosis)


def t_none(x: pd.Series, s: Settings, arg: str = "") -> tuple[pd.Series, str]:
    """No treatment."""
    return x, ""


def t_winsorise(x: pd.Series, s: Settings, arg: str = "5") -> tuple[pd.Series, str]:
    """Clamp at the P-th and (100 − P)-th percentiles (as PERCENTILE.INC), P from ``winsorise:P``.

    >>> t_winsorise(pd.Series([0.0, 1, 2, 3, 100]), Settings(), "25")[0].tolist()
    [1.0, 1.0, 2.0, 3.0, 3.0]
    """
    p = float(arg)
    lo, hi = np.nanpercentile(x.to_numpy(dtype=float), [p, 100 - p])
    out = x.clip(lo, hi)
    changed = int(((out != x) & x.notna()).sum())
    return out, (f"winsorised {changed} value(s) at the {p:g}th/{100 - p:g}th percentiles"
                 if changed else "")


def t_skew_kurtosis(x: pd.Series, s: Settings, arg: str = "") -> tuple[pd.Series, str]:
    """The field's rule (COINr's ``Treat`` default): while |skew| > ``outlier_skew`` and kurtosis >
    ``outlier_kurtosis``, winsorise the most extreme value on the skewed side to the next one, up
    to ``outlier_max_points`` values; if that does not bring the indicator within the thresholds,
    undo it and take ``ln(x − min + 0.01·(max − min))`` instead (COINr's ``log_CT``), mirrored
    for negative skew so the order of units is kept.
    """
    if x.notna().sum() < 4 or not _flagged(x, s):
        return x, ""
    out = x.copy()
    for count in range(1, s.outlier_max_points + 1):
        skew, _ = _skew_kurt(out)
        present = out.dropna()
        if skew > 0:
            top = present.max()
            out[out == top] = present[present < top].max()
        else:
            bottom = present.min()
            out[out == bottom] = present[present > bottom].min()
        if not _flagged(out, s):
            return out, f"winsorised {count} value(s) (skew/kurtosis rule)"
    skew, _ = _skew_kurt(x)
    lo, hi = float(x.min()), float(x.max())
    logged = np.log(x - lo + 0.01 * (hi - lo)) if skew > 0 else -np.log(hi - x + 0.01 * (hi - lo))
    return logged, (f"log-transformed (winsorising {s.outlier_max_points} value(s) did not bring "
                    "skew and kurtosis within the thresholds)")


Treatment = Callable[[pd.Series, Settings, str], tuple[pd.Series, str]]

#: Method names of the ``outliers`` setting (``winsorise`` takes ``:P``).
TREATMENTS: dict[str, Treatment] = {
    "none": t_none,
    "skew_kurtosis": t_skew_kurtosis,
    "winsorise": t_winsorise,
}
