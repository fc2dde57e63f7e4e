"""Read a workbook file, build its index, write the result sheets back: what ``recalc`` and
``validate`` do, file handling included (atomic replace, refusing to lose anything)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Problem, ProblemsFound, UnsafeWrite
from ..model import IndexModel, IndexResult
from ..pipeline import build_index
from .ooxml import splice_sheets
from .read import Locator, key, read_model
from .results import LOG_COLUMNS, log_sheet, result_sheets
from .sheetspec import SheetSpec
from .source import OpenpyxlSource


@dataclass(frozen=True)
class Loaded:
    """A workbook's inputs, read: the model, where each input came from, notes, the old Log rows."""

    path: Path
    model: IndexModel
    locator: Locator
    notes: tuple[str, ...]
    log_rows: tuple[tuple[Any, ...], ...]


def load_workbook(path: str | os.PathLike[str]) -> Loaded:
    """Read the input sheets of the workbook at ``path``.

    Raises :class:`~xl_aiindex.errors.UnreadableWorkbook` (the file is not a workbook) or
    :class:`~xl_aiindex.errors.ProblemsFound` (every problem in the sheets, with cells).
    """
    source = OpenpyxlSource(path)
    try:
        model, locator, notes = read_model(source)
        log_rows: tuple[tuple[Any, ...], ...] = ()
        log_name = next((n for n in source.sheet_names() if key(n) == "log"), None)
        if log_name is not None:
            grid = source.grid(log_name)
            log_rows = tuple(tuple(r[: len(LOG_COLUMNS)]) for r in grid.values[1:]
                             if any(v is not None for v in r))
    finally:
        source.close()
    return Loaded(Path(path), model, locator, tuple(notes), log_rows)


def compute(loaded: Loaded) -> IndexResult:
    """Build the index of a loaded workbook; the engine's problems get their cells."""
    try:
        return build_index(loaded.model)
    except ProblemsFound as e:
        raise ProblemsFound([loaded.locator.locate(p) for p in e.problems]) from None


def validate_file(path: str | os.PathLike[str]) -> tuple[IndexResult, tuple[str, ...]]:
    """Check a workbook fully (reading and computing, writing nothing); returns result and notes.

    Raises :class:`ProblemsFound` with every problem, each located in its sheet and cell.
    """
    loaded = load_workbook(path)
    result = compute(loaded)
    return result, loaded.notes + result.notes


def excel_owner_file(path: Path) -> Path | None:
    """The ``~$name.xlsx`` file Excel keeps next to a workbook it has open, if present."""
    for candidate in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])):
        if candidate.exists() and candidate != path:
            return candidate
    return None


def run_time() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds of the shipped workbooks)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).replace(tzinfo=None)
    return datetime.now()


def recalc_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None,
                command: str = "recalc") -> IndexResult:
    """Recompute the workbook at ``src`` and write its result sheets to ``dst`` (None: in place).

    Only the result sheets (Scores, Ranking, Tiers, WeightsUsed) are rewritten and one row is
    appended to Log; input sheets are never written. The output is written to a temporary file
    in the destination folder and moved into place atomically: on any failure the destination
    is left as it was. Raises :class:`ProblemsFound` (nothing written) when the inputs have
    problems, :class:`UnsafeWrite` when the workbook is open in Excel and would be overwritten.
    """
    src_path = Path(src)
    dst_path = Path(dst) if dst is not None else src_path
    loaded = load_workbook(src_path)
    in_place = dst_path.resolve() == src_path.resolve()
    if in_place:
        owner = excel_owner_file(src_path)
        if owner is not None:
            raise UnsafeWrite(f"{src_path}: the workbook seems open in Excel ({owner.name} exists): "
                              "close it in Excel or write with -o OUT.xlsx")
    result = compute(loaded)
    notes = loaded.notes + result.notes
    entry = {"time": run_time().isoformat(timespec="seconds"), "command": command,
             "version": __version__, "file": src_path.name,
             "input": loaded.model.settings.input, "units": len(result.scores),
             "status": "ok", "notes": "; ".join(notes)}
    sheets = [*result_sheets(result), log_sheet(loaded.log_rows, entry)]
    write_sheets(src_path, dst_path, sheets)
    return result


def write_sheets(src: Path, dst: Path, sheets: Sequence[SheetSpec]) -> None:
    """Write ``sheets`` into a copy of ``src`` at ``dst``, atomically and surgically: every part
    of the package but the result sheets (and the few shared parts that list them) is copied
    byte for byte (:mod:`xl_aiindex.workbook.ooxml`)."""
    atomic_write(dst, lambda tmp: splice_sheets(src, tmp, sheets))


def atomic_write(dst: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temporary file beside ``dst``, then move it onto ``dst``.

    The temporary file is removed on any failure, so ``dst`` is either untouched or complete.
    """
    folder = dst.parent if str(dst.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".xl-aiindex.tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600): give it the old file's mode, or the mode a
        # new file would get under the user's umask
        if dst.exists():
            mode = dst.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def problems_listing(problems: Sequence[Problem]) -> str:
    """Problems one per line, as the CLI prints them."""
    return "\n".join(str(p) for p in problems)
