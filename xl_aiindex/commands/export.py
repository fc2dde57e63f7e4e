"""``xl-aiindex export``: the result tables as CSV or JSON files, for other tools."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Exported:
    """What :func:`export` wrote: the ``folder``, the ``files`` in it, the ``units`` exported."""

    book: Path
    folder: Path
    files: tuple[Path, ...]
    units: int


def export(book: str | os.PathLike[str], *, format: str = "csv",
           out_dir: str | os.PathLike[str] | None = None, encoding: str = "utf-8-sig",
           force: bool = False) -> Exported:
    """Export the result tables (ranking, scores, tiers, weights, framework, compare and the
    uncertainty and audit sheets when present): numbers as numbers, names in Chinese and
    English, each CSV file named ``BOOKSTEM_TABLE.csv``.

    :param book: the workbook to read
    :param format: ``csv`` (one file per table) or ``json`` (one file with every table)
    :param out_dir: the folder to write to (default: ``BOOKSTEM-export`` beside the workbook)
    :param encoding: the CSV files' encoding, one of
        :data:`~xl_aiindex.workbook.export.CSV_ENCODINGS` (default ``utf-8-sig``: UTF-8 with a
        byte-order mark, which Excel opens as UTF-8); JSON is always UTF-8
    :param force: overwrite files that exist (default: refuse them, nothing written)

    Returns an :class:`Exported`. Raises :class:`ValueError` for another format,
    :class:`~xl_aiindex.errors.BadArgument` for another encoding or a character it cannot
    hold, :class:`~xl_aiindex.errors.UnsafeWrite` for a file that exists (without ``force``)
    or cannot be written (every one is checked before the first is written), and what
    reading raises.
    """
    from ..workbook.export import export_book
    from ..workbook.io import compute, load_workbook

    source = Path(book)
    result = compute(load_workbook(source))
    folder = Path(out_dir) if out_dir is not None else source.with_name(f"{source.stem}-export")
    files = export_book(result, source, format, folder, encoding=encoding, force=force)
    return Exported(book=source, folder=folder, files=tuple(files), units=len(result.scores))
