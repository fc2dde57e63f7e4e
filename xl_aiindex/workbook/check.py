"""``recalc --check``: do a workbook's result sheets still match its inputs? Reads, never writes.

Fresh means: the fingerprint store (:mod:`xl_aiindex.workbook.fingerprint`) of the last run
that wrote the result sheets recorded the hash of the inputs
(:func:`xl_aiindex.staleness.inputs_hash`), that hash equals the hash of the inputs now, and the
result sheets that run wrote are all there, unedited. The store, not the Log, is read: rows
the user deletes, sorts or adds to Log change nothing (the Log row of each run carries the
same hash, for people). Nothing is computed: the check costs one read of the
input sheets and of the result sheets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..contract import key
from ..i18n import _, ngettext
from ..staleness import inputs_hash
from .fingerprint import STORE_SHEET
from .io import hand_edits, load_workbook, stale_store

#: Edited cells named in a reason before the rest are only counted.
LISTED_EDITS = 5


@dataclass(frozen=True)
class Freshness:
    """The answer of :func:`check_file`: ``fresh``, or the ``reasons`` why not (one line each).

    ``last_run``: the time of the last Log row ("" when none); ``logged`` / ``current``: the
    inputs hash that row recorded ("" when none) and the hash of the inputs now.
    """

    path: Path
    reasons: tuple[str, ...]
    last_run: str
    logged: str
    current: str

    @property
    def fresh(self) -> bool:
        """True when the result sheets match the inputs."""
        return not self.reasons


def check_file(path: str | os.PathLike[str]) -> Freshness:
    """Whether the result sheets of the workbook at ``path`` match its inputs (see the module).

    Raises what :func:`~xl_aiindex.workbook.io.load_workbook` raises when the inputs cannot
    be read (:class:`~xl_aiindex.errors.ProblemsFound`, :class:`UnreadableWorkbook`).
    """
    path = Path(path)
    loaded = load_workbook(path)
    current = inputs_hash(loaded.model)
    stored = loaded.stored
    reasons: list[str] = []
    if stored is None:
        return Freshness(path, (_("no fingerprint of the result sheets is stored (sheet "
                                  "{sheet}): they were never computed by this version of "
                                  "xl-aiindex; recalc once").format(sheet=STORE_SHEET),),
                         "", "", current)
    when = stored.log_time
    logged = stored.inputs_hash
    if stale_store(loaded):
        reasons.append(_("a later run logged in Log rewrote the result sheets without "
                         "recording their inputs: recalc once"))
    elif not logged:
        reasons.append(_("the result sheets record no inputs hash (written by an older "
                         "version): recalc once to record one"))
    elif logged != current:
        reasons.append(_("the inputs changed since the last recalc ({time})").format(
            time=when or _("time unknown")))
    present = {key(n) for n in loaded.sheet_names}
    for k, fp in stored.sheets.items():
        if k != key(STORE_SHEET) and k not in present:
            reasons.append(_("sheet '{sheet}' written by the last recalc is gone").format(
                sheet=fp.sheet))
    edits = hand_edits(loaded, None)
    if edits:
        cells = ", ".join(f"{e.sheet}!{e.cell}" for e in edits[:LISTED_EDITS])
        more = _(" and {count} more").format(count=len(edits) - LISTED_EDITS) \
            if len(edits) > LISTED_EDITS else ""
        reasons.append(ngettext("{count} result cell edited by hand since the last recalc: "
                                "{cells}",
                                "{count} result cells edited by hand since the last recalc: "
                                "{cells}", len(edits)).format(count=len(edits),
                                                              cells=cells + more))
    return Freshness(path, tuple(reasons), when, logged, current)
