"""``xl-aiindex compare-editions``: what changed between two editions of an index."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class EditionsCompared:
    """What :func:`compare_editions` found.

    ``table``: per unit the change of rank, score and tier overall and on each shared child of
    the root (``children``) (:func:`~xl_aiindex.editions.compare_editions`); ``shown``: its
    units in the new edition, by new rank; ``entered`` / ``left``: the units only in the new /
    old edition; ``both``: how many are in both; ``path``: the workbook the Changes sheet was
    written to (None: not written); ``sheet``: that sheet's name.
    """

    old: Path
    new: Path
    path: Path | None
    sheet: str
    children: tuple[str, ...]
    table: pd.DataFrame
    shown: pd.DataFrame
    entered: pd.DataFrame
    left: pd.DataFrame
    both: int
    #: what a reader must know first (scores of editions normalised apart); empty if nothing
    warning: str = ""
    #: the two editions' data were normalised together (``--common-scale``)
    common_scale: bool = False

    def as_json(self) -> dict[str, Any]:
        """Plain data (``--json``): both paths, the shared children, the table's rows."""
        from ..workbook.export import records

        return {"old": str(self.old), "new": str(self.new), "children": list(self.children),
                "common_scale": self.common_scale, "warning": self.warning,
                "units": records(self.table)}


def compare_editions(old: str | os.PathLike[str], new: str | os.PathLike[str], *,
                     output: str | os.PathLike[str] | None = None, write: bool = True,
                     force: bool = False, common_scale: bool = False) -> EditionsCompared:
    """Compare two editions of the same index (units matched by id): per unit the change of
    rank, score and tier overall and on each child of the root, and the units that entered or
    left; write the table as the Changes sheet into ``new``, with one Log row.

    :param old: the older edition's workbook
    :param new: the newer edition's workbook
    :param output: write ``new`` with the Changes sheet here (default: into ``new``)
    :param write: False writes nothing
    :param force: replace a Changes sheet the tool did not write, or cells of it edited by
        hand; compare editions that share fewer than half of their units
    :param common_scale: normalise both editions' data together before comparing (a two-year
        panel, ``pooled``), so a change in score is a change in the unit's own values

    Returns an :class:`EditionsCompared`. Raises what :func:`recalc` raises on bad inputs
    (of either edition) and refused destinations.
    """
    from ..editions import scale_warning, shared_children
    from ..workbook.editions_io import compare_editions_file
    from ..workbook.visuals import CHANGES

    r_old, r_new, table = compare_editions_file(old, new, output, write=write, force=force,
                                                common_scale=common_scale)
    status = table["status"]
    return EditionsCompared(
        old=Path(old), new=Path(new),
        path=Path(output if output is not None else new) if write else None, sheet=CHANGES,
        children=tuple(shared_children(r_old, r_new)), table=table,
        shown=table[status != "left"], entered=table[status == "entered"],
        left=table[status == "left"], both=int((status == "both").sum()),
        warning="" if common_scale else scale_warning(r_old, r_new), common_scale=common_scale)
