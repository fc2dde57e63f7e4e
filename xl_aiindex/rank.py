"""Ranking and tiers (the tie rule is stated once, here)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from .model import TierRule


def excel_round(value: float, decimals: int) -> float:
    """Round half away from zero, as Excel's ROUND does on the value it displays.

    Going through the shortest decimal representation avoids binary surprises
    (``excel_round(2.675, 2)`` is 2.68, as in Excel; Python's ``round`` gives 2.67).

    >>> excel_round(2.675, 2), excel_round(-0.5, 0)
    (2.68, -1.0)
    """
    if not np.isfinite(value):
        return value
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def rank_units(total: pd.Series, decimals: int | None = None,
               eligible: pd.Series | None = None) -> pd.Series:
    """Rank 1 = highest total; tied units share the better rank (1, 2, 2, 4 — as RANK.EQ).

    ``decimals``: rank on totals rounded as Excel's ROUND would (None: unrounded), so units
    that a published table shows as equal share a rank. ``eligible``: units outside it
    (e.g. below ``coverage_min``) and units without a total get no rank (NaN).

    >>> rank_units(pd.Series([5.0, 7.0, 5.0, 1.0])).tolist()
    [2.0, 1.0, 2.0, 4.0]
    """
    values = total.astype(float)
    if decimals is not None:
        values = values.map(lambda v: excel_round(v, decimals))
    if eligible is not None:
        values = values.where(eligible)
    return values.rank(method="min", ascending=False)


def assign_tiers(rank: pd.Series, total: pd.Series, rule: TierRule,
                 decimals: int | None = None) -> pd.Series:
    """Tier 1 (best) … n+1 per unit; 0 for units without a rank.

    ``rank`` rules: tier k holds ranks above the (k-1)-th bound up to the k-th bound.
    ``score`` rules: tier k holds totals at or above the k-th lower bound (bounds descending).
    ``decimals`` (``rank_decimals``): score rules compare the total rounded as the ranks are
    (:func:`excel_round`), so units tied in rank always share a tier, and a total that is
    published as the bound (0.549838 shown as 0.550, bound 0.550) lands in that bound's tier.

    >>> assign_tiers(pd.Series([1.0, 10, 11, 25]), pd.Series([9.0, 8, 7, 6]), TierRule()).tolist()
    [1, 1, 2, 3]
    """
    tiers = pd.Series(0, index=rank.index, dtype=int)
    ranked = rank.notna()
    if rule.kind == "rank":
        # bisect: number of bounds strictly below the rank
        values = np.searchsorted(np.asarray(rule.bounds, dtype=float), rank[ranked].to_numpy(), side="left")
    else:
        ascending = np.asarray(sorted(rule.bounds), dtype=float)
        values_ranked = total[ranked].astype(float)
        if decimals is not None:
            values_ranked = values_ranked.map(lambda v: excel_round(v, decimals))
        above = np.searchsorted(ascending, values_ranked.to_numpy(dtype=float), side="right")
        values = len(ascending) - above
    tiers[ranked] = values + 1
    return tiers
