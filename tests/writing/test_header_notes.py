"""Header notes (``SheetSpec.header_notes``) written by the surgical writer as real cell comments:
a comments part and the legacy VML drawing Excel needs to show them, byte-identical when a recalc
changes no note, never written over form controls."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from lo_harness import convert_to_ods

from xl_aiindex.cli import cli
from xl_aiindex.workbook.ooxml import package_parts, splice_sheets
from xl_aiindex.workbook.results import DIFF_NOTE
from xl_aiindex.workbook.sheetspec import HEADER, Cell, SheetSpec

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA_BOOK = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"
XLSM = REPO / "workbooks" / "city_ai_index_2020.xlsm"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _recalc(src: Path, dst: Path) -> Path:
    r = CliRunner().invoke(cli, ["recalc", str(src), "-o", str(dst)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return dst


def _notes(path: Path, sheet: str) -> dict[str, str]:
    """Header text -> comment text of row 1 of ``sheet``."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    return {str(ws.cell(1, c).value): ws.cell(1, c).comment.text
            for c in range(1, ws.max_column + 1) if ws.cell(1, c).comment is not None}


def _sheet_parts(parts: dict[str, bytes], sheet: str) -> tuple[str, dict[str, str]]:
    """Part name of ``sheet`` and its relationships (type suffix -> target part)."""
    wb = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{sheet}"[^>]*r:id="(\w+)"', wb).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
    part = "xl/" + target
    d, base = part.rsplit("/", 1)
    sheet_rels = parts.get(f"{d}/_rels/{base}.rels", b"").decode()
    out = {}
    for m in re.finditer(r'Type="[^"]*/([A-Za-z]+)" Target="([^"]+)"', sheet_rels):
        t = m.group(2)
        out[m.group(1)] = t[1:] if t.startswith("/") else _norm(f"{d}/{t}")
    return part, out


def _norm(path: str) -> str:
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            out.pop()
        elif seg and seg != ".":
            out.append(seg)
    return "/".join(out)


def _idmaps(parts: dict[str, bytes]) -> dict[str, list[int]]:
    return {n: [int(x) for x in re.search(rb'<o:idmap[^>]*data="([^"]*)"', b).group(1).split(b",")]
            for n, b in parts.items() if n.endswith(".vml")}


