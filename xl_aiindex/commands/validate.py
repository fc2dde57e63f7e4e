"""``xl-aiindex validate``: check a workbook's inputs and computation, writing nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import IndexResult


@dataclass(frozen=True)
class Validated:
    """A workbook without problems: ``units``, ``indicators`` (leaves of the tree) and
    ``nodes`` counted, its Settings ``input``, the ``notes`` of reading it, the ``result``."""

    book: Path
    units: int
    indicators: int
    nodes: int
    input: str
    notes: tuple[str, ...]
    result: IndexResult


def validate(book: str | os.PathLike[str]) -> Validated:
    """Read and compute ``book`` without writing anything.

    :param book: the workbook to read

    Returns a :class:`Validated`. Raises :class:`~xl_aiindex.errors.ProblemsFound` listing
    every problem of the inputs (each with its sheet and cell), or
    :class:`~xl_aiindex.errors.UnreadableWorkbook` for a file that is not a workbook.
    """
    from ..workbook.io import validate_file

    result, notes = validate_file(book)
    model = result.model
    parents = {m.parent for m in model.nodes}
    return Validated(book=Path(book), units=len(result.scores),
                     indicators=sum(1 for n in model.nodes if n.id not in parents),
                     nodes=len(model.nodes), input=model.settings.input, notes=tuple(notes),
                     result=result)
