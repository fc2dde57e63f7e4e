"""The tests' LibreOffice harness: recalculate workbooks in headless LibreOffice Calc, read the
values it computed, find error cells, render sheets to PNG.

LibreOffice keeps an .xlsx's cached values on load (even wrong ones) unless its profile says
otherwise, so every run gets a private throwaway profile whose ``registrymodifications.xcu`` sets
``OOXMLRecalcMode`` = 0 (always recalculate); a private profile also keeps parallel runs apart.
``soffice --convert-to`` exits 0 even when it could not load a file, so each output is checked;
every run has a timeout that kills soffice's whole process group. Several workbooks go through one
soffice process (about a second each instead of a second plus start-up each).

Used as ``from lo_harness import ...`` from a test module in ``tests/`` (pytest puts the folder
on ``sys.path``); ``python tests/lo_harness.py BOOK.xlsx`` prints a workbook's error cells.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from xl_aiindex.contract import ERROR_VALUES

#: Seconds one soffice run may take before its process group is killed.
TIMEOUT = float(os.environ.get("XL_AIINDEX_LO_TIMEOUT", "240"))

#: Always recalculate .xlsx and .ods on load; no macros; English locale; no first-run dialog.
RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>en-US</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>en-US</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

# error values a cell may show: Excel's (ERROR_VALUES), and LibreOffice's own ``Err:nnn``
_LO_ERROR = re.compile(r"^Err:\d{3}$")
#: The add-in's own functions: #NAME? outside Excel by design.
_UDF = re.compile(r"\bAI_[A-Z_]+\s*\(", re.I)


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing, timed out, or did not produce a file."""


