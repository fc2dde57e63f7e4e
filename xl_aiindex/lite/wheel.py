"""Build the wheel xlwings Lite installs: ``python -m xl_aiindex.lite.wheel [OUTDIR]``.

xlwings Lite installs packages with micropip, which installs a wheel *and its dependencies*.
The ``xl-aiindex`` distribution depends on python-calamine, openpyxl, click, xlwings (desktop)…,
which Lite neither needs nor, in some cases, can install. This module writes a second, pure
distribution of the same source, ``xl-aiindex-lite``: the ``xl_aiindex`` package as it is (so
``from xl_aiindex.lite import …`` works), declaring only numpy and pandas (the Pyodide builds).
Do not install it next to ``xl-aiindex`` in one environment: both provide ``xl_aiindex``.

The wheel is deterministic (fixed file times, sorted entries): the same source gives the same
bytes, so its sha256 can be published beside it.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

from .. import __version__

NAME = "xl_aiindex_lite"
PACKAGE = Path(__file__).resolve().parents[1]
#: Files of the package that go into the wheel (besides every ``*.py``).
PACKAGE_DATA = ("py.typed", "data/*.txt", "locale/*/LC_MESSAGES/*.mo", "lite/addin/requirements.txt")
METADATA = f"""Metadata-Version: 2.1
Name: xl-aiindex-lite
Version: {__version__}
Summary: xl-aiindex for xlwings Lite: the index engine and xl_aiindex.lite (numpy and pandas only)
License: MIT
Requires-Python: >=3.11
Requires-Dist: numpy>=1.26.0
Requires-Dist: pandas>=2.1.0
"""
WHEEL = """Wheel-Version: 1.0
Generator: xl_aiindex.lite.wheel
Root-Is-Purelib: true
Tag: py3-none-any
"""


def wheel_name() -> str:
    """The wheel's file name, e.g. ``xl_aiindex_lite-0.1.0-py3-none-any.whl``."""
    return f"{NAME}-{__version__}-py3-none-any.whl"


def _files() -> list[Path]:
    found = {p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    for pattern in PACKAGE_DATA:
        found.update(PACKAGE.glob(pattern))
    return sorted(found)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(outdir: str | Path) -> Path:
    """Write the wheel into ``outdir`` (created if missing); returns its path."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / wheel_name()
    info = f"{NAME}-{__version__}.dist-info"
    entries = [(f"xl_aiindex/{p.relative_to(PACKAGE).as_posix()}", p.read_bytes())
               for p in _files()]
    entries += [(f"{info}/METADATA", METADATA.encode()), (f"{info}/WHEEL", WHEEL.encode()),
                (f"{info}/top_level.txt", b"xl_aiindex\n")]
    record = [_record_line(n, d) for n, d in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    # through the one file writer (a temporary file beside it, moved into place): a wheel an
    # add-in is downloading is never seen half written
    from ..workbook.files import atomic_write

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in entries:
                entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(entry, data)

    return atomic_write(target, write)


def main(argv: list[str] | None = None) -> int:
    """``python -m xl_aiindex.lite.wheel [OUTDIR]`` (default ``dist``): build, print the path
    and sha256."""
    args = sys.argv[1:] if argv is None else argv
    path = build_wheel(args[0] if args else "dist")
    print(path, hashlib.sha256(path.read_bytes()).hexdigest())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
