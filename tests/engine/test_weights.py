"""Weighting methods against hand computations and textbook cases."""

import numpy as np
import pandas as pd
import pytest

from xl_aiindex.normalise import MethodInputError
from xl_aiindex.weights import (
    WeightInputs,
    ahp_consistency_ratio,
    w_ahp,
    w_budget,
    w_critic,
    w_entropy,
    w_equal,
    w_pca,
    w_sd,
)

S = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 2.0, 2.0, 10.0]})


def test_equal_and_sd():
    assert w_equal(S, WeightInputs()).tolist() == [0.5, 0.5]
    sd_a, sd_b = np.std([1, 2, 3, 4], ddof=1), np.std([2, 2, 2, 10], ddof=1)
    assert w_sd(S, WeightInputs()).tolist() == pytest.approx([sd_a / (sd_a + sd_b), sd_b / (sd_a + sd_b)])


def test_entropy_by_hand():
    def one_minus_e(col):
        p = np.array(col) / sum(col)
        return 1 + (p * np.log(p)).sum() / np.log(len(col))

    d = [one_minus_e([1, 2, 3, 4]), one_minus_e([2, 2, 2, 10])]
    assert w_entropy(S, WeightInputs()).tolist() == pytest.approx([d[0] / sum(d), d[1] / sum(d)])
    with pytest.raises(MethodInputError, match="non-negative"):
        w_entropy(S - 5, WeightInputs())


def test_critic_by_hand():
    scaled = (S - S.min()) / (S.max() - S.min())
    r = np.corrcoef(scaled["a"], scaled["b"])[0, 1]
    c = scaled.std(ddof=1) * (1 - r)
    assert w_critic(S, WeightInputs()).tolist() == pytest.approx((c / c.sum()).tolist())


def test_pca_two_children_share_equally():
    # with two children the first component of a correlation matrix is (1, 1)/sqrt(2)
    assert w_pca(S, WeightInputs()).tolist() == pytest.approx([0.5, 0.5])


def test_ahp_consistent_matrix_and_consistency_ratio():
    # a consistent matrix from weights 4:2:1 gives them back, with CR 0
    w = np.array([4.0, 2.0, 1.0])
    m = pd.DataFrame(w[:, None] / w[None, :], index=list("xyz"), columns=list("xyz"))
    got = w_ahp(pd.DataFrame(columns=list("xyz")), WeightInputs(ahp=m))
    assert got.tolist() == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    assert ahp_consistency_ratio(m) == pytest.approx(0.0, abs=1e-9)
    m.loc["x", "z"], m.loc["z", "x"] = 1 / 9, 9.0  # contradicts x > y > z
    assert ahp_consistency_ratio(m) > 0.1


def test_budget_mean_of_shares():
    b = pd.DataFrame({"a": [50.0, 10.0], "b": [50.0, 30.0]})  # shares .5/.5 and .25/.75
    assert w_budget(pd.DataFrame(columns=["a", "b"]), WeightInputs(budget=b)).tolist() == [0.375, 0.625]
