"""Read the CSV files ``xl-aiindex new`` takes: :func:`read_framework_csv` (``TREE.csv``) and
:func:`read_units_csv` (``UNITS.csv``). Cells are read as text; every problem names the file
(as the sheet) and the cell (``E5``: column E, row 5 of the file)."""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...aggregate import AGGREGATORS
from ...errors import Problem, ProblemsFound
from ...i18n import _
from ...model import Node
from ...normalise import NORMALISERS
from ...tree import build_tree
from ...weights import WEIGHTINGS
from ..cells import column_letter, direction_sign
from .texts import TRANSFORMS, method_names

_NUMERIC_FRAMEWORK = ("weight", "goal_low", "goal_high")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def _csv_number(text: str) -> float | None:
    """``text`` as a finite number, or None when it is not one."""
    s = text.strip()
    if not _NUMBER.match(s):
        return None
    v = float(s)
    return v if math.isfinite(v) else None


def _csv_share(text: str) -> float | None:
    """``text`` as a finite number, a percentage read as a share (``30%``, full-width
    ``３０％`` → 0.3; full-width digits read as ASCII ones), or None when it is not one.

    >>> _csv_share("30%"), _csv_share("３０％"), _csv_share("0.25"), _csv_share("３０"), _csv_share("x%")
    (0.3, 0.3, 0.25, 30.0, None)
    """
    s = unicodedata.normalize("NFKC", text).strip()
    if not s.endswith("%"):
        return _csv_number(s)
    v = _csv_number(s[:-1])
    return None if v is None else v / 100


