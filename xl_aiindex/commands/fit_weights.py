"""``xl-aiindex fit-weights``: infer the weights that turn Given's sub-scores into its totals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..fit import FitReport


def fit_weights(book: str | os.PathLike[str], *, node: str | None = None) -> FitReport:
    """Infer the non-negative weights, summing to 1, that best turn the Given sub-scores of a
    node's children into the node's given scores (the root: the ``published`` column), by
    least squares.

    :param book: the workbook to read (it needs a Given sheet)
    :param node: the node whose children are weighted (an id; default: the root)

    Returns a :class:`~xl_aiindex.fit.FitReport`: the fitted weights beside the Framework's,
    each unit's residual and the RMSE (``lines()``: the report as printed). Raises
    :class:`~xl_aiindex.errors.XlAiIndexError` when the node is unknown or an indicator, or the
    Given sheet lacks the columns; what reading raises (:func:`validate`).
    """
    from ..fit import fit_from_model
    from ..workbook.io import load_workbook

    return fit_from_model(load_workbook(book).model, node)


def fit_json(book: str | os.PathLike[str], report: FitReport) -> dict[str, Any]:
    """``fit-weights --json``: the workbook, the node and target, per child the fitted and the
    Framework's weight, per unit the residual (None: left out, a value is blank), the RMSE
    and the largest absolute residual."""
    from ..workbook.export import plain

    fitted = report.fit.weights
    return {"path": str(Path(book)), "status": "ok", "node": report.node,
            "target": report.target,
            "weights": {str(c): {"fitted": plain(w),
                                 "framework": plain(report.framework_weights.get(c))}
                        for c, w in fitted.items()},
            "residuals": {str(u): plain(r) for u, r in report.fit.residuals.items()},
            "rmse": plain(report.fit.rmse),
            "max_abs_residual": plain(report.fit.max_abs_residual)}
