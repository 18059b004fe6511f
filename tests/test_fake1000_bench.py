"""The scoring of the held-out fake_1000 bench (bench/bench_fake1000.py), on small examples scored by hand.

The bench's data is not in the repository (and never fetched here): these tests need no network
and no /tmp/fake1000. They check the pairwise and B-cubed scores against values worked out on
paper, and that the script refuses a missing file or a wrong header with a message, not a traceback.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_fake1000 import bcubed_scores, cluster_pairs, main, pairwise_scores, read_rows  # noqa: E402

# three true persons: {a, b, c}, {d, e}, {f}
TRUTH = {"a": "T1", "b": "T1", "c": "T1", "d": "T2", "e": "T2", "f": "T3"}
# a resolution that keeps a with b, wrongly joins c with d, leaves e alone and lost f (no label)
FOUND = {"a": "F1", "b": "F1", "c": "F2", "d": "F2", "e": "F3"}


def test_pairs_of_a_clustering():
    assert cluster_pairs(TRUTH) == {("a", "b"), ("a", "c"), ("b", "c"), ("d", "e")}
    assert cluster_pairs({"x": "1", "y": "2"}) == set()


def test_pairwise_by_hand():
    # true pairs ab ac bc de; found ab cd; one right: P = 1/2, R = 1/4, F1 = 2PR/(P+R) = 1/3
    s = pairwise_scores(TRUTH, FOUND)
    assert (s["true_pairs"], s["found_pairs"], s["missed"], s["wrong"]) == (4, 2, 3, 1)
    assert s["precision"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(0.25)
    assert s["f1"] == pytest.approx(1 / 3)


def test_bcubed_by_hand():
    # per record (precision, recall): a (2/2, 2/3), b (2/2, 2/3), c (1/2, 1/3), d (1/2, 1/2),
    # e (1/1, 1/2), f alone in both (1, 1): P = 5/6, R = 11/18, F1 = 55/78
    s = bcubed_scores(TRUTH, FOUND)
    assert s["precision"] == pytest.approx(float(Fraction(5, 6)))
    assert s["recall"] == pytest.approx(float(Fraction(11, 18)))
    assert s["f1"] == pytest.approx(float(Fraction(55, 78)))


def test_labels_are_only_names():
    # the same grouping under other labels, and a found label equal to a true label of other records
    relabelled = {"a": "T2", "b": "T2", "c": "x", "d": "x", "e": "T1"}
    assert pairwise_scores(TRUTH, relabelled) == pairwise_scores(TRUTH, FOUND)
    assert bcubed_scores(TRUTH, relabelled) == bcubed_scores(TRUTH, FOUND)


def test_unlabelled_records_are_singletons_not_one_cluster():
    # two records the resolution lost (e.g. quarantined) must not count as found together
    truth = {"x": "1", "y": "1", "z": "2"}
    s = pairwise_scores(truth, {})
    assert (s["found_pairs"], s["precision"], s["recall"], s["f1"]) == (0, 1.0, 0.0, 0.0)
    b = bcubed_scores(truth, {})
    assert b["precision"] == 1.0
    assert b["recall"] == pytest.approx((0.5 + 0.5 + 1) / 3)


def test_perfect_and_all_in_one():
    assert pairwise_scores(TRUTH, TRUTH)["f1"] == 1.0
    assert bcubed_scores(TRUTH, TRUTH)["f1"] == 1.0
    # everything in one entity: 15 found pairs, 4 right; B-cubed precision (3*3/6 + 2*2/6 + 1/6)/6 = 7/18
    one = {k: "E" for k in TRUTH}
    s = pairwise_scores(TRUTH, one)
    assert (s["found_pairs"], s["precision"], s["recall"]) == (15, pytest.approx(4 / 15), 1.0)
    assert bcubed_scores(TRUTH, one)["precision"] == pytest.approx(7 / 18)


def test_missing_file_and_wrong_header(tmp_path, capsys):
    assert main(["--folder", str(tmp_path), "--no-splink"]) == 2
    assert "fake_1000.csv: missing" in capsys.readouterr().err
    bad = tmp_path / "fake_1000.csv"
    bad.write_text("id,name,group\n0,Julia,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected unique_id,first_name,surname,dob,city,email,group"):
        read_rows(bad)
    assert main(["--folder", str(tmp_path), "--no-splink"]) == 2
    assert "header is ['id', 'name', 'group']" in capsys.readouterr().err


def test_the_bench_spec_loads_rows_of_that_shape(tmp_path):
    """The example spec on four hand-written rows in fake_1000's form: names combined, a broken
    e-mail set aside with the row kept, a row with no name but an e-mail kept (its e-mail names the
    subject), a row with no name and only a broken e-mail quarantined (the bench scores it as a singleton)."""
    import shutil

    from bench_fake1000 import SPEC

    from credgraph.loaders.load import load_specs, read_findings, read_quarantine, read_records

    (tmp_path / "fake_1000.csv").write_text(
        "unique_id,first_name,surname,dob,city,email,group\n"
        "0,Julia ,Taylor,2015-10-29,London,hannah88@powers.com,0\n"
        "1,Taylor,Julia ,2015-07-31,,hannah88opowersc@m,0\n"
        "2,,,2012-12-31,Stoke-on-Trent,wmcdaniel@nelson.net,1\n"
        "3,,,2013-01-14,Stoke-on-Trent,wmcdanielnelson.net,1\n", encoding="utf-8")
    shutil.copy(SPEC, tmp_path / SPEC.name)
    report = load_specs([tmp_path / SPEC.name], tmp_path / "ws")
    rec = read_records(tmp_path / "ws").sort("user_id")
    f = report.files[0]
    assert (f.read, f.accepted, f.quarantined) == (4, 3, 1)
    assert rec["user_id"].to_list() == ["0", "1", "2"]
    assert rec["subject_name"].to_list() == ["Julia Taylor", "Taylor Julia", None]
    assert rec["subject_type"].to_list() == ["natural"] * 3
    assert [str(d) for d in rec["subject_birth_date"].to_list()] == ["2015-10-29", "2015-07-31", "2012-12-31"]
    assert rec["subject_address"].to_list() == ["London", None, "Stoke-on-Trent"]
    assert rec["subject_email"].to_list() == ["hannah88@powers.com", None, "wmcdaniel@nelson.net"]
    findings = read_findings(tmp_path / "ws")
    assert findings["field"].to_list() == ["subject_email"]  # row 1's, the row kept
    q = read_quarantine(tmp_path / "ws")
    assert q["row_id"].n_unique() == 1  # one row, two lines: the broken e-mail, and so no subject
    reasons = sorted(q["reason"].to_list())
    assert reasons[0] == "not an e-mail address" and reasons[1].startswith("the row names no subject")
