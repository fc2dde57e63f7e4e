"""Work on a second core (workbook/background.py): a forked child computes the value where
forking is safe, the process itself everywhere else or when the child fails, and the value is
the same either way; a recalc writes the same bytes with and without the child. Each check
runs in a fresh single-threaded process (BLAS on one thread), as the command line does."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from xl_aiindex.workbook.background import InBackground

SHIPPED = Path(__file__).resolve().parents[2] / "workbooks" / "city_ai_index_2020.xlsx"
LINUX = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux only")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "SOURCE_DATE_EPOCH": "1700000000"}


def run_script(body: str) -> str:
    head = "import os, sys, threading, time\nfrom xl_aiindex.workbook.background import " \
           "InBackground, can_fork\n"
    p = subprocess.run([sys.executable, "-c", head + body], env=ENV, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@LINUX
def test_the_value_is_computed_in_a_child_beside_the_parent():
    out = run_script("""
parent = os.getpid()
with InBackground(lambda: (os.getpid(), sum(range(10**6)))) as job:
    forked = job.pid is not None
    value = job.result()
print(forked, value[0] != parent, value[1] == sum(range(10**6)))
""")
    assert out == "True True True"


@LINUX
def test_a_child_that_fails_leaves_the_value_to_the_parent():
    out = run_script("""
parent = os.getpid()
def work():
    if os.getpid() != parent:
        raise RuntimeError("the child fails")
    return "computed here"
with InBackground(work) as job:
    print(job.pid is not None, job.result())
""")
    assert out == "True computed here"


@LINUX
def test_leaving_before_the_result_stops_the_child():
    out = run_script("""
start = time.perf_counter()
with InBackground(lambda: time.sleep(60)) as job:
    pid = job.pid
try:
    os.kill(pid, 0)
    alive = True
except ProcessLookupError:
    alive = False
print(pid is not None, alive, time.perf_counter() - start < 30)
""")
    assert out == "True False True"


def test_no_child_with_another_thread_or_for_small_work():
    out = run_script("""
print(InBackground(lambda: 1, worth_it=False).pid is None)
t = threading.Thread(target=time.sleep, args=(1,))
t.start()
print(can_fork(), InBackground(lambda: 2).pid is None, InBackground(lambda: 2).result())
t.join()
""")
    assert out.splitlines() == ["True", "False True 2"]


def test_in_this_process_the_value_is_the_same():
    with InBackground(lambda: [1.5, "x"], worth_it=False) as job:
        assert job.pid is None
        assert job.result() == [1.5, "x"]


def _digests(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}


@LINUX
def test_a_recalc_writes_the_same_bytes_with_and_without_the_child(tmp_path, monkeypatch):
    # a book large enough for the child (BACKGROUND_CELLS lowered), recalculated twice in
    # folders of their own (the Log names the file), once with forking refused
    outputs = []
    for fork in (True, False):
        folder = tmp_path / str(fork)
        folder.mkdir()
        shutil.copy(SHIPPED, folder / "book.xlsx")
        code = ("import sys\nfrom xl_aiindex.workbook import background, writer\n"
                "writer.BACKGROUND_CELLS = 0\n"
                + ("" if fork else "background.can_fork = lambda: False\n")
                + "forked = []\n"
                  "original = background.InBackground._fork\n"
                  "def fork(self):\n"
                  "    forked.append(1)\n"
                  "    original(self)\n"
                  "background.InBackground._fork = fork\n"
                  "from xl_aiindex.cli import main\n"
                  "code = main(['recalc', 'book.xlsx', '--top', '0'])\n"
                  "print(len(forked))\n"
                  "sys.exit(code)\n")
        p = subprocess.run([sys.executable, "-c", code], cwd=folder, env=ENV,
                           capture_output=True, text=True, timeout=240)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip().splitlines()[-1] == ("1" if fork else "0")
        outputs.append(_digests(folder / "book.xlsx"))
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------------------------------
# a sheet's pieces written on a second thread (ooxml/sheetxml.write_overlapped)


def test_pieces_are_written_in_order_on_a_second_thread():
    import threading

    from xl_aiindex.workbook.ooxml.sheetxml import write_overlapped

    written, threads = [], set()

    def write(piece: bytes) -> None:
        threads.add(threading.current_thread().name)
        written.append(piece)

    pieces = [str(i).encode() for i in range(50)]
    write_overlapped(iter(pieces), write)
    assert written == pieces
    assert threads == {"xl-aiindex sheet writer"}
    write_overlapped(iter(pieces[:1]), write)       # one piece: written here
    assert written[-1] == b"0" and not _writer_alive()


def test_an_error_on_either_side_is_raised_once_the_thread_has_ended():
    from xl_aiindex.workbook.ooxml.sheetxml import write_overlapped

    def failing_write(piece: bytes) -> None:
        if piece == b"3":
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_overlapped(iter([str(i).encode() for i in range(20)]), failing_write)
    assert not _writer_alive()

    def failing_pieces():
        yield b"a"
        yield b"b"
        raise ValueError("bad cell")

    written = []
    with pytest.raises(ValueError, match="bad cell"):
        write_overlapped(failing_pieces(), written.append)
    assert written == [b"a", b"b"] and not _writer_alive()


def _writer_alive() -> bool:
    import threading

    return any(t.name == "xl-aiindex sheet writer" for t in threading.enumerate())
