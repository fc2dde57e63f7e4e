"""The two headless readers (openpyxl, python-calamine) give the reader the same cells."""

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import SMALL, write_book

from xl_aiindex.workbook.calamine_source import CalamineSource
from xl_aiindex.workbook.read import read_model
from xl_aiindex.workbook.source import OpenpyxlSource

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["city_ai_index_2020.xlsx", "city_ai_index_2020_data.xlsx"])
def test_same_model_from_both_readers(name):
    a, _, notes_a = read_model(CalamineSource(REPO / "workbooks" / name))
    b, _, notes_b = read_model(OpenpyxlSource(REPO / "workbooks" / name))
    assert a.nodes == b.nodes and a.settings == b.settings and notes_a == notes_b
    for x, y in ((a.data, b.data), (a.given, b.given)):
        if x is None:
            assert y is None
        else:
            pd.testing.assert_frame_equal(x, y)
    pd.testing.assert_index_equal(a.units.index, b.units.index)


def test_formula_and_error_cells_are_seen(tmp_path):
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "S"
    ws["B2"] = 1
    ws["C3"] = "=B2*2"      # written by a program: no cached value
    ws["D4"] = "#N/A"
    ws["D4"].data_type = "e"
    ws.merge_cells("B7:C7")
    book.save(path)
    grid = CalamineSource(path).grid("S")
    assert (2, 2) in grid.formulas and grid.values[2][2] is None
    assert grid.values[3][3] == "#N/A"     # calamine alone would read it as a blank
    assert grid.merged == ["B7:C7"]
    ref = OpenpyxlSource(path).grid("S")
    assert ref.formulas == grid.formulas and ref.values[3][3] == "#N/A"


def test_problems_located_the_same(tmp_path):
    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    sheets["Data"][2][2] = "abc"
    path = write_book(tmp_path / "bad.xlsx", sheets)
    messages = []
    for source in (CalamineSource(path), OpenpyxlSource(path)):
        with pytest.raises(Exception) as e:
            read_model(source)
        messages.append(str(e.value))
    assert messages[0] == messages[1]


def test_fast_and_openpyxl_paths_give_the_same_result_sheets(tmp_path):
    """The fast path (calamine) and the openpyxl path compute cell-for-cell the same result
    sheets, on a generated workbook with blanks (reweighted) and lower-is-better indicators."""
    import sys

    from xl_aiindex.pipeline import build_index
    from xl_aiindex.workbook.results import result_sheets

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from recalc import make_large
    finally:
        sys.path.pop(0)
    book = make_large(tmp_path / "gen.xlsx", n_units=60, n_indicators=24, seed=7)
    sheets = []
    for source in (CalamineSource(book), OpenpyxlSource(book)):
        model, _, _ = read_model(source)
        assert model.data is not None and model.data.isna().to_numpy().any()   # blanks present
        assert any(n.direction == -1 for n in model.nodes)
        sheets.append([[tuple(c.value for c in row) for row in s.rows]
                       for s in result_sheets(build_index(model))])
    assert sheets[0] == sheets[1]
