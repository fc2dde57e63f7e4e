"""The fast paths of a recalc (issue 20): unchanged zip entries copied raw, the start-up importing
only what a recalc uses, the vectorised result-sheet builder writing the same bytes as the
per-cell one."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from xl_aiindex.workbook.ooxml import package_parts, splice_sheets
from xl_aiindex.workbook.sheetspec import Cell, SheetSpec

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "workbooks" / "city_ai_index_2020.xlsx"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SOFFICE = shutil.which("soffice") or ("/usr/bin/soffice" if Path("/usr/bin/soffice").exists()
                                      else None)


def raw_entry(path: Path, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of ``info`` as stored in the file (after its local header)."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
        n_name, n_extra = struct.unpack("<HH", head[26:30])
        fh.seek(info.header_offset + 30 + n_name + n_extra)
        return fh.read(info.compress_size)


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> zip entry of its XML."""
    parts = package_parts(path)
    wb = ET.fromstring(parts["xl/workbook.xml"])
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(
        parts["xl/_rels/workbook.xml.rels"])}
    out = {}
    for sheet in wb.iter(f"{{{MAIN}}}sheet"):
        target = rels[sheet.get(f"{{{RNS}}}id")]
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") \
            else f"xl/{target}"
    return out


def assert_unchanged_entries_raw(src: Path, dst: Path, written: tuple[str, ...] = ()) -> int:
    """Every entry of ``dst`` whose content is the one of ``src`` (but the XML of the sheets
    ``written``, generated anew) has the same compressed bytes, CRC, method, flags and time;
    returns how many there are."""
    a, b = package_parts(src), package_parts(dst)
    regenerated = {p for n, p in sheet_parts(dst).items() if n in written}
    with zipfile.ZipFile(src) as za, zipfile.ZipFile(dst) as zb:
        assert zb.testzip() is None
        ia = {i.filename: i for i in za.infolist()}
        ib = {i.filename: i for i in zb.infolist()}
    same = [n for n in ia if n in ib and a[n] == b[n] and n not in regenerated]
    for n in same:
        x, y = ia[n], ib[n]
        assert (y.CRC, y.compress_type, y.flag_bits, y.date_time, y.compress_size) == \
            (x.CRC, x.compress_type, x.flag_bits, x.date_time, x.compress_size), n
        assert raw_entry(dst, y) == raw_entry(src, x), f"{n}: compressed bytes differ"
    assert [n for n in ia if n in ib] == [n for n in ib if n in ia], "entry order changed"
    return len(same)


