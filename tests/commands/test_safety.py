"""Text that must stay text and names that must not reach a terminal raw (issue 19 §4):
CSV fields that a spreadsheet would run as formulas, formula-like names copied into the .xlsm,
file names in batch progress, empty path arguments, ambiguous number separators."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from conftest import run

from xl_aiindex.cli import cli

INJECTION = "=cmd|' /C calc'!A0"


def write_book(path: Path, sheets) -> Path:
    """``sheets`` as an .xlsx whose cells of text starting with ``=`` are text, as Excel stores
    a name typed after a ``'`` (openpyxl would make them formulas)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(r, c, value)
                if isinstance(value, str):
                    cell.data_type = "s"
    book.save(path)
    return path


# ---- export --format csv: the OWASP CSV-injection rule ------------------------------------

def _hostile_names(small):
    """Units whose names start with each character a spreadsheet reads as a formula."""
    units = small["Units"]
    units[1][1], units[1][2] = INJECTION, "+SUM(1,2)"
    units[2][1], units[2][2] = "-2+3", "@SUM(1)"
    small["Settings"].append(["compare", "a/e"])   # the compare table holds negative numbers
    return small


def test_export_csv_writes_formula_like_text_as_text(small, tmp_path):
    book = write_book(tmp_path / "s.xlsx", _hostile_names(small))
    r = run("export", book, "--format", "csv", "--out-dir", tmp_path / "csv")
    assert r.exit_code == 0, r.output
    ranking = list(csv.DictReader((tmp_path / "csv" / "s_ranking.csv").open(encoding="utf-8-sig")))
    names = {row["unit"]: (row["name_zh"], row["name_en"]) for row in ranking}
    assert names["a"] == ("'" + INJECTION, "'+SUM(1,2)")
    assert names["b"] == ("'-2+3", "'@SUM(1)")
    assert names["c"] == ("丙", "Gamma")
    # numbers, negative ones included, stay numbers
    compare = list(csv.DictReader((tmp_path / "csv" / "s_compare.csv").open(encoding="utf-8-sig")))
    assert [row["diff"] for row in compare] == ["-100", "-100", "-100"]
    assert {row["unit"]: row["score"] for row in ranking}["e"] == "100"


def test_export_json_keeps_text_as_it_is(small, tmp_path):
    book = write_book(tmp_path / "s.xlsx", _hostile_names(small))
    r = run("export", book, "--format", "json", "--out-dir", tmp_path / "j")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "j" / "s.json").read_text(encoding="utf-8"))
    names = {row["unit"]: (row["name_zh"], row["name_en"]) for row in doc["tables"]["ranking"]}
    assert names["a"] == (INJECTION, "+SUM(1,2)") and names["b"] == ("-2+3", "@SUM(1)")
    assert [row["diff"] for row in doc["tables"]["compare"]] == [-100, -100, -100]


@pytest.mark.parametrize(("value", "field"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("a=b", "a=b"), ("", ""), (-1, "-1"), (-2.5, "-2.5"), (True, "TRUE")])
def test_csv_field(value, field):
    from xl_aiindex.workbook.export import csv_field

    assert csv_field(value) == field


# ---- excel: a text cell copied into the .xlsm stays text ---------------------------------

def test_excel_copies_formula_like_text_as_text(small, tmp_path):
    import re
    import zipfile

    small["Units"][1][1] = INJECTION
    small["Notes"] = [["sum"], [None]]   # a sheet of the user's own, with a real formula
    book = write_book(tmp_path / "s.xlsx", small)
    saved = openpyxl.load_workbook(book)
    saved["Notes"]["A2"] = "=SUM(1,2)"
    saved.save(book)
    r = run("excel", book)
    assert r.exit_code == 0, r.output
    xlsm = tmp_path / "s.xlsm"
    cell = openpyxl.load_workbook(xlsm)["Units"]["B2"]
    assert (cell.value, cell.data_type) == (INJECTION, "s")
    assert openpyxl.load_workbook(xlsm)["Notes"]["A2"].value == "=SUM(1,2)"
    with zipfile.ZipFile(xlsm) as z:
        names = z.read("xl/workbook.xml").decode()
        sheets = re.findall(r'<sheet name="([^"]+)"', names)

        def part(sheet):
            return z.read(f"xl/worksheets/sheet{sheets.index(sheet) + 1}.xml").decode()

        b2 = re.search(r'<c r="B2".*?</c>', part("Units")).group(0)
        a2 = re.search(r'<c r="A2".*?</c>', part("Notes")).group(0)
    assert "<f>" not in b2 and 't="s"' in b2
    assert "<f>SUM(1,2)</f>" in a2


# ---- an empty path (an unset shell variable) never means the current folder --------------

EMPTY = "an empty path was given (an unset shell variable?)"


