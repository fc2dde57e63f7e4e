"""Read a workbook file and build its index: what ``validate`` does, and what every command
that reads a workbook starts with (:func:`load_workbook`, :func:`compute`), plus the hand-edit
check (:func:`hand_edits`).

Writing lives in two modules, re-exported here so existing imports keep working:
:mod:`xl_aiindex.workbook.files` (any output file: atomic replace, the lock, refusals) and
:mod:`xl_aiindex.workbook.writer` (the one write path for workbooks: ownership, hand edits,
fingerprints, splice, one Log row; :func:`recalc_file`).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from ..errors import (
    HandEditsFound,
    Problem,
    ProblemsFound,
    UnreadableWorkbook,
)
from ..model import IndexModel, IndexResult
from ..pipeline import build_index
from .calamine_source import CalamineSource
from .files import (  # noqa: F401  (re-exported: the file layer's old home)
    LOCK_SUFFIX,
    LOCK_WAIT,
    OUTPUT_SUFFIXES,
    TMP_SUFFIX,
    _fsync_folder,
    _is_macro_enabled,
    _os_reason,
    _try_lock,
    _unlock,
    atomic_write,
    check_file,
    check_output,
    excel_owner_file,
    guard_destination,
    lock_path,
    make_folder,
    remove_stale_temps,
    workbook_lock,
)
from .fingerprint import (
    STORE_SHEET,
    HandEdit,
    Stored,
    canonical_grid,
    canonical_spec_cell,
    find_edits,
    read_store,
)
from .formulas import output_mode, output_sheets
from .read import Locator, key, read_model
from .results import LOG_COLUMNS, problems_sheet
from .sheetspec import SheetSpec
from .source import unreadable_reason

#: Edited cells listed by name before the rest are only counted.
MAX_LISTED_EDITS = 20


@dataclass(frozen=True)
class Loaded:
    """A workbook's inputs, read: the model, where each input came from, notes, the old Log rows."""

    path: Path
    model: IndexModel
    locator: Locator
    notes: tuple[str, ...]
    #: the Log's rows below its header, the contract's columns only (by header)
    log_rows: tuple[tuple[Any, ...], ...]
    #: every sheet name of the workbook, in order
    sheet_names: tuple[str, ...] = ()
    #: the result-sheet fingerprints stored by the last recalc (None: none, or unreadable)
    stored: Stored | None = None
    #: the Log's header: column key -> 0-based column (empty: no Log, or no header)
    log_header: Mapping[str, int] = field(default_factory=dict)
    #: columns of the Log's header row, the user's own included
    log_width: int = 0


def log_table(values: Sequence[Sequence[Any]]
               ) -> tuple[dict[str, int], tuple[tuple[Any, ...], ...], int]:
    """The Log's header (key -> column), its rows as the contract's columns (by header,
    wherever the user moved them; a column it lacks reads as blank) and its header's width."""
    header: dict[str, int] = {}
    width = 0
    for c, v in enumerate(values[0] if values else []):
        k = key(v)
        if k:
            width = c + 1
        if k in LOG_COLUMNS and k not in header:
            header[k] = c
    rows = []
    for row in values[1:]:
        if not any(v is not None for v in row):
            continue
        rows.append(tuple(row[header[k]] if k in header and header[k] < len(row) else None
                          for k in LOG_COLUMNS))
    return header, tuple(rows), width


def load_workbook(path: str | os.PathLike[str]) -> Loaded:
    """Read the input sheets of the workbook at ``path``.

    Raises :class:`~xl_aiindex.errors.UnreadableWorkbook` (the file is not a workbook) or
    :class:`~xl_aiindex.errors.ProblemsFound` (every problem in the sheets, with cells).
    """
    source = CalamineSource(path)
    try:
        model, locator, notes = read_model(source)
        log_rows: tuple[tuple[Any, ...], ...] = ()
        log_header: dict[str, int] = {}
        log_width = 0
        log_name = next((n for n in source.sheet_names() if key(n) == "log"), None)
        if log_name is not None and source.kind(log_name) == "worksheet":
            log_header, log_rows, log_width = log_table(source.grid(log_name).values)
        names = tuple(source.sheet_names())
        store_name = next((n for n in names if key(n) == STORE_SHEET.lower()), None)
        stored = None if store_name is None else read_store(source.grid(store_name).values)
    finally:
        source.close()
    return Loaded(Path(path), model, locator, tuple(notes), log_rows, names, stored, log_header,
                  log_width)