class _NoSeek(io.RawIOBase):
    """A write-only stream that cannot seek: zipfile then writes data descriptors."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)


def _odd_package(path: Path) -> Path:
    """A workbook whose entries have data descriptors, level-9 deflate, one ZIP64 entry and one
    stored entry: a writer that recompressed (or rewrote headers) would change their bytes."""
    plain = path.with_name("plain.xlsx")
    book = xlsxwriter.Workbook(str(plain))
    ws = book.add_worksheet("Data")
    for r in range(200):
        ws.write_row(r, 0, [f"u{r}", r * 1.5, f"text {r % 7}"])
    book.add_worksheet("Scores").write(0, 0, "old")
    book.close()
    parts = package_parts(plain)
    sink = _NoSeek()
    with zipfile.ZipFile(sink, "w") as zf:
        for i, (name, data) in enumerate(parts.items()):
            zi = zipfile.ZipInfo(name, (2020, 5, 17, 10, 30, 0))
            zi.compress_type = zipfile.ZIP_STORED if name.endswith("app.xml") \
                else zipfile.ZIP_DEFLATED
            zi._compresslevel = 9  # type: ignore[attr-defined]
            with zf.open(zi, "w", force_zip64=(i == 2)) as w:
                w.write(data)
    path.write_bytes(bytes(sink.buf))
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    assert all(i.flag_bits & 0x8 for i in infos)       # data descriptors, as intended
    assert any(i.compress_type == zipfile.ZIP_STORED for i in infos)
    return path


def test_unchanged_entries_are_copied_raw(tmp_path):
    src = _odd_package(tmp_path / "odd.xlsx")
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, [SheetSpec("Scores", [[Cell("unit"), Cell("score")],
                                                  [Cell("u1"), Cell(61.25)]])])
    assert assert_unchanged_entries_raw(src, dst) >= 6
    wb = openpyxl.load_workbook(dst)
    assert wb["Data"]["B3"].value == 3.0 and wb["Scores"]["B2"].value == 61.25
    cal = CalamineWorkbook.from_path(str(dst))
    assert cal.get_sheet_by_name("Data").to_python()[199][2] == "text 3"
    assert cal.get_sheet_by_name("Scores").to_python()[1] == ["u1", 61.25]


def test_raw_copy_into_a_stream_and_in_place(tmp_path):
    src = _odd_package(tmp_path / "odd.xlsx")
    spec = SheetSpec("Scores", [[Cell("x")], [Cell(1.0)]])
    out = io.BytesIO()
    splice_sheets(src, out, [spec])
    (tmp_path / "stream.xlsx").write_bytes(out.getvalue())
    assert assert_unchanged_entries_raw(src, tmp_path / "stream.xlsx") >= 6
    inplace = tmp_path / "inplace.xlsx"
    shutil.copy(src, inplace)
    splice_sheets(inplace, inplace, [spec])
    assert assert_unchanged_entries_raw(src, inplace) >= 6
    assert (tmp_path / "stream.xlsx").read_bytes() == inplace.read_bytes()
    sink = _NoSeek()   # a stream that cannot seek: new entries get data descriptors
    splice_sheets(src, sink, [spec])
    (tmp_path / "noseek.xlsx").write_bytes(bytes(sink.buf))
    assert assert_unchanged_entries_raw(src, tmp_path / "noseek.xlsx") >= 6
    assert openpyxl.load_workbook(tmp_path / "noseek.xlsx")["Scores"]["A2"].value == 1.0


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_raw_copied_package(tmp_path):
    src = _odd_package(tmp_path / "odd.xlsx")
    dst = tmp_path / "out.xlsx"
    splice_sheets(src, dst, [SheetSpec("Scores", [[Cell("unit"), Cell("score")],
                                                  [Cell("u1"), Cell(61.25)]])])
    profile = (tmp_path / "lo_profile").as_uri()
    out = tmp_path / "lo"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                    "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(out), str(dst)], check=True, timeout=240,
                   capture_output=True)
    data = (out / "out-Data.csv").read_text(encoding="utf-8").splitlines()
    assert data[3] == "u3,4.5,text 3"
    assert (out / "out-Scores.csv").read_text(encoding="utf-8").splitlines() == \
        ["unit,score", "u1,61.25"]


# --------------------------------------------------------------------------------------------
# a recalc of the shipped workbook in a fresh process: what it imports, what it copies

#: Modules a values-mode recalc does not use.
NOT_IMPORTED = ["scipy", "xlwings", "olefile", "oletools", "xlsxwriter"]



@pytest.fixture(scope="module")
def shipped_recalc(tmp_path_factory):
    """``recalc -o`` of the shipped 2020 workbook in a subprocess: (source, output, the
    top-level names of the modules loaded at the end)."""
    folder = tmp_path_factory.mktemp("shipped")
    src = folder / SHIPPED.name
    shutil.copy(SHIPPED, src)
    dst = folder / "out.xlsx"
    report = folder / "modules.json"
    # the program leaves through os._exit after the exit handlers (cli.run): one reports
    script = (
        "import atexit, json, runpy, sys\n"
        "src, dst, report = sys.argv[1:4]\n"
        "sys.argv = ['xl-aiindex', 'recalc', src, '-o', dst, '--top', '0']\n"
        "atexit.register(lambda: open(report, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "runpy.run_module('xl_aiindex', run_name='__main__')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(src), str(dst), str(report)],
                   check=True, capture_output=True, cwd=folder)
    modules = json.loads(report.read_text())
    return src, dst, {m.split(".")[0] for m in modules}, set(modules)


@pytest.mark.parametrize("module", NOT_IMPORTED)
def test_recalc_does_not_import(shipped_recalc, module):
    assert module not in shipped_recalc[2]


def test_recalc_does_not_import_openpyxl(shipped_recalc):
    assert "openpyxl" not in shipped_recalc[2]


def test_recalc_imports_only_the_commands_it_runs(shipped_recalc):
    modules = shipped_recalc[3]
    assert "click" in shipped_recalc[2]
    # modules of other commands (batch, uncertainty, audit, export, the Excel bridge)
    for other in ("xl_aiindex.batch", "xl_aiindex.uncertainty", "xl_aiindex.audit",
                  "xl_aiindex.compare_weights", "xl_aiindex.workbook.export",
                  "xl_aiindex.workbook.xlwings_book", "xl_aiindex.workbook.xlsm",
                  "xl_aiindex.workbook.vba_project", "xl_aiindex.workbook.new_book"):
        assert other not in modules, other


def test_shipped_recalc_copies_unchanged_entries_raw(shipped_recalc):
    src, dst, _, _ = shipped_recalc
    names = CalamineWorkbook.from_path(str(dst)).sheet_names
    written = tuple(names[names.index("Scores"):])
    assert "Scores" in written and "Data" not in written
    assert assert_unchanged_entries_raw(src, dst, written) >= 8
    assert openpyxl.load_workbook(dst, read_only=True).sheetnames[:4] == \
        openpyxl.load_workbook(src, read_only=True).sheetnames[:4]
    assert CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("Ranking").to_python()[1][1] \
        == "beijing"


# --------------------------------------------------------------------------------------------
# the column builder writes what the cell-by-cell builder writes


def _spliced_parts(tmp_path: Path, spec: SheetSpec, tag: str) -> dict[str, bytes]:
    src = tmp_path / "src.xlsx"
    if not src.exists():
        book = xlsxwriter.Workbook(str(src))
        book.add_worksheet("Data").write(0, 0, "x")
        book.close()
    dst = tmp_path / f"{tag}.xlsx"
    splice_sheets(src, dst, [spec])
    return package_parts(dst)


def _column_specs() -> list[SheetSpec]:
    import numpy as np

    from xl_aiindex.workbook.sheetspec import (
        HEADER,
        NUMBER,
        PRECISE,
        TEXT,
        Column,
        ColumnRows,
        Style,
        tier_style,
    )

    nan = float("nan")
    floats = np.array([61.25, nan, 1e16, -0.0, 0.1 + 0.2, float("inf"), 5e-324, 1e-5, 123.0])
    tiers = [tier_style(NUMBER, t) for t in (1, 2, 0, 3, 1, 2, 2, 0, 1)]
    header = [Cell("unit", style=HEADER), Cell("score", style=HEADER, link="'Data'!A1"),
              Cell("total", formula="=SUM(B2:B10)", style=HEADER), Cell(None),
              Cell("a <b> & _x0041_ \r\n c", style=HEADER), Cell("f32"), Cell("mixed")]
    columns = [
        Column([f"u{i} <&> _x00{i}F_" if i % 2 else f"单位{i}" for i in range(9)], Style()),
        Column(floats, styles=tiers),
        Column(floats * 3.5, PRECISE),
        Column(np.full(9, nan), Style(num_format="0.000")),
        Column([True, False, None, 3, 2**60, "", "x\x01y", np.int64(7), np.float64(nan)]),
        Column(np.linspace(0, 1, 9, dtype=np.float32), NUMBER),
        Column([np.bool_(True), 1.5, None, pd_na(), "=not a formula", 0, -2, 1e300, "t"], TEXT),
    ]
    header += [Cell("plain text"), Cell("ints"), Cell("long text")]
    columns += [Column(["a & b", None, "<c>", "单位 \n 2", "", "x", "q\"'", None, "z"], TEXT),
                Column([1, None, 3, -4, 0, 2**53, 7, None, 9], styles=tiers),
                Column(["y" * 40_000, "a", "b", "c", "d", "e", "f", "g", "h"])]
    empty = ColumnRows([Cell("a"), Cell("b")], [Column(np.array([])), Column([])])
    rng = np.random.default_rng(3)
    big = rng.lognormal(3, 2, 2500)
    big[::97] = nan
    long = ColumnRows([Cell("unit", style=HEADER), Cell("v", style=HEADER), Cell("n")],
                      [Column([f"u{i} & {i % 5}" for i in range(2500)], TEXT),
                       Column(big, styles=[tier_style(NUMBER, i % 4) for i in range(2500)]),
                       Column(list(range(2500)), PRECISE)])
    return [SheetSpec("Scores", ColumnRows(header, columns), {0: 14.0, 4: 30.0},
                      freeze=(1, 2), tab_color="C00000"),
            SheetSpec("Empty", empty, autofilter=False),
            SheetSpec("Long", long)]


def pd_na():
    import pandas as pd

    return pd.NA


@pytest.mark.parametrize("index", [0, 1, 2])
def test_column_builder_writes_the_cell_builders_bytes(tmp_path, index):
    spec = _column_specs()[index]
    rows = spec.rows
    as_cells = SheetSpec(spec.name, [list(r) for r in rows], spec.widths, spec.freeze,
                         spec.autofilter, spec.tab_color)
    assert [list(r) for r in rows] == [list(r) for r in as_cells.rows]
    a = _spliced_parts(tmp_path, spec, "columns")
    b = _spliced_parts(tmp_path, as_cells, "cells")
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    sheet = sheet_parts(tmp_path / "columns.xlsx")[spec.name]
    xml = a[sheet].decode()
    if index == 0:
        assert '<c r="A2" t="inlineStr">' in xml and "<v>61.25</v>" in xml and "B3" not in xml
        assert "<v>1e+16</v>" in xml and "<v>-0.0</v>" in xml and "_x005F_x001F_" in xml
        assert '<hyperlink ref="B1" location="\'Data\'!A1"/>' in xml
        assert "<f>SUM(B2:B10)</f>" in xml


def test_scores_sheet_is_a_column_table_with_the_same_cells():
    from xl_aiindex.workbook.io import compute, load_workbook
    from xl_aiindex.workbook.results import scores_sheet
    from xl_aiindex.workbook.sheetspec import ColumnRows

    spec = scores_sheet(compute(load_workbook(SHIPPED)))
    assert isinstance(spec.rows, ColumnRows)
    rows = [list(r) for r in spec.rows]
    assert len(rows) == 31 and rows[0][0] == Cell("unit", style=rows[0][0].style)
    values = [c.value for c in rows[1]]
    assert all(type(v) in (str, float, type(None)) for v in values)
    assert spec.n_cols == len(rows[0]) == max(len(r) for r in rows)


@pytest.fixture(scope="module")
def shipped_result():
    from xl_aiindex.workbook.io import compute, load_workbook

    return compute(load_workbook(SHIPPED))


@pytest.mark.parametrize("builder", ["scores_sheet", "ranking_sheet", "group_ranking_sheet"])
def test_result_column_tables_write_and_fingerprint_as_cells(tmp_path, shipped_result, builder):
    from xl_aiindex.workbook import results
    from xl_aiindex.workbook.fingerprint import fingerprint_sheet
    from xl_aiindex.workbook.sheetspec import ColumnRows

    spec = getattr(results, builder)(shipped_result)
    assert isinstance(spec.rows, ColumnRows)
    cells = [spec.rows[i] for i in range(len(spec.rows))]
    assert list(spec.rows) == cells            # iterating = indexing
    assert spec.rows[-1] == cells[-1] and spec.rows[1:3] == cells[1:3]
    as_cells = SheetSpec(spec.name, cells, spec.widths, spec.freeze, spec.autofilter,
                         spec.tab_color, spec.header_notes)
    assert fingerprint_sheet(spec) == fingerprint_sheet(as_cells)
    a = _spliced_parts(tmp_path, spec, "columns")
    b = _spliced_parts(tmp_path, as_cells, "cells")
    assert a == b
    # the values are the result's: Ranking row 2 is the best unit, with its score
    if builder == "ranking_sheet":
        head = [c.value for c in cells[0]]
        assert cells[1][head.index("unit")].value == "beijing"
        assert cells[1][head.index("score")].value == pytest.approx(
            float(shipped_result.total["beijing"]))
        assert {type(c.value) for row in cells[1:] for c in row} <= {str, float, int,
                                                                    type(None)}


@pytest.mark.parametrize("text", ["&amp;lt;", "&lt;a&gt; &quot;x&apos; &amp;amp; &#38;", "plain",
                                  "&amp;quot;", ""])
def test_unescape_is_saxutils_unescape(text):
    from xml.sax.saxutils import unescape as reference

    from xl_aiindex.workbook.ooxml.xmltext import unescape

    for entities in ({}, {"&quot;": '"', "&apos;": "'"}):
        assert unescape(text, entities) == reference(text, entities)
    assert unescape("&lt;b&gt; &amp;amp;") == "<b> &amp;"


def test_a_replaced_sheet_is_deflated_as_a_new_one(tmp_path):
    """A second recalc replaces the sheets the first appended: same XML, same fast deflate
    level, so the same compressed bytes (the default level costs three times the time)."""
    import numpy as np

    from xl_aiindex.workbook.sheetspec import NUMBER, Column, ColumnRows

    src = tmp_path / "src.xlsx"
    book = xlsxwriter.Workbook(str(src))
    book.add_worksheet("Data").write(0, 0, "x")
    book.close()
    values = np.random.default_rng(5).lognormal(3, 1, 20_000)
    spec = SheetSpec("Scores", ColumnRows([Cell("v")], [Column(values, NUMBER)]))
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    splice_sheets(src, first, [spec])
    splice_sheets(first, second, [spec])
    part = sheet_parts(first)["Scores"]
    assert sheet_parts(second)["Scores"] == part
    with zipfile.ZipFile(first) as za, zipfile.ZipFile(second) as zb:
        a, b = za.getinfo(part), zb.getinfo(part)
    assert a.CRC == b.CRC
    assert raw_entry(second, b) == raw_entry(first, a)


@pytest.mark.parametrize("xml", [
    b"<x><sheetData><row/></sheetData><sheetProtection/>", b"<ns:sheetData/>",
    b"<sheetData></ sheetData>", b"<p:sheetData  ><row/></p:sheetData  >x", b"no data",
    b"sheetData" * 3, b"<a:sheetData>" + b"<c>sheetData</c>" * 500 + b"</a:sheetData>",
    b"<sheetData a='1'/>"])
def test_sheet_data_end_is_the_regex_search(xml):
    from xl_aiindex.workbook.ooxml.plan import _SHEET_DATA_END, _sheet_data_end

    fast, slow = _sheet_data_end(xml), _SHEET_DATA_END.search(xml)
    assert (fast is None) == (slow is None)
    if slow is not None:
        assert fast is not None and fast.span() == slow.span()


def test_display_names_are_display_name(shipped_result):
    from xl_aiindex.workbook.result_tables import display_name, display_names

    units = [*map(str, shipped_result.model.units.index), "nowhere"]
    names = display_names(shipped_result, units)
    assert names == [display_name(shipped_result, u) for u in units]
    assert names[units.index("beijing")] == "北京" and names[-1] == "nowhere"


def test_a_recalc_builds_the_ranking_table_once(small_book, tmp_path, monkeypatch):
    """The Ranking and Tiers sheets and the terminal share one ranking table (issue 25: it was
    built three times per recalc)."""
    import gc

    from xl_aiindex import api
    from xl_aiindex.workbook import result_tables

    built = []
    real = result_tables.build_ranking_table
    monkeypatch.setattr(result_tables, "build_ranking_table",
                        lambda result: built.append(1) or real(result))
    done = api.recalc(small_book, output=tmp_path / "out.xlsx")
    assert len(built) == 1
    assert done.top[0].unit == "e"   # the best unit of the small index
    scores = id(done.result.scores)
    assert any(k[0] == scores for k in result_tables._RANKINGS)
    del done
    gc.collect()
    # nothing kept once the result is gone
    assert not any(k[0] == scores for k in result_tables._RANKINGS)
