"""``recalc --check``: do a workbook's result sheets still match its inputs? Reads, never writes.

Fresh means: the last Log row is a successful run that recorded the hash of the inputs
(:func:`xl_aiindex.staleness.inputs_hash`), that hash equals the hash of the inputs now, and the
result sheets that run wrote are all there, unedited (their fingerprints,
:mod:`xl_aiindex.workbook.fingerprint`). Nothing is computed: the check costs one read of the
input sheets and of the result sheets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..staleness import inputs_hash
from .calamine_source import CalamineSource
from .fingerprint import STORE_SHEET
from .io import hand_edits, load_workbook
from .read import key
from .source import Grid

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


def _log_rows(path: Path) -> tuple[list[str], list[list[object]]]:
    """Header (lower case) and non-blank rows of the Log sheet (empty when there is none)."""
    source = CalamineSource(path)
    try:
        name = next((n for n in source.sheet_names() if key(n) == "log"), None)
        grid: Grid | None = None if name is None else source.grid(name)
    finally:
        source.close()
    if grid is None or not grid.values:
        return [], []
    header = [str(v).strip().lower() if v is not None else "" for v in grid.values[0]]
    rows = [list(r) for r in grid.values[1:] if any(v is not None and str(v).strip() for v in r)]
    return header, rows


def _get(header: list[str], row: list[object], column: str) -> str:
    if column not in header:
        return ""
    i = header.index(column)
    v = row[i] if i < len(row) else None
    return "" if v is None else str(v).strip()


def check_file(path: str | os.PathLike[str]) -> Freshness:
    """Whether the result sheets of the workbook at ``path`` match its inputs (see the module).

    Raises what :func:`~xl_aiindex.workbook.io.load_workbook` raises when the inputs cannot
    be read (:class:`~xl_aiindex.errors.ProblemsFound`, :class:`UnreadableWorkbook`).
    """
    path = Path(path)
    loaded = load_workbook(path)
    current = inputs_hash(loaded.model)
    header, rows = _log_rows(path)
    reasons: list[str] = []
    if not rows:
        return Freshness(path, ("no run is recorded in Log: the result sheets were never "
                                "computed by xl-aiindex",), "", "", current)
    last = rows[-1]
    when = _get(header, last, "time")
    logged = _get(header, last, "inputs_hash")
    status = _get(header, last, "status")
    if status.lower() != "ok":
        reasons.append(f"the last run ({when}) did not recompute the results: status "
                       f"'{status or 'blank'}'")
    elif not logged:
        reasons.append(f"the last run ({when}) recorded no inputs hash (it predates "
                       "inputs_hash in Log): recalc once to record one")
    elif logged != current:
        reasons.append(f"the inputs changed since the last recalc ({when})")
    stored = loaded.stored
    if stored is not None:
        present = {key(n) for n in loaded.sheet_names}
        for k, fp in stored.sheets.items():
            if k != key(STORE_SHEET) and k not in present:
                reasons.append(f"sheet '{fp.sheet}' written by the last recalc is gone")
        edits = hand_edits(loaded, [])
        if edits:
            cells = ", ".join(f"{e.sheet}!{e.cell}" for e in edits[:LISTED_EDITS])
            more = f" and {len(edits) - LISTED_EDITS} more" if len(edits) > LISTED_EDITS else ""
            reasons.append(f"{len(edits)} result cell{'s' if len(edits) != 1 else ''} edited by "
                           f"hand since the last recalc: {cells}{more}")
    return Freshness(path, tuple(reasons), when, logged, current)
