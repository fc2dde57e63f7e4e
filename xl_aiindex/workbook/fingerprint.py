"""Fingerprints of the result sheets as written, so a recalc notices cells edited by hand.

A result sheet (``Scores``, ``Ranking``…) is rewritten by every recalc: a number typed over a
score would be lost without a word. So each writer stores, next to the result sheets, a
fingerprint of what it wrote, and the next recalc compares the sheets' current cells with it
before overwriting anything (:func:`xl_aiindex.workbook.io.recalc_file`; ``--force`` skips the
comparison).

What a fingerprint holds (:class:`SheetFingerprint`): a SHA-256 of the whole sheet's cells, and
short digests (48 bits) of every row, every column and every diagonal (cells with the same
row + column). The row and column digests say *which* cells changed (an edited cell changes
its row, its column and its diagonal; two edits in different rows and columns are told apart
from the two "ghost" crossings by the diagonals); the old value of an edited cell is known
when its row would be rewritten unchanged (the usual case: the inputs did not change).

Cells are compared as Excel shows them (:mod:`~xl_aiindex.workbook.canonical`): numbers to 12
significant digits taken from their 15-digit form (``90`` and ``90.0`` are the same; so are
``0.30000000000000004`` and ``0.3``, which some writers save instead, and a value LibreOffice
or WPS saved with 15 significant digits), text after the writer's cleaning (control
characters removed, Excel's ``_xHHHH_`` escapes decoded, line ends ``\\n``, cut at 32,767
characters), a formula as its text (``=SUM(B2:B9)``, never its cached value, which Excel
recomputes), and blank, empty text, NaN and infinities as nothing.

How they are computed (issue 20: the fingerprints of a recalc cost a fraction of writing the
sheets): the cells are fed in blocks of rows, each block as its columns (``spec_blocks`` for
a SheetSpec, ``read_blocks`` for values read, both in :mod:`~xl_aiindex.workbook.canonical`), a
column of numbers formatted at once; every column and diagonal keeps a running hash, so no
grid of the sheet's text is ever held. The hand-edit check computes the whole-sheet digest alone
(:func:`blocks_digest`) and looks at cells only when it differs.

Where the fingerprints live: a *very hidden* sheet ``_xl_aiindex`` (:data:`STORE_SHEET`; not in
Excel's Unhide list, reachable from VBA), one row per item — ``sheet, kind, part, value`` —
written by :func:`store_sheet` and read back by :func:`read_store`. It also records the number
of ``Log`` rows and the time of the Log entry written together with it: when the Log has moved
on since (a macro or an older version rewrote the result sheets without a fingerprint), the
fingerprints are stale and nothing is compared. A row ``zip`` per sheet holds the CRC-32 and
size of the zip entry the sheet was written to (:class:`PartSum`): the hand-edit check skips a
sheet whose entry still has them (:func:`~xl_aiindex.workbook.hand_edits.written_unchanged`).

For the Excel macros (``udfs``), which rewrite result sheets through xlwings::

    from xl_aiindex.workbook.fingerprint import result_fingerprint, store_sheet

    specs = result_sheets(result)                     # the SheetSpecs written
    store = store_sheet(result_fingerprint(specs), log_rows=n_log_rows, log_time=entry_time)
    book.write_sheets([*specs, log, store])           # then hide it: sheet.api.Visible = 2

and, before writing, :func:`find_edits` with the stored fingerprint and the sheets' current
values (``canonical.canonical_grid`` of the values read, formulas as ``=…`` text).
"""

from __future__ import annotations

import hashlib
import math
import operator
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..contract import STORE_SHEET, key
from ..i18n import _
from .canonical import _CHUNK, Block, _block, spec_blocks
from .cells import column_letter, text
from .sheetspec import Cell, SheetSpec

__all__ = ["STORE_SHEET", "HandEdit", "PartSum", "SheetFingerprint", "Stored", "find_edits",
           "fingerprint_grid", "fingerprint_blocks", "fingerprint_sheet", "blocks_digest",
           "grid_digest", "read_store", "result_fingerprint", "store_sheet"]

