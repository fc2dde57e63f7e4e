"""Tiers agree with ranks: score tiers use the rounded score the ranks use (rank_decimals)."""

import pandas as pd
import pytest

from xl_aiindex import IndexModel, Node, Settings, TierRule, build_index
from xl_aiindex.rank import assign_tiers, rank_units

RULE = TierRule("score", (0.55, 0.40))


def tiers(totals, decimals, rule=RULE):
    total = pd.Series(totals, index=[f"u{i}" for i in range(len(totals))], dtype=float)
    rank = rank_units(total, decimals)
    return rank.tolist(), assign_tiers(rank, total, rule, decimals).tolist()


def test_published_at_three_decimals_lands_in_the_published_category():
    # the case: 0.549838 is published and ranked as 0.550, whose category starts at 0.550
    assert tiers([0.549838], 3)[1] == [1]
    assert tiers([0.549838], None)[1] == [2]       # unrounded, as before: below the bound


def test_half_away_from_zero_at_the_bound():
    # 0.5495 rounds to 0.550 (half away from zero, as Excel's ROUND); 0.54949 to 0.549
    assert tiers([0.5495, 0.54949], 3) == ([1.0, 2.0], [1, 2])
    # at 2 decimals 0.545 rounds up to 0.55 (Python's round(0.545, 2) would give 0.55 or 0.54
    # by binary accident; Excel's ROUND gives 0.55)
    assert tiers([0.545, 0.5449], 2) == ([1.0, 2.0], [1, 2])
    # exactly the lower bound is in the tier; just below it is not
    assert tiers([0.40, 0.3999], 4) == ([1.0, 2.0], [2, 3])


def test_units_tied_in_rank_are_never_split_across_tiers():
    # 0.5504 and 0.5496 both round to 0.550: they share rank 1 and tier 1 (unrounded, the
    # second would be 0.5496 < 0.55 and fall in tier 2 while sharing rank 1)
    ranks, t = tiers([0.5504, 0.5496, 0.30], 3)
    assert ranks == [1.0, 1.0, 3.0] and t == [1, 1, 3]
    # on any data: equal ranks imply equal tiers
    values = [0.5495 + k * 0.00001 for k in range(-10, 11)] + [0.3995 + k * 0.00001 for k in range(-10, 11)]
    ranks, t = tiers(values, 3)
    by_rank: dict[float, set[int]] = {}
    for r, tier in zip(ranks, t, strict=True):
        by_rank.setdefault(r, set()).add(tier)
    assert all(len(v) == 1 for v in by_rank.values())


def test_negative_scores_round_half_away_from_zero():
    # -0.25 rounds to -0.3 (away from zero; half to even would give -0.2, inside the tier)
    assert tiers([-0.25, -0.15], 1, TierRule("score", (-0.2,))) == ([2.0, 1.0], [2, 1])


@pytest.mark.parametrize("decimals, expected", [(None, [1, 2]), (1, [1, 1])])
def test_rank_rules_follow_the_shared_rank(decimals, expected):
    # 7.04 and 7.0 tie at one decimal: rank 1 both, so both in the first tier of rank:1
    assert tiers([7.04, 7.0], decimals, TierRule("rank", (1,)))[1] == expected


def test_the_engine_tiers_on_the_rounded_score():
    nodes = (Node("index", None), Node("a", "index", weight=1.0))
    units = pd.DataFrame({"name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"]},
                         index=["u1", "u2", "u3"])
    # minmax to 0..100: u2 scores 54.96, published (1 decimal) as 55.0, the top tier's bound
    data = pd.DataFrame({"a": [0.0, 54.96, 100.0]}, index=units.index)
    s = Settings(tiers=TierRule("score", (55.0, 30.0)), rank_decimals=1)
    r = build_index(IndexModel(nodes, s, units, data))
    assert r.tier.tolist() == [3, 1, 1]
    r = build_index(IndexModel(nodes, Settings(tiers=TierRule("score", (55.0, 30.0))), units, data))
    assert r.tier.tolist() == [3, 2, 1]
