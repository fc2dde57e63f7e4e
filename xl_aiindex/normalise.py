"""Normalisation methods: ``n_*`` functions of one indicator's values, and their registry.

Every function takes the indicator's values (a Series over units, NaN = missing, ignored by
min/max/mean/sd/rank), the direction (1 higher is better, -1 lower is better) and its parameters,
and returns a new Series. Direction -1 mirrors the result within its range, as the workbook
contract defines it. A method that cannot work on the values (zero spread under a range-based
method) raises :class:`MethodInputError`; the pipeline turns it into a Problem naming the indicator.

``ref``: when given (a panel's ``base:YEAR``), the method's parameters (min/max, mean/sd, the
ranks' sample) come from ``ref`` instead of ``x`` and are applied to ``x``; scores may then
leave the method's usual range.

Formula form: every method here has a closed spreadsheet formula (MIN/MAX, AVERAGE/STDEV.S,
RANK.AVG/COUNT), so the formula mode can write each normalised cell as a live formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from .i18n import _


class MethodInputError(ValueError):
    """A method cannot be applied to these values (e.g. zero spread); the message says why."""


@dataclass(frozen=True)
class NormParams:
    """Parameters a normaliser may use (from Settings, and per indicator from the Framework)."""

    minmax_low: float = 0.0
    minmax_high: float = 100.0
    efficacy_a: float = 60.0
    efficacy_b: float = 40.0
    goal_low: float | None = None
    goal_high: float | None = None
    goalposts_scale: float = 100.0


class ZeroSpread(MethodInputError):
    """Every present value is the same: a range-based method has nothing to scale."""


def _spread(x: pd.Series) -> tuple[float, float]:
    lo, hi = float(x.min()), float(x.max())
    if not np.isfinite(lo):
        raise MethodInputError(_("has no values"))
    if hi - lo == 0:
        raise ZeroSpread(_("has zero spread (every present value is the same)"))
    return lo, hi


def n_minmax(x: pd.Series, direction: int = 1, p: NormParams = NormParams(),
             ref: pd.Series | None = None) -> pd.Series:
    """Min-max: ``low + (high - low) * (x - min) / (max - min)``; direction -1 gives ``low + high - s``.

    >>> n_minmax(pd.Series([1.0, 2.0, 3.0])).tolist()
    [0.0, 50.0, 100.0]
    """
    lo, hi = _spread(x if ref is None else ref)
    s = p.minmax_low + (p.minmax_high - p.minmax_low) * (x - lo) / (hi - lo)
    return s if direction == 1 else p.minmax_low + p.minmax_high - s


def n_efficacy(x: pd.Series, direction: int = 1, p: NormParams = NormParams(),
               ref: pd.Series | None = None) -> pd.Series:
    """Efficacy coefficient: ``a + b * (x - min) / (max - min)`` (default 60 + 40·…, range [a, a+b]).

    >>> n_efficacy(pd.Series([1.0, 2.0, 3.0])).tolist()
    [60.0, 80.0, 100.0]
    """
    lo, hi = _spread(x if ref is None else ref)
    s = p.efficacy_a + p.efficacy_b * (x - lo) / (hi - lo)
    return s if direction == 1 else 2 * p.efficacy_a + p.efficacy_b - s


def n_zscore(x: pd.Series, direction: int = 1, p: NormParams = NormParams(),
             ref: pd.Series | None = None) -> pd.Series:
    """Z-score ``(x - mean) / sd`` with the sample standard deviation (as STDEV.S); -1 gives ``-z``.

    >>> n_zscore(pd.Series([1.0, 2.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    sample = x if ref is None else ref
    big = float(sample.abs().max()) if sample.notna().any() else 0.0
    if np.isfinite(big) and big > 1e150:
        # squares of values this large overflow: z-scores do not depend on scale
        x, sample = x / big, sample / big
    sd = float(sample.std(ddof=1))
    if not np.isfinite(sd) or sd == 0:
        raise ZeroSpread(_("has zero spread (standard deviation 0), so z-scores are undefined"))
    z = (x - float(sample.mean())) / sd
    return z * direction


def n_rank(x: pd.Series, direction: int = 1, p: NormParams = NormParams(),
           ref: pd.Series | None = None) -> pd.Series:
    """Rank 1…n, the highest value getting n, ties averaged (as RANK.AVG); -1 gives ``n + 1 - r``.

    With ``ref``, a value's rank is its place among ``ref``'s n values: 1 + the number below
    it + half the number equal to it, less ½ when it equals none (so ``ref``'s own values keep
    the ranks they have in ``ref``).

    >>> n_rank(pd.Series([5.0, 1.0, 5.0])).tolist()
    [2.5, 1.0, 2.5]
    >>> n_rank(pd.Series([1.0, 2.0, 9.0]), ref=pd.Series([1.0, 3.0])).tolist()
    [1.0, 1.5, 2.5]
    """
    if ref is None:
        r = x.rank(method="average", ascending=True)
        n = int(x.notna().sum())
    else:
        sample = np.sort(ref.dropna().to_numpy(dtype=float))
        n = len(sample)
        values = x.to_numpy(dtype=float)
        below = np.searchsorted(sample, values, side="left")
        equal = np.searchsorted(sample, values, side="right") - below
        place = below + np.where(equal > 0, (equal + 1) / 2, 0.5)
        r = pd.Series(np.where(np.isnan(values), np.nan, place), index=x.index)
    return r if direction == 1 else n + 1 - r


def n_percentile(x: pd.Series, direction: int = 1, p: NormParams = NormParams(),
                 ref: pd.Series | None = None) -> pd.Series:
    """Percentile rank ``100 * (rank - 1) / (n - 1)`` (ties averaged); -1 gives ``100 - s``.

    >>> n_percentile(pd.Series([3.0, 1.0, 2.0])).tolist()
    [100.0, 0.0, 50.0]
    """
    n = int((x if ref is None else ref).notna().sum())
    if n < 2:
        raise MethodInputError(_("needs at least two units with a value for percentile ranks"))
    s = 100.0 * (n_rank(x, ref=ref) - 1) / (n - 1)
    return s if direction == 1 else 100.0 - s


def n_goalposts(x: pd.Series, direction: int = 1, p: NormParams = NormParams(),
                ref: pd.Series | None = None) -> pd.Series:
    """Goalposts: ``scale * (clamp(x, low, high) - low) / (high - low)``; -1 gives ``scale - s``.

    ``goal_low``/``goal_high`` come from the indicator's Framework row; values beyond them are
    clamped. ``ref`` changes nothing: goalposts do not come from the data.

    >>> n_goalposts(pd.Series([-5.0, 5.0, 50.0]), 1, NormParams(goal_low=0, goal_high=10)).tolist()
    [0.0, 50.0, 100.0]
    """
    if p.goal_low is None or p.goal_high is None:
        raise MethodInputError(_("uses goalposts but goal_low or goal_high is blank in the "
                                 "Framework"))
    if p.goal_high <= p.goal_low:
        raise MethodInputError(
            _("has goal_high ({high}) not above goal_low ({low})").format(
                high=f"{p.goal_high:g}", low=f"{p.goal_low:g}")
        )
    s = p.goalposts_scale * (x.clip(p.goal_low, p.goal_high) - p.goal_low) / (p.goal_high - p.goal_low)
    return s if direction == 1 else p.goalposts_scale - s


class Normaliser(Protocol):
    """What every ``n_*`` function is: values, direction, parameters, optional reference sample."""

    def __call__(self, x: pd.Series, direction: int = 1, p: NormParams = ...,
                 ref: pd.Series | None = None) -> pd.Series: ...

#: Method names a workbook may use, and the function each one reaches.
NORMALISERS: dict[str, Normaliser] = {
    "minmax": n_minmax,
    "efficacy": n_efficacy,
    "zscore": n_zscore,
    "rank": n_rank,
    "percentile": n_percentile,
    "goalposts": n_goalposts,
}
