"""The VBA project writer (xl_aiindex.workbook.vba_project), read back by independent readers:
olevba's decompressor and VBA parser (oletools), olefile, and LibreOffice's VBA import."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import olefile
import pytest
from conftest import REPO, SMALL
from oletools.olevba import VBA_Parser, decompress_stream

from xl_aiindex.workbook import vba_project as vp
from xl_aiindex.workbook.excel_vba import _xlwings_dir, read_vba_modules

SHIPPED = REPO / "workbooks" / "city_ai_index_2020.xlsm"


def big_module(name: str, size: int = 60_000) -> vp.Module:
    """A standard module of ``size`` bytes of varied, VBA-like source."""
    rng = random.Random(size)
    lines = [f'Attribute VB_Name = "{name}"']
    i = 0
    while sum(len(x) + 2 for x in lines) < size:
        words = " & ".join(f'"{rng.choice(["alpha", "beta", "gamma", "delta"])}{rng.randint(0, 10**6)}"'
                           for _ in range(rng.randint(1, 6)))
        lines += [f"Function F{i}(x As Variant) As String", f"    F{i} = {words} & x", "End Function"]
        i += 1
    return vp.Module(name, "\r\n".join(lines) + "\r\n")


@pytest.mark.parametrize("data", [
    b"", b"a", b"abcabcabcabc" * 10, big_module("M").source.encode(),
    bytes(random.Random(1).getrandbits(8) for _ in range(3 * 4096)),  # incompressible: raw chunks
    b"\x00" * 9000,
])
def test_compression_round_trips_through_olevba(data: bytes) -> None:
    packed = vp.compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert vp.decompress(packed) == data


def test_our_decompressor_reads_office_streams() -> None:
    """xlwings' standalone workbook was saved by Excel: both decompressors agree on it."""
    with zipfile.ZipFile(_xlwings_dir() / "quickstart_standalone.xlsm") as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    raw = ole.openstream("VBA/dir").read()
    assert vp.decompress(raw) == bytes(decompress_stream(bytearray(raw)))


def test_project_protection_fields_match_office() -> None:
    """Office's own CMG/DPB/GC (unprotected, no password, visible) decrypt to what we write."""
    with zipfile.ZipFile(_xlwings_dir() / "quickstart_standalone.xlsm") as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    text = ole.openstream("PROJECT").read().decode("cp1252")
    fields = dict(line.split("=", 1) for line in text.splitlines() if line.startswith(("CMG", "DPB", "GC")))
    assert vp.decrypt(fields["CMG"].strip('"')) == b"\x00\x00\x00\x00"
    assert vp.decrypt(fields["DPB"].strip('"')) == b"\x00"
    assert vp.decrypt(fields["GC"].strip('"')) == b"\xff"
    pid = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"
    for seed in range(256):
        assert vp.decrypt(vp.encrypt(b"\x01\x02\xff", pid, seed)) == b"\x01\x02\xff"


def _modules() -> list[vp.Module]:
    return [vp.document_module("ThisWorkbook", vp.WORKBOOK_BASE),
            vp.document_module("Sheet1", vp.WORKSHEET_BASE),
            big_module("Big"), big_module("Big2", 52_000),
            vp.Module("Small", 'Attribute VB_Name = "Small"\r\nSub Hello()\r\nEnd Sub\r\n'),
            vp.Module("Klass", 'Attribute VB_Name = "Klass"\r\nPublic X As Long\r\n', "class")]


