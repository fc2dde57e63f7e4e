"""The one write path for workbooks: every command that writes sheets into a workbook
(``recalc``, ``uncertainty``, ``audit``, ``compare-editions``, ``excel``) goes through here.

A write, in order (:func:`update_workbook`, :func:`write_results`):

1. **Guards** (:func:`~xl_aiindex.workbook.files.guard_destination`), before anything is read:
   a source that is not a regular file; a destination that is not a regular file, is
   read-only, is open in Excel or LibreOffice, or whose suffix does not fit the content.
   A symbolic link is written through.
2. **The lock** of the destination, held from the read to the replace.
3. **Ownership** (:mod:`xl_aiindex.workbook.ownership`): a sheet of the name of one to be
   written that the tool did not write is refused, naming it and a cell it holds, unless
   ``force``; a chart sheet under such a name always.
4. **Hand edits**: result cells edited since the tool last wrote them are refused (listed),
   unless ``force``.
5. **Fingerprints** of what is written join the store sheet
   (:mod:`xl_aiindex.workbook.fingerprint`).
6. **Splice** (:func:`~xl_aiindex.workbook.ooxml.splice_sheets`): only those sheets (and the
   few shared parts listing them) change; every other part is copied byte for byte.
7. **Atomic replace** (:func:`~xl_aiindex.workbook.files.atomic_write`).
8. **Exactly one Log row** per run, appended in place.

A refusal writes nothing: the destination is byte-identical afterwards.
"""

from __future__ import annotations

import dataclasses
import io as _bytes_io
import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from xml.etree.ElementTree import ParseError

from .. import __version__
from ..contract import LOG, LOG_COLUMNS, LOG_WIDTHS, has_problems_sheet, key
from ..errors import Problem, ProblemsFound, UnsafeWrite
from ..i18n import _
from ..model import IndexResult
from ..staleness import inputs_hash
from .background import InBackground
from .files import LOCK_WAIT, atomic_write, check_output, guard_destination, workbook_lock
from .fingerprint import (
    STORE_SHEET,
    PartSum,
    SheetFingerprint,
    Stored,
    fingerprint_grid,
    result_fingerprint,
    store_sheet,
)
from .formulas import output_mode, output_sheets, panel_output_mode
from .ooxml import OWNED_PREFIX, FinishLast, RowAppend, sheet_names, splice_sheets
from .results import problems_sheet
from .sheetspec import SheetSpec
from .source import unreadable_reason

if TYPE_CHECKING:
    from .book import Loaded

T = TypeVar("T")