def compute(loaded: Loaded) -> IndexResult:
    """Build the index of a loaded workbook; the engine's problems get their cells."""
    try:
        return build_index(loaded.model)
    except ProblemsFound as e:
        raise ProblemsFound([loaded.locator.locate(p) for p in e.problems]) from None


def validate_file(path: str | os.PathLike[str]) -> tuple[IndexResult, tuple[str, ...]]:
    """Check a workbook fully (reading and computing, writing nothing); returns result and notes.

    Checks everything :func:`recalc_file` would refuse too: result sheets that are not the
    tool's (a user's sheet, a chart sheet under a result sheet's name) and result cells edited
    by hand since the last recalc. Raises :class:`ProblemsFound` with every problem, each
    located in its sheet and cell.
    """
    loaded = load_workbook(path)
    result = compute(loaded)
    mode = output_mode(loaded.model.settings.output, None)
    results, _ = output_sheets(result, loaded.locator, loaded.path, mode)
    results = [r for r in results if key(r.name) != STORE_SHEET.lower()]
    stale = [problems_sheet(())] if any(key(n) == "problems" for n in loaded.sheet_names) else []
    problems = write_problems(loaded, [*results, *stale], appended=("Log",))
    problems += [Problem(e.sheet, e.cell, problem=e.message)
                 for e in hand_edits(loaded, [*results, *stale])]
    if not any(p.problem.startswith(f"sheet '{p.sheet}' is ") for p in problems):
        from .ooxml import check_splice

        try:   # what the writer itself would refuse (a table other formulas use…)
            check_splice(loaded.path, [*results, *stale],
                         appends=[log_append(loaded, {"time": "", "command": "validate"})])
        except (ValueError, zipfile.BadZipFile, ParseError) as e:
            problems.append(Problem("", problem=unreadable_reason(
                "the workbook", e, "recalc could not rewrite it")))
    if problems:
        raise ProblemsFound(problems)
    return result, loaded.notes + result.notes


# --------------------------------------------------------------------------------------------
# hand edits


def current_result_grids(path: Path, names: Sequence[str]) -> dict[str, list[list[str]]]:
    """The canonical cells (:func:`~xl_aiindex.workbook.fingerprint.canonical_grid`) of the
    sheets ``names`` of the workbook at ``path`` as they are now (formulas as ``=…`` text);
    keys are case-folded names; a missing sheet is left out."""
    import openpyxl

    wanted = {n.casefold() for n in names}
    out: dict[str, list[list[str]]] = {}
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as e:
        raise UnreadableWorkbook(str(path), unreadable_reason(
            "the workbook", e, failed="cannot be read as a workbook")) from e
    from .calamine_source import _sheet_parts, check_extent

    try:
        parts = _sheet_parts(path)
        for name in book.sheetnames:
            k = name.strip().casefold()
            if k not in wanted or k in out:
                continue
            part = parts.get(name)
            if part is not None:   # the real extent first: never iterate a hostile grid
                with zipfile.ZipFile(path) as z:
                    check_extent(path, name, z.read(part))
            ws = book[name]
            ws.reset_dimensions()
            try:
                out[k] = canonical_grid(ws.iter_rows(values_only=True))
            except Exception as e:
                raise UnreadableWorkbook(str(path), unreadable_reason(f"sheet '{name}'", e)) \
                    from e
    finally:
        book.close()
    return out


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
    new = {} if sheets is None else {s.name.strip().casefold(): s for s in sheets}
    order = [k for k in stored.sheets if k != STORE_SHEET.casefold()] if sheets is None else \
        [k for k in new if k in stored.sheets]
    current = current_result_grids(loaded.path, [stored.sheets[k].sheet for k in order])
    edits: list[HandEdit] = []
    for k in order:
        if k not in current:      # the sheet was deleted: nothing of it to lose
            continue
        spec = new.get(k)
        grid = None if spec is None else [[canonical_spec_cell(c) for c in row]
                                          for row in spec.rows]
        edits.extend(find_edits(stored.sheets[k], current[k], grid))
    return edits


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
        problems.append(Problem("", problem=f"{len(rest)} more cell{'s' if len(rest) != 1 else ''}"
                                            f" edited by hand since the last recalc ({where}): "
                                            "recalc would overwrite them; use --force to "
                                            "overwrite"))
    raise HandEditsFound(problems, len(edits))


# the write path's old home: re-exported (imported last: the writer imports this module's
# readers lazily)
from .writer import (  # noqa: E402,F401
    log_append,
    log_row,
    merged_store,
    recalc_file,
    run_time,
    store_after,
    write_problems,
    write_sheets,
)
