"""Weighting methods: ``w_*`` functions setting the weights of one node's children.

Each takes the children's scores (units × children; rows with a missing child are dropped for
the data-driven methods) and a :class:`WeightInputs` with what the workbook gives (the ``weight``
cells, an AHP matrix, expert budgets), and returns one weight per child, summing to 1.
Problems with the inputs raise :class:`~xl_aiindex.normalise.MethodInputError`.

Formula form: ``given`` weights are formulas on the Framework ``weight`` cells (each over the sum
of its siblings'); every other method (equal, the data-driven ones, ahp, budget) is computed in
Python and its weights written as values in WeightsUsed, which the aggregation formulas
reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .i18n import _
from .normalise import MethodInputError

#: Tolerance for "sums to 1": what a typed 0.333/0.333/0.334 or =1/3 cells give, not a typo.
SUM_TOLERANCE = 1e-6

#: Saaty's random consistency index by matrix size (n = 1..10).
_RANDOM_INDEX = (0.0, 0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)


@dataclass(frozen=True)
class WeightInputs:
    """What a weighting method may read besides the children's scores."""

    given: pd.Series | None = None
    ahp: pd.DataFrame | None = None
    budget: pd.DataFrame | None = None


def _normalised(raw: pd.Series, what: str) -> pd.Series:
    total = float(raw.sum())
    if not np.isfinite(total) or total <= 0:
        raise MethodInputError(_("gives no usable weights ({what} sum to {total})").format(
            what=what, total=f"{total:g}"))
    return raw / total


def _complete_rows(scores: pd.DataFrame) -> pd.DataFrame:
    full = scores.dropna()
    if len(full) < 2:
        raise MethodInputError(_("needs at least two units with every child's score present"))
    return full


