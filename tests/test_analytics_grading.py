"""Grading as an indicator system in data: the file, severities from specs, the calibrated mix,
and who is graded on the enterprise scheme."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl
import pytest

from credgraph.analytics import CreditNetwork, compute_risk, grade_enterprises, make_frames
from credgraph.analytics.frames_from_truth import frames_from_truth
from credgraph.analytics.indicators import IndicatorError, load_indicators
from credgraph.analytics.severity import attach_severity, spec_severities, workspace_spec_paths
from credgraph.config import AnalyticsConfig, GenerateConfig
from credgraph.synth import generate_city

AS_OF = "2024-01-01"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    d = tmp_path_factory.mktemp("grading") / "city"
    gen = GenerateConfig()
    generate_city(d, entities=gen.entities, seed=gen.seed)
    net = CreditNetwork.from_frames(*frames_from_truth(d))
    return d, net, grade_enterprises(net, AnalyticsConfig())


def test_indicator_file_has_forty_indicators_in_five_dimensions():
    inds = load_indicators()
    assert len(inds) >= 40
    per_dim = {d: sum(1 for i in inds if i.dimension == d) for d in ("basic", "operating", "regulatory", "related", "social")}
    assert all(v >= 4 for v in per_dim.values()), per_dim


def test_no_non_enterprise_is_graded_and_each_exclusion_says_why(city):
    d, net, g = city
    ent = pl.read_parquet(d / "truth" / "entities.parquet").filter(pl.col("type") == "legal")
    first = dict(zip(ent["entity_id"].to_list(), ent["uscc"].fill_null("").str.slice(0, 1).to_list()))
    graded = g.grades["node_id"].to_list()
    assert sum(1 for x in graded if first[x] not in ("9", "")) == 0
    others = {x for x, f in first.items() if f not in ("9", "")}
    assert others and set(g.excluded["node_id"].to_list()) == others
    assert g.excluded["reason"].str.contains("not graded on the enterprise scheme").all()
    assert set(graded) | others == set(first)  # every legal person is graded or excluded


def test_grade_mix_follows_the_configured_mix(city):
    _, _, g = city
    mix = dict(zip(("A+", "A", "B", "C", "D"), AnalyticsConfig().grade_mix))
    share = dict(zip(g.distribution["grade"].to_list(), g.distribution["share"].to_list()))
    for grade, want in mix.items():
        assert abs(share[grade] - want) <= 0.02, (grade, share[grade], want)
    # Grades still order the risk: vetoed E and D firms score below every B firm.
    s = g.grades
    assert s.filter(pl.col("grade") == "D")["score"].max() < s.filter(pl.col("grade") == "B")["score"].min()


def _tiny(severity=None):
    rec = {"node_id": "rec:1", "label": "CreditRecord", "event_type": "epidemic_prevention", "date": "2023-12-01",
           "status": "active", "catalog": "EPIDEMIC"}
    nodes = [{"node_id": f"c{i}", "label": "LegalPerson", "name": f"深圳市{i}有限公司", "uscc": "91440300MA5F000000",
              "est_date": "2010-01-01", "registered_capital": 100.0} for i in range(2)] + [rec]
    nodes, edges = make_frames(nodes, [{"src": "c0", "dst": "rec:1", "type": "HAS_RECORD"},
                                       {"src": "p0", "dst": "c1", "type": "LEGAL_REP_OF"}])
    if severity is not None:
        nodes = attach_severity(nodes, {"EPIDEMIC": severity})
    return CreditNetwork.from_frames(nodes, edges)


def test_a_new_catalog_counts_through_its_spec_severity(tmp_path):
    from credgraph.analytics.propagation import _severity_table
    from credgraph.analytics.severity import unweighted_event_types

    # Without a severity the new event type weighs nothing (and `credgraph risk` says so) ...
    net = _tiny()
    r = compute_risk(net, AnalyticsConfig(), AS_OF)
    assert r.seed[net.index_of(["c0"])[0]] == 0.0
    assert unweighted_event_types(net.records, _severity_table(AnalyticsConfig())) == ["epidemic_prevention"]
    assert unweighted_event_types(_tiny(0.5).records, _severity_table(AnalyticsConfig())) == []
    # ... with its spec's severity it seeds risk and costs points in "other adverse records".
    net = _tiny(0.5)
    r = compute_risk(net, AnalyticsConfig(), AS_OF)
    assert r.seed[net.index_of(["c0"])[0]] == pytest.approx(0.5 * 0.5 ** (31 / 730.0))
    cfg = dataclasses.replace(AnalyticsConfig(), grade_method="cuts")
    g = grade_enterprises(net, cfg, AS_OF, r)
    c = g.contributions.filter((pl.col("node_id") == "c0") & (pl.col("indicator") == "other_adverse"))
    assert c["points"].item() < 0
    # The severity is read from the spec files of the workspace's last load.
    spec = tmp_path / "EPIDEMIC.toml"
    spec.write_text('code = "EPIDEMIC"\nsource_unit = "卫健委"\nkind = "event"\nfile = "e.csv"\nseverity = 0.5\n',
                    encoding="utf-8")
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "load_report.json").write_text(json.dumps({"files": [{"spec": str(spec)}]}))
    assert spec_severities(workspace_spec_paths(tmp_path)) == {"EPIDEMIC": 0.5}
    spec.write_text('code = "EPIDEMIC"\nseverity = 3\n', encoding="utf-8")
    with pytest.raises(ValueError, match="EPIDEMIC.toml: severity = 3: must be a number from 0 to 1"):
        spec_severities([spec])


def test_bad_indicator_file_names_file_and_indicator(tmp_path):
    p = tmp_path / "ind.toml"
    p.write_text('[[indicator]]\nname = "x"\ndimension = "basic"\nsource = "fact:age_years"\nformula = "nope"\n'
                 'weight = 1\n', encoding="utf-8")
    with pytest.raises(IndicatorError, match=r"ind.toml: indicator 1 \(x\): formula 'nope' is not one of"):
        load_indicators(p)


def test_calibrated_cuts_hit_the_shares_on_continuous_scores():
    from credgraph.analytics.grading import assign_grades, calibrated_cuts

    score = np.random.default_rng(1).normal(80, 8, 10_000)
    cuts = calibrated_cuts(score, AnalyticsConfig().grade_mix)
    grades = assign_grades(score, AnalyticsConfig(), cuts)
    got = [float((grades == x).mean()) for x in ("A+", "A", "B", "C", "D")]
    assert np.allclose(got, AnalyticsConfig().grade_mix, atol=0.001)