#: Version of the store's layout; a store of another version is ignored. Format 2 rounds
#: numbers to 12 digits through their 15-digit form (``canonical._digits12``); format 1 (read,
#: never written) rounded them straight to 12 digits.
FORMAT = "2"
LEGACY_FORMAT = "1"
#: Hex digits of a row, column or diagonal digest.
SHORT = 12
#: Stands for an empty row, column or diagonal (no digest computed).
EMPTY = "0" * SHORT

_PER_CELL = 32_000 // SHORT          # digests per store cell (Excel holds 32,767 characters)


# --------------------------------------------------------------------------------------------
# fingerprints


@dataclass(frozen=True)
class SheetFingerprint:
    """What a sheet held when it was written.

    ``digest``: SHA-256 (hex) of all its cells; ``rows`` / ``cols`` / ``diags``: a short digest
    (:data:`SHORT` hex digits, :data:`EMPTY` when empty) of each row, column and diagonal
    (row + column) up to the last one holding a cell.
    """

    sheet: str
    digest: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    diags: tuple[str, ...]


def _short(parts: list[str]) -> str:
    if not parts:
        return EMPTY
    return hashlib.sha256("\x1e".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:SHORT]


class _Digests:
    """The digests of a sheet's canonical cells, fed a block of rows at a time (row 1 first):
    one running hash per column and per diagonal, so no cell is kept once its block has been
    fed. Gives the digests :func:`_short` gives each row's, column's and diagonal's parts
    joined (and the whole-sheet digest of :func:`fingerprint_grid`)."""

    def __init__(self, shorts: bool = True, row_digests: bool = False) -> None:
        self.shorts = shorts      # False: the whole-sheet digest only (and the rows' with
        self.row_digests = shorts or row_digests   # row_digests)
        self.whole = hashlib.sha256()
        self.rows: list[str] = []
        self.cols: dict[int, Any] = {}
        self.diags: dict[int, Any] = {}
        self.r = 0
        self.pending: list[Sequence[str]] = []
        self.prefixes: list[str] = []

    def add(self, row: Sequence[str]) -> None:
        """Feed the next row's canonical cells."""
        self.pending.append(row)
        if len(self.pending) == _CHUNK:
            self.flush()

    def flush(self) -> None:
        """Feed the rows given to :meth:`add` so far."""
        if self.pending:
            self.add_block(_block(self.pending))
            self.pending = []

    def add_block(self, block: Block) -> None:
        """Feed the next block of rows (:meth:`add`'s rows first: :meth:`flush`). Each
        column's pieces are made at once (a prefix added to every cell by ``map``, the empty
        cells blanked after), the rows joined from them, and the diagonals read off a grid
        of the pieces: no string is made per cell in Python code (issue 20)."""
        import numpy as np

        n, columns = block
        r0 = self.r
        self.r += n
        width = len(columns)
        while len(self.prefixes) < width:
            self.prefixes.append(f"{len(self.prefixes)}\x1f")
        if not columns:
            self.rows.extend([EMPTY] * n)
            return
        blanks = [[i for i, v in enumerate(col) if not v] if "" in col else []
                  for col in columns]
        labelled: list[list[str]] = []     # "c\x1fvalue": a cell's part of its row
        for c, col in enumerate(columns):
            lab = list(map(self.prefixes[c].__add__, col))
            for i in blanks[c]:
                lab[i] = ""
            labelled.append(lab)
        whole, rows, row_digests = self.whole, self.rows, self.row_digests
        sha256 = hashlib.sha256
        for r, row in enumerate(zip(*labelled, strict=True), r0):
            text = "\x1e".join(filter(None, row))
            if not text:
                rows.append(EMPTY)
                continue
            joined = text.encode("utf-8", "surrogatepass")
            whole.update(b"%d\x1d%s\x1d" % (r, joined))
            if row_digests:
                rows.append(sha256(joined).hexdigest()[:SHORT])
        del labelled                       # one block's strings at a time
        if not self.shorts:
            return
        heads = [f"\x1e{r}\x1f" for r in range(r0, r0 + n)]
        pieces: list[list[str]] = []       # "\x1er\x1fvalue": its part of its column and diagonal
        for c, col in enumerate(columns):
            piece = list(map(operator.add, heads, col))
            for i in blanks[c]:
                piece[i] = ""
            _feed(self.cols, c, "".join(piece))
            pieces.append(piece)
        # a cell's piece is the same in its column's series and in its diagonal's; diagonal
        # k of the block (row + column = k) read rows first, columns falling: the grid's
        # columns reversed, offset width - 1 - k
        grid = np.empty((n, width), dtype=object)
        for c, piece in enumerate(pieces):
            grid[:, width - 1 - c] = piece
        for k in range(n + width - 1):
            _feed(self.diags, r0 + k, "".join(grid.diagonal(width - 1 - k).tolist()))

    def digest(self) -> str:
        """The whole-sheet digest of the rows fed so far."""
        self.flush()
        return self.whole.hexdigest()

    def fingerprint(self, sheet: str) -> SheetFingerprint:
        """The fingerprint of the rows fed (made with ``shorts``)."""
        self.flush()
        rows = self.rows
        while rows and rows[-1] == EMPTY:
            rows.pop()

        def series(groups: dict[int, Any]) -> tuple[str, ...]:
            n = max(groups, default=-1) + 1
            return tuple(groups[i].hexdigest()[:SHORT] if i in groups else EMPTY
                         for i in range(n))

        return SheetFingerprint(sheet, self.digest(), tuple(rows), series(self.cols),
                                series(self.diags))


