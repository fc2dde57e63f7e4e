"""One write path (issue 19 §2): every command that writes a workbook (recalc, uncertainty,
audit, compare-editions, excel) gets recalc's guarantees, each tested once per command; the
commands that write other files (report, export) get the file guarantees.

Per command: a user's own sheet under the command's result name is refused (exit 1, sheet
and cell named, the file byte-identical; ``--force`` replaces it); a read-only destination, one
open in Excel (``~$``) or LibreOffice (``.~lock.NAME#``) and a named pipe are refused (exit 2,
nothing written); a symbolic link is written through; each run adds exactly one Log row.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import SMALL, run, write_book


@dataclass(frozen=True)
class Command:
    """How to run one writing command: ``args(book, dst)`` (``dst`` None: in place, or the
    command's default output), the sheet it writes, the suffix of its output."""

    name: str
    sheet: str
    args: Callable[[Path, Path | None], list[Any]]
    suffix: str = ".xlsx"
    #: extra arguments when the destination exists (excel refuses to overwrite without --force)
    overwrite: tuple[str, ...] = ()


def _old(book: Path) -> Path:
    """The older edition compare-editions reads: a copy of ``book``'s inputs."""
    old = book.with_name("old_edition.xlsx")
    if not old.exists():
        write_book(old, SMALL)
    return old


def _out(dst: Path | None) -> list[Any]:
    return [] if dst is None else ["-o", dst]


COMMANDS = [
    Command("recalc", "Scores", lambda b, d: ["recalc", b, *_out(d)]),
    Command("uncertainty", "Sensitivity",
            lambda b, d: ["uncertainty", b, *_out(d), "--samples", "4", "--budget", "0"]),
    Command("audit", "Audit", lambda b, d: ["audit", b, *_out(d)]),
    Command("compare-editions", "Changes",
            lambda b, d: ["compare-editions", _old(b), b, *_out(d)]),
    Command("excel", "Examples",
            lambda b, d: ["excel", b, "-o", d if d is not None else b.with_name("built.xlsm")],
            suffix=".xlsm", overwrite=("--force",)),
]
IDS = [c.name for c in COMMANDS]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """The small index with an Uncertainty sheet (what ``uncertainty`` varies)."""
    sheets = {**SMALL, "Uncertainty": [["assumption", "how", "values"],
                                      ["weights", "uniform", 0.25]]}
    return write_book(tmp_path / "book.xlsx", sheets)


def log_rows(path: Path) -> list[tuple[Any, ...]]:
    """The Log's rows below its header ([] without a Log)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        if "Log" not in wb.sheetnames:
            return []
        rows = [tuple(r) for r in wb["Log"].iter_rows(values_only=True)]
    finally:
        wb.close()
    return [r for r in rows[1:] if any(v is not None for v in r)]


def sheet_names(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def existing_destination(book: Path, command: Command, name: str = "out") -> Path:
    """A destination that exists (a copy of ``book``) with the command's output suffix."""
    dst = book.with_name(name + command.suffix)
    shutil.copy(book, dst)
    return dst


# --------------------------------------------------------------------------------------------
# per command


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_users_own_sheet_of_the_result_name_is_refused(book, command):
    wb = openpyxl.load_workbook(book)
    ws = wb.create_sheet(command.sheet)
    ws["B3"] = "my own notes"
    wb.save(book)
    before = book.read_bytes()
    r = run(*command.args(book, None))
    assert r.exit_code == 1, r.output
    assert f"sheet '{command.sheet}' was not written by xl-aiindex (it holds 'my own notes' " \
           "in B3)" in r.output
    assert book.read_bytes() == before
    if command.name == "excel":
        assert not book.with_name("built.xlsm").exists()
    r = run(*command.args(book, None), "--force")
    assert r.exit_code == 0, r.output
    target = book.with_name("built.xlsm") if command.name == "excel" else book
    wb = openpyxl.load_workbook(target, read_only=True)
    try:
        assert wb[command.sheet]["B3"].value != "my own notes"
    finally:
        wb.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_read_only_destination_is_refused(book, command):
    dst = existing_destination(book, command)
    dst.chmod(0o444)
    before = dst.read_bytes()
    try:
        r = run(*command.args(book, dst), *command.overwrite)
        assert r.exit_code == 2, r.output
        assert f"Error: {dst}: the workbook is read-only" in r.output
        assert dst.read_bytes() == before
    finally:
        dst.chmod(0o644)


@pytest.mark.parametrize("owner", ["~$", ".~lock."], ids=["Excel", "LibreOffice"])
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_destination_open_in_excel_or_libreoffice_is_refused(book, command, owner):
    dst = existing_destination(book, command)
    name = f"~${dst.name}" if owner == "~$" else f".~lock.{dst.name}#"
    (dst.parent / name).write_text("user,host;", encoding="utf-8")
    before = dst.read_bytes()
    r = run(*command.args(book, dst), *command.overwrite)
    app = "Excel" if owner == "~$" else "LibreOffice"
    assert r.exit_code == 2, r.output
    assert f"Error: {dst}: the workbook seems open in {app} ({name} exists)" in r.output
    assert dst.read_bytes() == before


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_symbolic_link_is_written_through(book, command):
    real = existing_destination(book, command, "real")
    link = book.with_name("link" + command.suffix)
    link.symlink_to(real.name)
    r = run(*command.args(book, link), *command.overwrite)
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and os.readlink(link) == real.name
    assert command.sheet in sheet_names(real)
    assert [p.name for p in book.parent.iterdir() if p.name.endswith((".tmp", ".lock"))] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_named_pipe_destination_is_refused(book, command):
    import stat

    pipe = book.with_name("pipe" + command.suffix)
    os.mkfifo(pipe)
    r = run(*command.args(book, pipe), *command.overwrite)
    assert r.exit_code == 2, r.output
    assert f"Error: {pipe}: is not a regular file" in r.output
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_each_run_adds_exactly_one_log_row(book, command):
    if command.name == "excel":
        before = len(log_rows(book))
        out = book.with_name("built.xlsm")
        for _ in range(2):
            r = run(*command.args(book, out), "--force")
            assert r.exit_code == 0, r.output
            rows = log_rows(out)
            assert len(rows) == before + 1
            assert rows[-1][1] == "excel"
        return
    for n in (1, 2):
        r = run(*command.args(book, None))
        assert r.exit_code == 0, r.output
        rows = log_rows(book)
        assert len(rows) == n, rows
        assert rows[-1][1] == command.name


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.name != "excel"],
                         ids=[c.name for c in COMMANDS if c.name != "excel"])
