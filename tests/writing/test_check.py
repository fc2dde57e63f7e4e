"""``recalc --check``: stale results are found from the inputs hash stored with the fingerprints
(and logged in Log), and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import REPO, run, write_book

from udfs import HeadlessBook
from udfs.cache import CACHE
from udfs.macros import run_rebuild
from xl_aiindex import IndexModel, Node, Settings
from xl_aiindex.staleness import inputs_hash
from xl_aiindex.workbook.io import load_workbook

EPOCH = "1593561600"   # 2020-07-01T00:00:00


@pytest.fixture
def recalculated(tmp_path, small, monkeypatch):
    """The small index, recalculated in place (at a fixed time)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book = write_book(tmp_path / "s.xlsx", small)
    assert run("recalc", book, "--top", "0").exit_code == 0
    return book


def check(book: Path) -> tuple[int, str, bytes]:
    """Exit code and output of ``recalc --check``, asserting the file was not written."""
    before = book.read_bytes()
    r = run("recalc", "--check", book)
    assert book.read_bytes() == before
    assert sorted(p.name for p in book.parent.iterdir() if p.name.startswith(".")) == []
    return r.exit_code, r.output, before


def edit(book: Path, sheet: str, cell: str, value) -> Path:
    wb = openpyxl.load_workbook(book)
    wb[sheet][cell].value = value
    wb.save(book)
    return book


def test_unedited_workbook_is_up_to_date(recalculated):
    digest = inputs_hash(load_workbook(recalculated).model)
    code, out, _ = check(recalculated)
    assert code == 0
    assert out == (f"Up to date: {recalculated}: the result sheets match the inputs (last recalc "
                   f"2020-07-01T00:00:00+00:00, inputs hash {digest})\n")
    log = list(openpyxl.load_workbook(recalculated)["Log"].iter_rows(values_only=True))
    assert log[0][-1] == "inputs_hash" and log[1][-1] == digest


@pytest.mark.parametrize("sheet, cell, value", [
    ("Data", "C3", 4.5),              # a raw value
    ("Framework", "E3", 0.7),         # a weight (its siblings then sum to 1.1: still an input)
    ("Settings", "B4", "zscore"),     # a method choice
    ("Units", "C2", "Alfa"),          # a name shown in the results
])
def test_edited_inputs_are_stale(recalculated, sheet, cell, value):
    edit(recalculated, sheet, cell, value)
    code, out, _ = check(recalculated)
    assert code == 1
    assert out == (f"Stale: {recalculated}: the result sheets do not match the inputs; run "
                   f"xl-aiindex recalc {recalculated}\n"
                   "  the inputs changed since the last recalc (2020-07-01T00:00:00+00:00)\n")


def test_an_edit_undone_is_up_to_date_again(recalculated):
    edit(recalculated, "Data", "C3", 99)
    assert check(recalculated)[0] == 1
    edit(recalculated, "Data", "C3", 4)
    assert check(recalculated)[0] == 0


def test_what_no_result_depends_on_does_not_make_it_stale(recalculated):
    wb = openpyxl.load_workbook(recalculated)
    wb["Data"]["H1"] = "my note"          # a column the contract does not name
    wb.create_sheet("Notes")["A1"] = "scratch"
    wb.save(recalculated)
    assert check(recalculated)[0] == 0


def test_a_hand_edited_result_is_stale(recalculated):
    edit(recalculated, "Ranking", "E2", 1)
    code, out, _ = check(recalculated)
    assert code == 1
    assert out.splitlines()[1:] == ["  1 result cell edited by hand since the last recalc: "
                                     "Ranking!E2"]


def test_a_deleted_result_sheet_is_stale(recalculated):
    wb = openpyxl.load_workbook(recalculated)
    del wb["Tiers"]
    wb.save(recalculated)
    code, out, _ = check(recalculated)
    assert code == 1
    assert "  sheet 'Tiers' written by the last recalc is gone" in out.splitlines()


