"""Writing any output file safely: the only place that replaces a file (``os.replace``).

What every write guarantees (:func:`atomic_write`; the workbook writer,
:mod:`xl_aiindex.workbook.writer`, and the report and export writers call it):

* **Atomic.** The content is written to a temporary file beside the destination
  (``.NAME.XXXXXXXX.xl-aiindex.tmp``), flushed to disk, then renamed over it: whatever happens
  (an error, a full disk, the process killed), the destination is the old file or the
  complete new one. Temporary files left by a killed run are removed by the next write of the
  same destination, under its lock (so they provably belong to no running writer).
* **Locked.** A write holds a lock beside the destination (``.NAME.xl-aiindex.lock``;
  ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows; the operating system releases it
  when a process dies). A second writer waits up to ``wait`` seconds (:data:`LOCK_WAIT`),
  then gives up with :class:`~xl_aiindex.errors.WorkbookBusy`.
* **Errors name the file.** A full disk or a refused permission raises
  :class:`~xl_aiindex.errors.WriteFailed` ("PATH: cannot write: no space left on device; the
  workbook was not changed").
* **Refused before anything is written** (:func:`guard_destination`, :func:`check_destination`):
  a destination that is not a regular file (a named pipe, a device, a folder), a read-only
  one, one open in Excel (``~$NAME``) or LibreOffice (``.~lock.NAME#``), one whose suffix
  does not say what it will hold (a workbook into ``.csv``, HTML into ``.pdf``), or an input
  of the command itself. A symbolic link is written through: the link stays, its target gets
  the content.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ..errors import UnreadableWorkbook, UnsafeWrite, WorkbookBusy, WriteFailed
from ..i18n import N_, _

#: The kinds of output :func:`check_destination` names (``kind``), marked for the catalogue:
#: the messages say them in the reader's language.
OUTPUT_KINDS = (N_("HTML report"), N_("CSV file"), N_("JSON file"))

#: Seconds a write waits for another xl-aiindex writing the same file (``--wait``).
LOCK_WAIT = 30.0
#: Suffix of the temporary files :func:`atomic_write` writes beside the destination.
TMP_SUFFIX = ".xl-aiindex.tmp"


def excel_owner_file(path: Path) -> Path | None:
    """The owner file an application keeps next to a file it has open, if present: Excel's
    ``~$NAME`` (``~$`` over the first two characters too) or LibreOffice's ``.~lock.NAME#``;
    for a symbolic link, those of the link and of the file it points at."""
    paths = [path]
    if path.is_symlink():
        paths.append(Path(os.path.realpath(path)))
    for p in paths:
        candidates = [p.with_name("~$" + p.name), p.with_name("~$" + p.name[2:]),
                      p.with_name(f".~lock.{p.name}#")]
        for candidate in candidates:
            if candidate.exists() and candidate != p:
                return candidate
    return None


#: What each kind of workbook file must hold: suffix -> macro-enabled?
OUTPUT_SUFFIXES = {".xlsx": False, ".xlsm": True}


def check_output(src: Path, dst: Path, *, macros: bool | None = None,
                 check_macros: bool = True) -> None:
    """Refuse a destination Excel would not open as what it holds: a suffix other than
    ``.xlsx``/``.xlsm`` (``.csv``, ``.ods``…), macros into ``.xlsx``, none into ``.xlsm``
    (``macros``: whether the content is macro-enabled; None: as ``src`` is); a read-only
    destination (as Excel refuses it: by its mode bits, even for root); anything but a
    regular file. ``check_macros=False`` leaves the macro check to the caller, who reads the
    package anyway (:meth:`~xl_aiindex.workbook.package.Package.is_macro_enabled`): the file is
    then opened once."""
    suffix = dst.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UnsafeWrite(_("{path}: cannot write a {suffix} file: xl-aiindex writes Excel "
                            "workbooks; name the output .xlsx (or .xlsm when the workbook holds "
                            "macros)").format(path=dst, suffix=suffix or _("suffix-less")))
    if macros is None and check_macros:
        macros = _is_macro_enabled(src)
    if macros is not None and macros != OUTPUT_SUFFIXES[suffix]:
        need = ".xlsm" if macros else ".xlsx"
        text = _("{path}: {name} holds macros (a macro-enabled workbook), which Excel opens only "
                 "as {need}: write to a {need} file; the workbook was not changed") if macros \
            else _("{path}: {name} holds no macros, which Excel opens only as {need}: write to "
                   "a {need} file; the workbook was not changed")
        raise UnsafeWrite(text.format(path=dst, name=src.name, need=need))
    _check_existing(dst, _("the workbook"),
                    _("write with -o OUT.xlsx; the workbook was not changed"))


def _check_existing(dst: Path, what: str, remedy: str) -> None:
    """Refuse an existing ``dst`` that is not a regular file, or is read-only (by its mode
    bits, as Excel does, even for root); a symbolic link is judged by what it points at."""
    if not os.path.lexists(dst):
        return
    try:
        st = os.stat(dst)
    except OSError:
        return   # a dangling link: the write creates its target
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeWrite(_("{path}: is not a regular file; nothing was written").format(
            path=dst))
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeWrite(_("{path}: {what} is read-only; make it writable or {remedy}").format(
            path=dst, what=what, remedy=remedy))


def _is_macro_enabled(path: Path) -> bool | None:
    """Whether the workbook part's content type is a macro-enabled one (None: unknown)."""
    try:
        with zipfile.ZipFile(path) as z:
            ct = z.read("[Content_Types].xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    return b"macroEnabled.main+xml" in ct or b"addin.macroEnabled" in ct


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_destination(dst: Path, suffixes: Sequence[str], kind: str,
                      inputs: Sequence[Path] = (), *, replace: bool = True) -> None:
    """Refuse a non-workbook output (``kind``: "HTML report", "CSV file"…) before anything is
    written: a suffix other than ``suffixes`` (HTML into ``report.pdf`` or over ``book.xlsx``),
    one of the command's ``inputs``, a destination that is not a regular file, is read-only or
    is open in Excel or LibreOffice, or (``replace=False``) that exists at all. Raises
    :class:`UnsafeWrite` (exit 2)."""
    suffix = dst.suffix.lower()
    kind = _(kind)   # one of OUTPUT_KINDS
    if suffix not in suffixes:
        raise UnsafeWrite(_("{path}: cannot write a {kind} into a {suffix} file: name the output "
                            "{names}; nothing was written").format(
                                path=dst, kind=kind, suffix=suffix or _("suffix-less"),
                                names=_(" or ").join(suffixes)))
    for src in inputs:
        if os.path.lexists(dst) and _same_file(src, dst):
            raise UnsafeWrite(_("{path}: is the input workbook; write the {kind} to another "
                                "file; nothing was written").format(path=dst, kind=kind))
    if not replace and os.path.lexists(dst):
        raise UnsafeWrite(_("{path}: exists; use --force to overwrite it, or write to another "
                            "folder; nothing was written").format(path=dst))
    _check_existing(dst, _("the file"), _("write to another file; nothing was written"))
    owner = excel_owner_file(dst) if dst.exists() else None
    if owner is not None:
        raise UnsafeWrite(_("{path}: the file seems open in {app} ({owner} exists): close it in "
                            "{app} or write to another file").format(
                                path=dst, app=_app(owner), owner=owner.name))


def _app(owner: Path) -> str:
    return "LibreOffice" if owner.name.startswith(".~lock.") else "Excel"


def write_file(dst: str | os.PathLike[str], content: bytes | str, *, suffixes: Sequence[str],
               kind: str, inputs: Sequence[Path] = (), wait: float = LOCK_WAIT,
               replace: bool = True) -> Path:
    """Write a non-workbook output (``content``; text as UTF-8) to ``dst``: refused as
    :func:`check_destination` says (``replace=False``: an existing ``dst`` too), then written
    by :func:`atomic_write`. Returns the path written."""
    dst = Path(dst)
    check_destination(dst, suffixes, kind, inputs, replace=replace)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return atomic_write(dst, data, wait=wait, what=_("the file"))


def guard_destination(src: Path, dst: Path, *, macros: bool | None = None,
                      check_macros: bool = True) -> None:
    """Refuse a workbook write before anything is read: ``src`` not a regular file
    (:func:`check_file`), a destination Excel would not open or that is read-only
    (:func:`check_output`; ``macros``: whether the content written is macro-enabled, None: as
    ``src``), or a destination open in Excel or LibreOffice (their owner files beside it)."""
    check_file(src)
    check_output(src, dst, macros=macros, check_macros=check_macros)
    owner = excel_owner_file(dst) if dst.exists() else None
    if owner is not None:
        in_place = os.path.lexists(src) and _same_file(src, dst)
        app = _app(owner)
        text = _("{path}: the workbook seems open in {app} ({owner} exists): close it in {app} "
                 "or write with -o OUT.xlsx (several workbooks: --out-dir DIR)") if in_place \
            else _("{path}: the workbook seems open in {app} ({owner} exists): close it in {app} "
                   "or write to another file")
        raise UnsafeWrite(text.format(path=dst, app=app, owner=owner.name))


def check_file(path: Path) -> None:
    """Refuse anything that is not a regular file (a named pipe would block a reader forever)."""
    try:
        st = os.stat(path)
    except OSError:
        return   # the reader says "no such file"
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise UnreadableWorkbook(str(path), _("is not a regular file (a named pipe, a device…): "
                                              "give the workbook file itself"))


def atomic_write(dst: str | os.PathLike[str], write: Callable[[Path], None] | bytes, *,
                 wait: float = LOCK_WAIT, what: str = "") -> Path:
    """Write ``dst`` atomically: ``write`` is the content (bytes), or a function that writes a
    temporary path beside ``dst``; the temporary file is then flushed and moved onto ``dst``.
    Returns the path written (the target of a symbolic link: the link stays a link).

    Holds ``dst``'s lock (:func:`workbook_lock`, waiting up to ``wait`` seconds) meanwhile, and
    first removes temporary files a killed writer of ``dst`` left behind. The temporary file is
    removed on any failure, so ``dst`` is either untouched or complete; an :class:`OSError`
    (disk full, permission denied…) becomes :class:`WriteFailed` naming ``dst`` (``what``:
    how the message calls it, "the workbook" or "the file").
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
            raise WriteFailed(str(dst), _os_reason(e, dst), existed, what) from e
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if isinstance(write, bytes | bytearray):
                with open(tmp, "wb") as out:
                    out.write(write)
            else:
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
                raise WriteFailed(str(dst), _os_reason(e, dst, tmp), existed, what) from e
            raise
        _fsync_folder(folder)
    return dst


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
        why = (_("{path} is a file, not a folder").format(path=blocker) if blocker is not None
               else (e.strerror or str(e)).lower())
        raise WriteFailed(str(path), _("cannot create the folder {folder}: {why}").format(
            folder=folder, why=why), False) from e
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
