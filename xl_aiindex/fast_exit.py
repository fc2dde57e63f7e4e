"""How the ``xl-aiindex`` program ends: as Python's own exit would, minus the interpreter's
teardown (issue 20)."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def leave(code: int) -> NoReturn:
    """End the process with ``code`` as Python's own exit would, without tearing down the
    interpreter's modules one by one: with pandas loaded that teardown takes about 50 ms, a
    sixth of a small recalc (issue 20), and a finished command has nothing left for it to do.

    What Python's exit does for a program is still done, in its order: threads are waited for
    (while any other thread runs, this is an ordinary ``sys.exit``), exit handlers run
    (``atexit``: temporary folders, logging), and standard output and error are flushed. A
    flush that fails (a closed pipe) also falls back to ``sys.exit``, so that Python reports it
    as it always has. Only for the command line: :func:`xl_aiindex.cli.main` returns to its
    caller.
    """
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)
