"""The default uncertainty analysis: what ``xl-aiindex uncertainty`` varies when the workbook
has no Uncertainty sheet, and what ``xl-aiindex new`` writes into a new workbook's Uncertainty
sheet — one definition for both (documented in docs/commands.md).

* ``weights / uniform / 0.25``: each given weight within ±25 %, rescaled per sibling group;
* ``normalisation / choice``: the Settings normalisation and the alternatives of
  :data:`NORMALISATIONS` (min-max, z-score, rank: a range, a distance from the mean, an order);
* ``missing / choice``: the Settings ``missing`` method and the alternatives of
  :data:`MISSING` (reweight, mean, median) — in the default run only where Data has blanks.

Without a sheet the rows are fitted to the model (:func:`default_assumptions`): with
``input = given`` nothing is normalised or imputed, so only the weights vary; an alternative
the model cannot compute (z-scores under geometric aggregation…) is left out with a note.
Pure: no files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .errors import ProblemsFound
from .i18n import _
from .model import IndexModel

#: Each given weight varies within ± this share (0.25 = ±25 %).
WEIGHT_SPREAD = 0.25
#: The normalisations the default run chooses among (after the Settings' own).
NORMALISATIONS = ("minmax", "zscore", "rank")
#: The missing-value methods the default run chooses among (after the Settings' own).
MISSING = ("reweight", "mean", "median")

#: What each default row says in the Uncertainty sheet's ``note`` column (both languages, as
#: the rest of a new workbook's notes).
NOTES = {
    "weights": "每个权重在 ±25% 内变动，组内重新归一 / each weight within ±25%, rescaled per "
               "sibling group",
    "normalisation": "标准化方法多选一 / one of these normalisation methods",
    "missing": "缺失值处理方法多选一，仅在 Data 有空值时起作用 / one of these missing-value "
               "methods; matters only where Data has blanks",
}


def _choices(own: str | None, alternatives: tuple[str, ...]) -> tuple[str, ...]:
    """``own`` (the Settings' method) first, then the alternatives, each once."""
    first = (own,) if own else ()
    return tuple(dict.fromkeys(first + alternatives))


def default_rows() -> list[tuple[str, str, Any, str]]:
    """The Uncertainty sheet ``new`` writes: ``(assumption, how, values, note)`` rows of the
    default analysis, with the contract's default Settings (min-max normalisation; missing
    values an error until the analyst chooses a method)."""
    return [("weights", "uniform", WEIGHT_SPREAD, NOTES["weights"]),
            ("normalisation", "choice", ";".join(NORMALISATIONS), NOTES["normalisation"]),
            ("missing", "choice", ";".join(MISSING), NOTES["missing"])]


def default_assumptions(model: IndexModel,
                        computes: Callable[[IndexModel], None] | None = None
                        ) -> tuple[list[tuple[str, str, Any]], list[str]]:
    """The ``(assumption, how, values)`` rows of the default analysis for ``model``, and notes
    saying what was left out and why.

    The weights always vary. With ``input = data``: the normalisation when some indicator
    uses the Settings default, among the Settings' own method and :data:`NORMALISATIONS`; the
    missing-value method when Data has a blank among the indicators, among the Settings' own
    (unless ``error``) and :data:`MISSING`. ``computes`` (default: the engine's
    ``build_index``) is called on the model with each alternative; one that raises
    :class:`ProblemsFound` is left out with a note, and a choice left with fewer than two
    methods is not varied.
    """
    if computes is None:
        from .pipeline import build_index

        def computes(m: IndexModel) -> None:
            build_index(m)

    rows: list[tuple[str, str, Any]] = [("weights", "uniform", WEIGHT_SPREAD)]
    notes: list[str] = []
    s = model.settings
    if s.input != "data" or model.data is None:
        return rows, notes
    parents = {n.parent for n in model.nodes}
    leaves = [n for n in model.nodes if n.id not in parents]
    candidates: list[tuple[str, tuple[str, ...]]] = []
    if any(not n.normalisation for n in leaves):
        candidates.append(("normalisation", _choices(s.normalisation, NORMALISATIONS)))
    columns = [n.id for n in leaves if n.id in model.data.columns]
    if bool(model.data[columns].isna().to_numpy().any()):
        own = s.missing if s.missing != "error" else None
        candidates.append(("missing", _choices(own, MISSING)))
    for name, choices in candidates:
        kept = []
        for method in choices:
            try:
                changes: dict[str, Any] = {name: method}
                computes(replace(model, settings=replace(s, **changes)))
            except ProblemsFound as e:
                notes.append(_("the default analysis leaves {assumption} = {method} out: "
                               "{problem}").format(assumption=name, method=method,
                                                   problem=e.problems[0].problem))
                continue
            kept.append(method)
        if len(kept) >= 2:
            rows.append((name, "choice", ";".join(kept)))
    return rows, notes


def describe(rows: list[tuple[str, str, Any]]) -> str:
    """The default rows in one line, for the note a run without a sheet prints.

    >>> describe([("weights", "uniform", 0.25), ("normalisation", "choice", "minmax;zscore")])
    'weights ±25%, normalisation minmax/zscore'
    """
    parts = []
    for name, how, values in rows:
        if how == "uniform":
            parts.append(f"{name} ±{float(values):.0%}")
        else:
            parts.append(f"{name} {str(values).replace(';', '/')}")
    return ", ".join(parts)
