"""compare-editions made honest: the scale warning, --common-scale, and too little in common."""

from __future__ import annotations

import copy
import json

from conftest import SMALL, run, write_book

# every unit better on every indicator (x2 counts down): c a little, the others a lot
NEW_DATA = [
    ["unit", "x1", "x2", "x3", "x4"],
    ["a", 50, 3, 5, 500],
    ["b", 60, 2, 6, 700],
    ["c", 31, 2.9, 3.1, 210],
    ["d", 80, 0, 8, 800],
    ["e", 90, -1, 9, 900],
]


def editions(tmp_path, new_data=NEW_DATA, units=None):
    new = copy.deepcopy(SMALL)
    new["Data"] = new_data
    if units is not None:
        new["Units"] = units
    return (write_book(tmp_path / "old.xlsx", copy.deepcopy(SMALL)),
            write_book(tmp_path / "new.xlsx", new))


def test_editions_normalised_apart_are_warned_about_first(tmp_path):
    old, new = editions(tmp_path)
    result = run("compare-editions", old, new, "--no-write")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("Warning: scores of the two editions are on different scales; "
                            "changes in score partly reflect the other units")
    assert "--common-scale" in first


def test_common_scale_turns_every_improvement_into_a_rise(tmp_path):
    old, new = editions(tmp_path)
    apart = json.loads(run("compare-editions", old, new, "--no-write", "--json").output)
    changes = {u["unit"]: u["score_change"] for u in apart["units"]}
    assert changes["c"] < 0            # each edition against its own units: c "fell"
    assert apart["warning"] and apart["common_scale"] is False

    result = run("compare-editions", old, new, "--no-write", "--json", "--common-scale")
    assert result.exit_code == 0, result.output
    together = json.loads(result.output)
    assert together["common_scale"] is True and together["warning"] == ""
    changes = {u["unit"]: u["score_change"] for u in together["units"]}
    assert all(change > 0 for change in changes.values()), changes


def test_common_scale_scores_by_hand(tmp_path):
    # x1 over both editions: 10..90; unit c 2020: (30-10)/80*100 = 25, new: (31-10)/80*100 = 26.25
    old, new = editions(tmp_path)
    together = json.loads(run("compare-editions", old, new, "--no-write", "--json",
                              "--common-scale").output)
    c = next(u for u in together["units"] if u["unit"] == "c")
    # d1 = 0.5·x1 + 0.5·x2; x2 over both: -1..5, mirrored: c old (5-3)/6, new (5-2.9)/6
    d1_old = 0.5 * 25 + 0.5 * (5 - 3) / 6 * 100
    d1_new = 0.5 * 26.25 + 0.5 * (5 - 2.9) / 6 * 100
    assert abs(c["d1_score_change"] - (d1_new - d1_old)) < 1e-9


def test_editions_with_few_units_in_common_are_refused_unless_forced(tmp_path):
    units = [SMALL["Units"][0], SMALL["Units"][1], SMALL["Units"][2],
             ["f", "己", "Zeta", "south", 60], ["g", "庚", "Eta", "south", 70],
             ["h", "辛", "Theta", "south", 80]]
    data = [NEW_DATA[0], NEW_DATA[1], NEW_DATA[2],
            ["f", 60, 2, 6, 700], ["g", 80, 0, 8, 800], ["h", 90, -1, 9, 900]]
    old, new = editions(tmp_path, data, units)
    result = run("compare-editions", old, new, "--no-write")
    assert result.exit_code == 2
    assert ("only 2 units are in both editions (3 entered, 3 left): fewer than 50% of the "
            "smaller edition") in result.output + result.stderr
    forced = run("compare-editions", old, new, "--no-write", "--force")
    assert forced.exit_code == 0, forced.output
    assert "2 units in both, 3 entered, 3 left" in forced.output
