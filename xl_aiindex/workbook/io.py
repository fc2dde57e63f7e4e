"""Read a workbook file, build its index, write the result sheets back: what ``recalc`` and
``validate`` do, file handling included (atomic replace, refusing to lose anything).

What a write guarantees (:func:`recalc_file`, :func:`write_sheets`, :func:`atomic_write`):

* **Atomic.** The new package is written to a temporary file beside the destination
  (``.NAME.XXXXXXXX.xl-aiindex.tmp``), flushed to disk, then renamed over it: whatever happens
  (an error, a full disk, the process killed), the destination is the old file or the
  complete new one. Temporary files left by a killed run are removed by the next write of the
  same destination, under its lock (so they provably belong to no running writer).
* **Locked.** A write holds a lock beside the destination (``.NAME.xl-aiindex.lock``;
  ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows; the operating system releases it
  when a process dies) for the whole read–compute–write of a recalc. A second writer waits up
  to ``wait`` seconds (:data:`LOCK_WAIT`), then gives up with
  :class:`~xl_aiindex.errors.WorkbookBusy`.
* **Errors say what happened.** A full disk or a refused permission raises
  :class:`~xl_aiindex.errors.WriteFailed` ("cannot write: no space left on device; the
  workbook was not changed"); a package the surgical writer cannot rewrite safely raises
  :class:`~xl_aiindex.errors.UnsafeWrite`.
* **Only the tool's own sheets are replaced.** A sheet with a result sheet's name that the
  tool did not write (no fingerprint; not empty or header-only) is refused, naming it
  (:mod:`xl_aiindex.workbook.ownership`), unless ``force``; the Log is appended to in place
  (:class:`~xl_aiindex.workbook.ooxml.RowAppend`), never rewritten.
* **Hand edits are not lost silently.** A recalc compares the result sheets with the
  fingerprint stored when they were written (:mod:`xl_aiindex.workbook.fingerprint`) and
  refuses, listing the edited cells (:class:`~xl_aiindex.errors.HandEditsFound`), unless
  ``force``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from .. import __version__
from ..errors import (
    Problem,
    ProblemsFound,
    UnreadableWorkbook,
    UnsafeWrite,
    WorkbookBusy,
    WriteFailed,
)
from ..model import IndexModel, IndexResult
from ..pipeline import build_index
from ..staleness import inputs_hash
from .calamine_source import CalamineSource
from .fingerprint import (
    STORE_SHEET,
    Stored,
    read_store,
    result_fingerprint,
    store_sheet,
)
from .formulas import output_mode, output_sheets
from .hand_edits import MAX_LISTED_EDITS as MAX_LISTED_EDITS  # the check lived here
from .hand_edits import _when as _when
from .hand_edits import check_hand_edits, hand_edits
from .hand_edits import current_result_grids as current_result_grids
from .hand_edits import stale_store as stale_store
from .ooxml import RowAppend, splice_sheets
from .package import Package
from .read import Locator, key, read_model
from .results import LOG_COLUMNS, LOG_WIDTHS, problems_sheet
from .sheetspec import SheetSpec
from .source import unreadable_reason

#: Seconds a write waits for another xl-aiindex writing the same workbook (``--wait``).
LOCK_WAIT = 30.0
#: Suffix of the temporary files :func:`atomic_write` writes beside the destination.
TMP_SUFFIX = ".xl-aiindex.tmp"


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
    #: the reader the inputs were read with, over the package opened once: the ownership and
    #: hand-edit checks read the result sheets from it (None: reopen ``path``)
    source: CalamineSource | None = field(default=None, compare=False, repr=False)

    @property
    def package(self) -> Package:
        """The workbook's package, opened and checked once by :func:`load_workbook`."""
        return self.reader().package

    def reader(self) -> CalamineSource:
        """The reader of this workbook (the one :func:`load_workbook` read the inputs with)."""
        if self.source is None:
            object.__setattr__(self, "source", CalamineSource(Package(self.path)))
        assert self.source is not None
        return self.source


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

    The file is opened once (:class:`~xl_aiindex.workbook.package.Package`); the returned
    :class:`Loaded` keeps the package and its reader, so the checks before a write (ownership,
    hand edits) read from them instead of opening the file again.

    Raises :class:`~xl_aiindex.errors.UnreadableWorkbook` (the file is not a workbook) or
    :class:`~xl_aiindex.errors.ProblemsFound` (every problem in the sheets, with cells).
    """
    package = Package(path)
    try:
        source = CalamineSource(package)
    except BaseException:
        package.close()
        raise
    try:
        model, locator, notes = read_model(source)
        log_rows: tuple[tuple[Any, ...], ...] = ()
        log_header: dict[str, int] = {}
        log_width = 0
        log_name = next((n for n in source.sheet_names() if key(n) == "log"), None)
        if log_name is not None and source.kind(log_name) == "worksheet":
            log_header, log_rows, log_width = log_table(source.grid(log_name).values)
        names = tuple(package.sheet_names())
        store_name = next((n for n in names if key(n) == STORE_SHEET.lower()), None)
        stored = None if store_name is None or source.kind(store_name) != "worksheet" \
            else read_store(source.grid(store_name).values)
    except BaseException:
        source.close()
        package.close()
        raise
    return Loaded(Path(path), model, locator, tuple(notes), log_rows, names, stored, log_header,
                  log_width, source)


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


def excel_owner_file(path: Path) -> Path | None:
    """The owner file an application keeps next to a workbook it has open, if present:
    Excel's ``~$NAME`` (``~$`` over the first two characters too) or LibreOffice's
    ``.~lock.NAME#``."""
    candidates = [path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:]),
                  path.with_name(f".~lock.{path.name}#")]
    for candidate in candidates:
        if candidate.exists() and candidate != path:
            return candidate
    return None


