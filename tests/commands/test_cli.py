"""The command line: exact output and exit codes, on good and broken workbooks."""

from pathlib import Path

import openpyxl
import pytest
from conftest import run, write_book


def test_validate_ok(small_book):
    r = run("validate", small_book)
    assert r.exit_code == 0
    assert r.output == f"OK: {small_book}: no problems (5 units, 4 indicators, 7 nodes, input = data)\n"


def test_recalc_prints_ranking_and_writes_result_sheets(small_book, tmp_path):
    out = tmp_path / "out.xlsx"
    r = run("recalc", small_book, "-o", out)
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"Recalculated {small_book}: 5 units, 7 nodes (input = data)\n"
        f"Wrote Scores, Ranking, Tiers, WeightsUsed, GroupRanking, Charts and Log to {out}\n"
        "\n"
        "rank  unit  name   score  tier\n"
        "   1  e     戊    100.00  top\n"
        "   2  d     丁     75.00  top\n"
        "   3  c     丙     42.50  middle\n"
        "   4  b     乙     32.50  middle\n"
        "   5  a     甲      0.00  bottom\n")
    book = openpyxl.load_workbook(out)
    ranking = [r for r in book["Ranking"].iter_rows(values_only=True)]
    assert ranking[0] == ("rank", "unit", "name_zh", "name_en", "score", "tier", "d1", "d2")
    # c: d1 = 50, d2 = .25*50 + .75*25 = 31.25, total .6*50 + .4*31.25 = 42.5 (by hand)
    assert ranking[3] == (3, "c", "丙", "Gamma", 42.5, "middle", 50, 31.25)
    assert [r[0] for r in book["Log"].iter_rows(min_row=2, values_only=True)] != []


def test_recalc_top_zero_prints_no_table(small_book, tmp_path):
    r = run("recalc", small_book, "-o", tmp_path / "o.xlsx", "--top", "0")
    assert r.output.splitlines()[-1].startswith("Wrote ")


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s["Data"][3].__setitem__(0, "Gamma"),
     ("Sheet 'Data', cell A4: unit 'Gamma' is not an id in Units; that is the name of unit 'c': use its id",
      "Sheet 'Data': unit c (丙) has no row in Data")),
    (lambda s: s["Data"].append(["a", 1, 2, 3, 4]),
     "Sheet 'Data', cell A7: unit 'a' has a second row here (first in row 2)"),
    (lambda s: [r.pop(4) for r in s["Data"]],
     "Sheet 'Data': indicator x4 (指标四) has no column in Data (header 'x4' expected in row 1)"),
    (lambda s: s["Data"][2].__setitem__(2, "abc"),
     "Sheet 'Data', cell C3: unit b, indicator x2: text 'abc' is not a number"),
    (lambda s: s["Data"][2].__setitem__(2, None),
     "Sheet 'Data', cell C3: unit b (乙) has no value for x2 (指标二): enter it, or set 'missing' "
     "to reweight or an imputation method (mean, median, group_mean:COLUMN…)"),
    (lambda s: s["Framework"][2].__setitem__(4, -0.6),
     "Sheet 'Framework', cell E3: node d1 (维度一) has weight -0.6: weights must be ≥ 0"),
    (lambda s: s["Framework"][6].__setitem__(4, 0.5),
     "Sheet 'Framework', cell E7: the weights of the children of d2 (维度二) sum to 1.25, not 1 "
     "(x3 0.5, x4 0.75); correct them, or set 'weights' to rescale"),
    (lambda s: [r.__setitem__(3, 7) for r in s["Data"][1:]],
     "Sheet 'Data', cell D1: indicator x3 (指标三) has zero spread (every present value is the "
     "same) under minmax normalisation: it tells no units apart, so remove it (from Framework "
     "and Data), or give it goalposts (normalisation goalposts, with goal_low and goal_high in "
     "Framework)"),
    (lambda s: s["Framework"][4].__setitem__(1, "dx"),
     "Sheet 'Framework', cell B5: node x1 (指标一) has parent 'dx', which is not a node id (orphan node)"),
    (lambda s: s["Framework"][2].__setitem__(1, "x1"),
     "Sheet 'Framework', cell B3: node d1 (维度一) is in a cycle: d1 -> x1 -> d1"),
    (lambda s: s["Framework"][4].__setitem__(6, "min-max"),
     "Sheet 'Framework', cell G5: unknown normalisation method 'min-max' for node x1; choose one "
     "of: efficacy, goalposts, minmax, percentile, rank, zscore"),
    (lambda s: s["Settings"][3].__setitem__(1, "min-max"),
     "Sheet 'Settings', cell B4: setting 'normalisation': unknown value 'min-max'; choose one of: "
     "efficacy, goalposts, minmax, percentile, rank, zscore"),
    (lambda s: s["Data"].insert(3, [None] * 5),
     "Sheet 'Data', cell A4: row 4 is blank inside the table: delete it (a blank row ends "
     "nothing; data continues below)"),
    (lambda s: s["Data"][2].__setitem__(2, "#REF!"),   # (#N/A is read as missing: a marker)
     "Sheet 'Data', cell C3: unit b, indicator x2: holds the error value #REF!"),
    (lambda s: s.pop("Settings"),
     "Sheet 'Settings': the workbook has no sheet 'Settings'; its sheets: Framework, Units, Data"),
    (lambda s: s["Units"].append(["A ", "己", "Zeta", "north", 1]),
     "Sheet 'Units', cell A7: unit id 'A' differs only in case, width or spaces from 'a' in A2: ids must "
     "be unique"),
])
def test_bad_input_is_named_and_the_file_left_untouched(tmp_path, small, mutate, expected):
    mutate(small)
    book = write_book(tmp_path / "bad.xlsx", small)
    before = book.read_bytes()
    lines = (expected,) if isinstance(expected, str) else expected
    head = "1 problem found:" if len(lines) == 1 else f"{len(lines)} problems found:"
    for command in ("validate", "recalc"):
        r = run(command, book)
        assert r.exit_code == 1
        assert r.output == "\n".join((head, *lines)) + "\n"
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx"]  # no stray temporary file


