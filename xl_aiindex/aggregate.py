"""Aggregation methods: ``a_*`` functions combining children's scores into a parent's score.

Each takes ``scores`` (units × children, NaN = missing) and ``weights`` (one per child, summing
to 1) and returns the parent's score per unit. A missing child score makes the parent missing,
unless ``reweight`` is set: then the missing child is skipped and the weights of the children
present are rescaled to sum to 1 (the ``missing = reweight`` setting).

Formula form: arithmetic (``w1*s1+w2*s2``), geometric (a product of powers ``s1^w1*s2^w2``) and
harmonic (``1/(w1/s1+w2/s2)``) have closed formulas, with ISNUMBER masks under ``reweight``;
``copeland`` (root only) is computed in Python and written as values
(:mod:`xl_aiindex.workbook.formulas`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def _weights_present(scores: pd.DataFrame, weights: pd.Series, reweight: bool) -> pd.DataFrame:
    """Per-unit weights: the given ones, or (reweight) rescaled over the children present."""
    w = pd.DataFrame(
        np.broadcast_to(weights.to_numpy(dtype=float), scores.shape),
        index=scores.index,
        columns=scores.columns,
    )
    if not reweight:
        return w
    w = w.where(scores.notna(), 0.0)
    total = w.sum(axis=1)
    return w.div(total.where(total > 0), axis=0)


def _missing_mask(scores: pd.DataFrame, reweight: bool) -> pd.Series:
    return scores.isna().all(axis=1) if reweight else scores.isna().any(axis=1)


def a_arithmetic(scores: pd.DataFrame, weights: pd.Series, reweight: bool = False) -> pd.Series:
    """Weighted arithmetic mean ``Σ w·s``.

    >>> a_arithmetic(pd.DataFrame({"a": [10.0], "b": [20.0]}), pd.Series({"a": .25, "b": .75})).tolist()
    [17.5]
    """
    w = _weights_present(scores, weights, reweight)
    out = (scores.fillna(0.0) * w).sum(axis=1)
    return out.mask(_missing_mask(scores, reweight))


def a_geometric(scores: pd.DataFrame, weights: pd.Series, reweight: bool = False) -> pd.Series:
    """Weighted geometric mean ``Π s^w`` (scores must be positive; the pipeline checks).

    >>> float(round(a_geometric(pd.DataFrame({"a": [10.0], "b": [40.0]}), pd.Series({"a": .5, "b": .5})).iloc[0], 9))
    20.0
    """
    w = _weights_present(scores, weights, reweight)
    logs = np.log(scores.where(scores > 0))
    out = np.exp((logs.fillna(0.0) * w).sum(axis=1))
    return out.mask(_missing_mask(scores, reweight))


def a_harmonic(scores: pd.DataFrame, weights: pd.Series, reweight: bool = False) -> pd.Series:
    """Weighted harmonic mean ``1 / Σ (w / s)`` (scores must be positive; the pipeline checks).

    >>> a_harmonic(pd.DataFrame({"a": [2.0], "b": [6.0]}), pd.Series({"a": .5, "b": .5})).tolist()
    [3.0]
    """
    w = _weights_present(scores, weights, reweight)
    inv = (w / scores.where(scores > 0)).fillna(0.0).sum(axis=1)
    out = 1.0 / inv
    return out.mask(_missing_mask(scores, reweight))


def a_copeland(scores: pd.DataFrame, weights: pd.Series, reweight: bool = False) -> pd.Series:
    """Weighted Copeland score (root only): wins minus losses over all pairs of units.

    Unit a beats b when the weights of the children where a scores higher outweigh those where b
    does; a child missing for either unit counts for neither. Non-compensatory: a big lead on one
    child cannot buy back losses on heavier ones.

    >>> s = pd.DataFrame({"x": [3.0, 2.0, 1.0], "y": [1.0, 3.0, 2.0]}, index=list("abc"))
    >>> a_copeland(s, pd.Series({"x": 0.6, "y": 0.4})).tolist()
    [2.0, 0.0, -2.0]
    """
    values = scores.to_numpy(dtype=float)
    w = weights.to_numpy(dtype=float)
    a = values[:, None, :]
    b = values[None, :, :]
    for_a = np.where(a > b, w, 0.0).sum(axis=2)
    for_b = np.where(b > a, w, 0.0).sum(axis=2)
    result = np.sign(for_a - for_b).sum(axis=1)
    out = pd.Series(result, index=scores.index, dtype=float)
    return out.mask(_missing_mask(scores, reweight))


Aggregator = Callable[[pd.DataFrame, pd.Series, bool], pd.Series]

#: Method names a workbook may use, and the function each one reaches.
AGGREGATORS: dict[str, Aggregator] = {
    "arithmetic": a_arithmetic,
    "geometric": a_geometric,
    "harmonic": a_harmonic,
    "copeland": a_copeland,
}

#: Methods that need strictly positive children's scores.
POSITIVE_ONLY = frozenset({"geometric", "harmonic"})

#: Methods allowed only at the root (their output is not on the children's scale).
ROOT_ONLY = frozenset({"copeland"})
