"""The command line ends without tearing the interpreter down (``fast_exit.leave``, issue 20: about
50 ms of a small recalc with pandas loaded), yet does what Python's exit does for a program:
waits for threads, runs exit handlers, flushes standard output and error, keeps the exit code.
Each script runs in a process of its own with buffered output (no ``PYTHONUNBUFFERED``), so a
missing flush would lose what it printed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

#: An object whose ``__del__`` prints when the interpreter tears its module down.
PROBE = """\
import atexit, sys, threading, time
from xl_aiindex.fast_exit import leave

class Probe:
    def __del__(self):
        print("torn down", file=sys.__stderr__, flush=True)

probe = Probe()
"""


def _run(body: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-c", PROBE + textwrap.dedent(body)], env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_probe_sees_an_ordinary_exit_tear_down():
    # the control: without leave, the interpreter's teardown deletes the probe
    p = _run("sys.exit(0)")
    assert "torn down" in p.stderr


def test_leave_skips_the_teardown_but_keeps_code_output_and_exit_handlers():
    p = _run("""
        atexit.register(lambda: print("handler ran", end=""))
        print("partial line ", end="")
        print("to stderr", end="", file=sys.stderr)
        leave(3)
        """)
    assert p.returncode == 3
    assert p.stdout == "partial line handler ran"
    assert p.stderr == "to stderr"


def test_leave_waits_for_a_running_thread_as_python_does():
    p = _run("""
        def work():
            time.sleep(0.3)
            print("thread finished")
        threading.Thread(target=work).start()
        leave(0)
        """)
    assert p.returncode == 0
    assert p.stdout == "thread finished\n"
    assert "torn down" in p.stderr   # an ordinary exit was taken


def test_the_program_leaves_with_the_commands_exit_code(tmp_path):
    command = [sys.executable, "-m", "xl_aiindex"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    missing = tmp_path / "missing.xlsx"
    p = subprocess.run([*command, "--lang", "en", "validate", str(missing)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "missing.xlsx" in p.stderr
    ok = subprocess.run([*command, "--version"], env=env, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("xl-aiindex")


def test_the_console_script_is_the_leaving_entry_point():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "xl-aiindex"]
    assert script.value == "xl_aiindex.cli:run"
