"""Result cells edited by hand since the tool last wrote them: what ``recalc``, ``validate``,
``uncertainty`` and ``recalc --check`` compare before anything is overwritten.

The result sheets are read with the same fast reader (python-calamine), from the same opened
package, as the inputs (:func:`~xl_aiindex.workbook.io.load_workbook` keeps both in
:class:`~xl_aiindex.workbook.io.Loaded`): the check costs what reading those sheets costs,
and the file is not opened again. The comparison itself is
:func:`~xl_aiindex.workbook.fingerprint.find_edits`.

Most sheets are not read at all (issue 20: a second recalc costs what the first does): the store
keeps the CRC-32 and size of the zip entry each result sheet was written to
(:class:`~xl_aiindex.workbook.fingerprint.PartSum`), and a sheet whose entry still has them, as
the zip's central directory says without unpacking anything, is byte for byte what was written,
so none of its cells was edited (:func:`written_unchanged`). Excel, LibreOffice or any other
program that saves the workbook rewrites the entries; then the sheets are read and compared as
before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..contract import LOG_COLUMNS, STORE_SHEET, key
from ..errors import HandEditsFound, Problem
from ..i18n import ngettext
from .calamine_source import CalamineSource
from .canonical import canonical_grid, read_blocks, spec_rows
from .fingerprint import (
    HandEdit,
    PartSum,
    blocks_digest,
    find_edits,
    fingerprint_sheet,
)
from .sheetspec import SheetSpec

if TYPE_CHECKING:
    from .book import Loaded

#: Edited cells listed by name before the rest are only counted.
MAX_LISTED_EDITS = 20


def _result_sheets(reader: CalamineSource, names: Sequence[str]) -> list[tuple[str, str]]:
    """(case-folded name, name in the workbook) of each of the sheets ``names`` that is a
    worksheet of ``reader``'s workbook (the first of a name), in the workbook's order."""
    wanted = {key(n) for n in names}
    out: dict[str, str] = {}
    for name in reader.sheet_names():
        k = key(name)
        if k in wanted and k not in out and reader.kind(name) == "worksheet":
            out[k] = name
    return list(out.items())


def _values(reader: CalamineSource, name: str) -> list[list[Any]]:
    """Sheet ``name``'s values as read, formulas as their ``=…`` text."""
    grid = reader.grid(name)   # the extent is checked first: never a hostile grid
    rows: list[list[Any]] = grid.values
    if grid.formulas:
        rows = [list(row) for row in rows]
        for (r, c), formula in reader.formula_texts(name).items():
            if r < len(rows) and c < len(rows[r]):
                rows[r][c] = formula
    return rows


def current_result_grids(reader: CalamineSource, names: Sequence[str], legacy: bool = False
                         ) -> dict[str, list[list[str]]]:
    """The canonical cells (:func:`~xl_aiindex.workbook.canonical.canonical_grid`) of the
    sheets ``names`` of the workbook ``reader`` reads, as they are now (formulas as ``=…``
    text); keys are case-folded names; a missing sheet, or one that is not a worksheet, is
    left out. ``legacy``: numbers rounded as stores of format 1 rounded them."""
    # calamine decodes Excel's _xHHHH_ escapes itself (formula text is left as written)
    return {k: canonical_grid(_values(reader, name), legacy, decoded=True)
            for k, name in _result_sheets(reader, names)}


def _when(value: Any) -> datetime | None:
    """A Log time as an aware datetime (naive ones are local time); None if it is none."""
    if isinstance(value, datetime):
        t = value
    else:
        try:
            t = datetime.fromisoformat(str(value if value is not None else "").strip())
        except ValueError:
            return None
    try:
        return t if t.tzinfo is not None else t.astimezone()
    except (OverflowError, OSError, ValueError):
        return None