def test_a_result_cell_edited_by_hand_is_refused(book, command):
    assert run(*command.args(book, None)).exit_code == 0
    wb = openpyxl.load_workbook(book)
    wb[command.sheet]["B2"] = "typed over"
    wb.save(book)
    before = book.read_bytes()
    r = run(*command.args(book, None))
    assert r.exit_code == 1, r.output
    assert f"Sheet '{command.sheet}', cell B2: " in r.output and "edited by hand" in r.output
    assert book.read_bytes() == before
    assert run(*command.args(book, None), "--force").exit_code == 0


def test_a_rebuilt_excel_workbook_keeps_its_own_examples_without_force(book):
    # the Examples sheet excel wrote is the tool's (its fingerprint is stored): building again
    # from the built workbook needs no --force
    first = book.with_name("first.xlsm")
    assert run("excel", book, "-o", first).exit_code == 0
    r = run("excel", first, "-o", book.with_name("second.xlsm"))
    assert r.exit_code == 0, r.output


# --------------------------------------------------------------------------------------------
# output names that do not say what the file holds


@pytest.mark.parametrize("args,name", [
    (["audit", "{book}", "-o", "{dir}/audit.ods"], "audit.ods"),
    (["compare-editions", "{old}", "{book}", "-o", "{dir}/changes.csv"], "changes.csv"),
])
def test_a_workbook_is_never_written_under_another_files_name(book, args, name):
    values = {"book": book, "old": _old(book), "dir": book.parent}
    r = run(*[a.format(**values) for a in args])
    assert r.exit_code == 2, r.output
    assert "name the output .xlsx" in r.output
    assert not (book.parent / name).exists()


def test_report_refuses_a_name_that_is_not_html_or_pdf(book):
    r = run("report", book, "-o", book.with_name("report.txt"))
    assert r.exit_code == 2, r.output
    assert "name the output .html or .htm or .pdf" in r.output
    assert not book.with_name("report.txt").exists()


def test_report_never_writes_over_the_workbook(book):
    before = book.read_bytes()
    r = run("report", book, "-o", book)
    assert r.exit_code == 2, r.output
    assert f"Error: {book}: cannot write a HTML report into a .xlsx file" in r.output
    assert book.read_bytes() == before


# --------------------------------------------------------------------------------------------
# a full disk: the file named, the old content intact


class _FullDisk:
    """A file opened for writing on a full disk: every write fails with ENOSPC (no file name,
    as the system says it)."""

    def __init__(self, f: Any):
        self._f = f

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def writelines(self, lines: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._f.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    """Every file opened for writing under ``tmp_path`` is on a full disk."""
    real_open = builtins.open

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = real_open(file, mode, *args, **kwargs)
        if isinstance(file, str | os.PathLike) and str(tmp_path) in os.fspath(file) \
                and any(m in mode for m in "wax"):
            return _FullDisk(f)
        return f

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)


def test_report_onto_a_full_disk_names_the_file_and_keeps_the_old_report(book, tmp_path,
                                                                          request):
    report = tmp_path / "report.html"
    report.write_text("<p>the old report</p>", encoding="utf-8")
    request.getfixturevalue("full_disk")
    r = run("report", book, "-o", report)
    assert r.exit_code == 2, r.output
    assert r.output == (f"Error: {report}: cannot write: no space left on device; the file was "
                        "not changed\n")
    assert report.read_text(encoding="utf-8") == "<p>the old report</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "report.html"]


def test_export_onto_a_full_disk_names_the_file_and_keeps_the_old_export(book, tmp_path,
                                                                          request):
    folder = tmp_path / "out"
    folder.mkdir()
    old = folder / f"{book.stem}_ranking.csv"
    old.write_text("old,export\n", encoding="utf-8")
    request.getfixturevalue("full_disk")
    r = run("export", book, "--format", "csv", "--out-dir", folder, "--force")
    assert r.exit_code == 2, r.output
    assert r.output.startswith(f"Error: {folder}{os.sep}")
    assert r.output.endswith(".csv: cannot write: no space left on device; the file was not "
                             "changed\n") or r.output.endswith(".csv: cannot write: no space "
                                                               "left on device; nothing was "
                                                               "written\n")
    assert old.read_text(encoding="utf-8") == "old,export\n"
    assert [p.name for p in folder.iterdir() if p != old] == []