def run_time() -> datetime:
    """Now with the local UTC offset, or ``SOURCE_DATE_EPOCH`` (UTC) when set (reproducible
    builds of the shipped workbooks)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now().astimezone()


# --------------------------------------------------------------------------------------------
# the one write path


@dataclass(frozen=True)
class Update(Generic[T]):
    """What a command computed from a loaded workbook and writes back into it.

    ``value``: what the command returns to its caller (an index result, an audit…);
    ``sheets``: the sheets to write; ``log``: the Log row's fields beyond ``time``,
    ``command``, ``version`` and ``file`` (``input``, ``units``, ``status``, ``notes``,
    ``inputs_hash``: the latter also recorded in the store, as the inputs the sheets come from);
    ``defined_names``: the ``xlai_`` names to leave (None: names untouched);
    ``names_prefix``: the prefix of the names this write owns (``xlai_``; ``excel --lite``
    owns ``AI_``, which ``recalc`` never touches).
    """

    value: T
    sheets: Sequence[SheetSpec]
    log: Mapping[str, Any]
    defined_names: Mapping[str, str] | None = None
    names_prefix: str = OWNED_PREFIX


def update_workbook(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None,
                    build: Callable[[Loaded], Update[T]], *, command: str,
                    force: bool = False, wait: float = LOCK_WAIT, log: bool = True,
                    written: list[str] | None = None) -> T:
    """Read the workbook at ``src``, let ``build`` compute what to write, and write it into a
    copy of ``src`` at ``dst`` (None: in place) by :func:`write_results`, under ``dst``'s lock
    and after the guards (module docstring). Returns ``build``'s value; ``written`` gets the
    names of the sheets written (for messages). Raises :class:`UnsafeWrite` (refused
    destination), :class:`ProblemsFound` (a sheet that is not the tool's, hand edits, the
    inputs' problems), :class:`~xl_aiindex.errors.WriteFailed` (the system refused the write);
    nothing is written in each case."""
    from .book import load_workbook

    src_path = Path(src)
    dst_path = Path(dst) if dst is not None else src_path
    guard_destination(src_path, dst_path, check_macros=False)
    if dst_path.is_symlink():   # the lock and the write belong to the file the link points at
        dst_path = Path(os.path.realpath(dst_path))
    with workbook_lock(dst_path, wait):
        loaded = load_workbook(src_path)   # the one read of the file: everything below uses it
        check_output(src_path, dst_path, macros=loaded.package.is_macro_enabled())
        update = build(loaded)
        names = write_results(loaded, dst_path, update.sheets, command=command, force=force,
                              log_entry=update.log, log=log,
                              defined_names=update.defined_names, wait=wait,
                              names_prefix=update.names_prefix)
    if written is not None:
        written.extend(names)
    return update.value


def write_results(loaded: Loaded, dst: Path, sheets: Sequence[SheetSpec], *, command: str,
                  log_entry: Mapping[str, Any], force: bool = False, log: bool = True,
                  defined_names: Mapping[str, str] | None = None,
                  wait: float = LOCK_WAIT, names_prefix: str = OWNED_PREFIX) -> list[str]:
    """Write ``sheets`` into a copy of ``loaded``'s workbook at ``dst`` (the caller holds
    ``dst``'s lock and has guarded it: :func:`update_workbook`): ownership and hand edits
    checked (unless ``force``), fingerprints stored (with the run's time and the
    ``inputs_hash`` of ``log_entry``, if any), spliced, replaced atomically, and one Log row
    appended from ``log_entry`` (``log=False``: none; a Log with only a header is made when
    the workbook has none). Returns the names of the sheets written, the Log last."""
    problems = write_problems(loaded, sheets, appended=(LOG,), force=force, verb=command)
    if problems:
        raise ProblemsFound(problems)
    previous = loaded.stored.sheets if loaded.stored is not None else None
    # the new sheets' fingerprints, on another core while this one checks and writes them
    with InBackground(lambda: result_fingerprint(sheets, previous),
                      worth_it=sum(len(s.rows) * s.n_cols for s in sheets) >= BACKGROUND_CELLS
                      ) as fingerprints:
        return _write_checked(loaded, dst, sheets, fingerprints, command=command,
                              log_entry=log_entry, force=force, log=log,
                              defined_names=defined_names, wait=wait,
                              names_prefix=names_prefix)


#: Result cells from which a write computes their fingerprints in a forked child, beside
#: writing them (:mod:`~xl_aiindex.workbook.background`): below, forking costs more than it saves.
BACKGROUND_CELLS = 100_000


def _write_checked(loaded: Loaded, dst: Path, sheets: Sequence[SheetSpec],
                   fingerprints: InBackground[list[SheetFingerprint]], *, command: str,
                   log_entry: Mapping[str, Any], force: bool, log: bool,
                   defined_names: Mapping[str, str] | None, wait: float,
                   names_prefix: str) -> list[str]:
    """:func:`write_results` once the sheets may be written: hand edits checked (unless
    ``force``), then the splice, whose store sheet is finished with ``fingerprints``."""
    if not force:
        from .hand_edits import check_hand_edits

        check_hand_edits(loaded, sheets)
    now = run_time().isoformat(timespec="seconds")
    entry = {"time": now, "command": command, "version": __version__, "file": loaded.path.name,
             **log_entry}
    appends: list[RowAppend] = []
    if log:
        appends.append(log_append(loaded, entry))
    elif not any(key(n) == key(LOG) for n in loaded.sheet_names):
        appends.append(RowAppend(LOG, {}, dict(enumerate(LOG_COLUMNS)),
                                 {i: LOG_WIDTHS.get(k, 12.0) for i, k in enumerate(LOG_COLUMNS)}))
    hash_ = str(entry["inputs_hash"]) if entry.get("inputs_hash") else None
    # stands in for the store while the others are written (its fingerprints not yet known)
    store = merged_store(loaded, sheets, now, hash_, fingerprints=[])

    def finished_store(sums: Mapping[str, tuple[int, int]]) -> SheetSpec:
        # the store with the new sheets' fingerprints and the zip sums of the sheets as just
        # written: the next run skips reading a sheet whose entry still has them
        return merged_store(loaded, sheets, now, hash_, part_sums(sums),
                            fingerprints=fingerprints.result())

    write_sheets(loaded.path, dst, [*sheets, store], defined_names,
                 very_hidden=_store_hidden(loaded.sheet_names), wait=wait, appends=appends,
                 data=loaded.package.data, names_prefix=names_prefix,
                 finish_last=finished_store)
    return [*(s.name for s in sheets), *(a.sheet for a in appends)]


def _store_hidden(sheet_names: Sequence[str]) -> tuple[str, ...]:
    """The store sheet is made very hidden when this write adds it (an existing one keeps its
    state)."""
    return () if any(key(n) == key(STORE_SHEET) for n in sheet_names) else (STORE_SHEET,)


def write_problems(loaded: Loaded, sheets: Sequence[SheetSpec], appended: Sequence[str] = (),
                   *, force: bool = False, verb: str = "recalc") -> list[Problem]:
    """What refuses writing ``sheets`` (and appending to ``appended``) into ``loaded``'s
    workbook: a chart or other non-worksheet under one of their names (always), a sheet the
    tool did not write (unless ``force``): :mod:`xl_aiindex.workbook.ownership`."""
    from .ownership import kind_problems, ownership_problems

    kinds = loaded.package.kinds()
    problems = kind_problems(kinds, [*(s.name for s in sheets), *appended], verb)
    if problems or force:
        return problems
    return ownership_problems(loaded.reader(), sheets, loaded.sheet_names, loaded.stored, verb)


def skip_optional_sheets(loaded: Loaded, sheets: Sequence[SheetSpec], force: bool = False
                         ) -> tuple[list[SheetSpec], list[str]]:
    """``sheets`` without the optional result sheets (Charts, Compare, GroupRanking,
    Treatment) whose name a sheet of the user's in ``loaded``'s workbook has, and a note for
    each saying how to get it (:func:`~xl_aiindex.workbook.ownership.skip_optional`);
    ``force`` replaces a worksheet of the user's, as it does a core sheet."""
    from .ownership import skip_optional

    return skip_optional(loaded.package.kinds(), lambda name: loaded.reader().grid(name).values,
                         sheets, loaded.sheet_names, loaded.stored, loaded.model.settings,
                         force)


# --------------------------------------------------------------------------------------------
# recalc


def recalc_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None,
                command: str = "recalc", output: str | None = None, *, force: bool = False,
                wait: float = LOCK_WAIT, log: bool = True,
                written: list[str] | None = None) -> IndexResult:
    """Recompute the workbook at ``src`` and write its result sheets to ``dst`` (None: in place).
    ``written``: a list that gets the names of the sheets written, in order (for messages).

    Only the result sheets (Scores, Ranking, Tiers, WeightsUsed) are rewritten and one row is
    appended to Log (its other rows, columns, comments and formulas kept: the sheet's XML is
    edited, never rewritten); input sheets are never written. The output is written to a
    temporary file in the destination folder and moved into place atomically: on any failure
    the destination is left as it was. Raises :class:`ProblemsFound` (nothing written) when
    the inputs have problems or a sheet to be replaced is not the tool's
    (:mod:`xl_aiindex.workbook.ownership`; ``force`` replaces a user's sheet),
    :class:`UnsafeWrite` when the workbook is open in Excel or LibreOffice, read-only, or the
    destination's suffix does not fit the content. ``output``: ``values`` or ``formulas``
    (live formulas with cached values, plus the helper sheets Calc and CalcStats and the
    ``xlai_`` defined names: :mod:`xl_aiindex.workbook.formulas`); None takes the Settings
    value. ``log=False`` writes no Log row (the build of the shipped workbooks).

    The destination's lock is held from the read to the write (a second recalc of the same file
    waits up to ``wait`` seconds, then raises :class:`WorkbookBusy`). Result cells edited by
    hand since the last recalc raise :class:`HandEditsFound` (nothing written) unless
    ``force``; the fingerprints of what is written are stored in the very hidden sheet
    ``_xl_aiindex`` (:mod:`xl_aiindex.workbook.fingerprint`).
    """
    src_path = Path(src)

    def build(loaded: Loaded) -> Update[IndexResult]:
        from .book import compute

        result = compute(loaded)
        notes = loaded.notes + result.notes
        mode, unavailable = panel_output_mode(
            result, output_mode(loaded.model.settings.output, output))
        notes = (*notes, *unavailable)
        results, names = output_sheets(result, loaded.locator, src_path, mode,
                                       loaded.sheet_names)
        results = [r for r in results if key(r.name) != key(STORE_SHEET)]
        # an extra (Charts…) whose name a sheet of the user's has is skipped, with a note
        results, skipped = skip_optional_sheets(loaded, results, force)
        notes = (*notes, *skipped)
        stale = stale_problems(loaded.sheet_names)
        entry = {"input": loaded.model.settings.input, "units": int(len(result.scores)),
                 "status": "ok", "notes": "; ".join(notes),
                 "inputs_hash": inputs_hash(loaded.model)}
        # what reading did on the user's behalf (text read as numbers…) is news too
        return Update(dataclasses.replace(result, notes=notes), [*results, *stale], entry, names)

    return update_workbook(src, dst, build, command=command, force=force, wait=wait, log=log,
                           written=written)


