"""``xl-aiindex audit``: the index's statistical audit, as the OECD-JRC Handbook and COINr do."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ..audit import Audit


@dataclass(frozen=True)
class AuditGroup:
    """One sibling group of the audit: its parent ``node`` and ``label``, the number of
    ``children``, Cronbach's ``alpha`` and the first component's ``pc1_share`` of the variance
    (NaN when not computed) over ``units`` units, and its children's rows of the audit table
    (``rows``: :data:`xl_aiindex.audit.COLUMNS`)."""

    node: str
    label: str
    children: int
    alpha: float
    pc1_share: float
    units: int
    rows: pd.DataFrame


@dataclass(frozen=True)
class Audited:
    """What :func:`audit` found: the audit's ``scope`` (one line), the ``units`` audited, the
    ``warnings`` (one line each), the sibling ``groups`` in tree order, the ``notes`` of
    reading, ``path``: the workbook the Audit sheet was written to (None: not written), and
    the whole :class:`~xl_aiindex.audit.Audit` (``report``)."""

    book: Path
    path: Path | None
    scope: str
    units: int
    warnings: tuple[str, ...]
    groups: tuple[AuditGroup, ...]
    notes: tuple[str, ...]
    report: Audit

    def as_json(self) -> dict[str, Any]:
        """Plain data (``--json``): the workbook, where the Audit sheet went, the scope, the
        warnings, the sibling groups and one record per node (the Audit sheet's rows)."""
        from ..workbook.export import plain, records

        return {"path": str(self.book), "status": "ok",
                "output": str(self.path) if self.path is not None else "",
                "scope": self.scope, "units": self.units, "warnings": list(self.warnings),
                "groups": [{"node": g.node, "label": g.label, "children": g.children,
                            "alpha": plain(g.alpha), "pc1_share": plain(g.pc1_share),
                            "units": g.units} for g in self.groups],
                "rows": records(self.report.table), "notes": list(self.notes)}


def audit(book: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
          write: bool = True, force: bool = False, year: int | None = None) -> Audited:
    """Audit the index statistically: per indicator min, max, mean, sd, skewness, kurtosis,
    missing values and whether it needs outlier treatment; each node's correlation with its
    parent and the total; Cronbach's alpha and the first principal component's share per
    sibling group; negative and near-duplicate sibling pairs; each indicator's effective
    importance beside its weight in the total. Writes the Audit sheet (one row per node).

    :param book: the workbook to read
    :param output: where to write the Audit sheet (default: ``book``, in place)
    :param write: False writes nothing
    :param force: replace an Audit sheet the tool did not write, or cells of it edited by hand
    :param year: the year of a panel (Data with a ``year`` column; default: the latest); a
        workbook of one edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns an :class:`Audited`. Raises what :func:`recalc` raises on bad inputs and refused
    destinations.
    """
    from ..workbook.audit_io import audit_file

    result, report = audit_file(book, output, write=write, force=force, year=year)
    labels = {m.id: m.label for m in result.model.nodes}
    table = report.table
    groups = tuple(
        AuditGroup(node=g.node, label=labels[g.node], children=int(g.children),
                   alpha=float(g.alpha), pc1_share=float(g.pc1_share), units=int(g.units),
                   rows=table[table["parent"] == g.node])
        for g in report.groups.itertuples(index=False))
    return Audited(book=Path(book),
                   path=Path(output if output is not None else book) if write else None,
                   scope=report.scope, units=len(result.scores), warnings=report.warnings,
                   groups=groups, notes=tuple(result.notes), report=report)