def _feed(groups: dict[int, Any], i: int, pieces: str) -> None:
    """Add ``pieces`` (each led by the separator) to the running hash ``groups[i]``."""
    if not pieces:
        return
    data = pieces.encode("utf-8", "surrogatepass")
    h = groups.get(i)
    if h is None:
        groups[i] = hashlib.sha256(data[1:])   # the first part has no separator before it
    else:
        h.update(data)


def fingerprint_grid(sheet: str, grid: Iterable[Sequence[str]]) -> SheetFingerprint:
    """The fingerprint of sheet ``sheet`` given its canonical cells (row 1 first; any iterable
    of rows: they are read once, in order)."""
    digests = _Digests()
    for row in grid:
        digests.add(row)
    return digests.fingerprint(sheet)


def fingerprint_blocks(sheet: str, blocks: Iterable[Block]) -> SheetFingerprint:
    """:func:`fingerprint_grid` of canonical cells given as blocks
    (:func:`~xl_aiindex.workbook.canonical.spec_blocks`,
    :func:`~xl_aiindex.workbook.canonical.read_blocks`)."""
    digests = _Digests()
    for block in blocks:
        digests.add_block(block)
    return digests.fingerprint(sheet)


def blocks_digest(blocks: Iterable[Block]) -> str:
    """The whole-sheet digest (:attr:`SheetFingerprint.digest`) of canonical cells given as
    blocks, without the row, column and diagonal digests."""
    digests = _Digests(shorts=False)
    for block in blocks:
        digests.add_block(block)
    return digests.digest()


def grid_digest(grid: Iterable[Sequence[str]]) -> str:
    """The whole-sheet digest (:attr:`SheetFingerprint.digest`) of canonical rows, without the
    row, column and diagonal digests."""
    digests = _Digests(shorts=False)
    for row in grid:
        digests.add(row)
    return digests.digest()


def fingerprint_sheet(spec: SheetSpec, previous: SheetFingerprint | None = None
                      ) -> SheetFingerprint:
    """The fingerprint of a result sheet as a writer writes it; ``previous``: the fingerprint
    the sheet had (the store's), taken whole when the sheet is unchanged (its rows and
    whole-sheet digest alone are computed then: equal digests are equal cells).

    >>> from xl_aiindex.workbook.sheetspec import Cell, SheetSpec
    >>> a = fingerprint_sheet(SheetSpec("Ranking", [[Cell("score")], [Cell(90)]]))
    >>> b = fingerprint_sheet(SheetSpec("Ranking", [[Cell("score")], [Cell(90.0)]]))
    >>> a == b, a.rows == b.rows, len(a.rows)
    (True, True, 2)

    Computed once per SheetSpec: the hand-edit check and the store written after it share it.
    """
    known = _FINGERPRINTS.get(id(spec))
    if known is not None and known[0]() is spec:
        return known[1]
    name = spec.name.strip()
    if previous is not None and _unchanged(spec_blocks(spec), previous):
        fp = SheetFingerprint(name, previous.digest, previous.rows, previous.cols,
                              previous.diags)
    else:
        fp = fingerprint_blocks(name, spec_blocks(spec))
    for k in [k for k, (ref, _spec) in _FINGERPRINTS.items() if ref() is None]:
        del _FINGERPRINTS[k]      # the specs gone: their ids may be reused
    _FINGERPRINTS[id(spec)] = (weakref.ref(spec), fp)
    return fp


