"""Configuration precedence: defaults < credgraph.toml < environment."""

from __future__ import annotations

import pytest

from credgraph.atomic import atomic_dir, atomic_path
from credgraph.config import ConfigError, load_config


def test_defaults_file_and_env_precedence(tmp_path):
    toml = tmp_path / "credgraph.toml"
    toml.write_text('[workspace]\npath = "/data/ws"\n[generate]\nentities = 300\nseed = 7\n', encoding="utf-8")
    cfg = load_config(toml, env={"CREDGRAPH_GENERATE__SEED": "9", "NEO4J_URI": "bolt://10.0.0.1:7687"})
    assert cfg.workspace.path == "/data/ws"
    assert cfg.generate.entities == 300  # from the file
    assert cfg.generate.seed == 9  # env wins over the file
    assert cfg.graph.neo4j_uri == "bolt://10.0.0.1:7687"
    assert load_config(None, env={}).generate.seed == 42  # documented default


@pytest.mark.parametrize(
    "text, env, message",
    [
        ("[nosuch]\nx = 1\n", {}, "unknown section [nosuch]"),
        ("[generate]\nsedd = 1\n", {}, "unknown setting generate.sedd"),
        ("[generate]\nentities = 'many'\n", {}, "cannot use 'many'"),
        ("[generate\n", {}, "not valid TOML"),
        ("", {"CREDGRAPH_GENERATE__ENTITIES": "x"}, "environment CREDGRAPH_GENERATE__ENTITIES"),
    ],
)
def test_bad_configuration_is_named(tmp_path, text, env, message):
    toml = tmp_path / "credgraph.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(toml, env=env)
    assert message in str(err.value)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_atomic_dir_replaces_whole_or_nothing(tmp_path):
    target = tmp_path / "city"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "b.csv").write_text("2")
            raise RuntimeError("killed")
    assert sorted(p.name for p in target.iterdir()) == ["a.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city"]
