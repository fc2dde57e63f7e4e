"""The workbooks in a real spreadsheet application: LibreOffice Calc, with a forced full
recalculation (``lo_harness``).

Every shipped workbook and a fixed set of written ones (one per method family, in values and in
formula mode: :data:`test_formulas.CASES`) go through one LibreOffice process; then, for each,
no cell of any sheet may hold an error value, every result cell must equal the engine's value
(within 1e-9, relative) and ranks, tiers and counts must be identical. Three more workbooks show
the check means something: one whose cached values are all wrong (LibreOffice must recompute
them), one with a wrong weight formula (the check must fail), and one with a raw value edited
(LibreOffice must agree with ``recalc`` on the new scores and ranks).

Skipped when soffice is not installed; ``.ci/run`` installs it.
"""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lo_harness import Book, close, mismatches, read_book, recalculate, render_pngs
from test_formulas import CASES, SHIPPED, recalc_case

from xl_aiindex.contract import CALC
from xl_aiindex.model import IndexResult
from xl_aiindex.workbook.formulas import formula_output, helper_values_sheets
from xl_aiindex.workbook.io import compute, load_workbook, recalc_file
from xl_aiindex.workbook.ooxml import sheet_names, splice_sheets
from xl_aiindex.workbook.results import result_sheets
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

pytestmark = pytest.mark.libreoffice

#: What is edited "in LibreOffice": a low-ranked city's talent count, raised far above every
#: other city's (efficacy normalisation: it changes every city's I08 score and the ranks), and
#: two first-level weights (still summing to 1).
EDITS = (("Data", "changchun", "I08", 1_000_000.0), ("Framework", "environment", "weight", 0.3),
         ("Framework", "rnd", "weight", 0.1))


@dataclass
class Checked:
    """A workbook as written, as LibreOffice recalculated it, and what the engine computed."""

    path: Path
    book: Book
    result: IndexResult
    expected: list[SheetSpec]


def _expected(path: Path, formulas: bool, written: Path) -> tuple[IndexResult, list[SheetSpec]]:
    """The engine's result of the inputs of ``path``, as the sheets ``written`` should show."""
    loaded = load_workbook(path)
    result = compute(loaded)
    sheets = result_sheets(result)
    if formulas:
        sheets.extend(helper_values_sheets(result, loaded.locator, sheet_names(written)))
    return result, sheets


def _spliced(folder: Path, name: str, change: Any) -> Path:
    """The data reference workbook in formula mode, its result sheets changed by ``change``."""
    loaded = load_workbook(SHIPPED["data"])
    out = formula_output(compute(loaded), loaded.locator, SHIPPED["data"])
    sheets = [change(s) for s in out.sheets]
    path = folder / f"{name}.xlsx"
    splice_sheets(SHIPPED["data"], path, sheets, defined_names=out.names)
    return path


def _zero_cached(spec: SheetSpec) -> SheetSpec:
    rows = [[Cell(0, formula=c.formula, style=c.style) if c.formula else c for c in row]
            for row in spec.rows]
    return SheetSpec(spec.name, rows, spec.widths, spec.freeze)


def _wrong_weight(spec: SheetSpec) -> SheetSpec:
    if spec.name != "WeightsUsed":
        return spec
    rows = [list(r) for r in spec.rows]
    d2 = rows[1][3]
    rows[1][3] = Cell(d2.value, formula=f"0.5*{d2.formula}", style=d2.style)   # cached: right
    return SheetSpec(spec.name, rows, spec.widths, spec.freeze)


def _edit(src: Path, dst: Path) -> Path:
    """``src`` with the cells :data:`EDITS` changed by openpyxl (formulas kept as written)."""
    wb = openpyxl.load_workbook(src)
    for sheet, row_id, column, value in EDITS:
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == row_id)
        ws.cell(row, header.index(column) + 1).value = value
    wb.save(dst)
    return dst


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Checked]:
    folder = tmp_path_factory.mktemp("lo")
    books: dict[str, tuple[Path, bool]] = {}
    for name in CASES:
        for mode in ("values", "formulas"):
            books[f"{name}_{mode}"] = (recalc_case(name, folder, mode), mode == "formulas")
    for name, path in SHIPPED.items():
        books[f"shipped_{name}_values"] = (path, False)
        books[f"shipped_{name}_formulas"] = (folder / f"shipped_{name}_formulas.xlsx", True)
        recalc_file(path, books[f"shipped_{name}_formulas"][0], output="formulas")
    books["wrong_cache"] = (_spliced(folder, "wrong_cache", _zero_cached), True)
    books["wrong_weight"] = (_spliced(folder, "wrong_weight", _wrong_weight), True)
    # the same raw value edited in a formula workbook (LibreOffice recalculates) and in a
    # values workbook that recalc then recomputes
    books["edited_lo"] = (_edit(books["shipped_data_formulas"][0], folder / "edited_lo.xlsx"),
                          True)
    edited_py = _edit(SHIPPED["data"], folder / "edited_py_inputs.xlsx")
    recalc_file(edited_py, folder / "edited_py.xlsx", output="values")

    paths = [p for p, _ in books.values()]
    done = recalculate(paths, folder / "recalculated")
    out = {}
    for (name, (path, formulas)), lo in zip(books.items(), done, strict=True):
        source = folder / "edited_py.xlsx" if name == "edited_lo" else path
        result, expected = _expected(source, formulas, path)
        out[name] = Checked(path, read_book(lo, path), result, expected)
    return out


