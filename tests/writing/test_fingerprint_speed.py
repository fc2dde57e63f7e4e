"""Fingerprints computed in one pass, a column of numbers formatted at once (issue 20): the same
digests as the straightforward computation, without a grid of every cell's text, and the
hand-edit check keeps no text of a sheet that has not changed."""

from __future__ import annotations

import hashlib
import math
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from xl_aiindex.contract import key
from xl_aiindex.workbook import hand_edits as hand_edits_module
from xl_aiindex.workbook.book import load_workbook
from xl_aiindex.workbook.canonical import (
    _canonical_floats,
    _scalar,
    canonical_grid,
    canonical_spec_cell,
    read_rows,
)
from xl_aiindex.workbook.fingerprint import (
    EMPTY,
    SHORT,
    SheetFingerprint,
    fingerprint_grid,
    fingerprint_sheet,
    result_fingerprint,
    store_sheet,
)
from xl_aiindex.workbook.hand_edits import current_result_grids, hand_edits
from xl_aiindex.workbook.sheetspec import Cell, Column, ColumnRows, SheetSpec

SHIPPED = Path(__file__).resolve().parents[2] / "workbooks" / "city_ai_index_2020.xlsx"


# the fingerprint as first specified: every row, column and diagonal's parts joined whole


def _short(parts: list[str]) -> str:
    if not parts:
        return EMPTY
    return hashlib.sha256("\x1e".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:SHORT]


def reference_fingerprint(sheet: str, grid: list[list[str]]) -> SheetFingerprint:
    rows: list[str] = []
    cols: dict[int, list[str]] = {}
    diags: dict[int, list[str]] = {}
    whole = hashlib.sha256()
    for r, row in enumerate(grid):
        parts = []
        for c, v in enumerate(row):
            if v:
                parts.append(f"{c}\x1f{v}")
                cols.setdefault(c, []).append(f"{r}\x1f{v}")
                diags.setdefault(r + c, []).append(f"{r}\x1f{v}")
        rows.append(_short(parts))
        if parts:
            whole.update(f"{r}\x1d".encode())
            whole.update("\x1e".join(parts).encode("utf-8", "surrogatepass"))
            whole.update(b"\x1d")
    while rows and rows[-1] == EMPTY:
        rows.pop()

    def series(groups: dict[int, list[str]]) -> tuple[str, ...]:
        return tuple(_short(groups.get(i, [])) for i in range(max(groups, default=-1) + 1))

    return SheetFingerprint(sheet, whole.hexdigest(), tuple(rows), series(cols), series(diags))


def reference_spec(spec: SheetSpec) -> SheetFingerprint:
    """Cells made one by one (the table read as rows), then the reference fingerprint."""
    grid = [[canonical_spec_cell(c) for c in row] for row in list(spec.rows)]
    return reference_fingerprint(spec.name.strip(), grid)


