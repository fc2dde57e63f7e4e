"""Are the result sheets still those of the inputs? A hash of the inputs, recorded in the Log
row of every run that writes results, tells without recomputing anything.

:func:`inputs_hash` digests everything an :class:`~xl_aiindex.model.IndexModel` holds (Settings,
the tree, Units, Data, Given, AHP and Budget matrices), in order: any value, weight, method
choice or row order that changes changes the hash; formatting, comments, and columns or sheets
the contract does not read do not. Pure: no files.

>>> import pandas as pd
>>> from xl_aiindex.model import IndexModel, Node, Settings
>>> nodes = (Node("index", None), Node("a", "index", weight=1.0))
>>> units = pd.DataFrame({"name_zh": ["甲"], "name_en": ["A"]}, index=["u1"])
>>> m = IndexModel(nodes, Settings(), units, pd.DataFrame({"a": [1.0]}, index=["u1"]))
>>> len(inputs_hash(m)), inputs_hash(m) == inputs_hash(m._replace(settings=Settings()))
(16, True)
>>> inputs_hash(m) == inputs_hash(m._replace(data=pd.DataFrame({"a": [2.0]}, index=["u1"])))
False
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from .model import IndexModel

#: Hex digits of the SHA-256 kept: 64 bits, ample to tell one state of a workbook from another.
HASH_LENGTH = 16


def _plain(v: Any) -> Any:
    """A JSON-able form of one value: numbers as floats (whatever reader made them ints),
    text as text ("1" and 1 differ), blanks as None."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, bool | np.bool_):
        return ["b", bool(v)]
    if isinstance(v, int | float | np.integer | np.floating):
        return ["n", repr(float(v))]
    return ["s", str(v)]


def _canon(obj: Any) -> Any:
    """Settings and nodes as nested lists and dicts of :func:`_plain` values."""
    if isinstance(obj, dict):
        return {str(k): _canon(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_canon(v) for v in obj]
    return _plain(obj)


def _as_floats(series: pd.Series) -> np.ndarray | None:
    """The column as float64 when it holds numbers and blanks only (None otherwise)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        items = series.tolist()
        if not all(_plain(v) is None or _plain(v)[0] == "n" for v in items):
            return None
        values = np.array([np.nan if _plain(v) is None else float(v) for v in items],
                          dtype=np.float64)
    values = values.copy()
    values[np.isnan(values)] = np.nan    # one NaN bit pattern
    values[values == 0] = 0.0            # -0.0 is 0
    return values


def _feed_frame(h: Any, name: str, frame: pd.DataFrame | None) -> None:
    if frame is None:
        h.update(f"\0{name}:none".encode())
        return
    h.update(f"\0{name}:".encode())
    h.update(json.dumps([[_plain(c) for c in frame.columns], [_plain(i) for i in frame.index]],
                        ensure_ascii=False).encode())
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        floats = _as_floats(series)
        if floats is not None:   # the bytes of the floats: fast on large Data sheets
            h.update(b"\0f")
            h.update(floats.tobytes())
        else:
            h.update(b"\0o")
            h.update(json.dumps([_plain(v) for v in series.tolist()], ensure_ascii=False).encode())


def inputs_hash(model: IndexModel) -> str:
    """A short hex digest of every input of ``model`` (see the module docstring).

    Not the UDF cache's fingerprint (``udfs.cache.Snapshot.fingerprint``), on purpose: this
    hash is of the *model*, so it is the same whichever reader made it (the file reader and
    Excel give ``3`` and ``3.0``, formulas and their values alike) and is kept in the Log for
    ``recalc --check`` in another process; the cache hashes the *raw cells* of the sheets it
    read, before any reading, because it must tell an unchanged book without parsing it, also
    when the inputs have problems and no model exists.
    """
    h = hashlib.sha256()
    settings = dataclasses.asdict(model.settings)
    for later in ("sheet_names", "language"):   # defaults added later: hashes stay as they were
        if not settings.get(later):
            settings.pop(later, None)
    h.update(json.dumps(_canon(settings), ensure_ascii=False, sort_keys=True).encode())
    h.update(json.dumps(_canon([dataclasses.asdict(n) for n in model.nodes]),
                        ensure_ascii=False, sort_keys=True).encode())
    _feed_frame(h, "units", model.units)
    _feed_frame(h, "data", model.data)
    _feed_frame(h, "given", model.given)
    for kind, frames in (("ahp", model.ahp), ("budget", model.budgets)):
        for node in sorted(frames):
            _feed_frame(h, f"{kind}:{node}", frames[node])
    return h.hexdigest()[:HASH_LENGTH]