def _shape_ids(parts: dict[str, bytes]) -> list[bytes]:
    return [i for n, b in parts.items() if n.endswith(".vml")
            for i in re.findall(rb'<v:shape id="(_x0000_s\d+)"', b)]


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shipped workbook recalculated once, and that result recalculated again."""
    tmp = tmp_path_factory.mktemp("notes")
    first = _recalc(BOOK, tmp / "r1.xlsx")
    return first, _recalc(first, tmp / "r2.xlsx")


def test_ranking_diff_column_carries_the_sign_note(recalculated):
    first, _ = recalculated
    assert _notes(first, "Ranking") == {"diff": DIFF_NOTE}
    assert "score − published" in DIFF_NOTE
    wb = openpyxl.load_workbook(first)
    assert wb["Ranking"].cell(1, wb["Ranking"].max_column).comment.author == "xl-aiindex"
    parts = package_parts(first)
    part, rels = _sheet_parts(parts, "Ranking")
    assert set(rels) == {"vmlDrawing", "comments"}
    xml = parts[part].decode()
    # schema position: after pageMargins (and drawing), before tableParts
    assert re.search(r"</sheetData>.*<pageMargins[^>]*/><legacyDrawing r:id=\"rId\d+\"/>"
                     r"</worksheet>$", xml, re.S)
    ct = parts["[Content_Types].xml"].decode()
    assert '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.' \
           'vmlDrawing"/>' in ct
    assert (f'<Override PartName="/{rels["comments"]}" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.comments+xml"/>') in ct
    vml = parts[rels["vmlDrawing"]].decode()
    assert vml.count('ObjectType="Note"') == 1 and "<x:Row>0</x:Row>" in vml
    # shape-id blocks unique in the workbook (the input sheets' notes have their own)
    ids = [b for v in _idmaps(parts).values() for b in v]
    assert len(ids) == len(set(ids))
    shapes = _shape_ids(parts)
    assert len(shapes) == len(set(shapes))


def test_a_recalc_that_changes_no_note_keeps_the_parts_byte_identical(recalculated):
    first, second = recalculated
    a, b = package_parts(first), package_parts(second)
    _, rels_a = _sheet_parts(a, "Ranking")
    _, rels_b = _sheet_parts(b, "Ranking")
    assert rels_a == rels_b
    for part in rels_a.values():
        assert a[part] == b[part]
    assert {n for n in a if "comments" in n or n.endswith(".vml")} == \
        {n for n in b if "comments" in n or n.endswith(".vml")}
    # the shipped workbook was built this way: its notes are kept as they are
    shipped = package_parts(BOOK)
    _, rels_s = _sheet_parts(shipped, "Ranking")
    assert rels_s == rels_a and all(shipped[p] == a[p] for p in rels_a.values())


def _spec(notes: dict[int, str], name: str = "R") -> SheetSpec:
    rows = [[Cell(h, style=HEADER) for h in ("unit", "score", "diff")],
            [Cell("a"), Cell(1.0), Cell(0.5)]]
    return SheetSpec(name, rows, {0: 10.0, 1: 12.0}, header_notes=notes)


def _book(path: Path, *, button_on: str | None = None, comment_on: str | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    for name in ("Inputs", "R"):
        ws = wb.add_worksheet(name)
        ws.write("A1", "x")
        if name == button_on:
            ws.insert_button("C3", {"macro": "say_hi", "caption": "Hi"})
        if name == comment_on:
            ws.write_comment("A1", "a note of the user")
    wb.close()
    return path


def test_changed_notes_replace_the_parts_and_the_old_ones_go(tmp_path):
    src = _book(tmp_path / "a.xlsx", comment_on="Inputs")
    one, two, three = tmp_path / "1.xlsx", tmp_path / "2.xlsx", tmp_path / "3.xlsx"
    note = "diff = a − b & <c>\nsecond line"
    splice_sheets(src, one, [_spec({2: note, 1: " spaced "})])
    assert _notes(one, "R") == {"diff": note, "score": " spaced "}
    assert _notes(one, "Inputs") == {"x": "a note of the user"}
    p1 = package_parts(one)
    _, rels1 = _sheet_parts(p1, "R")
    splice_sheets(one, two, [_spec({2: "changed"})])
    assert _notes(two, "R") == {"diff": "changed"}
    p2 = package_parts(two)
    _, rels2 = _sheet_parts(p2, "R")
    assert not set(rels1.values()) & set(rels2.values())
    assert not set(rels1.values()) & set(p2)                       # old parts removed
    ct = p2["[Content_Types].xml"].decode()
    assert rels1["comments"] not in ct and rels2["comments"] in ct
    assert ct.count('Extension="vml"') == 1
    # the user's notes on an input sheet stay byte for byte
    _, rels_in = _sheet_parts(p2, "Inputs")
    assert all(p1[p] == p2[p] for p in rels_in.values())
    splice_sheets(two, three, [_spec({})])
    p3 = package_parts(three)
    part, rels3 = _sheet_parts(p3, "R")
    assert rels3 == {} and b"legacyDrawing" not in p3[part]
    assert not set(rels2.values()) & set(p3)
    assert _notes(three, "R") == {}


def test_same_spec_same_bytes(tmp_path):
    src = _book(tmp_path / "a.xlsx")
    outs = [tmp_path / "x.xlsx", tmp_path / "y.xlsx"]
    for out in outs:
        splice_sheets(src, out, [_spec({2: "n"}), _spec({0: "m"}, "New")])
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert _notes(outs[0], "New") == {"unit": "m"}


def test_a_result_sheet_with_form_controls_keeps_todays_behaviour(tmp_path):
    src = _book(tmp_path / "a.xlsx", button_on="R", comment_on="Inputs")
    out = tmp_path / "out.xlsx"
    splice_sheets(src, out, [_spec({2: "n"})])
    parts = package_parts(out)
    part, rels = _sheet_parts(parts, "R")
    assert rels == {} and b"legacyDrawing" not in parts[part]   # no notes over the button's VML
    assert _notes(out, "R") == {}
    assert not any(b"say_hi" in b for n, b in parts.items() if n.endswith(".vml"))
    assert _notes(out, "Inputs") == {"x": "a note of the user"}


def test_buttons_on_another_sheet_keep_their_shape_ids(tmp_path):
    src = _book(tmp_path / "a.xlsx", button_on="Inputs")
    out = tmp_path / "out.xlsx"
    splice_sheets(src, out, [_spec({2: "n"})])
    before, after = package_parts(src), package_parts(out)
    _, rels_in = _sheet_parts(after, "Inputs")
    assert after[rels_in["vmlDrawing"]] == before[rels_in["vmlDrawing"]]   # byte for byte
    ids = [b for v in _idmaps(after).values() for b in v]
    assert len(ids) == 2 and len(set(ids)) == 2
    shapes = _shape_ids(after)
    assert len(shapes) == 2 and len(set(shapes)) == 2
    assert _notes(out, "R") == {"diff": "n"}


def test_shipped_xlsm_buttons_are_on_examples_and_survive_a_recalc(tmp_path):
    parts = package_parts(XLSM)
    with_buttons = [n for n, b in parts.items() if n.endswith(".vml") and b"ObjectType=\"Button\""
                    in b]
    _, rels = _sheet_parts(parts, "Examples")
    assert with_buttons == [rels["vmlDrawing"]]
    assert _notes(XLSM, "Ranking") == {"diff": DIFF_NOTE}    # copied by `xl-aiindex excel`
    out = _recalc(XLSM, tmp_path / "r.xlsm")
    after = package_parts(out)
    assert after[rels["vmlDrawing"]] == parts[rels["vmlDrawing"]]
    assert _notes(out, "Ranking") == {"diff": DIFF_NOTE}
    ids = [b for v in _idmaps(after).values() for b in v]
    assert len(ids) == len(set(ids))
    shapes = _shape_ids(after)
    assert len(shapes) == len(set(shapes))


def test_uncertainty_results_carry_their_column_notes(tmp_path):
    out = tmp_path / "u.xlsx"
    r = CliRunner().invoke(cli, ["uncertainty", str(DATA_BOOK), "-o", str(out), "--samples",
                                 "64", "--budget", "0", "--top", "1"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert _notes(out, "UncertaintyResults") == {
        "rank_q05": "5 % of the runs rank the unit better than this",
        "rank_q95": "5 % of the runs rank the unit worse than this",
        "p_nominal_tier": "share of the runs that keep the unit in its nominal tier",
        # the error bars of the rank-interval chart (rank 1 at the top: "below" is drawn above)
        "below_median": "median_rank − rank_q05: the chart's bar above the dot",
        "above_median": "rank_q95 − median_rank: the chart's bar below the dot"}


@pytest.mark.libreoffice
def test_libreoffice_opens_the_recalculated_workbook_and_shows_the_note(recalculated, tmp_path):
    first, _ = recalculated
    book = tmp_path / "book.xlsx"
    shutil.copyfile(first, book)
    (ods,) = convert_to_ods([book], tmp_path / "ods")
    content = zipfile.ZipFile(ods).read("content.xml").decode()
    start = content.index('table:name="Ranking"')
    ranking = content[start:content.index("</table:table>", start)]
    notes = re.findall(r"<office:annotation\b.*?</office:annotation>", ranking, re.S)
    assert len(notes) == 1
    assert "diff = score − published (computed minus printed)" in notes[0]
