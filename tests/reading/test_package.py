"""Reading hostile packages (issue 19 §3): each gives one clear answer naming the file and the
part, from ``validate`` and from ``recalc``, never a traceback, a crash or a silent wrong
result; and the opened package (:class:`~xl_aiindex.workbook.package.Package`) is read once
per command."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import assert_chart_sheet_refused, book_with_chart_sheet, run, write_book

from xl_aiindex.workbook import io as wio
from xl_aiindex.workbook.package import Package


def parts_of(book: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(book) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_parts(book: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return book


def refused(book: Path, reason: str, commands=("validate", "recalc")) -> None:
    """Every command exits 2 with one line: the file and ``reason``; the file is unchanged."""
    before = book.read_bytes()
    for command in commands:
        r = run(command, book)
        assert (r.exit_code, r.output) == (2, f"Error: {book}: {reason}\n"), command
    assert book.read_bytes() == before


# --------------------------------------------------------------------------------------------
# the zip itself


def _with_method(data: bytes, entry: str, method: int) -> bytes:
    """The zip ``data`` with ``entry``'s compression method field set to ``method`` in its
    local header and its central directory record (the compressed bytes unchanged)."""
    out = bytearray(data)
    name = entry.encode()
    local = out.find(b"PK\x03\x04")
    while local != -1:
        n = struct.unpack_from("<H", out, local + 26)[0]
        if out[local + 30: local + 30 + n] == name:
            struct.pack_into("<H", out, local + 8, method)
            break
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46: central + 46 + n] == name:
            struct.pack_into("<H", out, central + 10, method)
            break
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_a_deflate64_entry_is_refused_naming_it(tmp_path, small):
    book = write_book(tmp_path / "d64.xlsx", small)
    book.write_bytes(_with_method(book.read_bytes(), "xl/worksheets/sheet4.xml", 9))
    with zipfile.ZipFile(book) as z:
        assert z.getinfo("xl/worksheets/sheet4.xml").compress_type == 9
    refused(book, "zip entry 'xl/worksheets/sheet4.xml' is compressed with Deflate64 (method 9), "
                  "which Excel never writes and not every reader can unpack: save the workbook "
                  "again in Excel (or re-zip it with deflate)")


def test_entries_differing_only_in_case_are_refused(tmp_path, small):
    # the hidden copy holds other numbers: a reader taking it would compute wrong ranks
    book = write_book(tmp_path / "case.xlsx", small)
    parts = parts_of(book)
    parts["xl/worksheets/SHEET4.xml"] = parts["xl/worksheets/sheet4.xml"].replace(
        b"<v>10</v>", b"<v>99</v>")
    write_parts(book, parts)
    refused(book, "holds two zip entries whose names differ only in case "
                  "('xl/worksheets/SHEET4.xml' and 'xl/worksheets/sheet4.xml'; part names "
                  "ignore case, so a program would read either one): a damaged or tampered "
                  "package (refused)")


def test_entry_names_with_backslashes_are_refused(tmp_path, small):
    book = write_book(tmp_path / "slash.xlsx", small)
    parts = parts_of(book)
    parts = {n.replace("xl/worksheets/sheet4.xml", "xl\\worksheets\\sheet4.xml"): d
             for n, d in parts.items()}
    write_parts(book, parts)
    refused(book, "holds a zip entry named 'xl\\worksheets\\sheet4.xml' with backslashes, which "
                  "a package never has (programs read it differently): a damaged package; save "
                  "it again in Excel")


# --------------------------------------------------------------------------------------------
# the workbook's structure


def test_strict_open_xml_is_a_clear_refusal(tmp_path, small):
    book = write_book(tmp_path / "strict.xlsx", small)
    parts = parts_of(book)
    for name, data in parts.items():
        parts[name] = data.replace(
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main").replace(
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships")
    write_parts(book, parts)
    refused(book, "is a Strict Open XML workbook (part xl/workbook.xml), which is not supported: "
                  "save it as Excel Workbook (.xlsx)")


def test_a_missing_sheet_part_is_a_clear_refusal(tmp_path, small):
    book = write_book(tmp_path / "gone.xlsx", small)
    parts = parts_of(book)
    del parts["xl/worksheets/sheet4.xml"]
    write_parts(book, parts)
    refused(book, "sheet 'Data' has no content part (xl/worksheets/sheet4.xml is not in the "
                  "package): a damaged package; save it again in Excel")
    with Package(book) as package:
        assert package.kinds()["Data"] == "missing"
        assert package.kinds()["Units"] == "worksheet"


def test_a_utf16_sheet_part_is_read(tmp_path, small):
    # XML may be UTF-16 (with its byte order mark): read it as the parsers do
    book = write_book(tmp_path / "utf16.xlsx", small)
    expected = run("validate", book).output.replace("utf16.xlsx", "X")
    parts = parts_of(book)
    text = parts["xl/worksheets/sheet4.xml"].decode("utf-8")
    assert text.startswith("<?xml") or text.startswith("<worksheet")
    if text.startswith("<?xml"):
        text = text.replace("encoding='UTF-8'", "encoding='UTF-16'").replace(
            'encoding="UTF-8"', 'encoding="UTF-16"')
    else:
        text = '<?xml version="1.0" encoding="UTF-16"?>' + text
    parts["xl/worksheets/sheet4.xml"] = text.encode("utf-16")
    write_parts(book, parts)
    r = run("validate", book)
    assert (r.exit_code, r.output.replace("utf16.xlsx", "X")) == (0, expected)
    assert expected.startswith("OK: ") and "5 units, 4 indicators" in expected
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0, r.output
    scores = openpyxl.load_workbook(book, read_only=True)["Scores"]
    assert len([row for row in scores.iter_rows(values_only=True) if row[0]]) == 6


def test_a_chart_sheet_where_a_stored_result_sheet_was(tmp_path, small):
    # after a recalc the user replaces Ranking by a chart sheet: the fingerprint of Ranking is
    # stored, and the check must not try to read a chart as cells

    first = write_book(tmp_path / "first.xlsx", small)
    assert run("recalc", first, "--top", "0").exit_code == 0
    done = openpyxl.load_workbook(first)
    kept = {n: [list(r) for r in done[n].iter_rows(values_only=True)]
            for n in (*small, "Log", "_xl_aiindex")}
    book = tmp_path / "chart.xlsx"
    book_with_chart_sheet(book, kept)
    assert_chart_sheet_refused(book)


# --------------------------------------------------------------------------------------------
# a far cell however its reference is spelled: refused before anything is allocated


_FAR_CELL = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from click.testing import CliRunner
    from xl_aiindex.cli import cli
    r = CliRunner().invoke(cli, sys.argv[1:])
    sys.stdout.write(f"{r.exit_code}\\n{r.output}")
""")