# --------------------------------------------------------------------------------------------
# the Log and the store


def stale_problems(sheet_names: Sequence[str]) -> list[SheetSpec]:
    """The sheets a run that computes results adds to what it writes for a Problems sheet an
    earlier validation left (it would now be wrong: it is emptied): ``[the empty Problems
    sheet]`` when ``sheet_names`` has one, ``[]`` otherwise. Used by recalc, validate and the
    macros."""
    return [problems_sheet(())] if has_problems_sheet(sheet_names) else []


def log_append(loaded: Loaded, entry: Mapping[str, Any]) -> RowAppend:
    """The Log row of ``entry``, placed by the Log's own header (columns the user moved or
    added stay as they are; a contract column the Log lacks is added after its last one)."""
    return log_row(loaded.log_header, loaded.log_width, entry)


def log_row(log_header: Mapping[str, int], log_width: int, entry: Mapping[str, Any]
            ) -> RowAppend:
    """:func:`log_append` over the Log's header as :func:`~xl_aiindex.workbook.io.log_table`
    reads it (``log_header``: contract column -> 0-based column; ``log_width``: columns of its
    header row), whatever read it (a file, or the macros' Excel book)."""
    header = dict(log_header)
    extra: dict[int, str] = {}
    nxt = max(header.values(), default=-1) + 1
    if log_header:
        # after every column the user has in row 1, not over one of them
        nxt = max(nxt, log_width)
    for k in LOG_COLUMNS:
        if k not in header:
            header[k] = nxt
            extra[nxt] = k
            nxt += 1
    cells = {header[k]: entry.get(k) for k in LOG_COLUMNS if entry.get(k) not in (None, "")}
    widths = {i: LOG_WIDTHS.get(k, 12.0) for i, k in enumerate(LOG_COLUMNS)}
    return RowAppend(LOG, cells, extra, widths)


