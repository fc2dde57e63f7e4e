"""Batch recalculation: many workbooks, in parallel, each on its own."""

import json
import multiprocessing
import os
import shutil
import signal
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import SMALL, run, write_book

from xl_aiindex import batch
from xl_aiindex.cli import cli

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "workbooks" / "city_ai_index_2020.xlsx"
RESULT_SHEETS = ("Scores", "Ranking", "Tiers", "WeightsUsed")


def results(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {s: list(book[s].iter_rows(values_only=True)) for s in RESULT_SHEETS}


@pytest.fixture
def mixed(tmp_path, small) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REFERENCE, folder / "a_good.xlsx")
    write_book(folder / "b_small.xlsx", small)
    small["Data"][2][2] = "abc"
    write_book(folder / "c_bad.xlsx", small)
    shutil.copy(REFERENCE, folder / "d_locked.xlsx")
    (folder / "~$d_locked.xlsx").write_bytes(b"owner")
    (folder / "e_corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "notes.txt").write_text("not a workbook")
    return folder


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_mixed_folder_in_place(mixed, tmp_path, jobs):
    before = {p.name: p.read_bytes() for p in mixed.iterdir()}
    # single-file runs of the good ones, for comparison
    singles = tmp_path / "single"
    singles.mkdir()
    for name in ("a_good.xlsx", "b_small.xlsx"):
        assert run("recalc", mixed / name, "-o", singles / name).exit_code == 0
    r = run("recalc", mixed, "--jobs", jobs)
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines[-1].startswith("2 ok, 3 failed (5 workbooks, ")
    table = {line.split()[1]: line for line in lines[1:-1]}
    assert table[str(mixed / "c_bad.xlsx")].split()[0] == "FAILED"
    assert "1 problem: Sheet 'Data', cell C3: unit b, indicator x2: text 'abc' is not a number" \
        in table[str(mixed / "c_bad.xlsx")]
    assert "close it in Excel or write with -o OUT.xlsx (several workbooks: --out-dir DIR)" \
        in table[str(mixed / "d_locked.xlsx")]
    assert "e_corrupt.xlsx" in r.stdout and "damaged zip package" in table[str(mixed / "e_corrupt.xlsx")]
    for name in ("a_good.xlsx", "b_small.xlsx"):
        assert results(mixed / name) == results(singles / name)
    for name in ("c_bad.xlsx", "d_locked.xlsx", "e_corrupt.xlsx", "notes.txt"):
        assert (mixed / name).read_bytes() == before[name]


def test_json_lists_every_input_once(mixed, tmp_path):
    out = tmp_path / "out"
    r = run("recalc", mixed / "*.xlsx", "--json", "--out-dir", out, "-j", "2")
    assert r.exit_code == 1
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(Path(rec["path"]).name for rec in records) == [
        "a_good.xlsx", "b_small.xlsx", "c_bad.xlsx", "d_locked.xlsx", "e_corrupt.xlsx"]
    status = {Path(rec["path"]).name: rec["status"] for rec in records}
    assert status == {"a_good.xlsx": "ok", "b_small.xlsx": "ok", "c_bad.xlsx": "problems",
                      "d_locked.xlsx": "ok", "e_corrupt.xlsx": "unreadable"}
    # with --out-dir the locked original is not overwritten, so it is fine
    assert sorted(p.name for p in out.iterdir()) == ["a_good.xlsx", "b_small.xlsx", "d_locked.xlsx"]
    assert {k for k in records[0]} >= {"path", "status", "seconds", "units", "error"}


def test_validate_lists_every_problem_of_every_workbook(mixed):
    r = run("validate", mixed / "b_small.xlsx", mixed / "c_bad.xlsx", mixed / "e_corrupt.xlsx")
    assert r.exit_code == 1
    assert f"{mixed / 'c_bad.xlsx'}: 1 problem:\n  Sheet 'Data', cell C3: unit b, indicator x2: " \
           "text 'abc' is not a number\n" in r.stdout
    assert r.stdout.splitlines()[-1].startswith("1 ok, 2 failed (3 workbooks, ")


def test_command_line_errors_exit_2(mixed, tmp_path):
    r = run("recalc", mixed / "a_good.xlsx", mixed / "b_small.xlsx", "-o", tmp_path / "x.xlsx")
    assert r.exit_code == 2 and "with several workbooks use --out-dir DIR" in r.output
    r = run("recalc", tmp_path / "nothing*.xlsx")
    assert r.exit_code == 2
    assert r.output == f"Error: {tmp_path / 'nothing*.xlsx'}: pattern matches no .xlsx or .xlsm workbook\n"
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(REFERENCE, other / "a_good.xlsx")
    r = run("recalc", mixed / "a_good.xlsx", other / "a_good.xlsx", "--out-dir", tmp_path / "o")
    assert r.exit_code == 2 and "would both be written to" in r.output


def test_recursive_folders(tmp_path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    write_book(tmp_path / "x" / "one.xlsx", SMALL)
    write_book(tmp_path / "x" / "y" / "two.xlsx", SMALL)
    assert run("validate", tmp_path / "x", "-q").stdout.splitlines()[-1].startswith("1 ok, 0 failed")
    assert run("validate", tmp_path / "x", "-r", "-q").stdout.splitlines()[-1].startswith("2 ok, 0 failed")


def test_progress_prints_file_names_as_text(tmp_path, small):
    folder = tmp_path / "in"
    folder.mkdir()
    write_book(folder / "a\n FAILED forged.xlsx", small)      # fine, but named to forge a line
    small["Data"][2][2] = "abc"
    write_book(folder / "b\x1b[31mred.xlsx", small)           # has a problem
    r = CliRunner().invoke(cli, ["validate", str(folder), "--jobs", "1"], color=True)
    assert r.exit_code == 1
    assert "\x1b" not in r.output and "\n FAILED" not in r.output
    failed = [line for line in r.output.splitlines() if line.lstrip().startswith("FAILED")]
    assert len(failed) == 2 and all("b\\x1b[31mred.xlsx" in line for line in failed)
    progress = [line for line in r.stderr.splitlines() if line.startswith(("ok ", "FAILED "))]
    assert progress == [f"ok     {folder}/a↵ FAILED forged.xlsx: " + progress[0].split(": ")[-1],
                        f"FAILED {folder}/b\\x1b[31mred.xlsx: 1 problem: Sheet 'Data', cell C3: "
                        "unit b, indicator x2: text 'abc' is not a number"]
    assert f"{folder}/b\\x1b[31mred.xlsx: 1 problem:\n" in r.stdout
    assert r.stdout.splitlines()[-1].startswith("1 ok, 1 failed (2 workbooks, ")


def test_progress_bar_shows_file_names_as_text(tmp_path, small, monkeypatch):
    import click.testing

    folder = tmp_path / "in"
    folder.mkdir()
    write_book(folder / "a\n FAILED forged.xlsx", small)
    write_book(folder / "b\x1b[31mred.xlsx", small)
    # the bar shows on a terminal only: make the runner's stderr one
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    r = CliRunner().invoke(cli, ["validate", str(folder), "--jobs", "1"], color=True)
    assert r.exit_code == 0
    assert "[31m" in r.stderr and "\x1b[31m" not in r.stderr and "\n FAILED" not in r.stderr
    assert f"{folder}/a↵ FAILED forged.xlsx" in r.stderr


_REAL_ONE = batch._one


def _killed_on_c(command, path, output, options):
    """The worker's job, except that the worker of c_dies.xlsx is killed as the out-of-memory
    killer kills: SIGKILL, no clean-up, no result."""
    if Path(path).name == "c_dies.xlsx":
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_ONE(command, path, output, options)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")
@pytest.mark.parametrize("command", ["validate", "recalc"])
def test_a_killed_worker_fails_its_workbook_only(tmp_path, small, monkeypatch, command):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.xlsx", "b.xlsx", "c_dies.xlsx", "d.xlsx", "e.xlsx"):
        write_book(folder / name, small)
    # the workers are forked, so they run the patched job
    monkeypatch.setattr(batch, "_mp_context", lambda: multiprocessing.get_context("fork"),
                        raising=False)   # (raising: the code before this seam, for comparison)
    monkeypatch.setattr(batch, "_one", _killed_on_c)
    r = run(command, folder, "--jobs", "2")
    assert r.exit_code == 1, r.output
    reason = "the worker process died (killed by signal 9: out of memory?)"
    assert f"FAILED {folder / 'c_dies.xlsx'}: {reason}" in r.stderr.splitlines()
    table = {line.split()[1]: line.split(None, 2) for line in r.stdout.splitlines()[1:-1]
             if line.startswith(("ok ", "FAILED "))}
    assert table[str(folder / "c_dies.xlsx")][0] == "FAILED"
    assert table[str(folder / "c_dies.xlsx")][2].endswith(reason)
    for name in ("a.xlsx", "b.xlsx", "d.xlsx", "e.xlsx"):
        assert table[str(folder / name)][0] == "ok"
        assert table[str(folder / name)][2].split()[1] == "5"   # seconds, then 5 units
    assert r.stdout.splitlines()[-1].startswith("4 ok, 1 failed (5 workbooks, ")
    if command == "recalc":   # the others were written, the killed one left as it was
        assert "Ranking" in openpyxl.load_workbook(folder / "e.xlsx").sheetnames
        assert "Ranking" not in openpyxl.load_workbook(folder / "c_dies.xlsx").sheetnames


def test_process_death_reasons():
    assert batch.process_death(-9) == "the worker process died (killed by signal 9: out of memory?)"
    assert batch.process_death(-11) == "the worker process died (killed by signal 11, SIGSEGV)"
    assert batch.process_death(3) == "the worker process died (exit code 3)"
