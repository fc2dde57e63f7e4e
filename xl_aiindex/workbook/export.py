"""Result tables for other tools: ``xl-aiindex export BOOK --format csv|json``.

The tables are computed from the workbook's inputs (as ``recalc`` would write them), plus the
result sheets other commands wrote that cannot be recomputed cheaply (``UncertaintyResults``,
``Sensitivity``, ``Audit``, ``GroupRanking``), read as they are. Numbers are numbers (whole
numbers such as ranks as integers), blanks are empty (CSV) or ``null`` (JSON), units and nodes
carry both their Chinese and English names. CSV files are UTF-8 with a byte-order mark by
default (so that Excel, a Chinese one too, opens them as UTF-8; ``--encoding`` changes it) and
named after the workbook (``BOOKSTEM_ranking.csv``); JSON is UTF-8.

A CSV text field that a spreadsheet would run as a formula (one starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return: the OWASP CSV-injection rule) is written with a
leading ``'``, so it opens as the text it is; numbers, negative ones included, stay numbers.
JSON is data, never run, and holds every text as it is.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..contract import key
from ..model import IndexResult
from ..panel import panel_of
from .calamine_source import CalamineSource
from .panel_sheets import (
    panel_ranking_table,
    panel_scores_table,
    panel_tiers_table,
    trends_table,
)
from .results import ranking_table, scores_table, tiers_table
from .visuals import compare_table

#: Result sheets read from the workbook as they are, when present.
SHEETS_AS_WRITTEN = ("UncertaintyResults", "Sensitivity", "Audit", "GroupRanking")
FORMATS = ("csv", "json")


def weights_table(result: IndexResult) -> pd.DataFrame:
    """WeightsUsed with the names of the parent node and the child in both languages."""
    table = result.weights_used.copy()
    names = {n.id: n for n in result.model.nodes}
    pos = list(table.columns).index("child") + 1
    table.insert(pos, "child_name_en", [names[c].name_en for c in table["child"]])
    table.insert(pos, "child_name_zh", [names[c].name_zh for c in table["child"]])
    return table


def framework_table(result: IndexResult) -> pd.DataFrame:
    """The tree: ``id, parent, name_zh, name_en, level`` (root 0), one row per node."""
    by_id = {n.id: n for n in result.model.nodes}

    def level(n: str) -> int:
        d = 0
        while by_id[n].parent is not None:
            n = str(by_id[n].parent)
            d += 1
        return d

    return pd.DataFrame([{"id": n.id, "parent": n.parent, "name_zh": n.name_zh,
                          "name_en": n.name_en, "level": level(n.id)}
                         for n in result.model.nodes])


def export_tables(result: IndexResult, book: str | os.PathLike[str] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """The tables to export, by name: ranking, scores, tiers, weights, framework, compare
    (when Settings ``compare`` has pairs) and the sheets of :data:`SHEETS_AS_WRITTEN` found in
    ``book``. A panel (a year column in Data): ranking, scores and tiers of every year, with a
    ``year`` column, and trends (:mod:`~xl_aiindex.workbook.panel_sheets`)."""
    panel = panel_of(result)
    tables = {"ranking": ranking_table(result), "scores": scores_table(result),
              "tiers": tiers_table(result)} if panel is None else {
        "ranking": panel_ranking_table(panel), "scores": panel_scores_table(panel),
        "tiers": panel_tiers_table(panel), "trends": trends_table(panel)}
    tables |= {"weights": weights_table(result), "framework": framework_table(result)}
    if result.model.settings.compare:
        tables["compare"] = compare_table(result)
    if book is not None:
        tables.update(read_written_sheets(book))
    return tables


def read_written_sheets(book: str | os.PathLike[str],
                        names: Sequence[str] = SHEETS_AS_WRITTEN) -> dict[str, pd.DataFrame]:
    """The sheets ``names`` of ``book`` that exist, as tables (header row 1); keys are the
    sheet names in lower case (``uncertaintyresults``)."""
    out: dict[str, pd.DataFrame] = {}
    source = CalamineSource(book)
    try:
        present = {key(n): n for n in source.sheet_names()}
        for name in names:
            real = present.get(key(name))
            if real is None:
                continue
            rows = source.grid(real).values
            if not rows:
                continue
            header = [str(h) if h is not None else f"column_{i + 1}"
                      for i, h in enumerate(rows[0])]
            body = [list(r) + [None] * (len(header) - len(r)) for r in rows[1:]
                    if any(v is not None and v != "" for v in r)]
            out[key(name)] = pd.DataFrame(body, columns=header)
    finally:
        source.close()
    return out


def plain(v: Any) -> Any:
    """A cell as JSON/CSV wants it: None for blanks and non-finite numbers, whole floats as
    ints, numpy scalars as Python ones."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return v


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``table`` as dicts of plain values (:func:`plain`)."""
    cols = [str(c) for c in table.columns]
    return [{c: plain(v) for c, v in zip(cols, row, strict=True)}
            for row in table.itertuples(index=False, name=None)]


#: The encodings ``export --format csv`` writes (``--encoding``): UTF-8 with a byte-order mark
#: (the default: Excel, a Chinese one too, opens it as UTF-8), plain UTF-8, and the Chinese
#: code pages Chinese Excel's plain "CSV" uses.
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030", "gbk")


def export_file_name(book: str | os.PathLike[str], table: str, suffix: str = ".csv") -> str:
    """The file a table of ``book`` is exported to: the workbook's stem, then the table's name,
    so that two workbooks exported into one folder never share a file.

    >>> export_file_name("out/dei_2023.xlsx", "ranking")
    'dei_2023_ranking.csv'
    """
    return f"{Path(book).stem}_{table}{suffix}"


def csv_text(table: pd.DataFrame) -> str:
    """``table`` as CSV text: a header row, then one row per record (:func:`csv_field`)."""
    fh = io.StringIO(newline="")
    w = csv.writer(fh, lineterminator="\n")
    w.writerow([csv_field(str(c)) for c in table.columns])
    for rec in records(table):
        w.writerow(["" if v is None else csv_field(v) for v in rec.values()])
    return fh.getvalue()


def encode_csv(text: str, encoding: str, path: Path) -> bytes:
    """``text`` in ``encoding`` (one of :data:`CSV_ENCODINGS`); a character the encoding cannot
    hold raises :class:`~xl_aiindex.errors.BadArgument` naming the file, its line and the
    character (nothing is replaced silently)."""
    from ..errors import BadArgument
    from ..i18n import _

    try:
        return text.encode(encoding)
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        raise BadArgument(_("{path}: line {line}: the character {char!r} cannot be written in "
                            "{encoding}; export with --encoding utf-8-sig").format(
            path=path, line=line, char=text[e.start], encoding=encoding)) from None


def export_book(result: IndexResult, book: str | os.PathLike[str], fmt: str,
                out_dir: str | os.PathLike[str], *, encoding: str = "utf-8-sig",
                force: bool = False) -> list[Path]:
    """Write the tables of :func:`export_tables` to ``out_dir``: one
    ``BOOKSTEM_NAME.csv`` each (:func:`export_file_name`) in ``encoding`` (default UTF-8 with
    a byte-order mark), or one ``BOOKSTEM.json`` (UTF-8) holding the index's names and every
    table as a list of records. Every file is checked before the first is written: an
    existing one is refused unless ``force``. Returns the files written."""
    from ..errors import BadArgument
    from ..i18n import _

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if encoding not in CSV_ENCODINGS:
        raise BadArgument(_("unknown encoding {encoding!r}; choose one of: {choices}").format(
            encoding=encoding, choices=", ".join(CSV_ENCODINGS)))
    from .files import check_destination, write_file

    tables = export_tables(result, book)
    folder = Path(out_dir)
    inputs = [Path(book)]
    written: list[Path] = []
    if fmt == "csv":
        paths = {name: folder / export_file_name(book, name) for name in tables}
        contents = {name: encode_csv(csv_text(table), encoding, paths[name])
                    for name, table in tables.items()}
        for path in paths.values():   # every file checked before the first is written
            check_destination(path, (".csv",), "CSV file", inputs, replace=force)
        for name in tables:
            write_file(paths[name], contents[name], suffixes=(".csv",), kind="CSV file",
                       inputs=inputs, replace=force)
            written.append(paths[name])
        return written
    s = result.model.settings
    doc = {"index": {"name_zh": s.name_zh, "name_en": s.name_en, "root": result.root,
                     "units": len(result.scores), "source": Path(book).name},
           "tables": {name: records(table) for name, table in tables.items()}}
    path = folder / f"{Path(book).stem}.json"
    write_file(path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
               suffixes=(".json",), kind="JSON file", inputs=inputs, replace=force)
    return [path]


#: First characters that make a spreadsheet read a CSV field as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_field(v: Any) -> str:
    """A plain value (:func:`plain`) as CSV text: booleans TRUE/FALSE, floats in full, and text
    that would open as a formula (:data:`FORMULA_STARTS`) behind a ``'``, so it stays text.

    >>> csv_field(-1.5), csv_field("=cmd|' /C calc'!A0"), csv_field("北京")
    ('-1.5', "'=cmd|' /C calc'!A0", '北京')
    """
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return "'" + v if v.startswith(FORMULA_STARTS) else v
    return str(v)