def w_given(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """The ``weight`` cells of the Framework, as given (the pipeline checks sums and signs)."""
    if inputs.given is None:
        raise MethodInputError(_("has no weights given"))
    return inputs.given.astype(float)


def w_equal(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """Equal weights, 1/k each.

    >>> w_equal(pd.DataFrame(columns=["a", "b"]), WeightInputs()).tolist()
    [0.5, 0.5]
    """
    k = scores.shape[1]
    return pd.Series(1.0 / k, index=scores.columns)


def w_sd(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """Weights proportional to each child's sample standard deviation.

    >>> w_sd(pd.DataFrame({"a": [0.0, 2.0], "b": [0.0, 6.0]}), WeightInputs()).round(12).tolist()
    [0.25, 0.75]
    """
    return _normalised(_complete_rows(scores).std(ddof=1), _("standard deviations"))


def w_entropy(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """Entropy weights: ``p = s / Σ s``, ``e = -Σ p ln p / ln n``, weights ∝ ``1 - e``.

    Scores must be non-negative (normalise with minmax or efficacy first).
    """
    full = _complete_rows(scores)
    if (full < 0).to_numpy().any():
        raise MethodInputError(_("needs non-negative scores (entropy weighting); use a "
                                 "normalisation whose range starts at 0 or above"))
    col_sums = full.sum()
    if (col_sums <= 0).any():
        zero = ", ".join(map(str, col_sums.index[col_sums <= 0]))
        raise MethodInputError(_("cannot weight by entropy: children {children} are 0 for every "
                                 "unit").format(children=zero))
    p = full / col_sums
    n = len(full)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = (p * np.log(p)).fillna(0.0)
    e = -plogp.sum() / np.log(n)
    return _normalised(1.0 - e, _("1 - entropies"))


def w_critic(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """CRITIC weights: ``C_j = sd_j · Σ_k (1 - r_jk)`` on min-max scaled children, weights ∝ C."""
    full = _complete_rows(scores)
    spread = full.max() - full.min()
    if (spread == 0).any():
        flat = ", ".join(map(str, spread.index[spread == 0]))
        raise MethodInputError(_("cannot weight by {method}: children {children} have zero "
                                 "spread").format(method="CRITIC", children=flat))
    scaled = (full - full.min()) / spread
    corr = scaled.corr().fillna(0.0)
    info = scaled.std(ddof=1) * (1.0 - corr).sum()
    return _normalised(info, _("CRITIC information"))


def w_pca(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """Weights from the first principal component of the children's correlation matrix.

    The weight of child j is its squared loading on the first component (the loadings form a
    unit vector, so the squares sum to 1): children that share most variance weigh most.
    """
    full = _complete_rows(scores)
    sd = full.std(ddof=1)
    if (sd == 0).any():
        flat = ", ".join(map(str, sd.index[sd == 0]))
        raise MethodInputError(_("cannot weight by {method}: children {children} have zero "
                                 "spread").format(method="PCA", children=flat))
    corr = np.corrcoef(full.to_numpy(dtype=float), rowvar=False)
    vals, vecs = np.linalg.eigh(np.atleast_2d(corr))
    first = vecs[:, int(np.argmax(vals))]
    return _normalised(pd.Series(first**2, index=scores.columns), _("squared loadings"))


def ahp_consistency_ratio(matrix: pd.DataFrame) -> float:
    """Saaty's consistency ratio of a pairwise matrix (0 for n ≤ 2; above 0.1 is inconsistent)."""
    a = matrix.to_numpy(dtype=float)
    n = a.shape[0]
    if n <= 2:
        return 0.0
    lam = float(np.max(np.linalg.eigvals(a).real))
    ci = (lam - n) / (n - 1)
    ri = _RANDOM_INDEX[n] if n < len(_RANDOM_INDEX) else _RANDOM_INDEX[-1]
    return ci / ri


def w_ahp(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """AHP weights: the principal eigenvector of the node's pairwise matrix (sheet ``AHP_<node>``).

    >>> m = pd.DataFrame([[1, 3], [1/3, 1]], index=["a", "b"], columns=["a", "b"])
    >>> [round(v, 6) for v in w_ahp(pd.DataFrame(columns=["a", "b"]), WeightInputs(ahp=m))]
    [0.75, 0.25]
    """
    if inputs.ahp is None:
        raise MethodInputError(_("uses ahp weighting but has no AHP_<node> sheet"))
    m = inputs.ahp.reindex(index=scores.columns, columns=scores.columns)
    if m.isna().to_numpy().any():
        raise MethodInputError(_("has an AHP matrix that lacks some children's rows or columns"))
    a = m.to_numpy(dtype=float)
    if (a <= 0).any():
        raise MethodInputError(_("has an AHP matrix with entries ≤ 0 (all must be positive)"))
    vals, vecs = np.linalg.eig(a)
    v = np.abs(vecs[:, int(np.argmax(vals.real))].real)
    return _normalised(pd.Series(v, index=scores.columns), _("eigenvector entries"))


def w_budget(scores: pd.DataFrame, inputs: WeightInputs) -> pd.Series:
    """Budget allocation: each expert's points are shares of their total; weights are the mean share.

    >>> b = pd.DataFrame({"a": [60, 40], "b": [40, 60]})
    >>> w_budget(pd.DataFrame(columns=["a", "b"]), WeightInputs(budget=b)).tolist()
    [0.5, 0.5]
    """
    if inputs.budget is None:
        raise MethodInputError(_("uses budget weighting but has no Budget_<node> sheet"))
    b = inputs.budget.reindex(columns=scores.columns).astype(float)
    if b.isna().to_numpy().any():
        raise MethodInputError(_("has a Budget sheet with blank points or missing children's "
                                 "columns"))
    if (b < 0).to_numpy().any():
        raise MethodInputError(_("has negative budget points"))
    totals = b.sum(axis=1)
    if (totals <= 0).any():
        raise MethodInputError(_("has an expert who gave no points"))
    return _normalised(b.div(totals, axis=0).mean(), _("mean shares"))


Weighting = Callable[[pd.DataFrame, WeightInputs], pd.Series]

#: Method names a workbook may use in the Framework's ``weighting`` column.
WEIGHTINGS: dict[str, Weighting] = {
    "given": w_given,
    "equal": w_equal,
    "entropy": w_entropy,
    "critic": w_critic,
    "sd": w_sd,
    "pca": w_pca,
    "ahp": w_ahp,
    "budget": w_budget,
}