def run_time() -> datetime:
    """Now with the local UTC offset, or ``SOURCE_DATE_EPOCH`` (UTC) when set (reproducible
    builds of the shipped workbooks)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now().astimezone()


#: What each kind of output file must hold: suffix -> (macro-enabled?, what it is).
OUTPUT_SUFFIXES = {".xlsx": False, ".xlsm": True}


def check_output(src: Path, dst: Path) -> None:
    """Refuse a destination Excel would not open as what it holds: a suffix other than
    ``.xlsx``/``.xlsm`` (``.csv``, ``.ods``…), macros into ``.xlsx``, none into ``.xlsm``;
    a read-only destination (as Excel refuses it: by its mode bits, even for root); anything
    but a regular file."""
    suffix = dst.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UnsafeWrite(f"{dst}: cannot write a {suffix or 'suffix-less'} file: xl-aiindex "
                          "writes Excel workbooks; name the output .xlsx (or .xlsm when the "
                          "workbook holds macros)")
    macros = _is_macro_enabled(src)
    if macros is not None and macros != OUTPUT_SUFFIXES[suffix]:
        need = ".xlsm" if macros else ".xlsx"
        what = "holds macros (a macro-enabled workbook)" if macros else "holds no macros"
        raise UnsafeWrite(f"{dst}: {src.name} {what}, which Excel opens only as {need}: "
                          f"write to a {need} file; the workbook was not changed")
    if os.path.lexists(dst):
        import stat

        try:
            st = os.stat(dst)
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeWrite(f"{dst}: is not a regular file; nothing was written")
        if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise UnsafeWrite(f"{dst}: the workbook is read-only; make it writable or write "
                              "with -o OUT.xlsx; the workbook was not changed")


def _is_macro_enabled(path: Path) -> bool | None:
    """Whether the workbook part's content type is a macro-enabled one (None: unknown)."""
    try:
        with zipfile.ZipFile(path) as z:
            ct = z.read("[Content_Types].xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    return b"macroEnabled.main+xml" in ct or b"addin.macroEnabled" in ct


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
    dst_path = Path(dst) if dst is not None else src_path
    guard_destination(src_path, dst_path)
    if dst_path.is_symlink():   # the lock and the write belong to the file the link points at
        dst_path = Path(os.path.realpath(dst_path))
    with workbook_lock(dst_path, wait):
        return _recalc_locked(src_path, dst_path, command, output, force, log, written)


def guard_destination(src: Path, dst: Path) -> None:
    """Refuse a write before anything is read: ``src`` not a regular file (:func:`check_file`),
    a destination Excel would not open or that is read-only (:func:`check_output`), or a
    destination open in Excel or LibreOffice (their owner files beside it)."""
    check_file(src)
    check_output(src, dst)
    owner = excel_owner_file(dst) if dst.exists() else None
    if owner is not None:
        in_place = dst.resolve() == src.resolve()
        app = "LibreOffice" if owner.name.startswith(".~lock.") else "Excel"
        where = "close it in {} or write with -o OUT.xlsx (several workbooks: --out-dir DIR)" \
            if in_place else \
            "close it in {} or write to another file"
        raise UnsafeWrite(f"{dst}: the workbook seems open in {app} ({owner.name} exists): "
                          + where.format(app))


def check_file(path: Path) -> None:
    """Refuse anything that is not a regular file (a named pipe would block a reader forever)."""
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return   # the reader says "no such file"
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise UnreadableWorkbook(str(path), "is not a regular file (a named pipe, a device…): "
                                            "give the workbook file itself")


def log_append(loaded: Loaded, entry: Mapping[str, Any]) -> RowAppend:
    """The Log row of ``entry``, placed by the Log's own header (columns the user moved or
    added stay as they are; a contract column the Log lacks is added after its last one)."""
    return log_row(loaded.log_header, loaded.log_width, entry)


def log_row(log_header: Mapping[str, int], log_width: int, entry: Mapping[str, Any]
            ) -> RowAppend:
    """:func:`log_append` over the Log's header as :func:`log_table` reads it (``log_header``:
    contract column -> 0-based column; ``log_width``: columns of its header row), whatever
    read it (a file, or the macros' Excel book)."""
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
    return RowAppend("Log", cells, extra, widths)


def _recalc_locked(src_path: Path, dst_path: Path, command: str, output: str | None,
                   force: bool, log: bool = True,
                   written_names: list[str] | None = None) -> IndexResult:
    loaded = load_workbook(src_path)
    result = compute(loaded)
    notes = loaded.notes + result.notes
    now = run_time()
    entry = {"time": now.isoformat(timespec="seconds"), "command": command,
             "version": __version__, "file": src_path.name,
             "input": loaded.model.settings.input, "units": int(len(result.scores)),
             "status": "ok", "notes": "; ".join(notes),
             "inputs_hash": inputs_hash(loaded.model)}
    mode = output_mode(loaded.model.settings.output, output)
    results, names = output_sheets(result, loaded.locator, src_path, mode)
    results = [r for r in results if key(r.name) != STORE_SHEET.lower()]
    # a Problems sheet left by an earlier validation would now be wrong: it is emptied
    stale = [problems_sheet(())] if any(key(n) == "problems" for n in loaded.sheet_names) else []
    written = [*results, *stale]
    problems = write_problems(loaded, written, appended=("Log",), force=force)
    if problems:
        raise ProblemsFound(problems)
    if not force:
        check_hand_edits(loaded, written)
    store = merged_store(loaded, written, str(entry["time"]),
                         str(entry["inputs_hash"]))
    hide = () if any(key(n) == STORE_SHEET.lower() for n in loaded.sheet_names) else (STORE_SHEET,)
    appends = [log_append(loaded, entry)] if log else []
    if not log and not any(key(n) == "log" for n in loaded.sheet_names):
        appends = [RowAppend("Log", {}, dict(enumerate(LOG_COLUMNS)),
                             {i: LOG_WIDTHS.get(k, 12.0) for i, k in enumerate(LOG_COLUMNS)})]
    write_sheets(src_path, dst_path, [*written, store], names, very_hidden=hide,
                 appends=appends)
    if written_names is not None:
        written_names.extend([*(s.name for s in written), *(a.sheet for a in appends)])
    # what reading did on the user's behalf (text read as numbers…) is news too, as in validate
    return dataclasses.replace(result, notes=notes)


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


def merged_store(loaded: Loaded, written: Sequence[SheetSpec], log_time: str | None,
                 inputs_hash: str | None = None) -> SheetSpec:
    """The store sheet after writing ``written``: their fingerprints, and the stored ones of
    the other tool sheets still in the workbook (another command wrote them); ``log_time``:
    the time of the Log row written with it (None: keep the stored one); ``inputs_hash``: of
    the inputs the result sheets now come from (None: keep the stored one)."""
    return store_after(loaded.stored, loaded.sheet_names, len(loaded.log_rows) + 1, written,
                       log_time, inputs_hash)


def store_after(stored: Stored | None, sheet_names: Sequence[str], log_rows: int,
                written: Sequence[SheetSpec], log_time: str | None,
                inputs_hash: str | None = None) -> SheetSpec:
    """:func:`merged_store` over what any reader found: ``stored`` (the store as read, None:
    none), the workbook's ``sheet_names``, and ``log_rows``, the Log's rows after this write."""
    fps = result_fingerprint(written)
    new = {fp.sheet.strip().casefold() for fp in fps}
    present = {n.strip().casefold() for n in sheet_names}
    if stored is not None:
        fps = [*fps, *(fp for k, fp in stored.sheets.items() if k not in new and k in present)]
    if log_time is None:
        log_time = stored.log_time if stored is not None else ""
    if inputs_hash is None:
        inputs_hash = stored.inputs_hash if stored is not None else ""
    return store_sheet(fps, log_rows=log_rows, log_time=log_time, inputs_hash=inputs_hash)


def write_sheets(src: Path, dst: Path, sheets: Sequence[SheetSpec],
                 defined_names: Mapping[str, str] | None = None, *,
                 very_hidden: Sequence[str] = (), wait: float = LOCK_WAIT,
                 appends: Sequence[RowAppend] = ()) -> None:
    """Write ``sheets`` into a copy of ``src`` at ``dst``, atomically and surgically: every part
    of the package but the result sheets (and the few shared parts that list them) is copied
    byte for byte (:mod:`xl_aiindex.workbook.ooxml`). ``defined_names``: the ``xlai_`` names
    to leave in the workbook (None: names untouched); with any, Excel recalculates on open.

    ``very_hidden``: names of sheets appended by this write to be made very hidden;
    ``appends``: rows appended to sheets in place (the Log). Raises :class:`WriteFailed` (the
    system refused the write),
    :class:`WorkbookBusy` (another writer holds the lock past ``wait`` seconds) or
    :class:`UnsafeWrite` (a package the surgical writer cannot rewrite); in each case ``dst``
    is left as it was.
    """

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            try:
                splice_sheets(src, fh, sheets, defined_names=defined_names,
                              full_calc_on_load=bool(defined_names), very_hidden=very_hidden,
                              appends=appends)
            except (ValueError, zipfile.BadZipFile, ParseError) as e:   # refused by the splicer
                raise UnsafeWrite(f"{src}: {unreadable_reason('the workbook', e, 'cannot be rewritten')}"
                                  "; the workbook was not changed") from e

    atomic_write(dst, write, wait=wait)


def atomic_write(dst: Path, write: Callable[[Path], None], *, wait: float = LOCK_WAIT) -> None:
    """Call ``write(tmp)`` for a temporary file beside ``dst``, then move it onto ``dst``.

    Holds ``dst``'s lock (:func:`workbook_lock`, waiting up to ``wait`` seconds) meanwhile, and
    first removes temporary files a killed writer of ``dst`` left behind. The temporary file is
    removed on any failure, so ``dst`` is either untouched or complete; an :class:`OSError`
    (disk full, permission denied…) becomes :class:`WriteFailed`.
    """
    dst = Path(dst)
    if dst.is_symlink():
        # write through the link: the user's link stays a link, its target gets the content
        dst = Path(os.path.realpath(dst))
    folder = make_folder(dst)
    existed = dst.exists()
    with workbook_lock(dst, wait):
        remove_stale_temps(dst)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=TMP_SUFFIX, dir=folder)
        except OSError as e:
            raise WriteFailed(str(dst), _os_reason(e, dst), existed) from e
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            # mkstemp makes the file private (0600): give it the old file's mode, or the mode a
            # new file would get under the user's umask
            if dst.exists():
                st = dst.stat()
                mode = st.st_mode & 0o7777
                # owner and group as they were (a user may only give a file to a group of
                # theirs; root keeps everything)
                with contextlib.suppress(OSError, AttributeError):
                    os.chown(tmp, st.st_uid, st.st_gid)
            else:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            with contextlib.suppress(OSError):
                os.chmod(tmp, mode)
            os.replace(tmp, dst)
        except BaseException as e:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(e, OSError):
                raise WriteFailed(str(dst), _os_reason(e, dst, tmp), existed) from e
            raise
        _fsync_folder(folder)


