"""Synthetic indices of any size, for tests and benchmarks (pure: no files).

The default shape is that of the public benchmark the uncertainty analysis is checked on: 51
units, 49 indicators, 4 levels (index → 2 sub-indices → 8 pillars → indicators), some blanks
(``missing = reweight``), uneven given weights, a quarter of the indicators lower-is-better.
Values share a latent "development" factor, so the ranking has structure and assumptions matter
without deciding everything.

>>> m = synthetic_model()
>>> m.data.shape, len(m.nodes), m.settings.missing
((51, 49), 60, 'reweight')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .model import IndexModel, Node, Settings, TierRule


def synthetic_model(units: int = 51, indicators: int = 49, branching: Sequence[int] = (2, 4),
                    blanks: float = 0.02, seed: int = 1) -> IndexModel:
    """An :class:`IndexModel` of ``units`` × ``indicators`` with ``len(branching) + 2`` levels.

    ``branching``: how many children the root has, then each node of the next level (the last
    level of groups holds the indicators, spread as evenly as possible). ``blanks``: share of
    raw values left missing. Same arguments, same model.
    """
    rng = np.random.default_rng(seed)
    nodes: list[Node] = [Node("index", None, "总指数", "Index")]
    level = ["index"]
    for depth, k in enumerate(branching, start=1):
        nxt = []
        for p, parent in enumerate(level):
            w = rng.uniform(0.5, 1.5, size=k)
            w = w / w.sum()
            for c in range(k):
                node_id = f"g{depth}_{p * k + c}"
                nodes.append(Node(node_id, parent, f"组{node_id}", f"Group {node_id}",
                                  weight=float(w[c])))
                nxt.append(node_id)
        level = nxt
    groups = np.array_split(np.arange(indicators), len(level))
    directions = []
    for parent, members in zip(level, groups, strict=True):
        w = rng.uniform(0.5, 1.5, size=len(members))
        w = w / w.sum()
        for j, i in enumerate(members):
            direction = -1 if i % 4 == 3 else 1
            directions.append(direction)
            nodes.append(Node(f"i{i:03d}", parent, f"指标{i}", f"Indicator {i}",
                              weight=float(w[j]), direction=direction))
    ids = [f"u{u:04d}" for u in range(units)]
    latent = rng.normal(size=(units, 1))
    noise = rng.normal(size=(units, indicators))
    values = np.exp(0.8 * latent * np.asarray(directions) + 0.9 * noise)
    values[rng.random(size=values.shape) < blanks] = np.nan
    data = pd.DataFrame(values, index=ids, columns=[f"i{i:03d}" for i in range(indicators)])
    table = pd.DataFrame({"name_zh": [f"单位{u}" for u in range(units)],
                          "name_en": [f"Unit {u}" for u in range(units)]}, index=ids)
    settings = Settings(name_en="Synthetic index", input="data", weights="rescale",
                        missing="reweight", tiers=TierRule("rank", (10, 20)))
    return IndexModel(tuple(nodes), settings, table, data)
