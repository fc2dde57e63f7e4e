"""Many workbooks in one command: expand the inputs, run each in isolation, in parallel.

Each workbook is recalculated (or validated) in its own worker process; whatever happens to one
— bad inputs, a locked or corrupt file, an internal error, a worker process killed — becomes
that workbook's record and never stops, slows or touches the others. Each keeps the single-file guarantees (atomic write,
lock, nothing written on problems).
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from .i18n import _, ngettext

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
            raise InputError(_("an empty path was given (an unset shell variable?): name the "
                               "file or folder"))
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(f for f in p.glob(pattern)
                           if f.is_file() and f.suffix.lower() in WORKBOOK_SUFFIXES)
            if not found:
                raise InputError((_("{item}: folder has no .xlsx or .xlsm workbook") if recursive
                                  else _("{item}: folder has no .xlsx or .xlsm workbook (use "
                                         "--recursive for subfolders)")).format(item=item))
            for f in found:
                add(f)
        elif p.exists() or not glob.has_magic(item):
            add(p)  # a missing plain file is reported as that file's failure
        else:
            matches = sorted(glob.glob(item, recursive=recursive))
            workbooks = [Path(m) for m in matches if Path(m).suffix.lower() in WORKBOOK_SUFFIXES]
            if not workbooks:
                raise InputError(_("{item}: pattern matches no .xlsx or .xlsm workbook").format(
                    item=item))
            for f in workbooks:
                add(f)
    if not out:
        raise InputError(_("no workbook given"))
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
            raise InputError(_("{first} and {second} would both be written to {target}: give "
                               "them different names or recalculate them separately").format(
                                   first=other, second=p, target=out_dir / p.name))
    return list(targets)


def _one(command: str, path: str, output: str | None, options: dict[str, Any]) -> Record:
    """Run one workbook through the library call of ``command`` (:func:`xl_aiindex.api.recalc`
    or :func:`~xl_aiindex.api.validate`); every outcome becomes a record, its status from the
    one error map (:func:`~xl_aiindex.errors.error_kind`) (runs in a worker process)."""
    from .i18n import use_language

    options = dict(options)
    # the run's --lang ("language"): contextvars do not cross into worker processes
    with use_language(options.pop("language", None)):
        return _one_in_language(command, path, output, options)


def _one_in_language(command: str, path: str, output: str | None,
                     options: dict[str, Any]) -> Record:
    """:func:`_one` in the language chosen for the run."""
    from .errors import ProblemsFound, XlAiIndexError, error_kind

    start = time.perf_counter()
    try:
        if command == "recalc":
            from .api import recalc

            done = recalc(path, output=output, top=0, **options)
            return Record(path, "ok", time.perf_counter() - start, done.units,
                          output=str(output or path), notes=list(done.notes))
        from .api import validate

        checked = validate(path)
        return Record(path, "ok", time.perf_counter() - start, checked.units,
                      notes=list(checked.notes))
    except Exception as e:  # isolation: whatever happens is this workbook's failure only
        status = error_kind(e)
        seconds = time.perf_counter() - start
        if isinstance(e, ProblemsFound):
            lines = [str(p) for p in e.problems]
            count = len(lines)
            return Record(path, status, seconds,
                          error=_("{problems}: {first}").format(
                              problems=ngettext("{n} problem", "{n} problems", count).format(
                                  n=count), first=lines[0]),
                          problems=lines)
        if isinstance(e, XlAiIndexError):
            return Record(path, status, seconds, error=_without(path, e))
        if isinstance(e, OSError):
            return Record(path, status, seconds, error=f"{e.filename or path}: {e.strerror or e}")
        return Record(path, status, seconds, error=_("internal error ({kind}: {error})").format(
            kind=type(e).__name__, error=e))


def _without(path: str, error: Exception) -> str:
    """The error's message without a leading ``path: `` (the record names the path already)."""
    text = str(error)
    return text[len(path) + 2:] if text.startswith(f"{path}: ") else text


Task = tuple[int, str, str | None]   # (index in the input order, path, output path or None)


