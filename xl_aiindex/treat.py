"""Outlier treatment of raw indicators: ``t_*`` functions and their registry.

Each takes one indicator's values (NaN = missing, left alone) and the settings, and returns the
treated values and a one-line description of what was done (empty when nothing was).
Skewness and kurtosis are the sample statistics of Excel's SKEW and KURT (excess kurtosis).

Formula form: none; the values a treatment changed are written as values (sheet ``Calc``) that
the formula mode's normalisation formulas reference (``Treatment`` reports what was done).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .i18n import _
from .model import Settings


def _skew_kurt(x: pd.Series) -> tuple[float, float]:
    v = x.dropna()
    return float(v.skew()), float(v.kurt())


def _flagged(x: pd.Series, s: Settings) -> bool:
    """COINr's ``check_SkewKurt`` negated: fails when |skew| ≥ threshold *and* kurtosis ≥ threshold."""
    skew, kurt = _skew_kurt(x)
    return bool(abs(skew) >= s.outlier_skew and kurt >= s.outlier_kurtosis)


def needs_treatment(x: pd.Series, s: Settings) -> bool:
    """Whether ``skew_kurtosis`` would treat ``x`` under the thresholds of ``s``: at least 4
    values present, |skew| ≥ ``outlier_skew`` and kurtosis ≥ ``outlier_kurtosis``.

    >>> needs_treatment(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]), Settings())
    True
    """
    return bool(x.notna().sum() >= 4 and _flagged(x, s))


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
    return out, (_("winsorised {count} value(s) at the {low}th/{high}th percentiles").format(
        count=changed, low=f"{p:g}", high=f"{100 - p:g}") if changed else "")


def t_skew_kurtosis(x: pd.Series, s: Settings, arg: str = "") -> tuple[pd.Series, str]:
    """The field's rule, as COINr's ``Treat`` default does it.

    An indicator fails when |skew| ≥ ``outlier_skew`` and kurtosis ≥ ``outlier_kurtosis``.
    While it fails and fewer than ``outlier_max_points`` values were changed, the highest values
    (lowest, when skew < 0) are set to the next highest (lowest) value — ties move together. If it
    still fails, that is undone and COINr's ``log_CT`` is applied to the original values instead:
    ``ln(x − min + 0.01·(max − min))`` (order-preserving, whatever the direction of the skew).

    >>> x = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100])
    >>> t_skew_kurtosis(x, Settings())[0].tolist()[-2:], t_skew_kurtosis(x, Settings())[1]
    ([30.0, 30.0], 'winsorised 1 value(s) (skew/kurtosis rule)')
    """
    if not needs_treatment(x, s):
        return x, ""
    out = x.copy()
    changed = 0
    while _flagged(out, s) and changed < s.outlier_max_points:
        skew, _kurtosis = _skew_kurt(out)
        present = out.dropna()
        extreme = present.max() if skew >= 0 else present.min()
        rest = present[present != extreme]
        if rest.empty:
            break
        out[out == extreme] = rest.max() if skew >= 0 else rest.min()
        changed = int(((out != x) & x.notna()).sum())
    if not _flagged(out, s):
        return out, _("winsorised {count} value(s) (skew/kurtosis rule)").format(count=changed)
    lo, hi = float(x.min()), float(x.max())
    logged = np.log(x - lo + 0.01 * (hi - lo))
    return logged, _("log-transformed: ln(x − min + 0.01·(max − min)) (winsorising {count} "
                     "value(s) did not bring skew and kurtosis within the thresholds)").format(
                         count=changed)


Treatment = Callable[[pd.Series, Settings, str], tuple[pd.Series, str]]

#: Method names of the ``outliers`` setting (``winsorise`` takes ``:P``).
TREATMENTS: dict[str, Treatment] = {
    "none": t_none,
    "skew_kurtosis": t_skew_kurtosis,
    "winsorise": t_winsorise,
}