@pytest.mark.parametrize("cell", [
    b"<c r='XFD1048576'><v>1</v></c>",
    b'<c r="xfd1048576"><v>1</v></c>',
    b'<c r = "XFD1048576"><v>1</v></c>',
])
def test_a_far_cell_in_any_spelling_is_refused_without_allocating(tmp_path, small, cell):
    book = write_book(tmp_path / "far.xlsx", small)
    parts = parts_of(book)
    parts["xl/worksheets/sheet4.xml"] = parts["xl/worksheets/sheet4.xml"].replace(
        b"</sheetData>", b'<row r="1048576">' + cell + b"</row></sheetData>")
    write_parts(book, parts)
    reason = ("sheet 'Data' is larger than the limit of 20,000,000 cells (1,048,576 rows × "
              "16,384 columns)")
    for command in ("validate", "recalc"):
        # a regression would try to allocate 512 GB: run it where memory is bounded
        done = subprocess.run([sys.executable, "-c", _FAR_CELL, command, str(book)],
                              capture_output=True, text=True, timeout=300)
        assert done.stdout == f"2\nError: {book}: {reason}\n", (command, done.stderr[-2000:])


# --------------------------------------------------------------------------------------------
# one open per command


def test_load_and_hand_edit_check_open_the_package_once(tmp_path, small, monkeypatch):
    book = write_book(tmp_path / "once.xlsx", small)
    assert run("recalc", book, "--top", "0").exit_code == 0
    zips: list[object] = []
    files: list[str] = []
    real_init = zipfile.ZipFile.__init__
    real_open = open

    def counting_init(self, file, mode="r", *args, **kwargs):
        if mode == "r":
            zips.append(file)
        real_init(self, file, mode, *args, **kwargs)

    def counting_open(file, *args, **kwargs):
        if isinstance(file, str | Path) and Path(file).resolve() == book.resolve():
            files.append(str(file))
        return real_open(file, *args, **kwargs)

    first = wio.load_workbook(book)   # the sheets a recalc would write, computed beforehand
    from xl_aiindex.workbook.formulas import output_mode, output_sheets

    specs, _ = output_sheets(wio.compute(first), first.locator, first.path,
                             output_mode(first.model.settings.output, None))
    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    monkeypatch.setattr("builtins.open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)
    loaded = wio.load_workbook(book)
    wio.compute(loaded)
    problems = wio.write_problems(loaded, specs, appended=("Log",))
    wio.check_hand_edits(loaded, specs)
    monkeypatch.undo()
    assert problems == [] and loaded.stored is not None
    assert len(files) == 1, files
    assert len(zips) == 1, zips
    assert not isinstance(zips[0], str | Path)   # the bytes read once, not the path again


@pytest.mark.parametrize("in_place", [False, True], ids=["to-output", "in-place"])
def test_a_whole_recalc_reads_the_workbook_file_once(tmp_path, small, monkeypatch, in_place):
    """Issue 25's measure: instrument zipfile and open() over a whole ``recalc`` (guards,
    load, ownership and hand-edit checks, the splice): the input file is read once."""
    book = write_book(tmp_path / "once.xlsx", small)
    assert run("recalc", book, "--top", "0").exit_code == 0   # fingerprints: the check runs
    reads: list[str] = []
    real_init = zipfile.ZipFile.__init__
    real_open = open

    def is_book(file: object) -> bool:
        return isinstance(file, str | Path) and Path(file).resolve() == book.resolve()

    def counting_init(self, file, mode="r", *args, **kwargs):
        if mode == "r" and is_book(file):
            reads.append(f"zipfile {file}")
        real_init(self, file, mode, *args, **kwargs)

    def counting_open(file, mode="r", *args, **kwargs):
        if is_book(file) and "r" in mode:
            reads.append(f"open {file}")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    monkeypatch.setattr("builtins.open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)
    out = book if in_place else tmp_path / "out.xlsx"
    r = run("recalc", book, "-o", out, "--top", "0")
    monkeypatch.undo()
    assert r.exit_code == 0, r.output
    assert len(reads) == 1, reads