def merged_store(loaded: Loaded, written: Sequence[SheetSpec], log_time: str | None,
                 inputs_hash: str | None = None,
                 sums: Mapping[str, PartSum] | None = None, *,
                 fingerprints: Sequence[SheetFingerprint] | None = None) -> SheetSpec:
    """The store sheet after writing ``written``: their fingerprints, and the stored ones of
    the other tool sheets still in the workbook (another command wrote them); ``log_time``:
    the time of the Log row written with it (None: keep the stored one); ``inputs_hash``: of
    the inputs the result sheets now come from (None: keep the stored one); ``sums``: the zip
    sums of the entries ``written`` went to (:func:`part_sums`); ``fingerprints``: those of
    ``written`` when already computed (None: computed here)."""
    return store_after(loaded.stored, loaded.sheet_names, len(loaded.log_rows) + 1, written,
                       log_time, inputs_hash, sums=sums, fingerprints=fingerprints)


def part_sums(sums: Mapping[str, tuple[int, int]]) -> dict[str, PartSum]:
    """The splice's (CRC-32, size) of each sheet's entry by sheet name, as the store keeps them
    (case-folded names)."""
    return {key(name.strip()): PartSum(crc, size) for name, (crc, size) in sums.items()}


def store_after(stored: Stored | None, sheet_names: Sequence[str], log_rows: int,
                written: Sequence[SheetSpec], log_time: str | None,
                inputs_hash: str | None = None,
                extra: Sequence[SheetFingerprint] = (), *,
                sums: Mapping[str, PartSum] | None = None,
                fingerprints: Sequence[SheetFingerprint] | None = None) -> SheetSpec:
    """:func:`merged_store` over what any reader found: ``stored`` (the store as read, None:
    none), the workbook's ``sheet_names``, and ``log_rows``, the Log's rows after this write;
    ``extra``: fingerprints of sheets written other than as a :class:`SheetSpec`; ``sums``:
    the zip sums of the entries the sheets ``written`` went to (by case-folded name; a sheet
    kept from ``stored`` keeps its own: its entry is copied unchanged); ``fingerprints``:
    those of ``written`` when already computed."""
    # a sheet rewritten unchanged (the usual second run) keeps its stored fingerprint
    fps = list(fingerprints) if fingerprints is not None else \
        result_fingerprint(written, stored.sheets if stored is not None else None)
    new = {key(fp.sheet) for fp in [*fps, *extra]}
    present = {key(n) for n in sheet_names}
    kept_sums: dict[str, PartSum] = {}
    if stored is not None:
        kept = [(k, fp) for k, fp in stored.sheets.items() if k not in new and k in present]
        fps = [*fps, *(fp for _, fp in kept)]
        kept_sums = {k: stored.sums[k] for k, _ in kept if k in stored.sums}
    fps = [*fps, *extra]   # after the kept ones: a store copied whole stays its first rows
    if log_time is None:
        log_time = stored.log_time if stored is not None else ""
    if inputs_hash is None:
        inputs_hash = stored.inputs_hash if stored is not None else ""
    written_sums = {k: v for k, v in (sums or {}).items() if k in new}
    return store_sheet(fps, log_rows=log_rows, log_time=log_time, inputs_hash=inputs_hash,
                       sums={**kept_sums, **written_sums})