def test_every_problem_is_listed_at_once(tmp_path, small):
    small["Data"][2][2] = "abc"
    small["Data"][4][3] = "xyz"
    small["Framework"][2][4] = -1
    r = run("validate", write_book(tmp_path / "b.xlsx", small))
    assert r.exit_code == 1
    assert r.output.splitlines()[0] == "3 problems found:"


def test_text_numbers_are_read_with_a_note(tmp_path, small):
    small["Data"][2][2] = "4"
    small["Data"][3][1] = "３０"   # full-width digits
    small["Data"][4][4] = "400"
    r = run("validate", write_book(tmp_path / "t.xlsx", small))
    assert r.exit_code == 0
    assert "note: Sheet 'Data', cell B4: text '３０' read as the number 30" in r.output


@pytest.mark.parametrize("content, what", [
    (b"unit,x1\na,1\n", "is a text file (CSV?), not an .xlsx/.xlsm workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
     "is a password-protected workbook or a legacy .xls file (OLE2 format): save it unencrypted as .xlsx"),
    (b"", "is an empty file, not an .xlsx/.xlsm workbook"),
])
def test_unreadable_file_exits_2_with_one_line(tmp_path, content, what):
    p = tmp_path / "book.xlsx"
    p.write_bytes(content)
    r = run("recalc", p)
    assert r.exit_code == 2
    assert r.output == f"Error: {p}: {what}\n"


def test_missing_file_and_bad_option_exit_2(tmp_path):
    assert run("validate", tmp_path / "nope.xlsx").output == f"Error: {tmp_path / 'nope.xlsx'}: no such file\n"
    assert run("recalc", "x.xlsx", "--nope").exit_code == 2


def test_in_place_refused_while_open_in_excel(small_book):
    owner = small_book.with_name("~$" + small_book.name)
    owner.write_bytes(b"x")
    before = small_book.read_bytes()
    r = run("recalc", small_book)
    assert r.exit_code == 2
    assert "close it in Excel or write with -o OUT.xlsx" in r.output
    assert small_book.read_bytes() == before


def test_fit_weights_on_given_sheet(tmp_path, small):
    small["Settings"][2][1] = "given"
    # totals built from weights .6/.4 exactly, so the fit recovers them with zero residuals
    small["Given"] = [["unit", "d1", "d2", "published"]] + [
        [u, d1, d2, 0.6 * d1 + 0.4 * d2] for u, d1, d2 in
        [("a", 10, 50), ("b", 20, 30), ("c", 70, 40), ("d", 90, 95), ("e", 40, 10)]]
    r = run("fit-weights", write_book(tmp_path / "g.xlsx", small))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[2].split() == ["d1", "0.6000", "0.6000"]
    assert lines[3].split() == ["d2", "0.4000", "0.4000"]
    assert lines[-1].startswith("RMSE 0.0000")


def test_help_lists_every_command():
    out = run("--help").output
    for command in ("recalc", "validate", "fit-weights"):
        assert command in out


def test_main_returns_exit_code(small_book, capsys):
    from xl_aiindex.cli import main

    assert main(["validate", str(small_book)]) == 0
    assert main(["validate", str(Path(small_book).with_name("none.xlsx"))]) == 2


def test_recalc_empties_a_stale_problems_sheet(tmp_path, small):
    small["Problems"] = [["sheet", "cell", "unit", "node", "problem"],
                         ["Data", "C3", "b", "x2", "an old problem, since fixed"]]
    book = write_book(tmp_path / "p.xlsx", small)
    assert run("recalc", book).exit_code == 0
    rows = list(openpyxl.load_workbook(book)["Problems"].iter_rows(values_only=True))
    assert rows == [("sheet", "cell", "unit", "node", "problem")]