def make_folder(path: Path) -> Path:
    """Create the folder ``path`` goes in (and its parents) when missing; return it.

    Raises :class:`WriteFailed` naming the folder that could not be made (a file in the way,
    no permission…).
    """
    folder = path.parent if str(path.parent) else Path(".")
    if folder.is_dir():
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()),
                       None)
        why = (f"{blocker} is a file, not a folder" if blocker is not None
               else (e.strerror or str(e)).lower())
        raise WriteFailed(str(path), f"cannot create the folder {folder}: {why}", False) from e
    return folder


def _os_reason(e: OSError, *own: Path) -> str:
    """``no space left on device`` (``PATH: permission denied`` when about another file)."""
    reason = e.strerror or (errno.errorcode.get(e.errno or 0, "") if e.errno else "") or str(e)
    reason = reason[:1].lower() + reason[1:]
    other = e.filename if e.filename is not None else None
    if other is not None and all(os.fspath(other) != os.fspath(p) for p in own):
        name = Path(os.fspath(other)).name
        if not (name.startswith(".") and name.endswith((TMP_SUFFIX, LOCK_SUFFIX))):
            reason = f"{os.fspath(other)}: {reason}"
    return reason


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX; Windows has no directory handles to sync)."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temps(dst: Path) -> list[Path]:
    """Remove the temporary files (``.NAME.XXXXXXXX.xl-aiindex.tmp``) of writes of ``dst`` that
    never finished; call it holding ``dst``'s lock, which every writer holds while its
    temporary file exists, so each one found belongs to a dead process. Returns those removed.
    """
    folder = dst.parent if str(dst.parent) else Path(".")
    pattern = re.compile(r"\." + re.escape(dst.name) + r"\.[a-z0-9_]{8}" + re.escape(TMP_SUFFIX))
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if pattern.fullmatch(entry.name):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# --------------------------------------------------------------------------------------------
# the workbook lock