def run_batch(command: str, inputs: Sequence[Path], outputs: Sequence[Path | None], jobs: int,
              options: dict[str, Any] | None = None,
              on_start: Callable[[Path], None] | None = None,
              on_done: Callable[[Record], None] | None = None) -> list[Record]:
    """Run ``command`` (``recalc`` or ``validate``) on every input, ``jobs`` at a time.

    Returns the records in input order; ``on_start``/``on_done`` report progress as it happens.
    With ``jobs`` 1 everything runs in this process (no start-up cost of worker processes).

    A worker process that dies (killed by the out-of-memory killer, a crash in a C library)
    breaks the pool and loses the results of every workbook in flight: each of those is run
    again alone, in a process of its own, so the one that kills its process again is FAILED
    with the reason and the others get their own results; the rest go on in a fresh pool.
    """
    options = options or {}
    records: dict[int, Record] = {}
    tasks: list[Task] = [(i, str(p), str(o) if o is not None else None) for i, (p, o) in
                         enumerate(zip(inputs, outputs, strict=True))]

    def finish(task: Task, record: Record) -> None:
        records[task[0]] = record
        if on_done:
            on_done(record)

    if jobs <= 1 or len(tasks) == 1:
        for task in tasks:
            if on_start:
                on_start(Path(task[1]))
            finish(task, _one(command, task[1], task[2], options))
        return [records[i] for i in range(len(tasks))]
    queue = deque(tasks)
    while queue:
        lost = _pool_round(command, queue, jobs, options, on_start, finish)
        for task in lost:
            if on_start:
                on_start(Path(task[1]))
            finish(task, _run_alone(command, task[1], task[2], options))
    return [records[i] for i in range(len(tasks))]


def _pool_round(command: str, queue: deque[Task], jobs: int, options: dict[str, Any],
                on_start: Callable[[Path], None] | None,
                finish: Callable[[Task, Record], None]) -> list[Task]:
    """Run the tasks of ``queue`` (taken from it as they start) in one pool of ``jobs`` worker
    processes until the queue is empty or the pool breaks; return the tasks whose results the
    broken pool lost."""
    lost: list[Task] = []
    broken = False
    with ProcessPoolExecutor(max_workers=min(jobs, len(queue)), mp_context=_mp_context()) as pool:
        pending: dict[Future[Record], Task] = {}

        def submit_next() -> None:
            nonlocal broken
            if broken or not queue:
                return
            task = queue.popleft()
            try:
                future = pool.submit(_one, command, task[1], task[2], options)
            except BrokenProcessPool:   # broke before this one started: the next pool runs it
                queue.appendleft(task)
                broken = True
                return
            if on_start:
                on_start(Path(task[1]))
            pending[future] = task

        # keep just `jobs` tasks in flight so progress reports the file really being worked on
        for _slot in range(jobs):
            submit_next()
        while pending:
            done, _pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken = True
                    lost.append(task)
                    continue
                except (Exception, SystemExit) as e:   # e.g. a record that cannot be pickled
                    record = Record(task[1], "failed", 0.0,
                                    error=_("worker process failed ({kind}: {error})").format(
                                        kind=type(e).__name__, error=e))
                finish(task, record)
                submit_next()
    return sorted(lost)


def _run_alone(command: str, path: str, output: str | None, options: dict[str, Any]) -> Record:
    """Run one workbook in a process of its own: its record, or FAILED saying how the process
    died."""
    context: Any = _mp_context()   # typeshed's BaseContext lacks Process; every real one has it
    receive, send = context.Pipe(duplex=False)
    start = time.perf_counter()
    process = context.Process(target=_send_one, args=(send, command, path, output, options),
                              daemon=True)
    process.start()
    send.close()   # so that the child's death ends recv() below
    record: Record | None
    try:
        record = receive.recv()
    except EOFError:
        record = None
    finally:
        receive.close()
    process.join()
    if record is not None:
        return record
    return Record(path, "failed", time.perf_counter() - start,
                  error=process_death(process.exitcode))


def _send_one(conn: Connection, command: str, path: str, output: str | None,
              options: dict[str, Any]) -> None:
    """The body of :func:`_run_alone`'s process: run the workbook, send its record back."""
    try:
        conn.send(_one(command, path, output, options))
    finally:
        conn.close()


def process_death(exitcode: int | None) -> str:
    """Why a worker process ended without a result, from its exit code (``-N``: signal N).

    >>> process_death(-9)
    'the worker process died (killed by signal 9: out of memory?)'
    """
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        if number == getattr(signal, "SIGKILL", None):   # what the out-of-memory killer sends
            return _("the worker process died (killed by signal {number}: out of "
                     "memory?)").format(number=number)
        try:
            name = signal.Signals(number).name
        except ValueError:
            return _("the worker process died (killed by signal {number})").format(number=number)
        return _("the worker process died (killed by signal {number}, {name})").format(
            number=number, name=name)
    return _("the worker process died (exit code {code})").format(code=exitcode)


def _mp_context() -> BaseContext:
    """How worker processes start: the platform's default (a seam for the tests)."""
    return multiprocessing.get_context()


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
