"""Reading a Data sheet costs per cell only what the cell needs: the message templates of the
sheet are translated once, not once per value (a 3,000 × 200 sheet made 600,000 catalogue
lookups, 2 of its 5 seconds)."""

from __future__ import annotations

import pytest
from conftest import write_book

import xl_aiindex.workbook.read as read
from xl_aiindex.errors import ProblemsFound
from xl_aiindex.workbook.io import load_workbook


def _book(tmp_path, small, n_units: int, bad: object = None):
    small["Units"] = [small["Units"][0]] + [[f"u{i}", f"单位{i}", f"Unit {i}", "north", i]
                                            for i in range(n_units)]
    small["Data"] = [small["Data"][0]] + [[f"u{i}", i + 1.5, i + 2.5, i + 3.5, i + 4.5]
                                          for i in range(n_units)]
    if bad is not None:
        small["Data"][3][2] = bad
    return write_book(tmp_path / "book.xlsx", small)


def test_data_values_are_read_without_a_catalogue_lookup_each(tmp_path, small, monkeypatch):
    calls = []
    translate = read._

    def counted(message: str) -> str:
        calls.append(message)
        return translate(message)

    monkeypatch.setattr(read, "_", counted)
    book = _book(tmp_path, small, 200)
    model = load_workbook(book).model
    assert model.data.shape == (200, 4)                   # 800 values read...
    assert model.data.loc["u7", "x3"] == pytest.approx(10.5)
    per_cell = [m for m in calls if m.startswith("unit {unit}, ")]
    assert len(per_cell) <= 2                             # ...with one label template per sheet


def test_a_bad_value_still_names_its_unit_and_indicator(tmp_path, small):
    book = _book(tmp_path, small, 5, bad="lots")
    with pytest.raises(ProblemsFound) as err:
        load_workbook(book)
    text = "\n".join(str(p) for p in err.value.problems)
    assert "unit u2, indicator x2" in text, text