def test_project_reads_back_whole_with_olevba() -> None:
    modules = _modules()
    data = vp.project_bin(modules)
    assert data == vp.project_bin(modules)  # reproducible
    parser = VBA_Parser("vbaProject.bin", data=data)
    got = {name: code for _, _, name, code in parser.extract_macros()}
    for m in modules:
        ext = ".bas" if m.kind == "module" else ".cls"
        assert got[m.name + ext].encode("cp1252") == m.source.encode("cp1252"), m.name
    assert len(got["Big.bas"]) >= 50_000
    assert read_vba_modules(data) == {m.name: m.source for m in modules}
    ole = olefile.OleFileIO(data)
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000000")  # no cache
    project = ole.openstream("PROJECT").read().decode("cp1252")
    assert "Module=Big\r\n" in project and "Class=Klass\r\n" in project
    assert "Document=ThisWorkbook/&H00000000\r\n" in project


def test_document_modules_added_to_a_project_keep_every_module() -> None:
    """A sheet appended to a macro workbook gets its module: the project is written again with
    every module's source as it was (olevba reads them back) and the new document module."""
    modules = _modules()
    data = vp.with_document_modules(vp.project_bin(modules, codepage=936), ["Sheet7"])
    assert data is not None
    parser = VBA_Parser("vbaProject.bin", data=data)
    got = {name: code for _, _, name, code in parser.extract_macros()}
    for m in modules:
        assert got[m.name + (".bas" if m.kind == "module" else ".cls")] == m.source, m.name
    assert 'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"' in got["Sheet7.cls"]
    project = vp.read_project(data)
    assert project.kinds["Sheet7"] == "document" and project.codepage == 936
    assert list(project.sources) == [m.name for m in modules] + ["Sheet7"]


def test_a_locked_project_is_not_written_again() -> None:
    """A password or a project locked for viewing (PROJECT's DPB, CMG, GC) is left as it is."""
    pid = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"

    def project(cmg: bytes, dpb: bytes, gc: bytes) -> str:
        return (f'ID="{pid}"\r\nCMG="{vp.encrypt(cmg, pid, 0x41)}"\r\n'
                f'DPB="{vp.encrypt(dpb, pid, 0x43)}"\r\nGC="{vp.encrypt(gc, pid, 0x45)}"\r\n')

    open_ = (bytes(4), b"\x00", b"\xff")
    assert not vp._locked(project(*open_))
    assert vp._locked(project(b"\x01\x00\x00\x00", b"\x00", b"\xff"))   # protected
    assert vp._locked(project(bytes(4), bytes(range(1, 30)), b"\xff"))     # a password hash
    assert vp._locked(project(bytes(4), b"\x00", b"\x00"))                 # not viewable
    assert vp._locked('CMG="00"\r\n')                                       # unreadable


def test_directory_is_a_valid_red_black_tree() -> None:
    """MS-CFB: siblings ordered by (length, upper case), root black, no red node with a red
    child, the same number of black nodes on every path."""
    for n in range(1, 40):
        streams = {f"S{i:0{1 + i % 3}d}": b"x" * (i * 100 + 1) for i in range(n)}
        ole = olefile.OleFileIO(vp.compound_file({"VBA": streams}))
        entries = ole.direntries
        storage = next(e for e in entries if e is not None and e.name == "VBA")

        def walk(sid: int, lo: tuple[int, str] | None, hi: tuple[int, str] | None,
                 parent_red: bool, entries: list = entries) -> int:
            if sid == vp.NOSTREAM:
                return 1
            e = entries[sid]
            k = (len(e.name), e.name.upper())
            assert (lo is None or lo < k) and (hi is None or k < hi)
            red = e.color == 0
            assert not (red and parent_red)
            left = walk(e.sid_left, lo, k, red)
            assert left == walk(e.sid_right, k, hi, red)
            return left + (0 if red else 1)

        assert entries[storage.sid_child].color == 1
        walk(storage.sid_child, None, None, False)
        assert sorted(ole.listdir()) == sorted(["VBA", s] for s in streams)
        for name, data in streams.items():
            assert ole.openstream(f"VBA/{name}").read() == data


