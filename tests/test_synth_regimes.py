"""Planting regimes: drawn from their ranges, planted as the table says, chosen on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from credgraph.synth.regimes import RegimeError, draw_regime, regime_names
from credgraph.synth.world import REL_CODES, build_world


def test_every_regime_draws_inside_its_ranges_and_differs_by_seed():
    import tomllib

    from credgraph.synth.regimes import REGIMES_FILE

    table = tomllib.loads(REGIMES_FILE.read_text(encoding="utf-8"))
    assert len(table["shell"]) >= 4 and {"contagion_strong", "isolated_weak"} <= set(table["violation"])
    for name in regime_names():
        a, b = draw_regime(name, 1), draw_regime(name, 2)
        for params, kind, which in ((a.shell, "shell", a.shell_kind), (a.violation, "violation", a.violation_kind)):
            for key, spec in table[kind][which].items():
                if isinstance(spec, list):
                    assert spec[0] - 0.5 <= getattr(params, key) <= spec[1] + 0.5, (name, key)
        assert a.shell.share != b.shell.share  # drawn per city
    with pytest.raises(RegimeError, match="unknown regime 'nope'"):
        draw_regime("nope", 1)
    assert draw_regime("agent_factory+isolated_weak", 3).violation.contagion == 0.0


def _clusters(w):
    return {c: np.flatnonzero(w.shell == c) for c, _ in w.clusters}


def test_spread_regime_spreads_registrations_with_ordinary_capital_and_some_staff():
    w = build_world(4000, seed=5, regime="spread")
    spans = [int((w.est[m].max() - w.est[m].min()).astype(int)) for m in _clusters(w).values()]
    assert np.median(spans) > 120  # not a burst of days
    sh = w.shell >= 0
    assert np.median(w.capital[sh]) > 10 and (w.insured[sh] > 0).mean() > 0.15


def test_nominee_holders_share_shareholders_not_representatives():
    w = build_world(4000, seed=5, regime="nominee_holders")
    holders = {}
    m = w.rel_type == REL_CODES["shareholder_of"]
    for s, d in zip(w.rel_src[m], w.rel_dst[m]):
        holders.setdefault(int(d), set()).add(int(s))
    for mem in _clusters(w).values():
        common = set.intersection(*(holders[int(f)] for f in mem))
        assert common and all(w.nominee[h - w.n_legal] for h in common)
        assert len({int(w.legal_rep[f]) for f in mem}) > len(mem) // 2  # representatives mostly distinct


def test_agent_factory_firms_share_an_agent_and_a_few_addresses():
    w = build_world(4000, seed=5, regime="agent_factory")
    for mem in _clusters(w).values():
        assert len({int(w.agent[f]) for f in mem}) == 1 and w.agent[mem[0]] >= 0
        assert len(set(w.address[mem].tolist())) <= 5 < len(mem)


def test_weak_coupling_decouples_visible_records_and_isolation_removes_contagion():
    strong, weak = build_world(3000, seed=2, regime="burst"), build_world(3000, seed=2, regime="burst+contagion_weak")
    assert strong.zv is strong.z or np.array_equal(strong.visible, strong.z)
    assert np.corrcoef(weak.visible, weak.z)[0, 1] < 0.6
    iso = build_world(3000, seed=2, regime="burst+isolated_strong")
    # Without contagion an ordinary firm's propensity no longer follows its representative's.
    def rep_z(w):
        ok = w.shell < 0
        return np.corrcoef(w.z[: w.n_legal][ok], w.z[w.legal_rep][ok])[0, 1]

    assert rep_z(strong) > 0.4 and abs(rep_z(iso)) < 0.1


def test_cli_generate_regime(tmp_path, monkeypatch):
    import typer

    from credgraph.synth import cli as synth_cli

    monkeypatch.chdir(tmp_path)
    app = typer.Typer()
    synth_cli.register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer's sub-command syntax
        pass

    runner = CliRunner()
    r = runner.invoke(app, ["generate", "-n", "300", "--seed", "4", "--out", str(tmp_path / "c"), "--regime", "spread"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "c" / "generator.json").read_text(encoding="utf-8"))
    assert manifest["regime"]["name"] == "spread" and "window_days" in manifest["regime"]["shell_params"]
    assert (tmp_path / "c" / "truth" / "shell_clusters.parquet").is_file()
    bad = runner.invoke(app, ["generate", "-n", "300", "--out", str(tmp_path / "d"), "--regime", "nope"])
    assert bad.exit_code == 2 and "unknown regime 'nope'" in bad.output and not (tmp_path / "d").exists()