LOCK_SUFFIX = ".xl-aiindex.lock"
_held = threading.local()


def lock_path(path: Path) -> Path:
    """The lock file of a workbook: ``.NAME.xl-aiindex.lock`` beside it."""
    return path.with_name(f".{path.name}{LOCK_SUFFIX}")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if e.errno in _NO_LOCKS:
            return True   # a file system without locks (some network shares): write unlocked
        raise
    return True


_NO_LOCKS = {getattr(errno, n) for n in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "ENOSYS", "EINVAL")
             if hasattr(errno, n)}


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def workbook_lock(path: str | os.PathLike[str], wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the lock of the workbook at ``path`` (which need not exist yet) for a write.

    Waits up to ``wait`` seconds for another holder, then raises :class:`WorkbookBusy`.
    Re-entrant within a thread (a recalc holds it and the write inside takes it again). The
    lock file is removed on release; a file left by a killed process is simply locked again
    (the system released its lock when the process died).
    """
    path = Path(path)
    lock = lock_path(path)
    ident = os.path.normcase(os.path.abspath(lock))
    held: dict[str, int] = _held.__dict__.setdefault("locks", {})
    if ident in held:
        held[ident] += 1
        try:
            yield
        finally:
            held[ident] -= 1
        return
    existed = path.exists()
    make_folder(path)
    deadline = time.monotonic() + max(0.0, wait)
    delay = 0.02
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise WriteFailed(str(path), _os_reason(e, path, lock), existed) from e
        try:
            got = _try_lock(fd)
        except OSError as e:
            os.close(fd)
            raise WriteFailed(str(path), _os_reason(e, path, lock), existed) from e
        if got:
            # the previous holder may have removed the file between our open and lock: then we
            # hold a lock on a deleted file, and must lock the file now at that path
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock))
            except OSError:
                same = False
            if same:
                break
            _unlock(fd)
        os.close(fd)
        if time.monotonic() >= deadline:
            raise WorkbookBusy(str(path), wait)
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
    held[ident] = 1
    try:
        yield
    finally:
        del held[ident]
        with contextlib.suppress(OSError):
            os.unlink(lock)   # while still holding it: a waiter then retries on a new file
        _unlock(fd)
        os.close(fd)
