"""Configuration: one place, documented defaults, ``credgraph.toml``, environment overrides.

Precedence, lowest to highest:

1. the defaults below (each field's comment is its documentation);
2. ``credgraph.toml`` in the working directory (or the file named by ``CREDGRAPH_CONFIG``),
   with one table per section, e.g. ``[resolution]``;
3. environment variables ``CREDGRAPH_<SECTION>__<FIELD>`` (double underscore), e.g.
   ``CREDGRAPH_WORKSPACE__PATH=/data/ws``; and the conventional ``NEO4J_URI``,
   ``NEO4J_USER``, ``NEO4J_PASSWORD`` for the graph section.

``credgraph config`` prints the effective configuration.

>>> cfg = load_config(env={"CREDGRAPH_GENERATE__ENTITIES": "50"}, path=None)
>>> cfg.generate.entities
50
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = ["Config", "load_config", "ConfigError"]


class ConfigError(ValueError):
    """A configuration file or variable that cannot be used."""


@dataclass
class WorkspaceConfig:
    #: Directory holding each stage's outputs: raw/, records/, quarantine/, entities/, graph/, analytics/.
    path: str = "workspace"


@dataclass
class GenerateConfig:
    #: Number of real-world entities (legal + natural persons) in the synthetic city.
    entities: int = 2000
    #: Random seed; the same seed gives byte-identical files.
    seed: int = 42
    #: Share of legal persons among the entities.
    legal_share: float = 0.45
    #: Share of natural persons who are foreign nationals (Latin names, passports; shareholders,
    #: representatives and officers of foreign-invested firms): 2 % by default, 0 for none.
    foreign_share: float = 0.02
    #: Scale factor applied to every catalog's noise rates (0 = clean data).
    noise: float = 1.0
    #: Rows per write chunk, which bounds the generator's memory.
    chunk_rows: int = 100_000
    #: Output folder of `credgraph generate`; empty means <workspace>/raw (where `credgraph load` looks).
    out: str = ""
    #: Per-catalog noise rate overrides, e.g. "MR_REG.missing_id=0.1, COURT_DISHONEST.subject.traditional=0.05"
    #: (kinds: see credgraph.synth.NOISE_TAGS; rates are still scaled by `noise`).
    rates: str = ""


@dataclass
class LoadConfig:
    #: Rows per processing chunk when loading large files.
    chunk_rows: int = 200_000
    #: Encodings tried, in order, when a spec gives none.
    detect_encodings: tuple[str, ...] = ("utf-8-sig", "gb18030")


@dataclass
class ResolutionConfig:
    #: Pairs scoring at or above this match probability are merged automatically. (On the synthetic
    #: city at 1M records, pairs scored 0.90-0.95 were 96% true matches; the ambiguity check catches
    #: most of the rest: a name-only mention that fits two registered entities goes to review.)
    auto_merge: float = 0.90
    #: Pairs between ``review`` and ``auto_merge`` go to the review queue; below are rejected.
    review: float = 0.60
    #: Blocks larger than this are not expanded into pairs (common names, mass addresses).
    max_block_size: int = 200
    #: EM iterations for the Fellegi-Sunter model (its share of matches among candidate pairs).
    em_iterations: int = 25
    #: How firmly the pairs that share an identifier hold m while EM re-estimates it from the
    #: undecided pairs: their weight as a multiple of the expected number of matches among the
    #: undecided pairs. 0 = unanchored EM (not identifiable on blocked pairs); inf (the default) = m
    #: fixed by the identified pairs, EM fits only the share of matches. u always comes from
    #: look-alikes. Measured at 1M records: anchor 1 lowered person F1 from 0.977 to 0.973 and pairs
    #: with a masked ID number from 0.98 to 0.55 (EM learns that a fitting masked ID is common among
    #: candidates and over-trusts it).
    em_anchor: float = float("inf")
    #: How many unlabelled pairs one human judgement counts as when the model is (re)estimated.
    judgement_weight: float = 50.0
    #: How many pairs of true matches the prior m (the readable table PRIOR_M in
    #: credgraph/resolution/model.py: the share of one person's or firm's record pairs at each level,
    #: e.g. a quarter of a person's record pairs give another address) counts as. m is
    #: (prior_pairs × prior + identified pairs' levels), and under EM the expected matches' levels, in
    #: proportion: on a few hundred pairs the prior decides, on a city (300k identified pairs) the data.
    model_prior_pairs: float = 200.0
    #: How many shared values the prior u of identifier-like levels (PRIOR_U in resolution/model.py: an
    #: identical passport 1e-6, phone 1e-3, e-mail 1e-4, ...) counts as: a Beta prior worth this many
    #: collisions in (this / u) pairs of carriers, against the data's own count of carriers with
    #: clearly different names sharing a value. 1: a few hundred records with no sharing keep an
    #: identical passport at one in a million; a few shared mailboxes among them lift the mailbox's u.
    identifier_u_prior_collisions: float = 1.0
    #: Threads rapidfuzz may use for string similarity (1 leaves the other core to the rest).
    workers: int = 1
    #: Unused (kept so older credgraph.toml files still load): a person's entity id is a surrogate
    #: minted from its oldest mention, never a function of the ID number.
    entity_id_key: str = ""
    #: A mention without identifiers that matches two entities with identifiers within this many
    #: bits of match weight is ambiguous: it goes to review instead of joining either.
    ambiguity_margin: float = 3.0
    #: A person listed by name only at a firm joins the one known person in the data who carries the
    #: name when the name is rare (credgraph/resolution/rarename.py: odds from the share of such listings
    #: that are known persons and the carriers expected from surname and given-name frequencies; merged
    #: at ``auto_merge``, reviewed from ``review``). Measured on generated 20k cities (seeds 1-5):
    #: natural F1 +0.001-0.004, precision >= 0.9995 throughout. False: a name alone never merges.
    rare_names: bool = True


@dataclass
class GraphConfig:
    #: "embedded" (LadybugDB in the workspace) or "neo4j".
    backend: str = "embedded"
    #: Bolt address of the Neo4j server (env NEO4J_URI).
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    #: Neo4j user (env NEO4J_USER).
    neo4j_user: str = "neo4j"
    #: Neo4j password (env NEO4J_PASSWORD); the local server started by credgraph uses it too.
    neo4j_password: str = "credgraph-local"
    #: Where `credgraph neo4j start` keeps the server's jars (lib/, plugins/) and, per Bolt port,
    #: its instances (instances/<port>/: conf, data, logs), outside the repository.
    neo4j_home: str = "~/.cache/credgraph/neo4j"
    #: JVM heap of the local Neo4j server (Java size: 512m, 1g, 2g). 4g holds a load's batches
    #: and 2-hop queries on a city of 1M entities (the graph benchmark's size) with room to spare.
    neo4j_heap: str = "4g"
    #: Page cache of the local Neo4j server (the store's hot part kept in memory). The 1M-entity
    #: benchmark ran with 8g; 4g leaves a 24 GiB machine room for the analytics and the dashboard
    #: beside it. The server takes the memory only as it uses it.
    neo4j_pagecache: str = "4g"
    #: Seconds `credgraph neo4j start` waits for Bolt to answer.
    neo4j_start_timeout_s: float = 180.0
    #: Key of the keyed hash (HMAC-SHA256) of ID numbers and phones in the application's look-up
    #: index (never in the analysts' graph). Empty (the default): the workspace's own random key,
    #: made on first use in <workspace>/secrets/keys.json (0600), or the file named by
    #: CREDGRAPH_SECRETS_FILE. Set here or in CREDGRAPH_GRAPH__HASH_KEY only a random key of at least
    #: 16 characters; known placeholders are refused. See credgraph.security.secrets.
    hash_key: str = ""
    #: Rows per UNWIND batch when loading.
    batch_size: int = 5000
    #: Row limit and timeout (seconds) of analysts' read-only Cypher.
    query_row_limit: int = 1000
    query_timeout_s: float = 30.0
    #: Most bytes (rows as JSON text) an analyst's result may hold; the rows beyond are cut.
    query_max_bytes: int = 16 * 1024 * 1024
    #: Neo4j's cap on the memory of one transaction (the local server's db.memory.transaction.max):
    #: a query building a huge value is stopped by the server instead of exhausting it.
    neo4j_transaction_max: str = "1g"
    #: Neighbours returned per page by the neighbourhood query (the total is always counted).
    neighbourhood_limit: int = 50
    #: Most rows a neighbourhood, path or search query reads from the store before ranking.
    max_scan_rows: int = 50_000
    #: Most paths returned by the paths query.
    path_limit: int = 100
    #: Buffer pool of the embedded store in MiB (0 = LadybugDB's default, a share of memory).
    embedded_buffer_mb: int = 2048


@dataclass
class AnalyticsConfig:
    # --- risk propagation (credgraph risk) -------------------------------------------------
    #: Date everything is judged at (YYYY-MM-DD); empty = the newest record's date (never after
    #: today), so a snapshot is judged as of when it was taken. Records dated later are ignored.
    as_of: str = ""
    #: Half-life of a record's weight in days: a record this old counts half as much as a new one.
    half_life_days: float = 730.0
    #: Severity (seed weight) of one active record, per event type. 0 = does not seed risk.
    severity_serious_illegal: float = 1.0
    severity_dishonest_debtor: float = 0.9
    severity_tax_violation: float = 0.8
    severity_penalty: float = 0.4
    severity_abnormal_operations: float = 0.3
    severity_social_insurance_arrears: float = 0.3
    #: Tax credit ratings seed risk by grade: D and C (A/B/M do not).
    severity_tax_rating_d: float = 0.5
    severity_tax_rating_c: float = 0.2
    #: Transmission weight per link type (both directions). Shareholding is multiplied by the ratio;
    #: a holding above ``control_ratio`` counts as control and transmits ``transmit_control`` instead.
    transmit_legal_rep: float = 0.8
    transmit_control: float = 0.9
    transmit_shareholding: float = 0.6
    transmit_officer: float = 0.3
    transmit_branch: float = 0.8
    transmit_agent: float = 0.1
    #: Entity -> shared Address/Phone node; the node passes it on divided by how many entities share it.
    transmit_address: float = 0.2
    transmit_phone: float = 0.3
    #: A share ratio above this is control (absolute majority).
    control_ratio: float = 0.5
    #: Risk kept per hop (the PageRank damping factor): hop h is weighted decay**h.
    decay: float = 0.5
    #: Most hops risk travels (at decay 0.5 the 10th hop weighs 0.001).
    max_hops: int = 10
    #: Convergence tolerance: propagation stops before ``max_hops`` once the hops left can add, summed
    #: over all nodes, at most this share of the total seed (a bound, since each hop passes on at most
    #: ``decay`` times the previous one). 1e-4 changes no entity's risk by more than 1e-4 of the total
    #: seed and saves the last, negligible hops on large graphs; 0 always runs ``max_hops`` hops.
    tolerance: float = 1e-4
    #: Float type of the transmission matrix and of each hop's vector: "float32" halves the memory
    #: traffic of the sparse products (the risk is still summed in float64; relative error about 1e-6);
    #: "float64" when results must match another implementation to more digits.
    precision: str = "float32"
    #: Threads for the sparse products of propagation (each takes a block of the matrix's rows;
    #: scipy releases the GIL there). 1 keeps propagation on one core.
    threads: int = 2
    #: Related risk without echo: an entity's own risk coming back around loops is removed from
    #: what it receives from related parties (grading uses that). On big graphs, return paths
    #: weaker than ``echo_prune`` are not followed: 3e-3 costs 0.15 s CPU per 1M relationships
    #: and leaves in at most ~0.5% of an entity's own risk (1e-3: 0.27 s and 0.2%; 1e-4: 1 s).
    echo_free: bool = True
    echo_prune: float = 3e-3
    #: Nodes with more links than this pass on proportionally less per link (supernode damping).
    supernode_degree: int = 50
    #: "cap": a node's outgoing weights are scaled down only when they sum above 1;
    #: "row": always row-normalised (then propagation equals personalized PageRank).
    normalise: str = "cap"
    #: Top contributing sources (with their paths) reported per explained entity.
    explain_sources: int = 3
    #: How many of the riskiest entities get sources and paths in `credgraph risk` output.
    explain_entities: int = 500

    # --- grading (credgraph grade) ------------------------------------------------------------
    #: The indicator system (dimension, source, formula, weight per indicator): a TOML file;
    #: empty = the packaged analytics/indicators.toml (47 indicators in five dimensions).
    indicators_file: str = ""
    #: "mix": cut points calibrated so grades follow ``grade_mix``; "cuts": fixed ``grade_cuts``;
    #: "quantiles": shares ``grade_quantiles``.
    grade_method: str = "mix"
    #: Shares of A+, A, B, C, D among enterprises not vetoed (E comes by veto): the seed report's
    #: Pingshan district mix, 0.6 / 6.4 / 69.6 / 23.0 / 0.4 %.
    grade_mix: tuple = (0.006, 0.064, 0.696, 0.230, 0.004)
    #: With grade_method = "cuts": lowest score of A+, A, B, C, D (below the last cut: E).
    grade_cuts: tuple = (95.0, 88.0, 78.0, 65.0, 50.0)
    #: With grade_method = "quantiles": cumulative shares of A+, A, B, C, D from the best down.
    grade_quantiles: tuple = (0.10, 0.35, 0.70, 0.85, 0.95)
    #: Legal persons whose USCC starts with one of these (market regulation) are graded as
    #: enterprises; others (law firms, social organisations, public institutions) are left out, stated.
    enterprise_uscc_first: tuple = ("9",)
    #: Active records of these event types put an enterprise in grade E whatever its score (一票否决).
    grade_veto: tuple = ("serious_illegal",)

    # --- inspection lists (credgraph inspect) -----------------------------------------------
    #: Seed of the random draw of inspection lists (printed with every list).
    inspection_seed: int = 2026
    #: Sampling ratio per grade A+, A, B, C, D, E (higher for riskier grades).
    sample_ratios: tuple = (0.005, 0.01, 0.02, 0.10, 0.40, 0.90)
    #: How the list is stratified (分类监管): ``"risk"`` = risk classes by score rank (below), random within
    #: each class; ``"grade"`` = the credit grades A+..E with ``sample_ratios``. Measured in
    #: bench/bench_eval.py at a 5% budget on non-shell violators: random within grade 1.6-1.7x the random
    #: rate, risk classes 2.6-3.2x before any re-fit (README, "Analytics: how well it works").
    inspection_strata: str = "risk"
    #: Risk classes (企业信用风险分类: 高风险, 较高风险, 一般风险, 低风险) as shares of the enterprises that can
    #: be drawn, lowest score (riskiest) first; a class is every firm of its rank band.
    risk_class_shares: tuple = (0.04, 0.06, 0.40, 0.50)
    #: Sampling ratio per risk class, scaled together to fill the budget: at a 5% budget about 80% of the
    #: list comes from the top class (drawn at random within it), the rest from the others.
    risk_class_ratios: tuple = (1.0, 0.10, 0.01, 0.002)
    #: Inspection budget as a share of enterprises; 0 = draw exactly the sampling ratios.
    #: Otherwise the ratios are scaled (riskiest grades filled first) so the list has this size.
    inspection_budget: float = 0.05
    #: Enterprises inspected within this many months (past inspections CSV) are excluded.
    exclude_months: int = 12
    #: Draw only operating enterprises (not deregistered 注销 or revoked 吊销).
    inspect_live_only: bool = True
    #: Inspectors per target, and how many entity links (representative, shareholder, officer,
    #: branch, agent) between an inspector's own entity and a firm exclude the inspector from it.
    inspectors_per_target: int = 2
    inspector_link_hops: int = 2
    #: Re-fitting weights from outcomes (analytics/loop.py): strengths tried for the pull of the
    #: current weights (the variance of a coefficient's distance from them, on standardised
    #: indicators; small = stay near the current weights), the best chosen by cross-validation.
    refit_c_grid: tuple = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)

    # --- shell companies (credgraph shells) --------------------------------------------------
    #: Smallest candidate group (firms sharing an address, phone, agent or person).
    shell_min_cluster: int = 3
    #: A group is unusual when its score is at least this many robust deviations (MAD) above the
    #: median group's (see analytics/shells.py): 3.5 is Iglewicz and Hoaglin's usual cut for the
    #: modified z-score, the same for every city.
    shell_flag_z: float = 3.5
    #: A firm is flagged when it belongs to at least this many unusual groups ...
    shell_min_unusual: int = 2
    #: ... and its own score is at least this quantile of the city's firms' (an ordinary firm that
    #: shares an agent with a ring is not flagged) ...
    shell_own_quantile: float = 0.5
    #: ... or when one unusual group of a kind in ``shell_single_kinds`` scores at least this many
    #: standard deviations above random groups of its size drawn from the city's firms (``null_z``:
    #: a ring that shares only its premises has no second tie to corroborate it, but ten firms whose
    #: abnormal-list entries, missing staff and registrations cluster that much are not chance; 0
    #: turns the path off) ...
    shell_single_null_z: float = 4.5
    #: ... of these kinds: premises only. Agents, phones (an agent's number) and people serve
    #: ordinary firms beside a ring, so their groups mix the two and need a second unusual group
    #: (measured on development seeds 100-101 of bench/bench_eval.py: with agents and phones the
    #: path flagged their ordinary clients, burst precision 0.87-0.89) ...
    shell_single_kinds: tuple = ("address",)
    #: ... provided the firm's own score is at least this quantile of the city's firms' (lower than
    #: ``shell_own_quantile``: its group is far out and the ring's members share nothing else).
    shell_single_own_quantile: float = 0.2
    #: Random groups drawn per group size for ``null_z`` (sizes above 20 in steps of about 10%) and
    #: the seed of those draws.
    shell_null_draws: int = 200
    shell_null_seed: int = 0

    # --- related parties and credit checks --------------------------------------------------
    #: Largest number of links between two listed entities for them to count as related.
    related_max_hops: int = 4
    #: Fuzzy name matches below this (0-100) leave a checked row unresolved.
    check_min_score: float = 85.0
    #: Related parties with a propagated risk at least this are reported as risky in checks.
    check_risky_related: float = 0.3


@dataclass
class DashboardConfig:
    #: Port the Streamlit app listens on (loopback only: 127.0.0.1).
    port: int = 8501
    #: Seconds `credgraph dashboard` (and `launch`) waits for the app to answer before giving up.
    start_timeout_s: float = 60.0
    #: Rows and seconds allowed to one query of the Cypher console (read-only in any case).
    cypher_row_limit: int = 500
    cypher_timeout_s: float = 10.0
    #: Neighbours added to the network explorer per expansion (a page; the total is always shown).
    expand_page: int = 25
    #: Most nodes the explorer canvas holds; further expansions ask to clear it first.
    max_canvas_nodes: int = 400
    #: Results shown by the search page.
    search_limit: int = 20
    #: Paths shown between two nodes, and their longest length in links.
    path_limit: int = 10
    path_max_hops: int = 4
    #: Depth of the ownership penetration tree (shareholding layers up and down).
    ownership_depth: int = 5
    #: Share of a company above which a natural person is reported as a beneficial owner.
    beneficial_owner_threshold: float = 0.25
    #: Records listed in the entity profile's timeline (newest first).
    timeline_limit: int = 200
    #: Default name recorded with review decisions when the reviewer gives none.
    reviewer: str = ""
    #: Most rows one search, neighbourhood or path question reads from the store (the
    #: dashboard's graph.max_scan_rows: lower answers faster; neighbour totals stay exact).
    max_scan_rows: int = 5000
    #: Most entities of a graph whose analytics the dashboard computes itself when ``credgraph
    #: analyse`` has not stored results for the current graph (about 30 s and 4 GB at 100k
    #: entities); above it the dashboard asks for ``credgraph analyse`` instead.
    compute_limit: int = 150_000


@dataclass
class ApiConfig:
    """The data interface for institutions (``credgraph serve``)."""

    #: Address the HTTP API binds to; 127.0.0.1 keeps it on this machine.
    host: str = "127.0.0.1"
    #: Port of the HTTP API.
    port: int = 8700
    #: Largest request body in bytes (413 above it).
    max_body_bytes: int = 2_000_000
    #: Most examples or subjects in one match or check request (413 above it).
    max_batch: int = 1000
    #: Candidates returned per example when the request gives no limit.
    match_limit: int = 5
    #: Default rate limit per API key, requests per minute (a key may set its own).
    rate_per_minute: int = 600
    #: Default daily quota per API key, requests per UTC day (a key may set its own).
    daily_quota: int = 100_000
    #: Catalogue of joint reward and punishment measures (TOML); empty: the sample catalogue.
    measures: str = ""
    #: TrueType font embedded in PDF reports; empty: the first CJK font found (fonts-wqy-microhei).
    report_font: str = ""
    #: Threads of the matcher's worker process (polars); 1 leaves the other core to the server's
    #: own requests on a 2-core machine; 0: polars' default (all cores).
    matcher_threads: int = 1
    #: A big match batch goes to the matcher in chunks of this many examples, so single matches
    #: arriving meanwhile wait for one chunk, not the whole batch; requests of at most a quarter
    #: of it are combined with others into one matcher call.
    match_chunk: int = 200
    #: Matcher worker processes of the server: 2 = one for small requests (single matches, driven
    #: from the event loop over a pipe) and one for big batches, so a single match never waits
    #: behind a batch (each worker holds a copy of the Matcher's indexes); 1 = one worker taking turns.
    match_lanes: int = 2
    #: Seconds the server reuses a key's look-up (its scopes, limits, revocation) before reading the
    #: key file again: a key revoked with ``credgraph api-keys revoke`` is refused at most this much
    #: later; 0 reads the file on every call.
    key_cache_seconds: float = 1.0
    #: Diagnostics: at shutdown the server prints the event loop's lag and the matcher lanes' queue
    #: waits and call times (percentiles, lines starting ``TIMING``; ``bench/bench_api.py`` sets it).
    timings: bool = False


@dataclass
class Config:
    workspace: WorkspaceConfig = field(default_factory=WorkspaceConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    resolution: ResolutionConfig = field(default_factory=ResolutionConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    @property
    def workspace_path(self) -> Path:
        return Path(self.workspace.path).expanduser()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_ENV_ALIASES = {
    "NEO4J_URI": ("graph", "neo4j_uri"),
    "NEO4J_USER": ("graph", "neo4j_user"),
    "NEO4J_PASSWORD": ("graph", "neo4j_password"),
}


def _coerce(value: Any, default: Any, where: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: cannot use {value!r} (expected {type(default).__name__})") from None


def _apply(cfg: Config, section: str, key: str, value: Any, where: str) -> None:
    sec = getattr(cfg, section, None)
    if sec is None or not dataclasses.is_dataclass(sec):
        raise ConfigError(f"{where}: unknown section [{section}]")
    if key not in {f.name for f in dataclasses.fields(sec)}:
        raise ConfigError(f"{where}: unknown setting {section}.{key}")
    setattr(sec, key, _coerce(value, getattr(sec, key), where))


def load_config(
    path: str | Path | None = "credgraph.toml",
    env: Mapping[str, str] | None = None,
) -> Config:
    """Build the effective configuration from defaults, the TOML file and the environment."""
    env = os.environ if env is None else env
    cfg = Config()
    path = env.get("CREDGRAPH_CONFIG", path)
    if path is not None and Path(path).is_file():
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for section, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: {section} must be a table like [{section}]")
            for key, value in table.items():
                _apply(cfg, section, key, value, f"{path} [{section}] {key}")
    for name, value in env.items():
        if name in _ENV_ALIASES:
            _apply(cfg, *_ENV_ALIASES[name], value, f"environment {name}")
        elif name.startswith("CREDGRAPH_") and "__" in name:
            section, _, key = name[len("CREDGRAPH_"):].lower().partition("__")
            _apply(cfg, section, key, value, f"environment {name}")
    if cfg.graph.hash_key:
        from credgraph.security.secrets import SecretError, check_key

        try:
            check_key(cfg.graph.hash_key, "graph.hash_key")
        except SecretError as exc:
            raise ConfigError(str(exc)) from None
    return cfg
