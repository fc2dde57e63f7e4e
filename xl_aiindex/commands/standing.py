"""Where a unit stands in an index: its rank among the ranked units and its tier (what
``explain`` and ``compare`` print above their tables)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import IndexResult


@dataclass(frozen=True)
class Standing:
    """A unit's place: ``rank`` (None: not ranked) of ``ranked`` units, and its ``tier`` label
    ("" when it is in no tier)."""

    unit: str
    label: str
    rank: int | None
    ranked: int
    tier: str


def standing(result: IndexResult, unit: str, label: str) -> Standing:
    """The :class:`Standing` of ``unit`` (an id) in ``result``; ``label``: how to name it."""
    rank = result.rank[unit]
    tier = int(result.tier[unit])
    return Standing(unit, label, int(rank) if rank == rank else None,
                    int(result.rank.notna().sum()),
                    result.model.settings.tiers.label(tier) if tier else "")
