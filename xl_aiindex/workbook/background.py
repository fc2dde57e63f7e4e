"""Work done beside the command's own (issue 20). :class:`InBackground`: a forked child
process computes a value (the fingerprints of a large recalc's result sheets) while the parent
writes the sheets, and hands it back through a pipe, pickled: on a 3,000 × 200 book the two
take about half a second each, and Python runs one thread of Python at a time.
:class:`OnThread`: a thread computes a value whose work mostly runs outside Python's lock
(inflating a large old sheet to read its protection while the sheets before it are written).

A child is forked only where that is safe and cheap: Linux, and a process with a single
thread (no writer thread, no BLAS worker: the command line runs BLAS on one thread), so the
child inherits no lock another thread held. Anywhere else, or for small work, or when the child fails for any
reason, the value is computed in the process itself, as it always was: the result is the
same either way, only the time differs.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether this process may fork a worker: Linux, and one thread in it (as the operating
    system counts them, native threads included)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class InBackground(Generic[T]):
    """``work()`` computed in a forked child when ``worth_it`` and :func:`can_fork`, else
    when :meth:`result` is asked for. Use as a context manager: leaving it before the result
    was taken (an error in the parent) stops the child."""

    def __init__(self, work: Callable[[], T], *, worth_it: bool = True) -> None:
        self.work = work
        self.pid: int | None = None
        self.fd: int | None = None
        if worth_it and can_fork():
            self._fork()

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:   # the child: compute, send, and never return into the parent's code
            code = 1
            try:
                os.close(read_end)
                payload = pickle.dumps(self.work(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self.pid, self.fd = pid, read_end

    def result(self) -> T:
        """The value: the child's when it delivered one, else computed here."""
        if self.pid is not None and self.fd is not None:
            with os.fdopen(self.fd, "rb") as pipe:
                payload = pipe.read()
            self.fd = None
            _, status = os.waitpid(self.pid, 0)
            self.pid = None
            if os.waitstatus_to_exitcode(status) == 0 and payload:
                value: T = pickle.loads(payload)
                return value
        return self.work()

    def __enter__(self) -> InBackground[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None


class OnThread:
    """``work()`` computed on a thread of its own, started now; calling the object waits for
    it and gives the value, or raises what ``work`` raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="xl-aiindex beside", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.value = self.work()
        except BaseException as e:   # raised to the caller
            self.error = e

    def __call__(self) -> Any:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.value