def tricky_floats(n: int, seed: int = 3) -> np.ndarray:
    """Random numbers, blanks, infinities, -0, subnormals, huge values, and numbers whose
    13th-15th digits sit at the 12-digit rounding boundary (LibreOffice's 15 digits)."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(3, 4, size=n) * np.where(rng.random(n) < 0.3, -1, 1)
    values[rng.random(n) < 0.05] = np.nan
    special = [-0.0, 0.0, np.inf, -np.inf, 5e-324, 1e-310, 1.7976931348623157e308, 1e15,
               62.11533941154995, -62.11533941154995, 0.1 + 0.2, 123456789012.5,
               99999999999.95, 1e-5, 10.0, 100.0, np.nextafter(1000.0, 0)]
    special = special[:n]
    values[:len(special)] = special
    for i in range(len(special), min(n, len(special) + n // 4)):
        digits = int(rng.integers(10**11, 10**12))
        tail = str(rng.choice(["5", "4999", "5001", "49999999", "50000001", "499", "501"]))
        values[i] = float(f"{digits}.{tail}e{int(rng.integers(-300, 290))}")
    return values


def table_spec(n_rows: int, n_cols: int) -> SheetSpec:
    header = [Cell(f"i{j:03d}") for j in range(n_cols + 3)]
    columns = [Column(tricky_floats(n_rows, seed=j)) for j in range(n_cols)]
    columns.append(Column([["u1", "", None, "a_x0041_\r\nb", "\x01ctl", "单位"][i % 6]
                           for i in range(n_rows)]))
    columns.append(Column(np.arange(n_rows)))                 # integers
    columns.append(Column([i % 2 == 0 for i in range(n_rows)]))  # booleans
    return SheetSpec("Scores", ColumnRows(header, columns))


def row_spec() -> SheetSpec:
    return SheetSpec(" Ranking ", [
        [Cell("rank"), Cell("name"), Cell("score"), Cell("sum")],
        [Cell(1), Cell("a"), Cell(90.0), Cell(180.0, formula="=C2*2")],
        [],
        [Cell(None), Cell(""), Cell(math.nan), Cell(True)],
        [Cell(2.0), Cell("x" * 40_000), Cell(-0.0), Cell(None, formula="SUM(C2:C3)\x02")],
        [Cell(3), Cell("b"), Cell(62.11533941154995), Cell(np.float64(1.5))],
        [],
    ])


@pytest.mark.parametrize("spec", [table_spec(1500, 12), table_spec(1, 3), table_spec(0, 2),
                                  row_spec(), SheetSpec("Empty", [])],
                         ids=["table", "one-row", "header-only", "rows", "empty"])
def test_the_fingerprint_of_a_sheet_is_the_one_first_specified(spec):
    assert fingerprint_sheet(spec) == reference_spec(spec)


def test_the_store_sheet_is_the_same_cell_for_cell():
    specs = [table_spec(700, 5), row_spec()]
    new = store_sheet(result_fingerprint(specs), log_rows=3, log_time="t", inputs_hash="h")
    old = store_sheet([reference_spec(s) for s in specs], log_rows=3, log_time="t",
                      inputs_hash="h")
    assert [list(r) for r in new.rows] == [list(r) for r in old.rows]


def test_a_column_of_numbers_formatted_at_once_is_formatted_as_one_by_one():
    values = tricky_floats(20_000)
    assert _canonical_floats(values) == [_scalar(x) for x in values.tolist()]
    assert _canonical_floats(values, legacy=True) == [_scalar(x, True) for x in values.tolist()]


def test_cells_read_are_fingerprinted_as_their_grid():
    values = tricky_floats(900).reshape(300, 3).tolist()
    rows = [[None if isinstance(v, float) and math.isnan(v) else v for v in row]
            for row in values]
    rows[5] = []
    rows[7] = [1, "=SUM(A1:A2)", None, "text", True]
    rows[299] = [None, None]
    for i, row in enumerate(rows[10:200]):    # a column of integers and blanks (ranks)
        row[1] = [i, None, -i * 10**9, 2**53 + 1][i % 4]
    for legacy in (False, True):
        grid = canonical_grid(rows, legacy, decoded=True)
        assert fingerprint_grid("S", read_rows(rows, legacy, decoded=True)) == \
            reference_fingerprint("S", grid)


def test_the_fingerprint_of_a_large_table_keeps_no_grid_of_text():
    spec = table_spec(3000, 100)      # 300,000 numbers
    tracemalloc.start()
    try:
        fingerprint_sheet(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a grid of the cells' text alone takes over 20 MB (300,000 strings of ~70 bytes)
    assert peak < 12 * 2**20, f"{peak / 2**20:.1f} MiB"


def test_the_shipped_workbooks_store_is_what_its_sheets_give():
    loaded = load_workbook(SHIPPED)
    stored = loaded.stored
    assert stored is not None and stored.sheets
    names = [fp.sheet for fp in stored.sheets.values()]
    grids = current_result_grids(loaded.reader(), names, stored.legacy)
    assert set(grids) == set(stored.sheets)
    for k, grid in grids.items():
        assert fingerprint_grid(stored.sheets[k].sheet, grid) == stored.sheets[k]
        assert reference_fingerprint(stored.sheets[k].sheet, grid) == stored.sheets[k]


def test_an_unchanged_sheet_is_compared_by_its_digest_alone(tmp_path, monkeypatch):
    book = tmp_path / "book.xlsx"
    shutil.copy(SHIPPED, book)
    loaded = load_workbook(book)

    def no_grid(*args, **kwargs):
        raise AssertionError("the cells of an unchanged sheet were kept as text")

    monkeypatch.setattr(hand_edits_module, "canonical_grid", no_grid)
    assert hand_edits(loaded, None) == []


def test_the_new_sheets_fingerprint_is_computed_once(monkeypatch):
    from xl_aiindex.workbook import fingerprint as fingerprint_module

    spec = table_spec(50, 4)
    calls = []
    original = fingerprint_module.fingerprint_blocks

    def counted(sheet, blocks):
        calls.append(sheet)
        return original(sheet, blocks)

    monkeypatch.setattr(fingerprint_module, "fingerprint_blocks", counted)
    first = fingerprint_sheet(spec)
    assert result_fingerprint([spec]) == [first]
    assert calls == ["Scores"]
    assert key(first.sheet) == "scores"


def test_a_sheet_written_unchanged_keeps_its_stored_fingerprint(monkeypatch):
    from xl_aiindex.workbook import fingerprint as fingerprint_module

    spec = table_spec(600, 6)
    stored = reference_spec(spec)
    shorts = []
    original = fingerprint_module.fingerprint_blocks
    monkeypatch.setattr(fingerprint_module, "fingerprint_blocks",
                        lambda sheet, blocks: shorts.append(sheet) or original(sheet, blocks))
    again = table_spec(600, 6)           # the same cells, another SheetSpec
    assert result_fingerprint([again], {"scores": stored}) == [stored]
    assert shorts == []                  # no column or diagonal digest computed


@pytest.mark.parametrize("where", [0, 1, 300, 600])
def test_a_sheet_written_changed_gets_its_new_fingerprint(where):
    spec = table_spec(600, 6)
    stored = reference_spec(spec)
    changed = table_spec(600, 6)
    assert isinstance(changed.rows, ColumnRows)
    if where == 0:
        changed.rows.header[2] = Cell("renamed")
    else:
        changed.rows.columns[3].values[where - 1] += 1.0
    (fp,) = result_fingerprint([changed], {"scores": stored})
    assert fp == reference_spec(changed) != stored


def test_a_sheet_written_longer_or_shorter_gets_its_new_fingerprint():
    stored = reference_spec(table_spec(600, 6))
    for rows in (599, 601):
        spec = table_spec(rows, 6)
        assert result_fingerprint([spec], {"scores": stored}) == [reference_spec(spec)]