REGULAR = [f"{case}_{mode}" for case in CASES for mode in ("values", "formulas")] + [
    f"shipped_{name}_{mode}" for name in SHIPPED for mode in ("values", "formulas")]


@pytest.mark.parametrize("name", [*REGULAR, "wrong_cache", "wrong_weight", "edited_lo"])
def test_no_error_cells(checked: dict[str, Checked], name: str) -> None:
    assert checked[name].book.errors == []


@pytest.mark.parametrize("name", REGULAR)
def test_every_result_cell_equals_the_engine(checked: dict[str, Checked], name: str) -> None:
    c = checked[name]
    assert mismatches(c.book, c.expected) == []
    if name.endswith("_formulas"):
        assert CALC in c.book.values


def test_libreoffice_recalculates_wrong_cached_values(checked: dict[str, Checked]) -> None:
    c = checked["wrong_cache"]
    cached = openpyxl.load_workbook(c.path, data_only=True)
    assert cached["Scores"]["AO2"].value == 0 and cached["Ranking"]["E2"].value == 0
    assert mismatches(c.book, c.expected) == []
    assert c.book.values["Ranking"][(2, 5)] == pytest.approx(float(c.result.total.max()))


def test_the_check_fails_on_a_wrong_weight_formula(checked: dict[str, Checked]) -> None:
    c = checked["wrong_weight"]
    found = mismatches(c.book, c.expected)
    assert found, "a halved weight must change the recalculated scores"
    assert found[0].startswith("Scores!")
    assert any(m.startswith("WeightsUsed!D2 (weight)") for m in mismatches(c.book, c.expected,
                                                                           limit=10_000))


def test_editing_inputs_in_libreoffice_equals_recalc(checked: dict[str, Checked]) -> None:
    """A raw value and two weights changed: LibreOffice alone (formula mode) gives the scores,
    ranks and tiers that recalc gives."""
    c = checked["edited_lo"]          # expected: recalc of the same edit, in Python
    before = checked["shipped_data_formulas"].result
    assert not before.rank.equals(c.result.rank), "the edit must change the ranking"
    assert c.result.weights_used.set_index("child").at["environment", "weight"] == 0.3
    by_name = {s.name: s for s in c.expected}
    assert mismatches(c.book, [by_name["Scores"], by_name["WeightsUsed"], by_name[CALC]]) == []
    # Ranking keeps its row order; its numbers follow the new inputs unit by unit
    table = c.book.table("Ranking")
    header = table[0]
    for row in table[1:]:
        rec = dict(zip(header, row, strict=True))
        unit = rec["unit"]
        assert rec["rank"] == c.result.rank[unit]
        rule = c.result.model.settings.tiers
        tier = int(c.result.tier[unit])
        assert rec["tier"] == (rule.label(tier) if rule.labels else tier)
        assert close(rec["score"], c.result.total[unit])
    tiers = c.book.table("Tiers")
    counts = {row[0]: row[3] for row in tiers[1:]}
    assert counts == {t: int((c.result.tier == t).sum()) for t in counts}


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_render_the_ranking_sheet(tmp_path: Path) -> None:
    png = render_pngs(SHIPPED["given"], ["Ranking"], tmp_path)["Ranking"]
    width, height = _png_size(png)
    assert width > 400 and height > 400
    committed = Path(__file__).resolve().parents[2] / "docs" / "ranking.png"
    assert committed.is_file(), "docs/ranking.png: python tests/lo_harness.py --png Ranking ..."
    assert _png_size(committed)[0] > 400
