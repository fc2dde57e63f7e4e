"""Regenerate the pictures of the README and docs/ from the shipped workbooks, so they show what
the code makes today::

    python docs/screenshots.py            # writes docs/*.png
    python docs/screenshots.py --out DIR  # elsewhere

* ``ranking.png``: the Ranking sheet of ``workbooks/city_ai_index_2020.xlsx``, rendered by
  LibreOffice (PDF export, one page per sheet, then ``pdftoppm``);
* ``top15.png``: the first chart of its Charts sheet (the total's TOP 15), cut from the same
  render along the chart's frame;
* ``rank_intervals.png``: the rank-interval chart of the UncertaintyResults sheet, after
  ``xl-aiindex uncertainty --samples 64 --budget 0`` on a copy of
  ``workbooks/city_ai_index_2020_data.xlsx``;
* ``report.png``: the top of the HTML report of that copy (with its Audit sheet), rendered by
  headless Chromium in a 1000-pixel-wide window.

Needs LibreOffice (``soffice``), poppler-utils (``pdftoppm``, ``pdftotext``) and Chromium, as
``.ci/run`` installs them. The shipped workbooks are only read: everything is done on copies in a
temporary folder.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from lo_harness import render_pngs  # noqa: E402  (the tests' LibreOffice runner)

from xl_aiindex import api  # noqa: E402
from xl_aiindex.workbook.report_pdf import BROWSERS  # noqa: E402

GIVEN = REPO / "workbooks" / "city_ai_index_2020.xlsx"
DATA = REPO / "workbooks" / "city_ai_index_2020_data.xlsx"
#: Resolution of the sheet renders (dots per inch).
DPI = 110


def _page_of(pdf: Path, title: str) -> int:
    """The number of the first page of ``pdf`` whose text holds ``title``."""
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    return next(i + 1 for i, text in enumerate(pages) if title in " ".join(text.split()))


def _ppm(pdf: Path, page: int, dpi: int) -> np.ndarray:
    """Page ``page`` of ``pdf`` as an RGB array (pdftoppm's PPM output)."""
    data = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page),
                           "-singlefile", str(pdf)], capture_output=True, check=True).stdout
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert m, "pdftoppm did not write a PPM"
    width, height = int(m.group(1)), int(m.group(2))
    return np.frombuffer(data[m.end():], np.uint8).reshape(height, width, 3)


def _title_box(pdf: Path, page: int, word: str, dpi: int) -> tuple[float, float]:
    """The centre (x, y), in pixels at ``dpi``, of the first ``word`` on ``page``."""
    boxes = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                            "-"], capture_output=True, text=True, check=True).stdout
    m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  + re.escape(word) + "</word>", boxes)
    assert m, f"no word {word!r} on page {page}"
    x0, y0, x1, y1 = (float(v) * dpi / 72 for v in m.groups())
    return (x0 + x1) / 2, (y0 + y1) / 2


def _frame_around(image: np.ndarray, x: float, y: float) -> tuple[int, int, int, int]:
    """The chart frame around a point of its title: left and right, the nearest columns that
    are drawn on for at least 100 pixels through the title's row (the frame's sides: the
    plot's grid lines stop below the title); up and down, the nearest rows drawn on from one
    side to the other."""
    ink = image.min(axis=2) < 245
    row, col = int(y), int(x)

    def tall(c: int) -> bool:
        top = row
        while top > 0 and ink[top - 1, c]:
            top -= 1
        bottom = row
        while bottom < ink.shape[0] - 1 and ink[bottom + 1, c]:
            bottom += 1
        return bool(ink[row, c]) and bottom - top >= 100

    left = next(c for c in range(col, -1, -1) if tall(c))
    right = next(c for c in range(col, ink.shape[1]) if tall(c))

    def across(r: int) -> bool:   # grid lines stop short of the frame's sides
        return bool(ink[r, left:right + 1].mean() > 0.95 and ink[r, left:left + 6].all()
                    and ink[r, right - 5:right + 1].all())

    top = next(r for r in range(row, -1, -1) if across(r))
    bottom = next(r for r in range(row, ink.shape[0]) if across(r))
    return left, top, right, bottom


def chart_png(pdf: Path, title: str, word: str, target: Path, dpi: int = DPI) -> Path:
    """Cut the chart whose title holds ``title`` (its first word ``word``) out of ``pdf``."""
    page = _page_of(pdf, title)
    x, y = _title_box(pdf, page, word, dpi)
    left, top, right, bottom = _frame_around(_ppm(pdf, page, dpi), x, y)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    "-x", str(left), "-y", str(top), "-W", str(right - left + 1),
                    "-H", str(bottom - top + 1), "-singlefile", str(pdf),
                    str(target.with_suffix(""))], check=True, capture_output=True)
    return target


def report_png(page: Path, target: Path, width: int = 1000, height: int = 1300) -> Path:
    """The top of the report ``page`` as Chromium shows it in a ``width``-pixel window."""
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        raise SystemExit("no Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={profile}",
                        f"--window-size={width},{height}", f"--screenshot={target}",
                        page.as_uri()], check=True, capture_output=True, timeout=180)
    return target


def main(argv: list[str]) -> int:
    """Write the pictures; print where."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="folder of the PNGs")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-shots-") as tmp:
        folder = Path(tmp)
        given = folder / GIVEN.name
        shutil.copyfile(GIVEN, given)
        rendered = render_pngs(given, ["Ranking"], folder / "given", DPI, keep_pdf=True)
        shutil.copyfile(rendered["Ranking"], out / "ranking.png")
        chart_png(folder / "given" / "book.pdf", "中国城市人工智能发展指数 TOP 15",
                  "中国城市人工智能发展指数", out / "top15.png")

        data = folder / DATA.name
        shutil.copyfile(DATA, data)
        api.audit(data, output=data)
        api.uncertainty(data, samples=64, budget=0)
        render_pngs(data, ["UncertaintyResults"], folder / "data", DPI, keep_pdf=True)
        chart_png(folder / "data" / "book.pdf", "Rank intervals", "排名区间",
                  out / "rank_intervals.png")

        page = folder / "report.html"
        api.report(data, output=page)
        report_png(page, out / "report.png")
    for name in ("ranking.png", "top15.png", "rank_intervals.png", "report.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