# --------------------------------------------------------------------------------------------
# splicing


def write_sheets(src: Path, dst: Path, sheets: Sequence[SheetSpec],
                 defined_names: Mapping[str, str] | None = None, *,
                 very_hidden: Sequence[str] = (), wait: float = LOCK_WAIT,
                 appends: Sequence[RowAppend] = (), data: bytes | None = None,
                 names_prefix: str = OWNED_PREFIX,
                 finish_last: FinishLast | None = None) -> None:
    """Write ``sheets`` into a copy of ``src`` at ``dst``, atomically and surgically: every part
    of the package but the result sheets (and the few shared parts that list them) is copied
    byte for byte (:mod:`xl_aiindex.workbook.ooxml`). ``defined_names``: the ``xlai_`` names
    to leave in the workbook (None: names untouched); with any, Excel recalculates on open.

    ``very_hidden``: names of sheets appended by this write to be made very hidden;
    ``appends``: rows appended to sheets in place (the Log). Raises :class:`WriteFailed` (the
    system refused the write),
    :class:`WorkbookBusy` (another writer holds the lock past ``wait`` seconds) or
    :class:`UnsafeWrite` (a package the surgical writer cannot rewrite); in each case ``dst``
    is left as it was. A low-level step: commands write through :func:`update_workbook`.
    ``data``: ``src``'s bytes as already read (the package opened once); None reads ``src``.
    ``finish_last``: builds the last of ``sheets`` from the zip sums of the others as written
    (:func:`~xl_aiindex.workbook.ooxml.splice_sheets`).
    """

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            try:
                source = src if data is None else _bytes_io.BytesIO(data)
                splice_sheets(source, fh, sheets, defined_names=defined_names,
                              full_calc_on_load=bool(defined_names), very_hidden=very_hidden,
                              appends=appends, owned_prefix=names_prefix,
                              finish_last=finish_last)
            except (ValueError, zipfile.BadZipFile, ParseError) as e:   # refused by the splicer
                raise UnsafeWrite(_("{path}: {reason}; the workbook was not changed").format(
                    path=src, reason=unreadable_reason(_("the workbook"), e,
                                                       _("cannot be rewritten")))) from e

    atomic_write(dst, write, wait=wait)


