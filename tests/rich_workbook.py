"""A feature-rich workbook fixture for the surgical OOXML writer and the recalc tests.

``make_rich_workbook(path, vba=False)`` writes, with xlsxwriter, a workbook holding most of what
a user may have put around the result sheets, so tests can check that it all survives:

* valid input sheets ``Settings``, ``Framework``, ``Units``, ``Data`` of the workbook contract
  (a three-pillar index of five units, so ``recalc`` runs on it), a hidden sheet
  ``Lookup``, a ``Report`` sheet whose formulas read the result sheets
  (``=Ranking!E2``, ``=INDEX(Scores!B:B,2)``), and old result sheets ``Scores`` (with a cell
  comment, a sheet-local defined name and an Excel table) and ``Ranking`` (with a user chart);
* a chart, a text box and a picture (a tiny PNG made in memory) on ``Settings``;
* a comment, data validation, conditional formatting and an Excel table on ``Data``;
* workbook-level and sheet-local defined names;
* with ``vba=True`` (``path`` must end in ``.xlsm``): the VBA project of xlwings'
  ``quickstart.xlsm`` and a form button on ``Report`` bound to its ``SampleCall`` macro.

Import it as ``from rich_workbook import make_rich_workbook`` from a test module in ``tests/``
(pytest's default "prepend" import mode puts that directory on ``sys.path``) or as
``from tests.rich_workbook import make_rich_workbook`` when the repository root is on it.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import xlsxwriter

#: Sheet order written by :func:`make_rich_workbook`.
SHEETS = ("Settings", "Framework", "Units", "Data", "Lookup", "Report", "Scores", "Ranking")

#: Cached values of the ``Report`` formulas (``B2`` = ``=Ranking!E2``,
#: ``B3`` = ``=INDEX(Scores!B:B,2)``) as written by the fixture.
REPORT_FORMULAS = {"B2": "=Ranking!E2", "B3": "=INDEX(Scores!B:B,2)"}

UNITS = ("AAA", "BBB", "CCC", "DDD", "EEE")


def tiny_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (31, 78, 120)) -> bytes:
    """A valid RGB PNG of one colour, built with zlib/struct (no file needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def quickstart_vba_project() -> bytes:
    """``xl/vbaProject.bin`` of xlwings' ``quickstart.xlsm`` (modules ThisWorkbook, Sheet1,
    Sheet2, Module1 with ``SampleCall``)."""
    import xlwings  # noqa: PLC0415 - only needed for the .xlsm variant

    qs = Path(os.path.dirname(xlwings.__file__)) / "quickstart.xlsm"
    with zipfile.ZipFile(qs) as zf:
        return zf.read("xl/vbaProject.bin")


def make_rich_workbook(path: str | os.PathLike[str], vba: bool = False) -> Path:
    """Write the rich fixture workbook to ``path`` (``.xlsm`` and a VBA project when ``vba``)."""
    path = Path(path)
    if vba and path.suffix.lower() != ".xlsm":
        raise ValueError("a workbook with a VBA project must be named *.xlsm")
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    pct = wb.add_format({"num_format": "0.0%"})
    red = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})

    settings = wb.add_worksheet("Settings")
    framework = wb.add_worksheet("Framework")
    units = wb.add_worksheet("Units")
    data = wb.add_worksheet("Data")
    lookup = wb.add_worksheet("Lookup")
    report = wb.add_worksheet("Report")
    scores = wb.add_worksheet("Scores")
    ranking = wb.add_worksheet("Ranking")

    # Settings: key/value pairs, a picture, a text box and a chart of the framework weights.
    settings.write_row(0, 0, ["key", "value"], bold)
    settings.write_row(1, 0, ["input", "data"])
    settings.write_row(2, 0, ["aggregation", "arithmetic"])
    settings.write_row(3, 0, ["tiers", "rank:2,4"])
    settings.insert_image("D2", "tiny.png", {"image_data": io.BytesIO(tiny_png()),
                                             "x_scale": 8, "y_scale": 8})
    settings.insert_textbox("D10", "Notes: keep this text box", {"width": 240, "height": 60})

    framework.write_row(0, 0, ["id", "weight", "parent", "name_zh", "name_en", "direction"], bold)
    for i, (code, w) in enumerate([("ECO", 0.4), ("SOC", 0.35), ("ENV", 0.25)], start=1):
        framework.write_row(i, 0, [code, w, "INDEX", f"{code}_zh", f"{code} pillar", 1])
    framework.write_row(4, 0, ["INDEX", None, None, "总指数", "Index"])
    framework.set_column(1, 1, 10, pct)
    chart = wb.add_chart({"type": "pie"})
    chart.add_series({"name": "Weights", "categories": "=Framework!$A$2:$A$4",
                      "values": "=Framework!$B$2:$B$4"})
    settings.insert_chart("H2", chart)

    units.write_row(0, 0, ["id", "name_en", "region", "name_zh"], bold)
    for i, code in enumerate(UNITS, start=1):
        units.write_row(i, 0, [code, f"Unit {code}", "G1" if i % 2 else "G2", f"单位{i}"])

    # Data: a table, a comment, data validation and conditional formatting.
    header = ["unit", "ECO", "SOC", "ENV"]
    rows = [[code, 10.0 + i, 20.5 - i, 3.25 * i] for i, code in enumerate(UNITS)]
    data.add_table(0, 0, len(rows), len(header) - 1,
                   {"name": "DataTable", "data": rows,
                    "columns": [{"header": h} for h in header]})
    data.write_comment("B1", "Economic pillar, raw values")
    data.data_validation(1, 1, len(rows), 3, {"validate": "decimal", "criteria": ">=",
                                              "value": 0})
    data.conditional_format(1, 3, len(rows), 3, {"type": "cell", "criteria": ">",
                                                 "value": 5, "format": red})

    lookup.write_row(0, 0, ["Key", "Label"], bold)
    lookup.write_row(1, 0, [1, "one"])
    lookup.hide()

    # Old result sheets, overwritten by the engine.
    scores.write_row(0, 0, ["Code", "Index", "ECO", "SOC", "ENV"], bold)
    for i, code in enumerate(UNITS, start=1):
        scores.write_row(i, 0, [code, 50.0 + i, 40.0 + i, 60.0 - i, 55.5])
    scores.write_comment("B1", "Old comment on the old result sheet")
    scores.add_table(7, 0, 9, 1, {"name": "OldScoresTable",
                                  "data": [["x", 1], ["y", 2]],
                                  "columns": [{"header": "K"}, {"header": "V"}]})

    ranking.write_row(0, 0, ["Rank", "Code", "Name", "Index", "Score"], bold)
    for i, code in enumerate(UNITS, start=1):
        ranking.write_row(i, 0, [i, code, f"Unit {code}", 50.0 + i, 75.0 - i])
    user_chart = wb.add_chart({"type": "column"})
    user_chart.add_series({"name": "Score", "categories": "=Ranking!$B$2:$B$6",
                           "values": "=Ranking!$E$2:$E$6"})
    ranking.insert_chart("H2", user_chart)

    # Report: formulas reading the result sheets, with cached values.
    report.write_row(0, 0, ["What", "Value"], bold)
    report.write(1, 0, "Top score")
    report.write_formula(1, 1, REPORT_FORMULAS["B2"], None, 74.0)
    report.write(2, 0, "First index")
    report.write_formula(2, 1, REPORT_FORMULAS["B3"], None, 51.0)
    report.write(3, 0, "Weights sum")
    report.write_formula(3, 1, "=SUM(Weights)", None, 1.0)

    wb.define_name("Weights", "=Framework!$B$2:$B$4")
    wb.define_name("Settings!Alpha", "=Settings!$B$2")
    wb.define_name("Scores!TopIndex", "=Scores!$B$2")

    if vba:
        wb.add_vba_project(io.BytesIO(quickstart_vba_project()), is_stream=True)  # type: ignore[arg-type]
        report.insert_button("D2", {"macro": "SampleCall", "caption": "Run", "width": 96,
                                    "height": 24})
    wb.close()
    return path
