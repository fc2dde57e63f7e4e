"""Many workbooks in one command: expand the inputs, run each in isolation, in parallel.

Each workbook is recalculated (or validated) in its own worker process; whatever happens to one
— bad inputs, a locked or corrupt file, an internal error — becomes that workbook's record and
never stops, slows or touches the others. Each keeps the single-file guarantees (atomic write,
lock, nothing written on problems).
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Record:
    """What happened to one workbook."""

    path: str
    status: str                 # "ok" | "problems" | "unreadable" | "failed"
    seconds: float
    units: int | None = None
    error: str = ""             # one line; empty when ok
    output: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the workbook was done without a problem."""
        return self.status == "ok"

    def as_json(self) -> dict[str, Any]:
        """The record as the ``--json`` output lists it."""
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d


class InputError(ValueError):
    """The command line names inputs that cannot be used (none found, clashing outputs)."""


def expand_inputs(items: Sequence[str], recursive: bool = False) -> list[Path]:
    """Files, folders (their .xlsx/.xlsm files) and glob patterns → workbook paths, each once,
    in the order given (a folder's files sorted by name). Excel's ``~$`` owner files are skipped.

    Raises :class:`InputError` naming an item that matches nothing, or for an empty item.
    """
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen and not p.name.startswith("~$"):
            seen.add(key)
            out.append(p)

    for item in items:
        if item == "":  # Path("") is the current folder: never what an unset variable meant
            raise InputError("an empty path was given (an unset shell variable?): name the "
                             "file or folder")
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(f for f in p.glob(pattern)
                           if f.is_file() and f.suffix.lower() in WORKBOOK_SUFFIXES)
            if not found:
                raise InputError(f"{item}: folder has no .xlsx or .xlsm workbook"
                                 + ("" if recursive else " (use --recursive for subfolders)"))
            for f in found:
                add(f)
        elif p.exists() or not glob.has_magic(item):
            add(p)  # a missing plain file is reported as that file's failure
        else:
            matches = sorted(glob.glob(item, recursive=recursive))
            workbooks = [Path(m) for m in matches if Path(m).suffix.lower() in WORKBOOK_SUFFIXES]
            if not workbooks:
                raise InputError(f"{item}: pattern matches no .xlsx or .xlsm workbook")
            for f in workbooks:
                add(f)
    if not out:
        raise InputError("no workbook given")
    return out


def output_paths(inputs: Sequence[Path], out_dir: Path | None) -> list[Path | None]:
    """Where each input is written: in place (None) or ``out_dir/NAME``; clashing names refused."""
    if out_dir is None:
        return [None] * len(inputs)
    targets = [out_dir / p.name for p in inputs]
    by_name: dict[str, Path] = {}
    for p in inputs:
        other = by_name.setdefault(p.name.lower(), p)
        if other != p:
            raise InputError(f"{other} and {p} would both be written to {out_dir / p.name}: "
                             "give them different names or recalculate them separately")
    return list(targets)


def _one(command: str, path: str, output: str | None, options: dict[str, Any]) -> Record:
    """Run one workbook; every outcome becomes a record (runs in a worker process)."""
    from .errors import ProblemsFound, UnreadableWorkbook, UnsafeWrite, XlAiIndexError

    start = time.perf_counter()
    try:
        if command == "recalc":
            from .workbook.io import recalc_file

            result = recalc_file(path, output, **options)
            notes = list(result.notes)
        else:
            from .workbook.io import validate_file

            result, notes_t = validate_file(path)
            notes = list(notes_t)
        return Record(path, "ok", time.perf_counter() - start, len(result.scores),
                      output=str(output or (path if command == "recalc" else "")), notes=notes)
    except ProblemsFound as e:
        lines = [str(p) for p in e.problems]
        count = len(lines)
        return Record(path, "problems", time.perf_counter() - start,
                      error=f"{count} problem{'s' if count != 1 else ''}: {lines[0]}",
                      problems=lines)
    except (UnreadableWorkbook, UnsafeWrite) as e:
        return Record(path, "unreadable", time.perf_counter() - start, error=_without(path, e))
    except XlAiIndexError as e:
        return Record(path, "failed", time.perf_counter() - start, error=_without(path, e))
    except OSError as e:
        return Record(path, "unreadable", time.perf_counter() - start,
                      error=f"{e.filename or path}: {e.strerror or e}")
    except Exception as e:  # isolation: an internal error is this workbook's failure only
        return Record(path, "failed", time.perf_counter() - start,
                      error=f"internal error ({type(e).__name__}: {e})")


def _without(path: str, error: Exception) -> str:
    """The error's message without a leading ``path: `` (the record names the path already)."""
    text = str(error)
    return text[len(path) + 2:] if text.startswith(f"{path}: ") else text


def run_batch(command: str, inputs: Sequence[Path], outputs: Sequence[Path | None], jobs: int,
              options: dict[str, Any] | None = None,
              on_start: Callable[[Path], None] | None = None,
              on_done: Callable[[Record], None] | None = None) -> list[Record]:
    """Run ``command`` (``recalc`` or ``validate``) on every input, ``jobs`` at a time.

    Returns the records in input order; ``on_start``/``on_done`` report progress as it happens.
    With ``jobs`` 1 everything runs in this process (no start-up cost of worker processes).
    """
    options = options or {}
    records: dict[int, Record] = {}
    tasks = [(i, str(p), str(o) if o is not None else None) for i, (p, o) in
             enumerate(zip(inputs, outputs, strict=True))]
    if jobs <= 1 or len(tasks) == 1:
        for i, p, o in tasks:
            if on_start:
                on_start(Path(p))
            records[i] = _one(command, p, o, options)
            if on_done:
                on_done(records[i])
        return [records[i] for i in range(len(tasks))]
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
        pending: dict[Future[Record], int] = {}
        queue: Iterator[tuple[int, str, str | None]] = iter(tasks)

        def submit_next() -> bool:
            task = next(queue, None)
            if task is None:
                return False
            i, p, o = task
            if on_start:
                on_start(Path(p))
            pending[pool.submit(_one, command, p, o, options)] = i
            return True

        # keep just `jobs` tasks in flight so progress reports the file really being worked on
        for _ in range(jobs):
            if not submit_next():
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                try:
                    records[i] = future.result()
                except Exception as e:  # the worker process itself died
                    records[i] = Record(tasks[i][1], "failed", 0.0,
                                        error=f"worker process failed ({type(e).__name__}: {e})")
                if on_done:
                    on_done(records[i])
                submit_next()
    return [records[i] for i in range(len(tasks))]


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