def stale_store(loaded: Loaded) -> bool:
    """Whether the stored fingerprints are out of date: a run logged after the one that stored
    them rewrote the result sheets (a Log row with a later time and status ``ok``: an older
    version or another program that keeps no fingerprints). The Log's shape does not matter:
    rows deleted, sorted or edited by the user change nothing."""
    stored = loaded.stored
    if stored is None:
        return True
    since = _when(stored.log_time)
    if since is None:
        return False
    status = LOG_COLUMNS.index("status")
    for row in loaded.log_rows:
        t = _when(row[0])
        if t is not None and t > since and key(row[status]) == "ok":
            return True
    return False


def hand_edits(loaded: Loaded, sheets: Sequence[SheetSpec] | None) -> list[HandEdit]:
    """The cells of ``sheets`` (what is about to be written; None: every sheet the store has a
    fingerprint of) edited in ``loaded``'s workbook since the tool last wrote them (empty when
    no fingerprint is stored, or it is stale: :func:`stale_store`), in the order of ``sheets``,
    then by row and column."""
    stored = loaded.stored
    if stored is None or stale_store(loaded):
        return []
    new = {} if sheets is None else {key(s.name): s for s in sheets}
    order = [k for k in stored.sheets if k != key(STORE_SHEET)] if sheets is None else \
        [k for k in new if k in stored.sheets]
    reader = loaded.reader()
    present = dict(_result_sheets(reader, [stored.sheets[k].sheet for k in order]))
    edits: list[HandEdit] = []
    for k in order:
        if k not in present:      # the sheet was deleted: nothing of it to lose
            continue
        if k in stored.sums and written_unchanged(loaded, present[k], stored.sums[k]):
            continue              # byte for byte what was written: nothing to read
        written = stored.sheets[k]
        # one sheet at a time, and its digest first, a column of numbers formatted at once:
        # the cells are kept as text only when the sheet has changed (the rare case)
        values = _values(reader, present[k])
        if blocks_digest(read_blocks(values, stored.legacy, decoded=True)) == written.digest:
            continue              # unchanged: the usual case, no need to know what is new
        current = canonical_grid(values, stored.legacy, decoded=True)
        del values
        spec = new.get(k)
        grid = None if spec is None else [list(row) for row in spec_rows(spec, stored.legacy)]
        # the new sheet's fingerprint, computed once: the store written next reuses it
        fresh = None if spec is None or stored.legacy else fingerprint_sheet(spec)
        edits.extend(find_edits(written, current, grid, fresh=fresh))
    return edits


def written_unchanged(loaded: Loaded, name: str, sums: PartSum) -> bool:
    """Whether sheet ``name``'s zip entry has the CRC-32 and size (from the zip's central
    directory: nothing unpacked) of the entry the tool wrote: then its cells are those the
    stored fingerprint was computed from, and no cell of it was edited."""
    found = loaded.package.part_sums(name)
    return found is not None and found == (sums.crc, sums.size)


def check_hand_edits(loaded: Loaded, sheets: Sequence[SheetSpec]) -> None:
    """Raise :class:`HandEditsFound` listing the edited result cells (at most
    :data:`MAX_LISTED_EDITS`, then one line counting the rest), if any."""
    edits = hand_edits(loaded, sheets)
    if not edits:
        return
    problems = [Problem(e.sheet, e.cell, problem=e.message) for e in edits[:MAX_LISTED_EDITS]]
    rest = edits[MAX_LISTED_EDITS:]
    if rest:
        where = ", ".join(dict.fromkeys(e.sheet for e in rest))
        problems.append(Problem("", problem=ngettext(
            "{count} more cell edited by hand since the last recalc ({sheets}): recalc would "
            "overwrite them; use --force to overwrite",
            "{count} more cells edited by hand since the last recalc ({sheets}): recalc would "
            "overwrite them; use --force to overwrite", len(rest)).format(count=len(rest),
                                                                          sheets=where)))
    raise HandEditsFound(problems, len(edits))
