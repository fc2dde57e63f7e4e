"""Data read a row at once when its cells are plain numbers or blanks (issue 20): every other
row is read cell by cell, as before, so the values, the problems, the notes and their order are
what reading every cell one by one gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run, write_book

from xl_aiindex.workbook import read
from xl_aiindex.workbook.io import load_workbook

#: What a Data cell may hold: plain numbers and blanks (read a row at once) and everything a
#: row must be read cell by cell for
KINDS = [1.5, 2.25, None, 3, "4.5", "12%", "暂无", "—", "#N/A", "abc", True, " 7 ", "1,234"]


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")


def _one_by_one(monkeypatch):
    monkeypatch.setattr(read, "_plain_numbers", lambda cols, blanks: lambda row: None)


def _data_book(tmp_path, small, seed, kinds):
    rng = np.random.default_rng(seed)
    data = small["Data"]
    for row in data[1:]:
        for c in range(1, len(row)):
            pick = rng.random()
            row[c] = (float(rng.normal(50, 10)) if pick < 0.6 else
                      kinds[int(rng.integers(len(kinds)))])
    return write_book(tmp_path / f"b{seed}.xlsx", small)


@pytest.mark.parametrize("seed", range(6))
def test_rows_with_odd_cells_read_as_one_by_one(tmp_path, small, monkeypatch, seed):
    book = _data_book(tmp_path, small, seed, KINDS)
    at_once = run("validate", book)
    _one_by_one(monkeypatch)
    one_by_one = run("validate", book)
    assert (at_once.exit_code, at_once.output) == (one_by_one.exit_code, one_by_one.output)


@pytest.mark.parametrize("seed", range(4))
def test_values_read_at_once_are_the_ones_read_one_by_one(tmp_path, small, monkeypatch, seed):
    for row in small["Settings"]:
        if row[0] == "missing":
            row[1] = "mean"
    book = _data_book(tmp_path, small, seed, [None, 2.5, "暂无", 7, "3.5"])
    at_once = load_workbook(book)
    _one_by_one(monkeypatch)
    one_by_one = load_workbook(book)
    pd.testing.assert_frame_equal(at_once.model.data, one_by_one.model.data)
    assert at_once.notes == one_by_one.notes


def test_a_row_of_plain_numbers_and_blanks_is_read_at_once():
    plain = read._plain_numbers([1, 3], blanks=True)
    assert plain(["u", 1.5, "x", None]) == (1.5, None)
    assert plain(["u", 1.5, "x", float("inf")]) is None        # one by one: a problem
    assert plain(["u", 1.5, "x", "2"]) is None                 # text: parsed one by one
    assert plain(["u", 1.5]) is None                           # a short row
    # a sheet with formulas: a blank may be a formula never calculated, a problem
    assert read._plain_numbers([1, 3], blanks=False)(["u", 1.5, "x", None]) is None
