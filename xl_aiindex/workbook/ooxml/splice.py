"""Writing the spliced package: :func:`splice_sheets` and :func:`check_splice` (see the package
docstring for what may change and what never does).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..sheetspec import ColumnRows, SheetSpec, Style
from .jobs import _Plan, _SheetJob
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
                  appends: Sequence[RowAppend] = (), finish_last: FinishLast | None = None
                  ) -> None:
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
    ``finish_last``: the last of ``sheets`` stands in for a sheet whose cells depend on the
    others as written (the fingerprint store): when its turn comes, it is replaced by
    ``finish_last(sums)``, ``sums`` holding the CRC-32 and size of the zip entry of every
    other sheet written (by SheetSpec name). It is written after them: in its place when they
    come before it in the package (the usual case), else as the package's last entry. The
    sheet it returns has the same name and uses no style, link or note the stand-in lacks.
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
        late = None if finish_last is None or not specs else _Late(specs[-1], finish_last)
        if isinstance(dst, str | os.PathLike):
            # a path: through the one file writer (temporary file, flushed, replaced atomically)
            from ..files import atomic_write

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as fh:
                    _write_package(zin, raw, fh, plan, late)

            atomic_write(dst, write)
        else:
            _write_package(zin, raw, dst, plan, late)


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


#: The CRC-32 and size of each sheet's zip entry as written, by SheetSpec name.
Sums = dict[str, tuple[int, int]]
FinishLast = Callable[[Mapping[str, tuple[int, int]]], SheetSpec]


@dataclass
class _Late:
    """The sheet written after the others (``splice_sheets``' ``finish_last``)."""

    stand_in: SheetSpec
    finish: FinishLast
    deferred: tuple[zipfile.ZipInfo, _SheetJob] | None = None


def _finished(job: _SheetJob, spec: SheetSpec, xf_attr: Mapping[Style, str]) -> _SheetJob:
    """``job`` writing ``spec`` (the finished sheet) instead of its stand-in, resized."""
    if spec.name != job.spec.name or isinstance(spec.rows, ColumnRows):
        raise ValueError(f"{spec.name}: the finished sheet must be a list of rows named "
                         f"{job.spec.name!r}")
    for row in spec.rows:
        for cell in row:
            if cell.link is not None or (cell.style is not None and cell.style not in xf_attr):
                raise ValueError(f"{spec.name}: the finished sheet has a link or style its "
                                 "stand-in lacked")
    return dataclasses.replace(job, spec=spec, n_rows=len(spec.rows),
                               n_cols=max(map(len, spec.rows), default=0))


def _write_package(zin: zipfile.ZipFile, raw: IO[bytes], fh: IO[bytes], plan: _Plan,
                   late: _Late | None = None) -> None:
    """Write the package ``plan`` makes of ``zin`` (whose file ``raw`` is) to ``fh``: the
    entries that do not change copied raw (:func:`~.zipcopy.copy_raw`), in their order;
    ``late``: the sheet written once the others are (``splice_sheets``' ``finish_last``)."""
    sums: Sums = {}
    others = sum(1 for job in [*plan.jobs.values(), *plan.new_jobs]
                 if late is None or job.spec is not late.stand_in)

    with zipfile.ZipFile(fh, "w", allowZip64=True) as zout:

        def sheet(zi: zipfile.ZipInfo, job: _SheetJob) -> None:
            if late is not None and job.spec is late.stand_in:
                if len(sums) < others:      # a sheet it describes comes later: it waits
                    late.deferred = (zi, job)
                    return
                job = _finished(job, late.finish(dict(sums)), plan.xf_attr)
            _write_sheet(zout, zi, job, plan.xf_attr)
            # zipfile sets the entry's CRC and size on ``zi`` as it closes it
            sums[job.spec.name] = (zi.CRC, zi.file_size)

        def write_new_sheets() -> None:
            for job in plan.new_jobs:
                sheet(_sheet_info(job.part), job)
                rels = _rels_name(job.part)
                if rels in plan.added and (late is None or late.deferred is None
                                           or late.deferred[1] is not job):
                    zout.writestr(_new_info(rels), plan.added.pop(rels))

        for info in zin.infolist():
            name = info.filename
            if name in plan.jobs:
                zi = _clone(info)
                zi._compresslevel = 1  # type: ignore[attr-defined]  # as _sheet_info
                sheet(zi, plan.jobs[name])
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
        if late is not None and late.deferred is not None:
            zi, job = late.deferred
            late.deferred = None
            sheet(zi, job)
        for name, data in plan.added.items():
            zout.writestr(_new_info(name), data)
        zout.comment = zin.comment