@pytest.mark.parametrize("args", [
    ["recalc", ""], ["recalc", "book.xlsx", ""], ["recalc", "--check", ""], ["validate", ""],
    ["validate", "book.xlsx", ""], ["recalc", "book.xlsx", "-o", ""],
    ["recalc", "book.xlsx", "--out-dir", ""], ["fit-weights", ""], ["excel", ""],
    ["excel", "book.xlsx", "-o", ""], ["uncertainty", ""], ["uncertainty", "book.xlsx", "-o", ""],
    ["explain", "", "a"], ["audit", ""], ["audit", "book.xlsx", "-o", ""], ["weights", ""],
    ["compare", "", "a", "b"], ["compare-editions", "", "book.xlsx"],
    ["compare-editions", "book.xlsx", ""], ["compare-editions", "book.xlsx", "book.xlsx", "-o", ""],
    ["report", "", "-o", "r.html"], ["report", "book.xlsx", "-o", ""],
    ["export", "", "--format", "csv"], ["export", "book.xlsx", "--format", "csv", "--out-dir", ""],
    ["new", "--framework", "", "--units", "units.csv", "-o", "n.xlsx"],
    ["new", "--framework", "tree.csv", "--units", "units.csv", "-o", ""]])
def test_an_empty_path_is_refused(small, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    write_book(tmp_path / "book.xlsx", small)
    (tmp_path / "tree.csv").write_text("id,parent\nindex,\n", encoding="utf-8")
    (tmp_path / "units.csv").write_text("id,name_zh,name_en\na,甲,A\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert EMPTY in r.output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_every_path_parameter_refuses_an_empty_path():
    """A command added later gets the same guard: every path parameter is a NonEmptyPath."""
    import click

    from xl_aiindex.cli import NonEmptyPath

    paths = [(name, p) for name, command in cli.commands.items() for p in command.params
             if isinstance(p.type, click.Path) or p.name in ("book", "books", "old", "new")]
    assert len(paths) >= 20
    assert [f"{name} {p.name}" for name, p in paths if not isinstance(p.type, NonEmptyPath)] == []


def test_batch_refuses_an_empty_item():
    from xl_aiindex.batch import InputError, expand_inputs

    with pytest.raises(InputError, match=r"an empty path was given"):
        expand_inputs(["workbooks", ""])


# ---- ambiguous separators in numbers typed as text -----------------------------------------

@pytest.mark.parametrize(("typed", "number"), [
    ("1,234", 1234), ("12 345", 12345), ("1 234 567", 1234567), ("1,234,567.25", 1234567.25),
    ("-1,234", -1234), ("1\u00a0234", 1234), ("1\u202f234", 1234), ("９,８７６", 9876),
    ("45 %", 0.45), ("- 5", -5), ("0.250", 0.25)])
def test_thousands_groups_are_numbers(typed, number):
    from xl_aiindex.workbook.number_text import parse_number

    value, note = parse_number(typed)
    assert value == pytest.approx(number, rel=1e-15)
    assert note == f"text '{typed}' read as the number {number:.15g}"


@pytest.mark.parametrize("typed", ["0,250", "0,001", "12 34", "1 5", "1,23", "1,5", "01,234",
                                   "0 250", "1,234 567", "1234,567", "1,2345", "1 234,5"])
def test_ambiguous_separators_are_not_numbers(typed):
    from xl_aiindex.workbook.number_text import parse_number

    value, why = parse_number(typed)
    assert value is None and why.startswith(f"text '{typed}' is not a number")


def test_ambiguous_separators_are_problems_naming_the_cell(small, tmp_path):
    for row, typed in zip(range(1, 6), ["0,250", "0,001", "12 34", "1 5", "12 345"], strict=True):
        small["Data"][row][1] = typed
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert r.exit_code == 1
    zero = ("may be a decimal separator (as in many locales) or a thousands separator: type the "
            "number without it, with a decimal point if one is meant")
    space = ("a space separates thousands only between groups of three digits (1 234 567): type "
             "the number without it")
    assert r.output.splitlines() == [   # (notes are not shown when there are problems)
        "4 problems found:",
        f"Sheet 'Data', cell B2: unit a, indicator x1: text '0,250' is not a number: a comma "
        f"after a leading 0 {zero}",
        f"Sheet 'Data', cell B3: unit b, indicator x1: text '0,001' is not a number: a comma "
        f"after a leading 0 {zero}",
        f"Sheet 'Data', cell B4: unit c, indicator x1: text '12 34' is not a number: {space}",
        f"Sheet 'Data', cell B5: unit d, indicator x1: text '1 5' is not a number: {space}"]


def test_single_workbook_commands_print_file_names_escaped(tmp_path, small_book):
    """A newline or an escape character in a file name never reaches the terminal raw: it
    would forge a line (``FAILED …``) or send a control sequence."""
    import shutil

    odd = tmp_path / "a\nFAILED \x1b[31mx.xlsx"
    shutil.copy(small_book, odd)
    for args in (("validate", odd), ("recalc", odd, "-o", tmp_path / "o\nFAILED.xlsx")):
        r = run(*args)
        assert r.exit_code == 0, r.output
        assert "\x1b" not in r.output
        assert not any(line.startswith("FAILED") for line in r.output.splitlines()), r.output
        assert "\\x1b[31m" in r.output