def test_shipped_workbook_project_is_source_only() -> None:
    with zipfile.ZipFile(SHIPPED) as z:
        data = z.read("xl/vbaProject.bin")
    ole = olefile.OleFileIO(data)
    assert ole.openstream("VBA/_VBA_PROJECT").read() == vp.VBA_PROJECT_NO_CACHE
    assert not any("SRP" in "/".join(e) for e in ole.listdir())  # no compiled p-code streams


@pytest.mark.libreoffice
def test_libreoffice_imports_the_modules(tmp_path: Path) -> None:
    """LibreOffice's VBA import reads the streams Excel reads: the shipped workbook and what
    `xl-aiindex excel` makes of a new workbook keep every module (Basic/VBAProject/*.xml)."""
    from lo_harness import convert_to_ods

    from xl_aiindex.cli import main
    from xl_aiindex.workbook.new_book import new_workbook

    tree, units = tmp_path / "tree.csv", tmp_path / "units.csv"
    tree.write_text("id,parent,name_zh,name_en,weight,direction\nhdi,,人类发展,HDI,,\n"
                    "health,hdi,健康,Health,0.5,1\nwealth,hdi,财富,Wealth,0.5,1\n", encoding="utf-8")
    units.write_text("id,name_zh,name_en\na,甲,Alpha\nb,乙,Beta\n", encoding="utf-8")
    new_workbook(tree, units, tmp_path / "mine.xlsx")
    assert main(["excel", str(tmp_path / "mine.xlsx")]) == 0
    # a user's .xlsm into which recalc spliced the result sheets, each with its module (#21)
    from test_excel_rebuild import user_book

    spliced = user_book(tmp_path / "spliced.xlsm", picture=False)
    assert main(["recalc", str(spliced)]) == 0
    books = [SHIPPED, tmp_path / "mine.xlsm", spliced]
    for book, ods in zip(books, convert_to_ods(books, tmp_path / "ods"), strict=True):
        with zipfile.ZipFile(book) as z:
            expected = read_vba_modules(z.read("xl/vbaProject.bin"))
        with zipfile.ZipFile(ods) as z:
            names = {n[len("Basic/VBAProject/"):-4] for n in z.namelist()
                     if n.startswith("Basic/VBAProject/") and n.endswith(".xml")} - {"script-lb"}
            assert names == set(expected), book
            if book == spliced:   # the user's modules, and one per sheet, the appended ones too
                import openpyxl

                sheets = len(openpyxl.load_workbook(spliced, read_only=True).sheetnames)
                assert sheets > len(SMALL)
                assert names == {"ThisWorkbook", "MyTools", "MyClass"} | {
                    f"Sheet{i}" for i in range(1, sheets + 1)}
                continue
            udfs_xml = z.read("Basic/VBAProject/xlwings_udfs.xml").decode()
            xlwings_xml = z.read("Basic/VBAProject/xlwings.xml").decode()
            this_xml = z.read("Basic/VBAProject/ThisWorkbook.xml").decode()
        for name in ("AI_INDEX", "AI_WHY", "XlAiIndexResult"):
            assert f"Function {name}(" in udfs_xml
        assert "Sub rebuild_results()" in udfs_xml
        # the Mac branch and the Insert Function help (issue #21), as LibreOffice read them
        udfs_text = ElementTree.fromstring(udfs_xml).text or ""
        assert "#If Mac Then" in udfs_text
        assert 'RunPython "import udfs; udfs.rebuild_results()"' in udfs_text
        assert "Public Sub XlAiIndexOnOpen(ByVal book As Object)" in udfs_text
        assert udfs_text.count("Application.MacroOptions Macro:=target") == 3
        assert "XlAiIndexOnOpen Me" in (ElementTree.fromstring(this_xml).text or "")
        # the 46 KB module whole: every procedure LibreOffice read is the source's
        lo_text = ElementTree.fromstring(xlwings_xml).text or ""
        for end in ("End Function", "End Sub"):
            assert lo_text.count("\n" + end) == expected["xlwings"].count("\n" + end) >= 10