def _unchanged(blocks: Iterable[Block], previous: SheetFingerprint) -> bool:
    """Whether canonical cells given as blocks have the fingerprint ``previous`` (the same
    whole-sheet digest): gives up at the first block with a row whose digest differs, so a
    changed sheet costs little more than its first rows."""
    digests = _Digests(shorts=False, row_digests=True)
    checked = 0
    for block in blocks:
        digests.add_block(block)
        rows = digests.rows
        if any(rows[i] != (previous.rows[i] if i < len(previous.rows) else EMPTY)
               for i in range(checked, len(rows))):
            return False
        checked = len(rows)
    return len(digests.rows) >= len(previous.rows) and digests.digest() == previous.digest


#: The fingerprint of each SheetSpec alive that has one (by id, with a weak reference that
#: tells a reused id from the spec itself): a SheetSpec is not hashable, and it is not kept
#: alive for its fingerprint's sake
_FINGERPRINTS: dict[int, tuple[weakref.ref[SheetSpec], SheetFingerprint]] = {}


def result_fingerprint(sheets: Sequence[SheetSpec],
                       previous: Mapping[str, SheetFingerprint] | None = None
                       ) -> list[SheetFingerprint]:
    """The fingerprints of the result sheets written together (one per SheetSpec, in order).

    Pass every result sheet a run rewrites, not ``Log`` (appended to, and carried over by
    each run) nor the store sheet itself; give the result to :func:`store_sheet`.
    ``previous``: the fingerprints stored before, by case-folded name (:attr:`Stored.sheets`):
    a sheet written unchanged keeps its own (:func:`fingerprint_sheet`).
    """
    previous = previous or {}
    return [fingerprint_sheet(s, previous.get(key(s.name.strip()))) for s in sheets]


# --------------------------------------------------------------------------------------------
# the store sheet


@dataclass(frozen=True)
class PartSum:
    """What a zip's central directory says of an entry: its CRC-32 and uncompressed size
    (read without unpacking anything). Equal sums: the part is, but for a collision no hand
    edit makes by chance, byte for byte the one written."""

    crc: int
    size: int

    def __str__(self) -> str:
        """``crc32:<8 hex digits>:<size>``, as stored."""
        return f"crc32:{self.crc:08x}:{self.size}"

    @classmethod
    def parse(cls, value: str) -> PartSum | None:
        """The sums :meth:`__str__` wrote, None when ``value`` is not such text."""
        kind, _colon, rest = value.strip().partition(":")
        crc, _sep, size = rest.partition(":")
        if kind != "crc32" or len(crc) != 8 or not size.isdigit():
            return None
        try:
            return cls(int(crc, 16), int(size))
        except ValueError:
            return None


@dataclass(frozen=True)
class Stored:
    """A store sheet as read: the fingerprints by sheet (case-folded name), the Log rows and
    the time of the Log entry that were written with them, and the hash of the inputs the
    result sheets were computed from ("" when not recorded): what ``recalc --check`` compares,
    whatever becomes of the Log."""

    sheets: Mapping[str, SheetFingerprint]
    log_rows: int
    log_time: str
    inputs_hash: str = ""
    #: the store's format (:data:`FORMAT`, or :data:`LEGACY_FORMAT`: compare numbers as then)
    format: str = FORMAT
    #: the zip entry of each sheet as written (case-folded name -> :class:`PartSum`): a sheet
    #: whose part still has them is byte for byte what was written (no hand edit to look for)
    sums: Mapping[str, PartSum] = field(default_factory=dict)

    @property
    def legacy(self) -> bool:
        """Whether the fingerprints round numbers as format 1 did."""
        return self.format == LEGACY_FORMAT