def test_never_recalculated_and_old_log_rows_are_stale(tmp_path, small):
    book = write_book(tmp_path / "n.xlsx", small)
    never = ("  no fingerprint of the result sheets is stored (sheet _xl_aiindex): they were "
             "never computed by this version of xl-aiindex; recalc once")
    code, out, _ = check(book)
    assert code == 1
    assert out.splitlines()[1] == never
    # a Log row of an older version proves nothing about the result sheets
    small["Log"] = [["time", "command", "version", "file", "input", "units", "status", "notes"],
                    ["2020-07-01T00:00:00", "recalc", "0.1.0", "n.xlsx", "data", 5, "ok", None]]
    code, out, _ = check(write_book(tmp_path / "o.xlsx", small))
    assert code == 1
    assert out.splitlines()[1] == never


def test_a_failed_later_run_changes_nothing_a_later_unrecorded_one_does(recalculated):
    """A run that failed wrote no result sheet: they still match the inputs. A later successful
    run logged without fingerprints (an older version) rewrote them: nothing is known."""
    wb = openpyxl.load_workbook(recalculated)
    wb["Log"].append(["2020-07-02T00:00:00+00:00", "rebuild_results", "0.1.0", "s.xlsx", None,
                      None, "1 problem", "…", None])
    wb.save(recalculated)
    assert check(recalculated)[0] == 0
    wb = openpyxl.load_workbook(recalculated)
    wb["Log"].append(["2020-07-03T00:00:00+00:00", "recalc", "0.1.0", "s.xlsx", "data", 5, "ok",
                      None, None])
    wb.save(recalculated)
    code, out, _ = check(recalculated)
    assert code == 1
    assert out.splitlines()[1] == ("  a later run logged in Log rewrote the result sheets "
                                   "without recording their inputs: recalc once")


def test_deleting_or_sorting_log_rows_changes_nothing(recalculated):
    wb = openpyxl.load_workbook(recalculated)
    wb["Log"].delete_rows(2, wb["Log"].max_row)
    wb.save(recalculated)
    assert check(recalculated)[0] == 0
    edit(recalculated, "Data", "C3", 4.5)
    assert check(recalculated)[0] == 1


def test_the_rebuild_macro_records_the_same_hash(tmp_path, small):
    book = write_book(tmp_path / "m.xlsx", small)
    CACHE.invalidate()
    run_rebuild(HeadlessBook(book))
    assert check(book)[0] == 0


def test_shipped_workbooks_are_up_to_date(tmp_path):
    for name in ("city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx"):
        book = Path(shutil.copy(REPO / "workbooks" / name, tmp_path / name))
        assert check(book)[0] == 0, name


def test_check_takes_one_workbook_and_writes_nowhere(recalculated, tmp_path):
    r = run("recalc", "--check", recalculated, "-o", tmp_path / "x.xlsx")
    assert r.exit_code == 2 and "--check takes one workbook" in r.output
    assert run("recalc", "--check", tmp_path / "none.xlsx").exit_code == 2


# ---- the hash itself ----

def _model(weight=0.5, value=1.0, units_order=("u1", "u2")) -> IndexModel:
    nodes = (Node("index", None), Node("a", "index", weight=weight),
             Node("b", "index", weight=1 - weight))
    units = pd.DataFrame({"name_zh": ["甲", "乙"], "name_en": ["A", "B"], "region": ["n", "s"]},
                         index=["u1", "u2"]).loc[list(units_order)]
    data = pd.DataFrame({"a": [value, 2.0], "b": [3.0, 4.0]}, index=["u1", "u2"])
    return IndexModel(nodes, Settings(), units, data)


def test_hash_changes_with_every_kind_of_input():
    base = inputs_hash(_model())
    assert inputs_hash(_model()) == base
    assert inputs_hash(_model(weight=0.4)) != base
    assert inputs_hash(_model(value=1.5)) != base
    assert inputs_hash(_model(units_order=("u2", "u1"))) != base
    assert inputs_hash(_model()._replace(settings=Settings(rank_decimals=2))) != base
    given = pd.DataFrame({"a": [1.0, 2.0]}, index=["u1", "u2"])
    assert inputs_hash(_model()._replace(given=given)) != base


def test_hash_ignores_how_a_reader_typed_numbers():
    m = _model()
    as_ints = m.data.astype(object)
    as_ints.loc["u1", "b"] = 3          # an int where another reader gives 3.0
    assert inputs_hash(m._replace(data=as_ints)) == inputs_hash(m)
    text = m.data.astype(object)
    text.loc["u1", "b"] = "3"           # text is not the number
    assert inputs_hash(m._replace(data=text)) != inputs_hash(m)