#: Encodings a CSV file is tried in, in order: UTF-8 (with or without the byte-order mark Excel's
#: "CSV UTF-8" writes), then GB18030 (a superset of GBK and GB2312: what Chinese Excel's plain
#: "CSV" and WPS save).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_csv_text(path: str | os.PathLike[str], name: str, notes: list[str] | None = None
                  ) -> str:
    """The text of the CSV file ``path``, read in the first of :data:`CSV_ENCODINGS` that
    decodes it; a note is appended to ``notes`` when that is not UTF-8. Raises
    :class:`ProblemsFound` (``name`` as the sheet) when the file is missing or is text in
    neither encoding."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ProblemsFound([Problem(name, problem=_("file '{path}' not found").format(
            path=os.fspath(path)))]) from None
    first_error: UnicodeDecodeError | None = None
    for encoding in CSV_ENCODINGS:
        try:
            content = data.decode(encoding)
        except UnicodeDecodeError as e:
            first_error = first_error or e
            continue
        if encoding != CSV_ENCODINGS[0] and notes is not None:
            notes.append(_("file '{name}' is not UTF-8: read as GBK/GB18030 (Chinese Excel's "
                           "plain CSV); check its Chinese names in the workbook").format(name=name))
        return content
    assert first_error is not None
    raise ProblemsFound([Problem(name, problem=_(
        "the file is neither UTF-8 nor GBK/GB18030 text ({reason} at byte {start}): save it "
        "as 'CSV UTF-8'").format(reason=first_error.reason, start=first_error.start))])


class _Csv:
    """A CSV file read as text: header keys → column index, data rows with their row numbers."""

    def __init__(self, path: str | os.PathLike[str], required: Sequence[str],
                 notes: list[str] | None = None):
        self.name = Path(path).name
        self.problems: list[Problem] = []
        content = read_csv_text(path, self.name, notes)
        try:
            records = list(csv.reader(io.StringIO(content, newline="")))
        except csv.Error as e:
            raise ProblemsFound([Problem(self.name, problem=_("cannot be read as CSV: {error}")
                                         .format(error=e))]) from None
        if not records or not any(c.strip() for c in records[0]):
            raise ProblemsFound([Problem(self.name, "A1", problem=_(
                "the file is empty: its first row must be a header ({columns},...)").format(
                    columns=",".join(required)))])
        self.header: dict[str, int] = {}
        for c, cell in enumerate(records[0]):
            k = cell.strip().lower()
            if not k:
                continue
            if k in self.header:
                self.bad(0, c, _("column '{column}' appears twice in the header (also "
                                 "{cell})").format(column=cell.strip(),
                                                   cell=self.address(0, self.header[k])))
                continue
            self.header[k] = c
        missing = [k for k in required if k not in self.header]
        if missing:
            text = _("the header has no column {missing}; columns: {columns}")
            if len(self.header) == 1 and any(sep in records[0][0] for sep in (";", "\t")):
                text = _("the header has no column {missing} (columns must be separated by "
                         "commas); columns: {columns}")
            self.bad(0, len(records[0]), text.format(
                missing=", ".join(missing),
                columns=", ".join(c.strip() for c in records[0] if c.strip())))
            raise ProblemsFound(self.problems)
        width = len(records[0])
        self.rows: list[tuple[int, list[str]]] = []
        for r, record in enumerate(records[1:], start=1):
            if not any(c.strip() for c in record):
                continue
            if len(record) > width and any(c.strip() for c in record[width:]):
                self.bad(r, width, _("row {row} has {count} fields, the header {width}").format(
                    row=r + 1, count=len(record), width=width))
            self.rows.append((r, record + [""] * (width - len(record))))

    @staticmethod
    def address(r: int, c: int) -> str:
        """The A1 address of 0-based row ``r``, column ``c`` of the file."""
        return f"{column_letter(c)}{r + 1}"

    def bad(self, r: int, c: int, text: str, node: str = "", unit: str = "", field: str = "") -> None:
        """Record a problem at row ``r``, column ``c`` of the file."""
        self.problems.append(Problem(self.name, self.address(r, c), unit, node, text, field))

    def get(self, record: list[str], col: str) -> str:
        """The stripped text of column ``col`` of ``record`` (blank when the file has none)."""
        c = self.header.get(col)
        return record[c].strip() if c is not None else ""


def read_framework_csv(path: str | os.PathLike[str], units: pd.DataFrame | None = None,
                       notes: list[str] | None = None) -> tuple[Node, ...]:
    """The nodes of a ``TREE.csv`` with the Framework's columns (only ``id`` and ``parent``
    required; any depth), in file order. Cells are read as text, so ``NA`` stays ``NA``.

    Raises :class:`ProblemsFound` listing every problem, each with the file name as ``sheet``
    and the cell (``E5``) where it is: duplicate ids, non-numbers in ``weight``/``goal_*``,
    ``direction`` other than 1/-1 (``+``/``-``, 正向/负向, 正/负, 逆向), unknown method names,
    and the tree's structure (one root, known parents, no cycle); with ``units`` (from
    :func:`read_units_csv`), a ``denominator`` that is not a numeric column of it. Numbers may
    be percentages (``30%``, ``３０％``: 0.3). A file in GBK/GB18030 is read with a note
    appended to ``notes``.
    """
    t = _Csv(path, ("id", "parent"), notes)
    nodes: list[Node] = []
    first_row: dict[str, int] = {}
    registries: dict[str, Sequence[str]] = {
        "normalisation": method_names(NORMALISERS), "aggregation": method_names(AGGREGATORS),
        "weighting": method_names(WEIGHTINGS), "transform": TRANSFORMS,
    }
    for r, record in t.rows:
        node_id = t.get(record, "id")
        cid = t.header["id"]
        if not node_id:
            t.bad(r, cid, _("row {row} has no id").format(row=r + 1), field="id")
            continue
        k = node_id.lower()
        if k in first_row:
            t.bad(r, cid, _("node id '{node}' is used twice (first in {cell}); ids must be unique "
                            "(case-insensitive)").format(node=node_id,
                                                         cell=t.address(first_row[k], cid)),
                  node=node_id, field="id")
            continue
        first_row[k] = r
        values: dict[str, Any] = {}
        for col in _NUMERIC_FRAMEWORK:
            raw = t.get(record, col)
            values[col] = None
            if raw:
                v = _csv_share(raw)
                if v is None:
                    t.bad(r, t.header[col], _("node {node}, column {column}: '{raw}' is not a "
                                              "number").format(node=node_id, column=col, raw=raw),
                          node=node_id, field=col)
                elif col == "weight" and v < 0:
                    t.bad(r, t.header[col], _("node {node}, column weight: {raw} is negative; "
                                              "weights are ≥ 0").format(node=node_id, raw=raw),
                          node=node_id, field=col)
                else:
                    values[col] = v
        raw = t.get(record, "direction")
        direction = 1
        if raw:
            sign = direction_sign(raw)
            v = float(sign) if sign is not None else _csv_share(raw)
            if v not in (1.0, -1.0):
                t.bad(r, t.header["direction"], _(
                    "node {node}, column direction: '{raw}' must be 1, + or 正向 (higher is "
                    "better), -1, - or 负向 (lower is better)").format(node=node_id, raw=raw),
                      node=node_id, field="direction")
            else:
                direction = int(v)  # type: ignore[arg-type]
        for col, valid in registries.items():
            raw = t.get(record, col)
            values[col] = raw.lower() or None
            if raw and raw.lower() not in valid and not (col == "weighting" and raw.lower() == "given"):
                t.bad(r, t.header[col], _("node {node}, column {column}: unknown method '{raw}'; "
                                          "choose one of: {choices}").format(
                                              node=node_id, column=col, raw=raw,
                                              choices=", ".join(valid)),
                      node=node_id, field=col)
                values[col] = None
        nodes.append(Node(
            id=node_id, parent=t.get(record, "parent") or None,
            name_zh=t.get(record, "name_zh"), name_en=t.get(record, "name_en"),
            weight=values["weight"], direction=direction, normalisation=values["normalisation"],
            goal_low=values["goal_low"], goal_high=values["goal_high"],
            denominator=t.get(record, "denominator") or None, transform=values["transform"],
            aggregation=values["aggregation"], weighting=values["weighting"],
            unit=t.get(record, "unit"), source=t.get(record, "source"), note=t.get(record, "note"),
        ))
        denominator = t.get(record, "denominator")
        if denominator and units is not None:
            _check_denominator(t, r, node_id, denominator, units)
    if nodes:
        # parent ids match node ids case-insensitively (as in the sheet): use the node's spelling
        canonical = {n.id.lower(): n.id for n in nodes}
        nodes = [n if n.parent is None else replace(n, parent=canonical.get(n.parent.lower(), n.parent))
                 for n in nodes]
        _tree, tree_problems = build_tree(nodes)
        for p in tree_problems:
            at_row = first_row.get(p.node.lower()) if p.node else None
            at_col = t.header.get(p.field or "id", t.header["id"])
            cell = t.address(at_row, at_col) if at_row is not None else ""
            t.problems.append(Problem(t.name, cell, p.unit, p.node, p.problem, p.field))
    else:
        t.problems.append(Problem(t.name, "A2", problem=_("the file lists no node")))
    if t.problems:
        raise ProblemsFound(t.problems)
    return tuple(nodes)


def _check_denominator(t: _Csv, r: int, node_id: str, name: str, units: pd.DataFrame) -> None:
    cols = {str(c).lower(): str(c) for c in units.columns}
    numeric = [str(c) for c in units.columns
               if pd.api.types.is_numeric_dtype(units[c]) and str(c) not in ("name_zh", "name_en")]
    col = cols.get(name.lower())
    if col is None or col not in numeric:
        text = _("node {node}, column denominator: '{name}' is not a column of the units file; "
                 "numeric units columns: {columns}") if col is None else \
            _("node {node}, column denominator: '{name}' is not a numeric column; numeric units "
              "columns: {columns}")
        t.bad(r, t.header["denominator"],
              text.format(node=node_id, name=name, columns=", ".join(numeric) or _("none")),
              node=node_id, field="denominator")


def read_units_csv(path: str | os.PathLike[str], notes: list[str] | None = None) -> pd.DataFrame:
    """The units of a ``UNITS.csv`` (``id``, ``name_zh``, ``name_en``, then any columns).

    Returns a frame indexed by unit id (text: ``NA``, ``None``, ``null`` stay ids) with columns
    ``name_zh``, ``name_en`` (blank when the file has none), then the others in file order: a
    column whose every filled cell is a number becomes numeric (blank → NaN), any other stays
    text (a denominator must be numeric; a grouping is text). Raises :class:`ProblemsFound` for
    a missing ``id`` column, blank or duplicate ids (case-insensitive), each with its cell. A
    file in GBK/GB18030 is read with a note appended to ``notes``.
    """
    t = _Csv(path, ("id",), notes)
    cid = t.header["id"]
    ids: list[str] = []
    seen: dict[str, int] = {}
    records: list[list[str]] = []
    for r, record in t.rows:
        unit_id = t.get(record, "id")
        if not unit_id:
            t.bad(r, cid, _("row {row} has no id").format(row=r + 1), field="id")
            continue
        k = unit_id.lower()
        if k in seen:
            t.bad(r, cid, _("unit id '{unit}' is used twice (first in {cell}); ids must be unique "
                            "(case-insensitive)").format(unit=unit_id,
                                                         cell=t.address(seen[k], cid)),
                  unit=unit_id, field="id")
            continue
        seen[k] = r
        ids.append(unit_id)
        records.append(record)
    if not ids and not t.problems:
        t.problems.append(Problem(t.name, "A2", problem=_("the file lists no unit")))
    if t.problems:
        raise ProblemsFound(t.problems)
    others = [k for k in sorted(t.header, key=t.header.__getitem__)
              if k not in ("id", "name_zh", "name_en")]
    out: dict[str, Any] = {}
    for col in ("name_zh", "name_en", *others):
        texts = [t.get(rec, col) for rec in records]
        filled = [x for x in texts if x]
        numeric = (col not in ("name_zh", "name_en") and bool(filled)
                   and all(_csv_number(x) is not None and not _LEADING_ZERO.match(x) for x in filled))
        if numeric:
            out[col] = pd.Series([_csv_number(x) if x else np.nan for x in texts], dtype=float)
        else:
            out[col] = pd.Series(texts, dtype=object)
    frame = pd.DataFrame(out)
    frame.index = pd.Index(ids, dtype=object, name="unit")
    return frame