def store_sheet(fingerprints: Sequence[SheetFingerprint], log_rows: int,
                log_time: str, inputs_hash: str = "",
                sums: Mapping[str, PartSum] | None = None) -> SheetSpec:
    """The :data:`STORE_SHEET` holding ``fingerprints``; ``log_rows`` is the number of Log rows
    (below its header) after this write, ``log_time`` the ``time`` of the Log entry written,
    ``inputs_hash`` the hash of the inputs the result sheets come from
    (:func:`xl_aiindex.staleness.inputs_hash`); ``sums``: the CRC-32 and size of the zip entry
    each sheet was written to, by case-folded name (a row ``zip`` each; readers of format 2
    that predate them skip rows of a kind they do not know)."""
    rows: list[list[Cell]] = [[Cell("sheet"), Cell("kind"), Cell("part"), Cell("value")]]
    rows.append([Cell(""), Cell("note"), Cell(0), Cell(
        "Written by xl-aiindex: fingerprints of the result sheets as last written, so the next "
        "recalc can tell cells edited by hand. Do not edit.")])
    rows.append([Cell(""), Cell("format"), Cell(0), Cell(FORMAT)])
    rows.append([Cell(""), Cell("log_rows"), Cell(0), Cell(int(log_rows))])
    rows.append([Cell(""), Cell("log_time"), Cell(0), Cell(str(log_time))])
    if inputs_hash:
        rows.append([Cell(""), Cell("inputs_hash"), Cell(0), Cell(inputs_hash)])
    for fp in fingerprints:
        rows.append([Cell(fp.sheet), Cell("digest"), Cell(0), Cell(fp.digest)])
        for kind, series in (("rows", fp.rows), ("cols", fp.cols), ("diags", fp.diags)):
            if not series:
                rows.append([Cell(fp.sheet), Cell(kind), Cell(0), Cell("")])
            for part, i in enumerate(range(0, len(series), _PER_CELL)):
                rows.append([Cell(fp.sheet), Cell(kind), Cell(part),
                             Cell("".join(series[i:i + _PER_CELL]))])
        written = (sums or {}).get(key(fp.sheet))
        if written is not None:
            rows.append([Cell(fp.sheet), Cell("zip"), Cell(0), Cell(str(written))])
    return SheetSpec(STORE_SHEET, rows, freeze=(0, 0), autofilter=False)


def read_store(values: Sequence[Sequence[Any]]) -> Stored | None:
    """The store sheet's values (as read, header row first) as :class:`Stored`; None when it is
    not a store this version understands (then nothing can be compared)."""

    meta: dict[str, str] = {}
    parts: dict[tuple[str, str], dict[int, str]] = {}
    names: dict[str, str] = {}
    sums: dict[str, PartSum] = {}
    for row in values[1:]:
        cells = [text(v) for v in list(row)[:4]] + [""] * (4 - len(row))
        sheet, kind, part, value = cells
        if not kind:
            continue
        if not sheet:
            meta[kind] = value
            continue
        if kind == "zip":     # an entry's sums: one that does not parse only costs a re-read
            written = PartSum.parse(value)
            if written is not None:
                sums[key(sheet)] = written
            continue
        if not part.isdigit():
            return None
        names.setdefault(key(sheet), sheet)
        parts.setdefault((key(sheet), kind), {})[int(part)] = value
    if meta.get("format") not in (FORMAT, LEGACY_FORMAT) or \
            not meta.get("log_rows", "").isdigit():
        return None
    sheets: dict[str, SheetFingerprint] = {}
    for sheet_key, name in names.items():
        series: dict[str, tuple[str, ...]] = {}
        for kind in ("rows", "cols", "diags"):
            chunks = parts.get((sheet_key, kind))
            if chunks is None or sorted(chunks) != list(range(len(chunks))):
                return None
            joined = "".join(chunks[i] for i in range(len(chunks)))
            if len(joined) % SHORT:
                return None
            series[kind] = tuple(joined[i:i + SHORT] for i in range(0, len(joined), SHORT))
        digest = parts.get((sheet_key, "digest"), {}).get(0, "")
        if len(digest) != 64:
            return None
        sheets[sheet_key] = SheetFingerprint(name, digest, series["rows"], series["cols"],
                                       series["diags"])
    return Stored(sheets, int(meta["log_rows"]), meta.get("log_time", ""),
                  meta.get("inputs_hash", ""), meta["format"],
                  {k: v for k, v in sums.items() if k in sheets})