def find_soffice() -> str | None:
    """The soffice executable ($SOFFICE, PATH, the usual install folders), or None."""
    for cand in (os.environ.get("SOFFICE"), "soffice", "libreoffice",
                 "/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                 "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if not cand:
            continue
        found = shutil.which(cand) or (cand if os.path.isfile(cand) and os.access(cand, os.X_OK)
                                       else None)
        if found:
            return found
    return None


def _run(args: Sequence[str], timeout: float) -> tuple[int, str]:
    """Run soffice with a fresh throwaway profile in its own process group; on timeout kill the
    group (soffice forks: killing the first process is not enough)."""
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("LibreOffice (soffice) not found")
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        env.setdefault("SAL_USE_VCLPLUGIN", "svp")
        cmd = [soffice, "-env:UserInstallation=" + Path(profile).as_uri(), "--headless",
               "--invisible", "--norestore", "--nolockcheck", "--nodefault", "--nologo", *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, text=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise LibreOfficeError(f"LibreOffice timed out after {timeout:g} s") from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        return proc.returncode, out or ""


def _kill_group(proc: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.communicate(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def recalculate(books: Sequence[Path], out_dir: Path, timeout: float = TIMEOUT) -> list[Path]:
    """Open every workbook in LibreOffice with a full recalculation and save what it computed
    as ``out_dir/<stem>.lo.xlsx``; one soffice process for all. Returns the saved files in the
    order of ``books``; raises :class:`LibreOfficeError` when any could not be loaded."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-lo-") as tmp:
        src, conv = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        conv.mkdir()
        inputs = []
        for i, book in enumerate(books):   # plain unique names: outputs are named by stem
            p = src / f"b{i:03d}{book.suffix.lower()}"
            shutil.copyfile(book, p)
            inputs.append(p)
        rc, log = _run(["--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(conv),
                        *map(str, inputs)], timeout)
        results = []
        for book, p in zip(books, inputs, strict=True):
            produced = conv / (p.stem + ".xlsx")
            if not produced.is_file():
                raise LibreOfficeError(f"LibreOffice did not convert {book} (exit {rc}):\n{log}")
            final = out_dir / f"{book.stem}.lo.xlsx"
            shutil.move(produced, final)
            results.append(final)
    return results


def convert_to_ods(books: Sequence[Path], out_dir: Path, timeout: float = TIMEOUT) -> list[Path]:
    """Convert every workbook to ``out_dir/<stem>.ods`` in one soffice run (macros are kept as
    Basic libraries, ``Basic/VBAProject/<module>.xml``; none runs)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-lo-") as tmp:
        inputs = []
        for i, book in enumerate(books):
            p = Path(tmp) / f"b{i:03d}{book.suffix.lower()}"
            shutil.copyfile(book, p)
            inputs.append(p)
        rc, log = _run(["--convert-to", "ods", "--outdir", str(out_dir), *map(str, inputs)],
                       timeout)
    results = []
    for book, p in zip(books, inputs, strict=True):
        produced = out_dir / (p.stem + ".ods")
        if not produced.is_file():
            raise LibreOfficeError(f"LibreOffice did not convert {book} (exit {rc}):\n{log}")
        results.append(produced)
    return results


#: LibreOffice's CSV filter: comma, double quote, UTF-8, from row 1, cells *as shown* (their
#: number format applied), every sheet to its own file ``<stem>-<sheet>.csv`` (7.2 and later).
_CSV_SHOWN = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def shown_texts(books: Sequence[Path], timeout: float = TIMEOUT
                ) -> list[dict[str, list[list[str]]]]:
    """What every cell of every sheet shows once LibreOffice has recalculated the workbook: its
    value through its number format (``92.93``, ``85.2%``), as LibreOffice's CSV export writes
    it; one soffice run for all ``books``. Per book: sheet -> rows of texts (row 1 first)."""
    import csv

    with tempfile.TemporaryDirectory(prefix="xl-aiindex-csv-") as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        out.mkdir()
        inputs = []
        for i, book in enumerate(books):
            p = src / f"b{i:03d}{book.suffix.lower()}"
            shutil.copyfile(book, p)
            inputs.append(p)
        rc, log = _run(["--convert-to", _CSV_SHOWN, "--outdir", str(out), *map(str, inputs)],
                       timeout)
        results = []
        for book, p in zip(books, inputs, strict=True):
            names = openpyxl.load_workbook(book, read_only=True).sheetnames
            sheets = {}
            for name in names:
                f = out / f"{p.stem}-{name}.csv"
                if not f.is_file():
                    raise LibreOfficeError(f"LibreOffice wrote no CSV of {book} sheet {name} "
                                           f"(exit {rc}):\n{log}")
                with f.open(encoding="utf-8", newline="") as fh:
                    sheets[name] = list(csv.reader(fh))
            results.append(sheets)
    return results


@dataclass
class Book:
    """The values LibreOffice computed (``values[sheet][(row, col)]``, 1-based) and its error
    cells (sheet, cell, value, formula of the original)."""

    values: dict[str, dict[tuple[int, int], Any]]
    errors: list[tuple[str, str, Any, str]] = field(default_factory=list)

    def table(self, sheet: str) -> list[list[Any]]:
        """Sheet ``sheet`` as rows of values (row 1 first), blank cells None."""
        cells = self.values[sheet]
        if not cells:
            return []
        rows = max(r for r, _ in cells)
        cols = max(c for _, c in cells)
        return [[cells.get((r, c)) for c in range(1, cols + 1)] for r in range(1, rows + 1)]


def read_book(recalculated: Path, original: Path | None = None) -> Book:
    """Values of every cell of a recalculated workbook and its error cells; a cell whose formula
    (in ``original``) calls one of the add-in's ``AI_*`` functions may be an error (it is
    #NAME? outside Excel by design)."""
    formulas: dict[tuple[str, str], str] = {}
    if original is not None:
        wf = openpyxl.load_workbook(original, read_only=False, keep_links=False)
        for ws in wf.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        formulas[(ws.title, c.coordinate)] = str(c.value)
        wf.close()
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    book = Book({})
    for ws in wb.worksheets:
        cells: dict[tuple[int, int], Any] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                cells[(c.row, c.column)] = c.value
                text = c.value if isinstance(c.value, str) else ""
                if c.data_type == "e" or _LO_ERROR.match(text) or text in ERROR_VALUES:
                    formula = formulas.get((ws.title, c.coordinate), "")
                    if not _UDF.search(formula):
                        book.errors.append((ws.title, c.coordinate, c.value, formula))
        book.values[ws.title] = cells
    wb.close()
    return book


def close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Numbers equal within ``rel`` relative to the larger magnitude, and at least ``rel``
    absolutely (LibreOffice writes 15 significant digits; z-scores near 0 need the floor)."""
    fa, fb = float(a), float(b)
    return math.isfinite(fa) and math.isfinite(fb) and abs(fa - fb) <= rel * max(1.0, abs(fa),
                                                                                    abs(fb))


#: Result columns compared exactly (ranks and tiers are whole numbers and must be identical).
EXACT_COLUMNS = frozenset({"rank", "tier", "count"})


def mismatches(book: Book, expected: Sequence[Any], limit: int = 20) -> list[str]:
    """Where the values LibreOffice computed differ from ``expected`` (the engine's result
    sheets, :class:`~xl_aiindex.workbook.sheetspec.SheetSpec` in values mode): numbers within
    :func:`close`, ranks/tiers/counts and text identical, blanks blank (None or "")."""
    out: list[str] = []
    for spec in expected:
        if spec.name not in book.values:
            out.append(f"sheet {spec.name} missing")
            continue
        got = book.values[spec.name]
        header = [c.value for c in spec.rows[0]]
        for r, row in enumerate(spec.rows[1:], start=2):
            for c, cell in enumerate(row, start=1):
                want, have = cell.value, got.get((r, c))
                where = f"{spec.name}!{get_column_letter(c)}{r} ({header[c - 1]})"
                blank = want is None or want == "" or (isinstance(want, float)
                                                       and not math.isfinite(want))
                if blank:
                    ok = have is None or have == ""
                elif isinstance(want, bool | str):
                    ok = have == want
                elif header[c - 1] in EXACT_COLUMNS:
                    ok = isinstance(have, int | float) and float(have) == float(want)
                else:
                    ok = isinstance(have, int | float) and not isinstance(have, bool) \
                        and close(have, want)
                if not ok:
                    out.append(f"{where}: LibreOffice {have!r}, engine {want!r}")
                    if len(out) >= limit:
                        return out
    return out


def render_pngs(book: Path, sheets: Iterable[str], out_dir: Path, dpi: int = 100,
                timeout: float = TIMEOUT, keep_pdf: bool = False) -> dict[str, Path]:
    """Render the named sheets of ``book`` (each sheet on one page: PDF export with
    ``SinglePageSheets``, then pdftoppm) to ``out_dir/<sheet>.png``; ``keep_pdf`` also leaves
    the PDF (a page per sheet) as ``out_dir/book.pdf``."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise LibreOfficeError("pdftoppm not found (apt-get install poppler-utils)")
    order = [ws for ws in openpyxl.load_workbook(book, read_only=True).sheetnames]
    out_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-png-") as tmp:
        src = Path(tmp) / ("book" + book.suffix.lower())
        shutil.copyfile(book, src)
        pdf_filter = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
        rc, log = _run(["--convert-to", pdf_filter, "--outdir", tmp, str(src)], timeout)
        pdf = Path(tmp) / "book.pdf"
        if not pdf.is_file():
            raise LibreOfficeError(f"LibreOffice did not export {book} to PDF (exit {rc}):\n{log}")
        for sheet in sheets:
            page = order.index(sheet) + 1
            target = out_dir / f"{sheet}.png"
            subprocess.run([pdftoppm, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                            "-singlefile", str(pdf), str(target.with_suffix(""))],
                           check=True, capture_output=True, timeout=timeout)
            out[sheet] = target
        if keep_pdf:
            shutil.copyfile(pdf, out_dir / "book.pdf")
    return out


def main(argv: Sequence[str]) -> int:
    """``python tests/lo_harness.py BOOK.xlsx…``: recalculate and list error cells;
    ``python tests/lo_harness.py --png SHEET --out DIR BOOK.xlsx``: render a sheet to
    ``DIR/SHEET.png`` (how docs/ranking.png is made)."""
    import argparse

    parser = argparse.ArgumentParser(prog="lo_harness", description=main.__doc__)
    parser.add_argument("books", nargs="+", type=Path)
    parser.add_argument("--png", action="append", default=[], metavar="SHEET",
                        help="render this sheet of the (single) workbook")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder of the PNGs")
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    if args.png:
        for sheet, png in render_pngs(args.books[0], args.png, args.out, args.dpi).items():
            print(f"{sheet}: {png}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        done = recalculate(args.books, Path(tmp))
        bad = 0
        for book, lo in zip(args.books, done, strict=True):
            errors = read_book(lo, book).errors
            bad += len(errors)
            print(f"{book}: {len(errors)} error cell(s)")
            for sheet, cell, value, formula in errors[:30]:
                print(f"  {sheet}!{cell}: {value}  {formula}")
    print(f"{len(args.books)} workbook(s) in {time.monotonic() - t0:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
