"""``xl-aiindex fit-weights``: infer the weights that turn Given's sub-scores into its totals."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

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
