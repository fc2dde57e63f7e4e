"""The report printed to PDF: by headless Chromium (Debian's ``chromium`` package, or Google
Chrome) when installed, else by WeasyPrint when importable; with neither, a PDF is refused
before anything is computed, naming what to install (never HTML under a ``.pdf`` name).

The browser prints a copy of the page from a private temporary folder (its own profile there
too, so a browser the user has open is not disturbed); the PDF's bytes are then written to the
destination by the one write path (:func:`~xl_aiindex.workbook.files.write_file`).
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import UnsafeWrite
from ..i18n import _

#: Browser commands that print a page headless, tried in this order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds a browser may take to print the report.
PRINT_TIMEOUT = 180.0


def find_printer() -> tuple[str, str] | None:
    """What prints the report to PDF here: ``("chromium", path of the browser)``,
    ``("weasyprint", "")`` or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return "chromium", path
    if importlib.util.find_spec("weasyprint") is not None:
        return "weasyprint", ""
    return None


def require_printer(target: Path) -> None:
    """Refuse a PDF (:class:`UnsafeWrite`, exit 2) when nothing here can print one."""
    if find_printer() is None:
        raise _no_printer(target)


def _no_printer(target: Path) -> UnsafeWrite:
    return UnsafeWrite(_(
        "{path}: cannot write a PDF: no PDF printer is installed; install Chromium "
        "(Debian/Ubuntu: apt-get install chromium) or WeasyPrint (pip install weasyprint), "
        "or write the report as .html and print it from a browser; nothing was written"
    ).format(path=target))


def print_pdf(page: str, target: Path) -> bytes:
    """The PDF of the HTML ``page`` (A4, as its print style sheet says), printed by
    :func:`find_printer`'s choice. ``target`` names the destination in errors
    (:class:`UnsafeWrite`: nothing was written)."""
    printer = find_printer()
    if printer is None:
        raise _no_printer(target)
    kind, browser = printer
    pdf = _chromium_pdf(browser, page, target) if kind == "chromium" else _weasyprint_pdf(page)
    if not pdf.startswith(b"%PDF-"):
        raise UnsafeWrite(_("{path}: cannot write the PDF: {printer} produced no PDF; nothing "
                            "was written").format(path=target, printer=browser or kind))
    return pdf


def _chromium_pdf(browser: str, page: str, target: Path) -> bytes:
    with tempfile.TemporaryDirectory(prefix="xl-aiindex-report-") as tmp:
        folder = Path(tmp)
        source = folder / "report.html"
        source.write_text(page, encoding="utf-8")
        out = folder / "report.pdf"
        command = [
            browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage",
            # the page is ours (no script, no address outside it), and a sandbox needs kernel
            # features containers and root sessions often lack
            "--no-sandbox",
            f"--user-data-dir={folder / 'profile'}", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update",
            "--no-pdf-header-footer", "--print-to-pdf-no-header",
            f"--print-to-pdf={out}", source.as_uri(),
        ]
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=PRINT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as e:
            raise UnsafeWrite(_("{path}: cannot write the PDF: {browser} did not finish within "
                                "{seconds} s; nothing was written").format(
                path=target, browser=browser, seconds=f"{PRINT_TIMEOUT:g}")) from e
        except OSError as e:
            raise UnsafeWrite(_("{path}: cannot write the PDF: {browser} could not be started "
                                "({reason}); nothing was written").format(
                path=target, browser=browser, reason=e.strerror or e)) from e
        if not out.is_file():
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise UnsafeWrite(_("{path}: cannot write the PDF: {browser} printed nothing (exit "
                                "{code}{said}); nothing was written").format(
                path=target, browser=browser, code=done.returncode,
                said=f": {said[-1]}" if said else ""))
        return out.read_bytes()


def _weasyprint_pdf(page: str) -> bytes:
    weasyprint = importlib.import_module("weasyprint")
    pdf: bytes = weasyprint.HTML(string=page).write_pdf()
    return pdf