# --------------------------------------------------------------------------------------------
# comparing



def show(canonical: str) -> str:
    """A canonical cell as people read it: ``87.01``, ``'text'``, ``TRUE``, ``empty``."""
    if not canonical:
        return "empty"
    kind, value = canonical[:2], canonical[2:]
    if kind == "n:":
        return value
    if kind == "b:":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "d:":
        return value
    value = " ".join(value.split())
    return repr(value if len(value) <= 40 else value[:39] + "…")


@dataclass(frozen=True)
class HandEdit:
    """A result cell that differs from what was written: ``was`` and ``now`` are canonical
    cells (:func:`show` prints them); ``was`` is None when it cannot be known."""

    sheet: str
    row: int        # 0-based
    col: int        # 0-based
    was: str | None
    now: str

    @property
    def cell(self) -> str:
        """The cell's A1 address."""
        return f"{column_letter(self.col)}{self.row + 1}"

    @property
    def message(self) -> str:
        """``edited by hand since the last recalc (was 87.01, now 90): …``."""
        values = _("now {now}").format(now=show(self.now)) if self.was is None else \
            _("was {was}, now {now}").format(was=show(self.was), now=show(self.now))
        return _("edited by hand since the last recalc ({values}): recalc would overwrite it; "
                 "use --force to overwrite").format(values=values)


def _at(seq: Sequence[str], i: int) -> str:
    return seq[i] if i < len(seq) else EMPTY


def _cell(grid: Sequence[Sequence[str]], r: int, c: int) -> str:
    if r >= len(grid):
        return ""
    row = grid[r]
    return row[c] if c < len(row) else ""


def _same_number(a: str, b: str) -> bool:
    """Two canonical numbers that differ only by where a writer's rounding fell."""
    if not (a.startswith("n:") and b.startswith("n:")):
        return False
    return math.isclose(float(a[2:]), float(b[2:]), rel_tol=1e-11, abs_tol=0.0)


def find_edits(stored: SheetFingerprint, current: Sequence[Sequence[str]],
               new: Sequence[Sequence[str]] | None = None, *,
               fresh: SheetFingerprint | None = None) -> list[HandEdit]:
    """The cells of a sheet that differ from what ``stored`` says was written.

    ``current``: the sheet's canonical cells now (:func:`canonical_grid`); ``new``: what is
    about to be written (canonical; optional) — rows it would write unchanged tell the old
    values; ``fresh``: the fingerprint of ``new``, when known already. Sorted by row, then
    column.
    """
    now = fingerprint_grid(stored.sheet, current)
    if now.digest == stored.digest:
        return []
    if fresh is None and new is not None:
        fresh = fingerprint_grid(stored.sheet, new)
    changed_rows = [r for r in range(max(len(stored.rows), len(now.rows)))
                    if _at(stored.rows, r) != _at(now.rows, r)]
    changed_cols = [c for c in range(max(len(stored.cols), len(now.cols)))
                    if _at(stored.cols, c) != _at(now.cols, c)]
    changed_diags = {d for d in range(max(len(stored.diags), len(now.diags)))
                     if _at(stored.diags, d) != _at(now.diags, d)}
    edits: list[HandEdit] = []
    for r in changed_rows:
        old: Sequence[str] | None = None
        if _at(stored.rows, r) == EMPTY:
            old = ()
        elif fresh is not None and new is not None and _at(fresh.rows, r) == stored.rows[r]:
            old = new[r]
        if old is not None:
            width = max(len(old), len(current[r]) if r < len(current) else 0)
            for c in range(width):
                before = old[c] if c < len(old) else ""
                after = _cell(current, r, c)
                if before != after and not _same_number(before, after):
                    edits.append(HandEdit(stored.sheet, r, c, before, after))
            continue
        for c in changed_cols:
            if r + c not in changed_diags:
                continue
            was = "" if _at(stored.cols, c) == EMPTY or _at(stored.diags, r + c) == EMPTY \
                else None
            after = _cell(current, r, c)
            if was is not None and was == after:
                continue
            edits.append(HandEdit(stored.sheet, r, c, was, after))
    return edits
