"""Weight inference: the non-negative weights, summing to 1, that best turn sub-scores into totals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from .normalise import MethodInputError


@dataclass(frozen=True)
class WeightFit:
    """Result of :func:`fit_weights`: weights per sub-score, residual (given − fitted) per unit."""

    weights: pd.Series
    fitted: pd.Series
    residuals: pd.Series

    @property
    def rmse(self) -> float:
        """Root mean squared residual."""
        return float(np.sqrt((self.residuals**2).mean()))

    @property
    def max_abs_residual(self) -> float:
        """Largest absolute residual."""
        return float(self.residuals.abs().max())


def fit_weights(subscores: pd.DataFrame, totals: pd.Series) -> WeightFit:
    """Least-squares weights ``w ≥ 0``, ``Σ w = 1`` minimising ``Σ_u (total_u − Σ_j w_j s_uj)²``.

    Units with any blank are left out of the fit (their residual is NaN).

    >>> s = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    >>> fit = fit_weights(s, 0.3 * s["a"] + 0.7 * s["b"])
    >>> fit.weights.round(6).tolist()
    [0.3, 0.7]
    """
    both = subscores.join(totals.rename("__total__"), how="inner").dropna()
    k = subscores.shape[1]
    if len(both) < k:
        raise MethodInputError(
            f"needs at least {k} units with every sub-score and the total present; has {len(both)}")
    x = both[subscores.columns].to_numpy(dtype=float)
    y = both["__total__"].to_numpy(dtype=float)
    # Start from the unconstrained non-negative fit, rescaled onto the simplex, then solve the
    # constrained problem exactly (small, convex: SLSQP converges to the optimum).
    start, _ = nnls(x, y)
    start = start / start.sum() if start.sum() > 0 else np.full(k, 1.0 / k)
    scale = float(np.abs(y).max()) or 1.0
    res = minimize(
        lambda w: float(np.sum((x @ w - y) ** 2)) / scale**2,
        start,
        jac=lambda w: 2 * x.T @ (x @ w - y) / scale**2,
        bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(k)}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    w = np.clip(res.x, 0.0, None)
    w = w / w.sum()
    weights = pd.Series(w, index=subscores.columns, name="weight")
    fitted = (subscores * weights).sum(axis=1, min_count=k).where(subscores.notna().all(axis=1))
    return WeightFit(weights, fitted, (totals - fitted).reindex(subscores.index))
