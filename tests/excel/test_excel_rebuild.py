"""``xl-aiindex excel BOOK.xlsm --force``, the documented rebuild (issue 19 §2): the user's own
VBA modules stay beside ours in the rebuilt project, and a rebuild in place that cannot copy
something of the book (a picture, a chart, a table, a form) refuses, naming it, and writes
nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import xlsxwriter
from click.testing import CliRunner
from conftest import SMALL
from oletools.olevba import VBA_Parser
from rich_workbook import tiny_png

from xl_aiindex.cli import cli
from xl_aiindex.workbook import vba_project as vp
from xl_aiindex.workbook.vba_project import read_project

WORKBOOK_OPEN = 'Private Sub Workbook_Open()\r\n    MsgBox "hi"\r\nEnd Sub\r\n'
DATA_SHEET_CODE = "Private Sub Worksheet_Change(ByVal Target As Range)\r\n    Beep\r\nEnd Sub\r\n"
MY_TOOLS = ('Attribute VB_Name = "MyTools"\r\n{comment}Public Function Twice(x As Double) As '
            'Double\r\n    Twice = 2 * x\r\nEnd Function\r\n')
MY_CLASS = ('Attribute VB_Name = "MyClass"\r\nAttribute VB_GlobalNameSpace = False\r\n'
            'Attribute VB_Creatable = False\r\nAttribute VB_PredeclaredId = False\r\n'
            'Attribute VB_Exposed = False\r\nPublic Value As Long\r\n')


def run(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def user_book(path: Path, *, picture: bool, comment: str = "", codepage: int = 1252) -> Path:
    """An .xlsm of the small index whose VBA project (written by vba_project's writer) holds
    the user's module ``MyTools``, class ``MyClass``, code in ThisWorkbook and in the Data
    sheet's module; with ``picture``, a picture on the Data sheet."""
    this = vp.document_module("ThisWorkbook", vp.WORKBOOK_BASE)
    modules = [vp.Module("ThisWorkbook", this.source + WORKBOOK_OPEN, "document")]
    for i, name in enumerate(SMALL):
        doc = vp.document_module(f"Sheet{i + 1}", vp.WORKSHEET_BASE)
        code = DATA_SHEET_CODE if name == "Data" else ""
        modules.append(vp.Module(doc.name, doc.source + code, "document"))
    modules += [vp.Module("MyTools", MY_TOOLS.format(comment=comment)),
                vp.Module("MyClass", MY_CLASS, "class")]
    book = xlsxwriter.Workbook(path)
    book.set_vba_name("ThisWorkbook")
    book.add_vba_project(io.BytesIO(vp.project_bin(modules, codepage=codepage)),
                         is_stream=True)  # type: ignore[arg-type]
    for i, (name, rows) in enumerate(SMALL.items()):
        ws = book.add_worksheet(name)
        ws.set_vba_name(f"Sheet{i + 1}")
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is not None:
                    ws.write(r, c, v)
        if picture and name == "Data":
            ws.insert_image("H2", "logo.png", {"image_data": io.BytesIO(tiny_png())})
    book.close()
    return path


def _vba(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/vbaProject.bin")


def test_in_place_rebuild_with_a_picture_refuses_naming_it(tmp_path: Path) -> None:
    book = user_book(tmp_path / "book.xlsm", picture=True)
    before = book.read_bytes()
    out = run("excel", book, "--force")
    assert out.exit_code == 1, out.output
    assert (f"Error: {book}: rebuilding it in place would lose what excel cannot copy into the "
            "new workbook:\n  - 1 picture on sheet 'Data'\nNothing was written. To rebuild, "
            "write to another file (xl-aiindex excel book.xlsm -o book_rebuilt.xlsm; book.xlsm "
            "stays as it is) and move these into it in Excel, or remove them from book.xlsm "
            "first.") in out.output
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsm"]


def test_rebuild_keeps_the_users_modules_beside_ours(tmp_path: Path) -> None:
    book = user_book(tmp_path / "book.xlsm", picture=False)
    out = run("excel", book, "--force")
    assert out.exit_code == 0, out.output
    project = read_project(_vba(book))
    assert project.sources["MyTools"] == MY_TOOLS.format(comment="")
    assert project.sources["MyClass"] == MY_CLASS
    assert project.kinds["MyTools"] == "module" and project.kinds["MyClass"] == "class"
    # the user's Workbook_Open is kept, our call (Insert Function help) as its first line: an
    # event has one handler, so ours is not added beside it
    assert project.sources["ThisWorkbook"].endswith(
        '\r\nPrivate Sub Workbook_Open()\r\n    XlAiIndexOnOpen Me  \' xl-aiindex: Insert Function '
        'help, one recalculation\r\n    MsgBox "hi"\r\nEnd Sub\r\n')
    assert project.sources["ThisWorkbook"].count("Workbook_Open") == 1
    # Data is the 4th sheet: its module is Sheet4 in the rebuilt project as it was
    assert project.sources["Sheet4"].endswith("\r\n" + DATA_SHEET_CODE)
    assert "Worksheet_Change" not in "".join(project.sources[f"Sheet{i}"] for i in (1, 2, 3, 5, 6))
    assert {"xlwings", "xlwings_udfs", "Dictionary"} <= set(project.sources)
    assert "Sub rebuild_results()" in project.sources["xlwings_udfs"]
    # an independent reader sees the same
    parser = VBA_Parser("vbaProject.bin", data=_vba(book))
    got = {name: code for _, _, name, code in parser.extract_macros()}
    assert "Function Twice" in got["MyTools.bas"] and "Public Value As Long" in got["MyClass.cls"]
    # and a second rebuild keeps them again, once
    again = run("excel", book, "--force")
    assert again.exit_code == 0, again.output
    project2 = read_project(_vba(book))
    assert project2.sources["MyTools"] == MY_TOOLS.format(comment="")
    assert project2.sources["ThisWorkbook"] == project.sources["ThisWorkbook"]


def test_chinese_comments_keep_the_projects_code_page(tmp_path: Path) -> None:
    book = user_book(tmp_path / "book.xlsm", picture=False, comment="' 计算工具\r\n",
                     codepage=936)
    out = run("excel", book, "--force")
    assert out.exit_code == 0, out.output
    project = read_project(_vba(book))
    assert project.codepage == 936
    assert project.sources["MyTools"] == MY_TOOLS.format(comment="' 计算工具\r\n")


def test_rebuild_into_another_file_keeps_the_modules_and_the_source(tmp_path: Path) -> None:
    book = user_book(tmp_path / "book.xlsm", picture=True)
    before = book.read_bytes()
    out = run("excel", book, "-o", tmp_path / "new.xlsm")
    assert out.exit_code == 0, out.output
    assert book.read_bytes() == before
    assert read_project(_vba(tmp_path / "new.xlsm")).sources["MyTools"] == \
        MY_TOOLS.format(comment="")


def _with_vba(book: Path, target: Path, vba: bytes) -> Path:
    with zipfile.ZipFile(book) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/vbaProject.bin"] = vba
    with zipfile.ZipFile(target, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    return target


def test_a_form_and_a_clashing_module_are_named(tmp_path: Path) -> None:
    """A designer module (a UserForm: ``BaseClass=`` in the PROJECT stream) cannot be copied,
    nor a module named like one of the rebuilt project's; the in-place rebuild names both."""
    import olefile

    modules = [vp.document_module("ThisWorkbook", vp.WORKBOOK_BASE),
               vp.Module("Sheet6", 'Attribute VB_Name = "Sheet6"\r\nSub A()\r\nEnd Sub\r\n'),
               vp.Module("UserForm1", 'Attribute VB_Name = "UserForm1"\r\n', "class")]
    ole = olefile.OleFileIO(io.BytesIO(vp.project_bin(modules)))
    streams = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}
    ole.close()
    streams["PROJECT"] = streams["PROJECT"].replace(b"Class=UserForm1", b"BaseClass=UserForm1")
    vba = vp.compound_file({"PROJECT": streams["PROJECT"], "PROJECTwm": streams["PROJECTwm"],
                            "VBA": {k[4:]: v for k, v in streams.items()
                                    if k.startswith("VBA/")}})
    assert read_project(vba).kinds == {"ThisWorkbook": "document", "Sheet6": "module",
                                       "UserForm1": "designer"}
    book = _with_vba(user_book(tmp_path / "src.xlsm", picture=False), tmp_path / "book.xlsm",
                     vba)
    before = book.read_bytes()
    out = run("excel", book, "--force")
    assert out.exit_code == 1, out.output
    assert ("\n  - the VBA module 'Sheet6' (the rebuilt project has a module of that name)"
            "\n  - the VBA form 'UserForm1' (a form's design cannot be copied)\n") in out.output
    assert book.read_bytes() == before


def test_rich_workbook_rebuilt_in_place_names_everything_it_would_lose(tmp_path: Path) -> None:
    from rich_workbook import make_rich_workbook

    book = make_rich_workbook(tmp_path / "rich.xlsm", vba=True)
    before = book.read_bytes()
    out = run("excel", book, "--force")
    assert out.exit_code == 1, out.output
    assert ("would lose what excel cannot copy into the new workbook:\n"
            "  - 1 picture, 1 chart, 1 shape or text box on sheet 'Settings'\n"
            "  - an Excel table on sheet 'Data'\n"
            "  - 1 form control (Button) on sheet 'Report'\n"
            "  - an Excel table on sheet 'Scores'\n"
            "  - 1 chart on sheet 'Ranking'\n"
            "  - the VBA project's reference to 'MSForms'\n"
            "Nothing was written.") in out.output
    assert book.read_bytes() == before
    # into another file: built, the quickstart's Module1 kept beside ours
    new = tmp_path / "new.xlsm"
    assert run("excel", book, "-o", new).exit_code == 0
    assert "Sub SampleCall()" in read_project(_vba(new)).sources["Module1"]


def test_excel_keeps_a_users_charts_sheet(tmp_path: Path) -> None:
    """A sheet of the user's named Charts is copied as it is, not replaced by the tool's."""
    import openpyxl
    from conftest import write_book

    sheets = {k: [list(r) for r in v] for k, v in SMALL.items()}
    sheets["Charts"] = [["my own charts page"], [1, 2, 3]]
    book = write_book(tmp_path / "book.xlsx", sheets)
    out = run("excel", book)
    assert out.exit_code == 0, out.output
    wb = openpyxl.load_workbook(tmp_path / "book.xlsm", read_only=True)
    assert [list(r) for r in wb["Charts"].iter_rows(values_only=True)] == \
        [["my own charts page", None, None], [1, 2, 3]]
    wb.close()
