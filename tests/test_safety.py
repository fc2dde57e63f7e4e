"""Text that must stay text and names that must not reach a terminal raw (issue 19 §4):
CSV fields that a spreadsheet would run as formulas, formula-like names copied into the .xlsm,
file names in batch progress, empty path arguments, ambiguous number separators."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xl_aiindex.cli import cli

INJECTION = "=cmd|' /C calc'!A0"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


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
    ranking = list(csv.DictReader((tmp_path / "csv" / "ranking.csv").open(encoding="utf-8")))
    names = {row["unit"]: (row["name_zh"], row["name_en"]) for row in ranking}
    assert names["a"] == ("'" + INJECTION, "'+SUM(1,2)")
    assert names["b"] == ("'-2+3", "'@SUM(1)")
    assert names["c"] == ("丙", "Gamma")
    # numbers, negative ones included, stay numbers
    compare = list(csv.DictReader((tmp_path / "csv" / "compare.csv").open(encoding="utf-8")))
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
