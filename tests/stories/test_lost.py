"""Nothing lost, part 2 (issue #13): the Log appended in place, sheets the tool did not write
refused, hand-edit detection that survives Log edits, no styles growth, tables on result
sheets, files and the system, messages."""

from __future__ import annotations

import os
import re
import shutil
import stat
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import (
    REPO,
    assert_chart_sheet_refused,
    book_with_chart_sheet,
    docs_text,
    run,
    write_book,
)

from xl_aiindex.workbook.ooxml import package_parts
from xl_aiindex.workbook.ownership import TOOL_SHEETS


def recalc_ok(path: Path, *more) -> None:
    r = run("recalc", path, "--top", "0", *more)
    assert r.exit_code == 0, r.output


def values(path: Path, sheet: str) -> list[list]:
    book = openpyxl.load_workbook(path)
    rows = [list(r) for r in book[sheet].iter_rows(values_only=True)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


# ---- 1. the Log is appended to, never rewritten ----

def test_log_keeps_the_users_columns_notes_comments_and_formulas(small_book):
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    log = book["Log"]
    assert log["I1"].value == "inputs_hash"     # the tool's last column
    log["J1"] = "reviewed_by"
    log["J2"] = "Ann"
    log["L5"] = "spare note"
    log["K2"] = "=F2*2"
    log["A1"].comment = openpyxl.comments.Comment("when it ran", "Ann")
    book.save(small_book)
    before = package_parts(small_book)
    recalc_ok(small_book)
    after = values(small_book, "Log")
    assert after[0][9] == "reviewed_by" and after[1][9] == "Ann" and after[1][10] == "=F2*2"
    assert after[4][11] == "spare note"
    # the new row goes below the last row holding anything (the note in row 5)
    assert after[5][1] == "recalc" and after[5][9:] == [None, None, None]
    assert after[5][8] == after[1][8] and len(after[5][8]) == 16   # same inputs, same hash
    book = openpyxl.load_workbook(small_book)
    assert book["Log"]["A1"].comment.text == "when it ran"
    parts = package_parts(small_book)
    # the comment parts are byte-identical; the Log's XML only gained a row
    for name, data in before.items():
        if "comments" in name or "vmlDrawing" in name:
            assert parts[name] == data, name


def test_log_row_follows_the_users_column_order(small_book):
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    book["Log"].insert_cols(2)            # a column of the user's between time and command
    book["Log"]["B1"] = "who"
    book.save(small_book)
    recalc_ok(small_book)
    rows = values(small_book, "Log")
    assert rows[0][:3] == ["time", "who", "command"]
    assert rows[2][1] is None and rows[2][2] == "recalc"


def test_log_row_cosmetics(small_book, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    recalc_ok(small_book)
    recalc_ok(small_book)
    rows = values(small_book, "Log")
    for row in rows[1:]:
        # ISO 8601 with the UTC offset; units an integer; no empty notes cell
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", row[0]), row[0]
        assert type(row[5]) is int and row[5] == 5
        assert row[7] is None
    sheet_xml = package_parts(small_book)["xl/worksheets/sheet5.xml"].decode()
    assert "<t xml:space=\"preserve\"></t>" not in sheet_xml
    widths = openpyxl.load_workbook(small_book)["Log"].column_dimensions
    assert widths["F"].width < 20


def test_shipped_workbooks_start_with_an_empty_log():
    for name in ("city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx"):
        rows = values(REPO / "workbooks" / name, "Log")
        assert rows == [["time", "command", "version", "file", "input", "units", "status",
                         "inputs_hash", "notes"]], name


# ---- 2. only sheets the tool wrote are replaced ----

@pytest.mark.parametrize("sheet", ["Ranking", "Scores", "Tiers"])
def test_a_users_own_result_named_sheet_is_refused_on_the_first_recalc(tmp_path, small, sheet):
    small[sheet] = [["my", "numbers"], [1, 2]]
    book = write_book(tmp_path / "b.xlsx", small)
    original = book.read_bytes()
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 1
    assert r.output.splitlines() == [
        "1 problem found:",
        f"Sheet '{sheet}', cell A1: sheet '{sheet}' was not written by xl-aiindex (it holds 'my' "
        f"in A1), but recalc writes its results to a sheet of this name and would replace it: "
        "rename your sheet (or delete it), or use --force to replace it"]
    assert book.read_bytes() == original
    # validate says the same
    r = run("validate", book)
    assert r.exit_code == 1 and f"sheet '{sheet}' was not written by xl-aiindex" in r.output


def test_empty_and_header_only_result_sheets_are_the_tools(tmp_path, small):
    small["Ranking"] = [["rank", "unit", "name_zh", "name_en", "score", "tier"]]
    small["Scores"] = []
    book = write_book(tmp_path / "b.xlsx", small)
    recalc_ok(book)
    assert values(book, "Ranking")[1][:2] == [1, "e"]


def test_formula_mode_refuses_a_users_calc_sheet(tmp_path, small):
    small["Calc"] = [["my own"], [42]]
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("recalc", book, "--top", "0", "--formulas")
    assert r.exit_code == 1 and "sheet 'Calc' was not written by xl-aiindex" in r.output
    assert values(book, "Calc") == [["my own"], [42]]


def test_treatment_sheet_of_the_user_is_kept(tmp_path, small):
    """Treatment is an optional result sheet (issue 19 §6): the user's is kept, the core
    results are written, and a note says how to get Treatment (Settings sheet_treatment)."""
    small["Settings"].append(["outliers", "winsorise:5"])
    small["Treatment"] = [["my notes"], ["keep me"]]
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("recalc", book, "--top", "0")
    assert r.exit_code == 0 and "sheet 'Treatment' is yours" in r.output
    assert "sheet_treatment = 异常值处理" in r.output
    assert values(book, "Treatment") == [["my notes"], ["keep me"]]


def test_every_tool_sheet_is_named_in_the_readme_and_the_readme_sheets(tmp_path):
    readme = docs_text()
    for name in TOOL_SHEETS:
        assert f"`{name}`" in readme, name
    for wb in ("city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx"):
        text = " ".join(str(v) for row in values(REPO / "workbooks" / wb, "README")
                        for v in row if v)
        for name in TOOL_SHEETS:
            assert re.search(rf"\b{re.escape(name)}\b", text), (wb, name)


# ---- 3. hand-edit detection does not depend on the Log's shape ----

@pytest.mark.parametrize("how", ["delete oldest", "sort", "delete all"])
def test_log_edits_do_not_switch_off_hand_edit_detection(small_book, how):
    recalc_ok(small_book)
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    log = book["Log"]
    if how == "delete oldest":
        log.delete_rows(2)
    elif how == "sort":
        log["A2"] = "2001-01-01T00:00:00+00:00"     # an older run, sorted to the bottom
        rows = [[c.value for c in r] for r in log.iter_rows(min_row=2)]
        for i, row in enumerate(reversed(rows), start=2):
            for j, v in enumerate(row, start=1):
                log.cell(i, j, v)
    else:
        log.delete_rows(2, 10)
    book["Ranking"]["E2"] = 99
    book.save(small_book)
    r = run("recalc", small_book, "--top", "0")
    assert r.exit_code == 1
    assert "Sheet 'Ranking', cell E2: edited by hand since the last recalc" in r.output


def test_notes_typed_into_problems_are_not_emptied_silently(small_book):
    book = openpyxl.load_workbook(small_book)
    book.create_sheet("Problems").append(["sheet", "cell", "unit", "node", "problem"])
    book.save(small_book)
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    book["Problems"]["A2"] = "checked by Ann"
    book.save(small_book)
    r = run("recalc", small_book, "--top", "0")
    assert r.exit_code == 1
    assert ("Sheet 'Problems', cell A2: edited by hand since the last recalc (was empty, now "
            "'checked by Ann')") in r.output


# ---- 5. styles.xml does not grow ----

def test_styles_do_not_grow_over_repeated_recalcs(small_book):
    def counts() -> dict[str, str]:
        st = package_parts(small_book)["xl/styles.xml"].decode()
        return {k: re.search(rf'<{k} count="(\d+)"', st).group(1)
                for k in ("fonts", "fills", "borders", "cellXfs")}

    recalc_ok(small_book)
    once = counts()
    openpyxl.load_workbook(small_book).save(small_book)   # re-serialised, as Excel does
    for _ in range(20):
        recalc_ok(small_book)
    assert counts() == once


# ---- 2. uncertainty: the same ownership and hand-edit checks ----

def _with_uncertainty(tmp_path, small, **extra):
    small["Uncertainty"] = [["assumption", "how", "values"], ["weights", "uniform", 0.25]]
    small.update(extra)
    return write_book(tmp_path / "u.xlsx", small)


def test_uncertainty_refuses_a_users_sensitivity_sheet(tmp_path, small):
    book = _with_uncertainty(tmp_path, small, Sensitivity=[["what I think"], ["x"]])
    original = book.read_bytes()
    r = run("uncertainty", book, "--samples", "4", "--top", "0")
    assert r.exit_code == 1
    assert r.output.splitlines() == [
        "1 problem found:",
        "Sheet 'Sensitivity', cell A1: sheet 'Sensitivity' was not written by xl-aiindex (it "
        "holds 'what I think' in A1), but uncertainty writes its results to a sheet of this "
        "name and would replace it: rename your sheet (or delete it), or use --force to "
        "replace it"]
    assert book.read_bytes() == original


def test_uncertainty_checks_hand_edits_and_recalc_keeps_its_fingerprints(tmp_path, small):
    book = _with_uncertainty(tmp_path, small)
    assert run("uncertainty", book, "--samples", "4", "--top", "0").exit_code == 0
    recalc_ok(book)                       # keeps the fingerprints of the uncertainty sheets
    assert run("uncertainty", book, "--samples", "4", "--top", "0").exit_code == 0
    wb = openpyxl.load_workbook(book)
    wb["UncertaintyResults"]["D2"] = 7
    wb.save(book)
    r = run("uncertainty", book, "--samples", "4", "--top", "0")
    assert r.exit_code == 1
    assert "Sheet 'UncertaintyResults', cell D2: edited by hand since the last recalc" in r.output
    assert run("uncertainty", book, "--samples", "4", "--top", "0", "--force").exit_code == 0
    assert [row[1] for row in values(book, "Log")[1:]] == ["uncertainty", "recalc",
                                                           "uncertainty", "uncertainty"]


# ---- 6. a table on a result sheet ----

def _add_table(path: Path, sheet: str, ref: str, formula: str | None) -> None:
    from openpyxl.worksheet.table import Table

    book = openpyxl.load_workbook(path)
    book[sheet].add_table(Table(displayName="RankT", ref=ref))
    if formula is not None:
        book.create_sheet("Report")["A1"] = formula
    book.save(path)


def test_a_table_over_a_result_sheet_is_kept_and_repointed(small_book):
    recalc_ok(small_book)
    _add_table(small_book, "Ranking", "A1:F6", "=SUM(RankT[score])")
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    table = book["Ranking"].tables["RankT"]
    assert table.ref == "A1:H6"
    assert [c.name for c in table.tableColumns] == ["rank", "unit", "name_zh", "name_en", "score",
                                                     "tier", "d1", "d2"]
    assert book["Ranking"].auto_filter.ref is None      # the table's filter, not the sheet's
    assert book["Report"]["A1"].value == "=SUM(RankT[score])"


def _table_below_the_ranking(small_book):
    """After a recalc: a table RankT in Ranking!A10:B12 (not over the result table) that a
    formula on another sheet uses."""
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    for r, row in enumerate([["k", "v"], ["x", 1], ["y", 2]], start=10):
        for c, v in enumerate(row, start=1):
            book["Ranking"].cell(r, c, v)
    book.save(small_book)
    _add_table(small_book, "Ranking", "A10:B12", "=SUM(RankT[rank])")


def test_a_table_elsewhere_on_a_result_sheet_used_by_formulas_is_refused(small_book):
    _table_below_the_ranking(small_book)
    original = small_book.read_bytes()
    r = run("recalc", small_book, "--top", "0", "--force")
    assert r.exit_code == 2
    assert r.output == (
        f"Error: {small_book}: cannot be rewritten (formula =SUM(RankT[rank]) in "
        "'Report'!A1 uses table RankT on sheet 'Ranking': these formulas would break, as the "
        "table is removed with the sheet's old content; move the table to a sheet of your own)"
        "; the workbook was not changed\n")
    assert small_book.read_bytes() == original


# ---- 4. overflow is a problem naming the input cell, in recalc and validate ----

def _den(s):
    s["Framework"][0].append("denominator")
    for row in s["Framework"][1:]:
        row.append(None)
    s["Framework"][4][-1] = "population"
    s["Units"][1][4] = 1e-320


def _heavy_weights(s):
    s["Settings"][6] = ["weights", "rescale"]
    s["Framework"][2][4] = 1e308
    s["Framework"][3][4] = 1e308


OVERFLOWS = {
    "huge value": (lambda s: s["Data"][1].__setitem__(1, 1.7e308),
                   "Sheet 'Data', cell B2: unit a (甲), indicator x1 (指标一): 1.7e+308 is too large "
                   "to compute with: minmax normalisation of x1 (指标一) overflows (no finite result "
                   "for 1 unit(s)); check the value"),
    "infinite range": (lambda s: s["Settings"].__setitem__(4, ["minmax_range", "0,inf"]),
                       "Sheet 'Settings', cell B5: setting 'minmax_range': '0,inf' is not "
                       "'low,high' with low < high (e.g. 0,100), both finite and at most 1e+15 in "
                       "magnitude"),
    "huge scale": (lambda s: s["Settings"].append(["goalposts_scale", 1e308]),
                   "Sheet 'Settings', cell B11: setting 'goalposts_scale': 1e+308 is out of range; "
                   "expected a positive number (at most 1e+15 in magnitude)"),
    "tiny denominator": (_den, "Sheet 'Data', cell B2: unit a (甲), indicator x1 (指标一): 10 "
                               "divided by its population 9.99989e-321 is too large for a number "
                               "(overflow): check both values"),
    "huge weights": (_heavy_weights, "Sheet 'Framework', cell E3: the weights of the children of "
                                     "index (总指数) are too large to add up (node d1 has 1e+308): "
                                     "use weights of ordinary size"),
}


@pytest.mark.parametrize("case", list(OVERFLOWS))
def test_overflow_is_a_problem_naming_the_cell(tmp_path, small, case):
    mutate, line = OVERFLOWS[case]
    mutate(small)
    book = write_book(tmp_path / "b.xlsx", small)
    for args in (["validate", book], ["recalc", book, "--top", "0"]):
        r = run(*args)
        assert (r.exit_code, r.output) == (1, f"1 problem found:\n{line}\n"), args


def test_zscores_of_huge_values_are_computed_without_warnings(tmp_path, small):
    small["Settings"][3] = ["normalisation", "zscore"]
    for i, row in enumerate(small["Data"][1:], start=1):
        row[1] = i * 1e200
    book = write_book(tmp_path / "b.xlsx", small)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recalc_ok(book)
    scores = values(book, "Scores")
    x1 = [row[scores[0].index("x1")] for row in scores[1:]]
    assert x1 == pytest.approx([-1.2649110640673518, -0.6324555320336759, 0.0,
                                0.6324555320336759, 1.2649110640673518])


# ---- 9. the real extent is checked before any grid is built ----

def test_a_far_cell_in_a_tiny_file_is_refused_at_once(small_book):
    import subprocess
    import sys
    import time

    book = openpyxl.load_workbook(small_book)
    book["Data"]["XFD1048576"] = 1
    book.save(small_book)
    assert small_book.stat().st_size < 20_000
    start = time.perf_counter()
    # in a process of its own: reading the grid first would abort (memory) or take forever
    # the child reports its own peak memory: VmHWM of its own address space. (getrusage
    # would not do: RUSAGE_CHILDREN counts every child this test process ever had, LibreOffice
    # among them, and Linux carries a forked child's ru_maxrss over from this process.)
    child = ("import re, sys\n"
             "from xl_aiindex.cli import main\n"
             "code = main(['validate', sys.argv[1]])\n"
             "try:\n"
             "    status = open('/proc/self/status').read()\n"
             "    peak = re.search(r'VmHWM:\\s+(\\d+)', status).group(1)\n"
             "except OSError:\n"
             "    peak = -1   # no /proc (not Linux): time is checked, memory is not\n"
             "print(peak, file=sys.stderr)\n"
             "sys.exit(code)\n")
    p = subprocess.run([sys.executable, "-c", child, str(small_book)],
                       capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - start < 10
    *lines, peak = p.stderr.splitlines()
    assert int(peak) < 400_000   # KiB (it is about 85 MB)
    p = subprocess.CompletedProcess(p.args, p.returncode, p.stdout, "".join(f"{x}\n" for x in lines))
    assert (p.returncode, p.stderr) == (2, (
        f"Error: {small_book}: sheet 'Data' is larger than the limit of 20,000,000 cells "
        "(1,048,576 rows × 16,384 columns)\n"))
    start = time.perf_counter()
    assert run("validate", small_book).exit_code == 2
    assert time.perf_counter() - start < 1.0


def test_many_blank_rows_are_one_problem(tmp_path, small):
    small["Data"].extend([[None]] * 20 + [["zz", 1, 1, 1, 1]])
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert r.output.splitlines()[:2] == [
        "2 problems found:",
        "Sheet 'Data', cell A7: rows 7–26 are blank inside the table: delete them (blank rows "
        "end nothing; data continues below, in row 27)"]


def patch_part(path: Path, part: str, edit) -> None:
    """Rewrite one part of the package at ``path`` with ``edit(text) -> text``."""
    parts = package_parts(path)
    parts[part] = edit(parts[part].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def sheet_part(path: Path, sheet: str) -> str:
    from xl_aiindex.workbook.calamine_source import _sheet_parts

    return _sheet_parts(path)[sheet]


# ---- 11. a chart sheet where a result sheet should be ----

def test_a_chartsheet_named_like_a_result_sheet_is_a_clear_problem(tmp_path, small):
    book = tmp_path / "c.xlsx"
    book_with_chart_sheet(book, small)
    assert_chart_sheet_refused(book)


# ---- 12. a formula whose cached value is empty text is a blank ----

def test_formula_with_cached_empty_text_is_a_blank(tmp_path, small):
    small["Settings"].append(["missing", "reweight"])
    small["Settings"] = [r for r in small["Settings"] if r != ["missing", "error"]]
    book = write_book(tmp_path / "b.xlsx", small)
    part = sheet_part(book, "Data")
    patch_part(book, part, lambda t: re.sub(r'<c r="B3"[^>]*>.*?</c>',
                                            '<c r="B3" t="str"><f>IF(1,"","")</f><v></v></c>', t))
    r = run("validate", book)
    assert r.exit_code == 0, r.output
    assert "never calculated" not in r.output and "1 missing value(s) skipped" in r.output


# ---- 7. in-place writes update what the user has ----

def test_a_symlinked_workbook_keeps_its_link(tmp_path, small_book):
    target = tmp_path / "real" / "book.xlsx"
    target.parent.mkdir()
    shutil.move(small_book, target)
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)
    recalc_ok(link)
    assert link.is_symlink() and link.resolve() == target
    assert values(target, "Log")[1][1] == "recalc"
    assert [p.name for p in target.parent.iterdir()] == ["book.xlsx"]


def test_owner_group_and_mode_are_kept(small_book):
    os.chmod(small_book, 0o640)
    if os.geteuid() == 0:
        os.chown(small_book, 1234, 5678)
    recalc_ok(small_book)
    st = small_book.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (1234, 5678)


def test_a_read_only_workbook_is_refused(small_book):
    os.chmod(small_book, 0o444)
    original = small_book.read_bytes()
    r = run("recalc", small_book, "--top", "0")
    assert (r.exit_code, r.output) == (2, (
        f"Error: {small_book}: the workbook is read-only; make it writable or write with -o "
        "OUT.xlsx; the workbook was not changed\n"))
    assert small_book.read_bytes() == original


def test_libreoffice_lock_file_is_honoured(small_book):
    (small_book.parent / f".~lock.{small_book.name}#").write_text("user,host;", "utf-8")
    r = run("recalc", small_book, "--top", "0")
    assert (r.exit_code, r.output) == (2, (
        f"Error: {small_book}: the workbook seems open in LibreOffice "
        f"(.~lock.{small_book.name}# exists): close it in LibreOffice or write with -o "
        "OUT.xlsx (several workbooks: --out-dir DIR)\n"))


# ---- 8. the output's suffix fits what is written ----

@pytest.mark.parametrize("name", ["out.csv", "out.ods", "out"])
def test_outputs_that_are_not_excel_workbooks_are_refused(small_book, name):
    out = small_book.parent / name
    r = run("recalc", small_book, "--top", "0", "-o", out)
    suffix = Path(name).suffix or "suffix-less"
    assert (r.exit_code, r.output) == (2, (
        f"Error: {out}: cannot write a {suffix} file: xl-aiindex writes Excel workbooks; name "
        "the output .xlsx (or .xlsm when the workbook holds macros)\n"))
    assert not out.exists()


def test_macro_workbook_to_xlsx_is_refused(tmp_path):
    src = REPO / "workbooks" / "city_ai_index_2020.xlsm"
    out = tmp_path / "x.xlsx"
    r = run("recalc", src, "--top", "0", "-o", out)
    assert (r.exit_code, r.output) == (2, (
        f"Error: {out}: city_ai_index_2020.xlsm holds macros (a macro-enabled workbook), which "
        "Excel opens only as .xlsm: write to a .xlsm file; the workbook was not changed\n"))
    assert not out.exists()


# ---- 10. only regular files; Excel 4 macro sheets kept ----

def test_a_named_pipe_is_refused(tmp_path):
    import subprocess
    import sys

    pipe = tmp_path / "book.xlsx"
    os.mkfifo(pipe)
    for args in (["validate", pipe], ["recalc", pipe, "--top", "0"]):
        # in a process of its own, with a timeout: opening a pipe for reading blocks
        p = subprocess.run([sys.executable, "-m", "xl_aiindex", *map(str, args)],
                           capture_output=True, text=True, timeout=30)
        assert (p.returncode, p.stderr) == (2, (
            f"Error: {pipe}: is not a regular file (a named pipe, a device…): give the workbook "
            "file itself\n")), args


def test_a_workbook_with_an_excel4_macro_sheet_is_read_and_the_sheet_kept(small_book):
    macro = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<xm:macrosheet '
             'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
             '<row r="1"><c r="A1"><f>RETURN()</f></c></row></sheetData></xm:macrosheet>')
    parts = package_parts(small_book)
    parts["xl/macrosheets/sheet1.xml"] = macro.encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/macrosheets/sheet1.xml" '
                     b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/'
                             b'office/2006/relationships/xlMacrosheet" '
                             b'Target="macrosheets/sheet1.xml"/></Relationships>')
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'<sheet name="Macro1" sheetId="99" r:id="rId99"/></sheets>')
    with zipfile.ZipFile(small_book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert run("validate", small_book).exit_code == 0
    recalc_ok(small_book)
    after = package_parts(small_book)
    assert after["xl/macrosheets/sheet1.xml"] == macro.encode()
    assert b'<sheet name="Macro1" sheetId="99" r:id="rId99"/>' in after["xl/workbook.xml"]


# ---- 13. terminal control sequences in names are printed escaped ----

def test_control_sequences_in_names_are_escaped(tmp_path, small):
    # as Excel stores them: _xHHHH_ escapes, which readers decode
    small["Units"][5][1] = "_x001B_[2J戊"                        # unit e ranks first
    small["Framework"][2][2] = "_x001B_]52;c;aGk=_x0007_维度一"   # an OSC 52 clipboard write
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("recalc", book, "--top", "1")
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "\x07" not in r.output
    assert r.output.splitlines()[-2] == "   1  e     \\x1b[2J戊  100.00  top"
    r = run("explain", book, "e")
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "\\x1b]52;c;aGk=\\x07维度一" in r.output


# ---- 14. no internals in messages ----

def test_an_error_value_as_a_unit_id_is_reported_plainly(tmp_path, small):
    book = write_book(tmp_path / "b.xlsx", small)
    patch_part(book, sheet_part(book, "Units"),
               lambda t: re.sub(r'<c r="A3"[^>]*>.*?</c>', '<c r="A3" t="e"><v>#N/A</v></c>', t))
    r = run("validate", book)
    assert "object at 0x" not in r.output
    assert "Sheet 'Units', cell A3: holds the error value #N/A" in r.output


def test_a_zero_denominator_is_shown_as_a_number(tmp_path, small):
    _den(small)
    small["Units"][1][4] = 0
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert "np.float64" not in r.output
    assert ("unit a (甲) has 0 there (a non-zero number is needed)") in r.output


@pytest.mark.parametrize("typed", ["10²", "①0"])
def test_compatibility_characters_are_not_numbers(tmp_path, small, typed):
    small["Data"][1][1] = typed
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert r.exit_code == 1
    assert (f"Sheet 'Data', cell B2: unit a, indicator x1: text '{typed}' is not a number"
            in r.output.splitlines())


def test_full_width_and_ascii_ids_are_the_same_id(tmp_path, small):
    small["Units"].append(["ａ", "甲二", "Alpha two", "north", 11])
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert r.exit_code == 1
    assert ("Sheet 'Units', cell A7: unit id 'ａ' differs only in case, width or spaces from 'a' "
            "in A2: ids must be unique") in r.output


def test_two_sheets_that_read_as_the_same_name_are_a_problem(tmp_path, small):
    small[" data "] = [["unit", "x1"], ["a", 1]]
    book = write_book(tmp_path / "b.xlsx", small)
    r = run("validate", book)
    assert r.exit_code == 1
    assert ("Sheet ' data ': the workbook has two sheets named 'Data' and ' data ', which read "
            "as the same sheet (names match ignoring case and surrounding spaces): rename or "
            "delete one") in r.output


def test_duplicate_zip_entries_are_refused_without_a_python_warning(small_book):
    parts = package_parts(small_book)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(small_book, "a") as z:
            z.writestr("xl/styles.xml", parts["xl/styles.xml"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = run("recalc", small_book, "--top", "0")
    assert (r.exit_code, r.output) == (2, (
        f"Error: {small_book}: holds two zip entries named 'xl/styles.xml': a damaged or "
        "tampered package (refused, as Excel refuses it)\n"))


def test_validate_reports_hand_edits_recalc_would_refuse(small_book):
    recalc_ok(small_book)
    book = openpyxl.load_workbook(small_book)
    book["Ranking"]["E3"] = 90
    book.save(small_book)
    r = run("validate", small_book)
    assert (r.exit_code, r.output) == (1, (
        "1 problem found:\nSheet 'Ranking', cell E3: edited by hand since the last recalc (was "
        "75, now 90): recalc would overwrite it; use --force to overwrite\n"))


def test_validate_reports_a_table_recalc_could_not_keep(small_book):
    _table_below_the_ranking(small_book)
    r = run("validate", small_book)
    assert r.exit_code == 1
    assert r.output.splitlines()[-1] == (
        "Workbook: recalc could not rewrite it (formula =SUM(RankT[rank]) in 'Report'!A1 uses "
        "table RankT on sheet 'Ranking': these formulas would break, as the table is removed "
        "with the sheet's old content; move the table to a sheet of your own)")


def test_hand_edit_check_never_iterates_a_hostile_grid(small_book):
    recalc_ok(small_book)
    part = sheet_part(small_book, "Tiers")
    patch_part(small_book, part, lambda t: t.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))
    r = run("recalc", small_book, "--top", "0")
    assert r.exit_code == 2 and "sheet 'Tiers' is larger than the limit" in r.output


def test_a_header_only_sheet_of_an_earlier_tree_is_the_tools(tmp_path, small):
    small["Scores"] = [["unit", "name_zh", "name_en", "old_node", "index", "coverage"]]
    book = write_book(tmp_path / "b.xlsx", small)
    recalc_ok(book)
    assert values(book, "Scores")[0][3] == "d1"
