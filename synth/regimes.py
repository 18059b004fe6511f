"""Planting regimes: how the synthetic city's shells are planted and how its violations arise.

The regimes are data (``regimes.toml`` beside this module): a ``[shell.*]`` table per way of
planting shell companies, a ``[violation.*]`` table per violation process, and named
``[regime.*]`` pairs of the two. A value written ``[lo, hi]`` is a range: each city draws its
own value from it (from the city's seed, in a stream of its own), so the cities of one regime
differ in their parameters too and no analytic can be fitted to one fixed recipe.

>>> sorted(regime_names())[:3]
['agent_factory', 'burst', 'burst_isolated']
>>> r = draw_regime("spread", seed=3)
>>> r.name, r.shell_kind, r.violation_kind, 365 <= r.shell.window_days <= 1000
('spread', 'spread', 'contagion_strong', True)
>>> draw_regime("spread+isolated_weak", seed=3).violation.contagion
0.0
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["ShellParams", "ViolationParams", "Regime", "regime_names", "draw_regime", "DEFAULT_REGIME",
           "RegimeError", "REGIMES_FILE"]

REGIMES_FILE = Path(__file__).with_name("regimes.toml")
DEFAULT_REGIME = "burst"


class RegimeError(ValueError):
    """An unknown regime name or a malformed regimes table."""


@dataclass(frozen=True)
class ShellParams:
    """One city's shell planting (see regimes.toml for what each field means)."""

    share: float
    size_extra: float
    window_days: int
    capital: str
    staffed: float
    reps: str
    holders: str
    p_address: float
    p_phone: float
    p_agent: float
    p_legal_rep: float
    min_shared: int
    abnormal: float
    revoked: float
    factory: bool
    address_pool: int = 3
    nominee_pool: int = 4
    agent_phone: float = 0.0
    officers: str = "nominee"
    doc: str = ""


@dataclass(frozen=True)
class ViolationParams:
    """One city's violation process (see regimes.toml)."""

    contagion: float
    coupling: float
    shell_boost: float
    base_rate: float
    doc: str = ""


@dataclass(frozen=True)
class Regime:
    name: str
    shell_kind: str
    violation_kind: str
    shell: ShellParams
    violation: ViolationParams

    def as_dict(self) -> dict:
        """The drawn parameters, for the generator's manifest."""
        def d(x):
            return {f.name: getattr(x, f.name) for f in fields(x) if f.name != "doc"}
        return {"name": self.name, "shell": self.shell_kind, "violation": self.violation_kind,
                "shell_params": d(self.shell), "violation_params": d(self.violation)}


@lru_cache(maxsize=4)
def _tables(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegimeError(f"{path}: cannot read the regimes table: {exc}") from None
    for key in ("shell", "violation", "regime"):
        if not isinstance(data.get(key), dict) or not data[key]:
            raise RegimeError(f"{path}: needs [{key}.NAME] tables")
    return data


def regime_names(path: str | Path = REGIMES_FILE) -> list[str]:
    """The named regimes of the table."""
    return list(_tables(str(path))["regime"])


def _draw(cls, table: dict, rng: np.random.Generator, where: str):
    out = {}
    for f in fields(cls):
        if f.name not in table:
            if f.default is not MISSING:
                continue
            raise RegimeError(f"{where}: missing {f.name}")
        v = table[f.name]
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        if isinstance(v, list):
            if len(v) != 2 or not all(isinstance(x, (int, float)) for x in v) or v[0] > v[1]:
                raise RegimeError(f"{where}.{f.name}: a range must be [lo, hi] with lo <= hi, got {v!r}")
            x = rng.uniform(v[0], v[1])
            v = int(round(x)) if kind == "int" else float(x)
        elif kind == "int":
            v = int(v)
        elif kind == "float":
            v = float(v)
        out[f.name] = v
    return cls(**out)


def draw_regime(name: str, seed: int, path: str | Path = REGIMES_FILE) -> Regime:
    """The parameters of regime ``name`` (a named regime or ``SHELL+VIOLATION``) for the city of ``seed``."""
    from credgraph.synth.world import rng_for

    t = _tables(str(path))
    if "+" in name:
        shell_kind, violation_kind = (s.strip() for s in name.split("+", 1))
    elif name in t["regime"]:
        shell_kind, violation_kind = t["regime"][name]["shell"], t["regime"][name]["violation"]
    else:
        raise RegimeError(f"unknown regime {name!r}; known: {', '.join(t['regime'])} "
                          f"(or SHELL+VIOLATION from shells {', '.join(t['shell'])} "
                          f"and violations {', '.join(t['violation'])})")
    if shell_kind not in t["shell"]:
        raise RegimeError(f"unknown shell regime {shell_kind!r}; known: {', '.join(t['shell'])}")
    if violation_kind not in t["violation"]:
        raise RegimeError(f"unknown violation process {violation_kind!r}; known: {', '.join(t['violation'])}")
    rng = rng_for(seed, "regime", shell_kind, violation_kind)
    shell = _draw(ShellParams, t["shell"][shell_kind], rng, f"shell.{shell_kind}")
    viol = _draw(ViolationParams, t["violation"][violation_kind], rng, f"violation.{violation_kind}")
    if shell.capital not in ("tiny", "city") or shell.reps not in ("nominee", "ordinary", "pool") \
            or shell.holders not in ("rep", "nominee") or shell.officers not in ("nominee", "ordinary"):
        raise RegimeError(f"shell.{shell_kind}: capital must be tiny|city, reps nominee|ordinary|pool, "
                          "holders rep|nominee, officers nominee|ordinary")
    return Regime(name=name, shell_kind=shell_kind, violation_kind=violation_kind, shell=shell, violation=viol)