# --------------------------------------------------------------------------------------------
# a workbook built whole (``excel``): the same ownership, store and Log rules


def check_replaced(loaded: Loaded, names: Sequence[str], *, command: str,
                   force: bool = False) -> None:
    """Refuse (:class:`ProblemsFound`) a build that replaces the sheets ``names`` of
    ``loaded``'s workbook when one of them is not a worksheet, or was not written by the tool
    (unless ``force``): the ownership rule of :func:`write_results`, for a writer that builds
    the whole package (``excel``)."""
    problems = write_problems(loaded, [SheetSpec(n, []) for n in names], (LOG,), force=force,
                              verb=command)
    if problems:
        raise ProblemsFound(problems)


def finish_package(loaded: Loaded, package: bytes, built: Sequence[str],
                   sheets: Sequence[SheetSpec] = (), *, command: str,
                   log_entry: Mapping[str, Any], log: bool = True) -> bytes:
    """A package built whole from ``loaded``'s workbook (``excel``), finished as
    :func:`write_results` finishes a write: ``sheets`` spliced in, the fingerprints of the
    sheets ``built`` (as read back from ``package``) and of ``sheets`` stored with those of
    the tool sheets it kept, and one Log row from ``log_entry`` (``log=False``: none).
    Returns the finished package's bytes."""
    from .calamine_source import CalamineSource
    from .hand_edits import current_result_grids
    from .package import Package

    # the package just built, read back from memory (it is checked as any input is)
    with Package(loaded.path, data=package) as opened:
        reader = CalamineSource(opened)
        try:
            grids = current_result_grids(reader, built)
        finally:
            reader.close()
    fps = [fingerprint_grid(n, grids[key(n)]) for n in built if key(n) in grids]
    now = run_time().isoformat(timespec="seconds")
    appends = [] if not log else [log_append(loaded, {
        "time": now, "command": command, "version": __version__, "file": loaded.path.name,
        **log_entry})]
    names = sheet_names(_bytes_io.BytesIO(package))
    # without a Log row the store keeps its time: the same inputs give the same bytes
    log_rows = len(loaded.log_rows) + 1 if appends or loaded.stored is None \
        else loaded.stored.log_rows
    store = store_after(loaded.stored, names, log_rows, sheets, now if appends else None, None,
                        fps)

    def finished_store(sums: Mapping[str, tuple[int, int]]) -> SheetSpec:
        return store_after(loaded.stored, names, log_rows, sheets, now if appends else None,
                           None, fps, sums=part_sums(sums))

    out = _bytes_io.BytesIO()
    try:
        splice_sheets(_bytes_io.BytesIO(package), out, [*sheets, store],
                      very_hidden=_store_hidden(names), appends=appends,
                      finish_last=finished_store)
    except (ValueError, zipfile.BadZipFile, ParseError) as e:
        raise UnsafeWrite(_("{path}: {reason}; nothing was written").format(
            path=loaded.path, reason=unreadable_reason(_("the workbook"), e,
                                                       _("cannot be rewritten")))) from e
    return out.getvalue()

