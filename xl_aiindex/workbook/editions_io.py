"""``xl-aiindex compare-editions``: two editions of a workbook read and computed, the Changes
sheet written into the newer one through the one write path."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..editions import compare_editions
from ..model import IndexResult
from .io import Loaded, compute, load_workbook
from .writer import Update, update_workbook


def compare_editions_file(old: str | os.PathLike[str], new: str | os.PathLike[str],
                          dst: str | os.PathLike[str] | None = None, *, write: bool = True,
                          force: bool = False
                          ) -> tuple[IndexResult, IndexResult, pd.DataFrame]:
    """Compare the editions ``old`` and ``new`` (:func:`~xl_aiindex.editions.compare_editions`);
    with ``write``, write the Changes sheet into a copy of ``new`` at ``dst`` (None: into
    ``new``) by :func:`~xl_aiindex.workbook.writer.update_workbook`: atomically, one Log row,
    a ``Changes`` sheet the tool did not write (or cells of it edited by hand) refused unless
    ``force``. Returns both results and the table."""
    from .visuals import changes_sheet

    r_old = compute(load_workbook(old))
    if not write:
        r_new = compute(load_workbook(new))
        return r_old, r_new, compare_editions(r_old, r_new)

    def build(loaded: Loaded) -> Update[tuple[IndexResult, IndexResult, pd.DataFrame]]:
        r_new = compute(loaded)
        table = compare_editions(r_old, r_new)
        notes = loaded.notes + r_new.notes
        entry = {"input": loaded.model.settings.input, "units": int(len(r_new.scores)),
                 "status": "ok", "notes": "; ".join([f"compared with {Path(old).name}", *notes])}
        return Update((r_old, r_new, table), [changes_sheet(table)], entry)

    return update_workbook(new, dst, build, command="compare-editions", force=force)
