"""Writing the spliced package: :func:`splice_sheets` and :func:`check_splice` (see the package
docstring for what may change and what never does).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from ..sheetspec import SheetSpec
from .jobs import _Plan
from .opc import _rels_name
from .plan import _plan
from .rows import RowAppend
from .sheetxml import _write_sheet
from .workbookxml import OWNED_PREFIX, _check_names
from .zipcopy import copy_raw

#: Timestamp of new zip entries (what Excel writes; keeps the output deterministic).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def splice_sheets(src: str | os.PathLike[str] | IO[bytes], dst: str | os.PathLike[str] | IO[bytes],
                  sheets: Sequence[SheetSpec], *, full_calc_on_load: bool = False,
                  defined_names: Mapping[str, str] | None = None,
                  owned_prefix: str = OWNED_PREFIX, very_hidden: Sequence[str] = (),
                  appends: Sequence[RowAppend] = ()) -> None:
    """Copy the package at src to dst, replacing each sheet whose name matches a SheetSpec
    (case-insensitive, surrounding spaces ignored) and appending the others at the end.

    ``dst`` may be ``src``: a path is written to a temporary file in the same directory and
    moved into place only when complete. ``full_calc_on_load`` sets
    ``<calcPr fullCalcOnLoad="1"/>`` so Excel recalculates every formula when it opens the file.
    ``defined_names`` (name -> reference such as ``'Data'!$C$2:$C$31``, without ``=``):
    replaces every workbook-level name starting with ``owned_prefix`` by these (each must start
    with it); other names are untouched; None leaves the names alone.
    Raises :class:`ValueError` for a package that is not a (transitional) SpreadsheetML
    workbook, an invalid or duplicate sheet name, a name matching a non-worksheet sheet, or
    a defined name that is invalid or lacks the owned prefix. ``very_hidden``: names of
    appended sheets to add with ``state="veryHidden"`` (replaced sheets keep their state).
    ``appends``: rows appended to existing sheets (:class:`RowAppend`; the Log), or new
    sheets holding them.
    """
    specs = list(sheets)
    names = None if defined_names is None else _check_names(defined_names, owned_prefix)
    with contextlib.ExitStack() as stack:
        # the source read twice: parsed by zipfile, and as bytes for the entries copied raw
        raw: IO[bytes] = (stack.enter_context(open(src, "rb"))  # noqa: SIM115
                          if isinstance(src, str | os.PathLike) else src)
        zin = stack.enter_context(zipfile.ZipFile(src))
        plan = _plan(zin, specs, full_calc_on_load, names, owned_prefix, very_hidden,
                     list(appends))
        if isinstance(dst, str | os.PathLike):
            # a path: through the one file writer (temporary file, flushed, replaced atomically)
            from ..files import atomic_write

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as fh:
                    _write_package(zin, raw, fh, plan)

            atomic_write(dst, write)
        else:
            _write_package(zin, raw, dst, plan)


def check_splice(src: str | os.PathLike[str] | IO[bytes], sheets: Sequence[SheetSpec], *,
                 appends: Sequence[RowAppend] = ()) -> None:
    """Plan :func:`splice_sheets` of ``sheets`` into ``src`` without writing anything: raises
    the same :class:`ValueError` the splice would (a sheet that is not a worksheet, a table
    that formulas use, a package this writer cannot rewrite)."""
    with zipfile.ZipFile(src) as zin:
        _plan(zin, list(sheets), False, None, OWNED_PREFIX, (), list(appends))


def _clone(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(info.filename, info.date_time)
    zi.compress_type = info.compress_type
    zi.external_attr = info.external_attr
    zi.comment = info.comment
    zi.create_system = info.create_system
    zi.file_size = info.file_size
    return zi


def _new_info(name: str) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, _ZIP_EPOCH)
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def _sheet_info(name: str) -> zipfile.ZipInfo:
    """A generated sheet's entry: deflate level 1, several times faster than the default level
    on the large, repetitive XML of a result sheet, for files about a quarter larger."""
    zi = _new_info(name)
    # ZipInfo.compress_level is public from Python 3.13; the attribute exists since 3.7
    zi._compresslevel = 1  # type: ignore[attr-defined]
    return zi


def _write_package(zin: zipfile.ZipFile, raw: IO[bytes], fh: IO[bytes], plan: _Plan) -> None:
    """Write the package ``plan`` makes of ``zin`` (whose file ``raw`` is) to ``fh``: the
    entries that do not change copied raw (:func:`~.zipcopy.copy_raw`), in their order."""
    with zipfile.ZipFile(fh, "w", allowZip64=True) as zout:

        def write_new_sheets() -> None:
            for job in plan.new_jobs:
                _write_sheet(zout, _sheet_info(job.part), job, plan.xf_attr)
                rels = _rels_name(job.part)
                if rels in plan.added:
                    zout.writestr(_new_info(rels), plan.added.pop(rels))

        for info in zin.infolist():
            name = info.filename
            if name in plan.jobs:
                zi = _clone(info)
                zi._compresslevel = 1  # type: ignore[attr-defined]  # as _sheet_info
                _write_sheet(zout, zi, plan.jobs[name], plan.xf_attr)
            elif name in plan.rewritten:
                data = plan.rewritten[name]
                if data is not None:
                    zi = _clone(info)
                    zi.file_size = len(data)
                    zout.writestr(zi, data)
            elif name not in plan.removed and not copy_raw(raw, info, zout):
                with zin.open(info) as r, zout.open(_clone(info), "w") as w:
                    shutil.copyfileobj(r, w, 1 << 20)
            if name == plan.insert_after:
                write_new_sheets()
        if plan.insert_after is None:
            write_new_sheets()
        for name, data in plan.added.items():
            zout.writestr(_new_info(name), data)
        zout.comment = zin.comment
