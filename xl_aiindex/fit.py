"""Weight inference: the non-negative weights, summing to 1, that best turn sub-scores into totals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize, nnls

from .errors import XlAiIndexError
from .i18n import _
from .model import IndexModel
from .normalise import MethodInputError
from .terminal import pad


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
            _("needs at least {needed} units with every sub-score and the total present; has "
              "{count}").format(needed=k, count=len(both)))
    x = both[subscores.columns].to_numpy(dtype=float)
    y = both["__total__"].to_numpy(dtype=float)
    # Start from the unconstrained non-negative fit, rescaled onto the simplex, then solve the
    # constrained problem exactly (small, convex: SLSQP converges to the optimum).
    start, _residual = nnls(x, y)
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


@dataclass(frozen=True)
class FitReport:
    """Weights fitted for the children of ``node`` from a model's Given sheet, for printing."""

    node: str
    target: str
    fit: WeightFit
    framework_weights: pd.Series
    labels: pd.Series

    def lines(self) -> list[str]:
        """The report as the CLI prints it."""
        out = [_("Weights of the children of {node} that best turn Given's sub-scores into "
                 "'{target}' (least squares; each ≥ 0, summing to 1):").format(
                     node=self.node, target=self.target),
               f"  {pad(_('child'), 16)} {pad(_('fitted'), 8, True)} "
               f"{pad(_('framework'), 10, True)}"]
        for child, w in self.fit.weights.items():
            fw = self.framework_weights.get(child)
            fw_text = f"{fw:.4f}" if fw is not None and fw == fw else ""
            out.append(f"  {pad(str(child), 16)} {w:>8.4f} {fw_text:>10}")
        out.append(_("Residuals ({target} − fitted):").format(target=self.target))
        for unit, r in self.fit.residuals.items():
            text = _("(left out: a value is blank)") if r != r else f"{r:+.4f}"
            out.append(f"  {pad(str(self.labels.get(unit, unit)), 28)} {text}")
        worst = self.fit.residuals.abs().idxmax()
        out.append(_("RMSE {rmse}; largest |residual| {largest} ({unit})").format(
            rmse=f"{self.fit.rmse:.4f}", largest=f"{self.fit.max_abs_residual:.4f}",
            unit=self.labels.get(worst, worst)))
        return out


def fit_from_model(model: IndexModel, node: str | None = None) -> FitReport:
    """Fit the weights of ``node``'s children (default: the root's) from the Given sheet.

    The sub-scores are the Given columns of the children; the target is the Given column of
    ``node`` itself, or ``published`` for the root.
    """
    root = next(n.id for n in model.nodes if n.parent is None)
    ids = {n.id.lower(): n.id for n in model.nodes}
    target_node = root if node is None else ids.get(node.strip().lower())
    if target_node is None:
        raise XlAiIndexError(_("--node '{node}' is not a node id of the Framework; ids: "
                               "{ids}").format(node=node, ids=", ".join(n.id for n in model.nodes)))
    children = [n.id for n in model.nodes if n.parent == target_node]
    if not children:
        raise XlAiIndexError(_("node {node} is an indicator: it has no children to weight").format(
            node=target_node))
    given = model.given
    if given is None:
        raise XlAiIndexError(_("fit-weights reads the Given sheet, and this workbook has none"))
    target = "published" if target_node == root and "published" in given.columns else target_node
    missing = [c for c in [*children, target] if c not in given.columns]
    if missing:
        text = _("fit-weights needs Given columns {columns} (the children of {node} and its own "
                 "score (published))") if target == "published" else \
            _("fit-weights needs Given columns {columns} (the children of {node} and its own "
              "score)")
        raise XlAiIndexError(text.format(columns=", ".join(missing), node=target_node))
    try:
        fit = fit_weights(given[children], given[target])
    except MethodInputError as e:
        raise XlAiIndexError(_("{function} {problem}").format(function="fit-weights",
                                                              problem=e)) from None
    framework = pd.Series({n.id: (n.weight if n.weight is not None else float("nan"))
                           for n in model.nodes if n.parent == target_node})
    labels = pd.Series({u: (f"{u} ({model.units.at[u, 'name_zh']})"
                            if u in model.units.index and model.units.at[u, "name_zh"] else u)
                        for u in given.index})
    return FitReport(target_node, target, fit, framework, labels)
