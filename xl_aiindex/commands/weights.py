"""``xl-aiindex weights``: the weights each weighting method gives, before choosing one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..compare_weights import GroupWeights


@dataclass(frozen=True)
class WeightMethods:
    """What :func:`weights` found: per sibling group (``groups``), each method's weights and
    the rank moves they would cause; ``labels``: node id → label; ``notes`` of reading."""

    book: Path
    groups: tuple[GroupWeights, ...]
    labels: dict[str, str]
    notes: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """Plain data (``--json``): the book and, per group, per method, the weights and the
        rank moves."""
        from ..compare_weights import as_json

        return {"book": str(self.book), "groups": as_json(list(self.groups))}


def weights(book: str | os.PathLike[str], *, node: str | None = None,
            year: int | None = None) -> WeightMethods:
    """Compare weighting methods: per sibling group, the weights each method gives (given,
    equal, entropy, critic, sd, pca; ahp and budget where the workbook has their sheets), and
    how many units would change rank, and by how much at most, if that group alone were
    weighted that way. Writes nothing.

    :param book: the workbook to read
    :param node: only this node's children (id or name; default: every sibling group with two
        or more members)
    :param year: the year of a panel (Data with a ``year`` column; default: the latest); a
        workbook of one edition refuses it (:class:`~xl_aiindex.errors.BadArgument`)

    Returns a :class:`WeightMethods`. Raises :class:`~xl_aiindex.errors.UnknownName` for a
    node that is not there, and what reading raises.
    """
    from ..compare_weights import compare_weights
    from ..lookup import NameIndex
    from ..workbook.io import compute, load_workbook

    result = compute(load_workbook(book), year)
    node_id = NameIndex.of(result.model, "node").find(node) if node else None
    return WeightMethods(book=Path(book), groups=tuple(compare_weights(result, node_id)),
                         labels={m.id: m.label for m in result.model.nodes},
                         notes=tuple(result.notes))
