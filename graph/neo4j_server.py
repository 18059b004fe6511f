"""A local Neo4j Community server, fetched from Maven Central and run from a cache.

``credgraph neo4j start`` (or ``python -m credgraph.graph.neo4j_server start``) gives the
graph stage a real Neo4j 5.26 LTS without a package manager or a download site:

1. **Jars.** ``graph/neo4j/pom.xml`` names the server (``org.neo4j:neo4j``, which holds
   the entry point, ``org.neo4j.app:neo4j-server``, ``org.neo4j:neo4j-bolt``) and APOC
   core. Maven's ``dependency:copy-dependencies`` copies them with everything they need
   into ``<graph.neo4j_home>/lib`` and ``/plugins`` (default ``~/.cache/credgraph/neo4j``),
   outside the repository. This happens once; a marker file remembers the pom it came from.
2. **Instance.** Each Bolt port gets its own instance folder
   ``<neo4j_home>/instances/<port>/`` (conf, data, logs, run), so the test server
   (port 17687, see :func:`config_for_tests`) never touches the data of the working one.
   ``neo4j.conf`` is written from the configuration on every start: Bolt on the loopback
   address only, HTTP and HTTPS off, authentication on, no usage reporting, LOAD CSV
   limited (no file URLs, no outgoing addresses), heap and page cache from
   ``graph.neo4j_heap`` / ``graph.neo4j_pagecache``.
3. **Password.** Before the very first start the initial password of user ``neo4j`` is
   set with Neo4j's own admin tool (``org.neo4j.cli.AdminTool dbms set-initial-password``),
   which writes ``data/dbms/auth.ini``; the server imports it when it creates its system
   database. A server whose database was made with another password answers with an
   authentication error, which :func:`start` turns into a message saying what to do.
4. **Process.** ``java -cp 'plugins/*:lib/*' org.neo4j.server.CommunityEntryPoint
   --home-dir <instance> --config-dir <instance>/conf --console-mode`` runs in its own
   session in the background, output to ``logs/console.log``, its pid in
   ``run/credgraph-neo4j.pid``. :func:`start` returns when Bolt answers a query with the
   configured user and password; :func:`stop` sends SIGTERM (SIGKILL after a timeout).

Only a server on this machine (127.0.0.1, localhost, ::1) can be started; to use any
other server, set ``NEO4J_URI``, ``NEO4J_USER`` and ``NEO4J_PASSWORD``.

>>> from credgraph.config import Config
>>> cfg = Config()
>>> lay = layout(cfg)
>>> lay.port, lay.instance.name
(7687, '7687')
>>> config_for_tests(cfg).graph.neo4j_uri
'bolt://127.0.0.1:17687'
>>> "server.http.enabled=false" in render_conf(cfg, lay)
True
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from credgraph.atomic import atomic_dir, write_text

__all__ = [
    "ServerError",
    "ServerLayout",
    "ServerStatus",
    "POM",
    "layout",
    "render_conf",
    "fetch_jars",
    "start",
    "stop",
    "status",
    "config_for_tests",
    "TEST_PORT",
    "main",
]

#: The pom naming the server's jars (committed beside this module).
POM = Path(__file__).resolve().parent / "neo4j" / "pom.xml"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Port of the test instance; its data is separate from the working server's.
TEST_PORT = 17687
_MARKER = ".credgraph-pom.sha256"

# JVM options the Neo4j launcher script would add (from the default neo4j.conf).
_JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)


class ServerError(RuntimeError):
    """The local server cannot be fetched, started or reached; the message says how to fix it."""


@dataclass(frozen=True)
class ServerLayout:
    """Where the jars and one instance (the one for the configured Bolt port) live."""

    home: Path
    lib: Path
    plugins: Path
    instance: Path
    host: str
    port: int

    @property
    def conf(self) -> Path:
        return self.instance / "conf"

    @property
    def data(self) -> Path:
        return self.instance / "data"

    @property
    def logs(self) -> Path:
        return self.instance / "logs"

    @property
    def pid_file(self) -> Path:
        return self.instance / "run" / "credgraph-neo4j.pid"

    @property
    def log_file(self) -> Path:
        return self.logs / "console.log"


@dataclass
class ServerStatus:
    """What :func:`status`, :func:`start` and :func:`stop` found or did."""

    running: bool
    answering: bool
    pid: int | None
    uri: str
    instance: Path | None
    message: str
    version: str | None = None
    seconds: float | None = None


def _parse_uri(uri: str) -> tuple[str, int]:
    parts = urlsplit(uri)
    if parts.scheme not in ("bolt", "neo4j", "bolt+s", "bolt+ssc", "neo4j+s", "neo4j+ssc"):
        raise ServerError(f"NEO4J_URI {uri!r}: expected bolt://host:port or neo4j://host:port")
    return parts.hostname or "127.0.0.1", parts.port or 7687


def layout(cfg) -> ServerLayout:
    """The folders of the local server for ``cfg`` (nothing is created)."""
    home = Path(cfg.graph.neo4j_home).expanduser()
    host, port = _parse_uri(cfg.graph.neo4j_uri)
    return ServerLayout(home=home, lib=home / "lib", plugins=home / "plugins",
                        instance=home / "instances" / str(port), host=host, port=port)


def config_for_tests(cfg):
    """A copy of ``cfg`` pointing at the test instance: port 17687, its own password, small memory.

    The tests load and wipe graphs; they do so only on this instance, never on the server
    that ``NEO4J_URI`` names.
    """
    out = copy.deepcopy(cfg)
    out.graph.backend = "neo4j"
    out.graph.neo4j_uri = os.environ.get("CREDGRAPH_TEST_NEO4J_URI", f"bolt://127.0.0.1:{TEST_PORT}")
    out.graph.neo4j_user = "neo4j"
    out.graph.neo4j_password = os.environ.get("CREDGRAPH_TEST_NEO4J_PASSWORD", "credgraph-test")
    out.graph.neo4j_heap = "768m"
    out.graph.neo4j_pagecache = "256m"
    out.graph.neo4j_transaction_max = "256m"
    return out


def render_conf(cfg, lay: ServerLayout) -> str:
    """The neo4j.conf written before each start."""
    g = cfg.graph
    lines = [
        "# Written by credgraph.graph.neo4j_server on every start; edits are overwritten.",
        f"server.default_listen_address={lay.host if lay.host != 'localhost' else '127.0.0.1'}",
        "server.default_advertised_address=127.0.0.1",
        "server.bolt.enabled=true",
        f"server.bolt.listen_address=:{lay.port}",
        "server.http.enabled=false",
        "server.https.enabled=false",
        "dbms.routing.enabled=false",
        "dbms.security.auth_enabled=true",
        "dbms.usage_report.enabled=false",
        # Analysts' read-only Cypher may not read local files nor reach other machines.
        "dbms.security.allow_csv_import_from_file_urls=false",
        "internal.dbms.cypher_ip_blocklist=0.0.0.0/0,::/0",
        "dbms.security.procedures.unrestricted=",
        "dbms.security.procedures.allowlist=apoc.*",
        f"server.memory.heap.initial_size={g.neo4j_heap}",
        f"server.memory.heap.max_size={g.neo4j_heap}",
        f"server.memory.pagecache.size={g.neo4j_pagecache}",
        # one transaction (an analyst's query building a huge value) may not take the whole heap
        f"db.memory.transaction.max={g.neo4j_transaction_max}",
        f"server.directories.data={lay.data}",
        f"server.directories.logs={lay.logs}",
        f"server.directories.plugins={lay.plugins}",
        f"server.directories.run={lay.instance / 'run'}",
        f"server.directories.import={lay.instance / 'import'}",
        f"server.directories.lib={lay.lib}",
        "db.tx_log.rotation.retention_policy=2 files",
        # bulk loads: let checkpoints write as fast as the disk allows (default: 600 IOPS)
        "db.checkpoint.iops.limit=-1",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ jars
def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def jars_ready(lay: ServerLayout) -> bool:
    """True when lib/ and plugins/ hold the jars of the current pom."""
    marker = lay.lib / _MARKER
    return marker.is_file() and marker.read_text().strip() == _pom_digest() and (lay.plugins / _MARKER).is_file()


def fetch_jars(cfg, log=print) -> float:
    """Copy the server's jars from Maven Central into the cache; returns the seconds it took.

    Already fetched (for this pom) → returns 0 at once. Needs ``mvn`` (Debian: maven)
    and a Java 17 JDK; a failed fetch leaves the previous cache untouched.
    """
    lay = layout(cfg)
    if jars_ready(lay):
        return 0.0
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError("Maven (mvn) is needed once to fetch the Neo4j jars: apt-get install maven")
    if not POM.is_file():
        raise ServerError(f"{POM}: the pom naming the Neo4j jars is missing from the installation")
    t0 = time.monotonic()
    log(f"fetching Neo4j jars from Maven Central into {lay.home} (once; a few minutes) ...")
    digest = _pom_digest()
    lay.home.mkdir(parents=True, exist_ok=True)
    jobs = (
        (lay.lib, ["-DexcludeArtifactIds=apoc-core,apoc-common"]),
        (lay.plugins, ["-DincludeArtifactIds=apoc-core,apoc-common", "-DexcludeTransitive=true"]),
    )
    for target, extra in jobs:
        with atomic_dir(target) as tmp:
            cmd = [mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
                   f"-DoutputDirectory={tmp}", *extra]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                raise ServerError(f"fetching the Neo4j jars failed (mvn exit {proc.returncode}):\n{tail}")
            (tmp / _MARKER).write_text(digest)
    secs = time.monotonic() - t0
    log(f"fetched the Neo4j jars in {secs:.0f} s")
    return secs


# --------------------------------------------------------------------------- process
def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServerError("Java 17 is needed to run Neo4j: apt-get install openjdk-17-jdk-headless")
    out = subprocess.run([java, "-version"], capture_output=True, text=True)
    m = re.search(r'version "(\d+)', out.stderr + out.stdout)
    if m is None or int(m.group(1)) < 17:
        raise ServerError(f"Neo4j 5.26 needs Java 17 or newer; {java} is {m.group(1) if m else 'unknown'}")
    return java


def _read_pid(lay: ServerLayout) -> int | None:
    try:
        return int(lay.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _our_process(pid: int | None, lay: ServerLayout) -> bool:
    """True when ``pid`` is alive and is the Neo4j of this instance (not a reused pid)."""
    if pid is None:
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        cmd = " ".join(proc.cmdline())
    except Exception:
        return False
    return ENTRY_POINT in cmd and str(lay.instance) in cmd


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _probe(cfg) -> tuple[bool, str | None, str | None]:
    """(answering, version, error) of the Bolt server named by ``cfg``."""
    import neo4j
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    g = cfg.graph
    try:
        with neo4j.GraphDatabase.driver(g.neo4j_uri, auth=(g.neo4j_user, g.neo4j_password),
                                        connection_timeout=3.0, max_connection_lifetime=30) as drv:
            recs, _, _ = drv.execute_query(
                "CALL dbms.components() YIELD versions RETURN versions[0] AS v", routing_=neo4j.RoutingControl.READ)
            return True, recs[0]["v"], None
    except AuthError:
        return False, None, "auth"
    except (ServiceUnavailable, OSError):
        return False, None, "unavailable"
    except Neo4jError as exc:  # e.g. database still starting
        return False, None, f"{exc.code}"
    except Exception as exc:  # noqa: BLE001 - a probe reports, never raises
        return False, None, type(exc).__name__


def _auth_message(cfg, lay: ServerLayout | None) -> str:
    g = cfg.graph
    msg = (f"Neo4j at {g.neo4j_uri} refused user {g.neo4j_user!r} with the configured password. "
           "Set NEO4J_USER / NEO4J_PASSWORD (or [graph] neo4j_password in credgraph.toml) to the server's.")
    if lay is not None:
        msg += (f" For the local server, its password was fixed when {lay.data} was created; "
                f"`credgraph neo4j stop` and deleting {lay.data} starts it afresh (the loaded graph is lost).")
    return msg


def _log_tail(lay: ServerLayout, n: int = 20) -> str:
    try:
        lines = lay.log_file.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def status(cfg) -> ServerStatus:
    """Is the local server of ``cfg`` running, and does Bolt answer with the configured login?"""
    host, port = _parse_uri(cfg.graph.neo4j_uri)
    uri = cfg.graph.neo4j_uri
    if host not in LOCAL_HOSTS:
        ok, version, err = _probe(cfg)
        msg = (f"Neo4j {version} answers at {uri}" if ok else
               _auth_message(cfg, None) if err == "auth" else f"no Neo4j answers at {uri} ({err})")
        return ServerStatus(False, ok, None, uri, None, msg, version)
    lay = layout(cfg)
    pid = _read_pid(lay)
    ours = _our_process(pid, lay)
    ok, version, err = _probe(cfg) if _port_open(lay.host if lay.host != "localhost" else "127.0.0.1", port) else (
        False, None, "unavailable")
    if ours and ok:
        msg = f"Neo4j {version} is running (pid {pid}) at {uri}; data in {lay.data}"
    elif ours:
        msg = (_auth_message(cfg, lay) if err == "auth" else
               f"Neo4j (pid {pid}) is running but Bolt at {uri} does not answer yet ({err}); log: {lay.log_file}")
    elif ok:
        msg = f"a Neo4j {version} not started by credgraph answers at {uri}"
    else:
        msg = f"Neo4j is not running at {uri}" + (" (port taken by another program)" if err != "unavailable" else "")
    return ServerStatus(ours, ok, pid if ours else None, uri, lay.instance, msg, version)


def _set_initial_password(cfg, lay: ServerLayout, java: str) -> None:
    """Set the password of user neo4j before the first start (writes data/dbms/auth.ini)."""
    if (lay.data / "databases" / "system").exists() or (lay.data / "dbms" / "auth.ini").exists():
        return
    if len(cfg.graph.neo4j_password) < 8:
        raise ServerError("NEO4J_PASSWORD must have at least 8 characters (Neo4j's minimum)")
    env = dict(os.environ, NEO4J_HOME=str(lay.instance), NEO4J_CONF=str(lay.conf))
    proc = subprocess.run(
        [java, "-cp", f"{lay.lib}/*", ADMIN_TOOL, "dbms", "set-initial-password", cfg.graph.neo4j_password],
        capture_output=True, text=True, env=env, cwd=lay.instance,
    )
    if proc.returncode != 0:
        raise ServerError(f"setting the initial Neo4j password failed: {(proc.stdout + proc.stderr).strip()[-800:]}")


def start(cfg, log=print, wait: bool = True) -> ServerStatus:
    """Start the local server in the background and wait until Bolt answers.

    Idempotent: a running server is left alone (the status says so). Raises
    :class:`ServerError` with a message saying what to do when it cannot start.
    """
    host, port = _parse_uri(cfg.graph.neo4j_uri)
    if host not in LOCAL_HOSTS:
        raise ServerError(f"NEO4J_URI names {host}: credgraph starts only a server on this machine. "
                          "Start that server yourself, or set NEO4J_URI=bolt://127.0.0.1:7687 for a local one.")
    lay = layout(cfg)
    t0 = time.monotonic()
    pid = _read_pid(lay)
    if _our_process(pid, lay):
        st = _wait_ready(cfg, lay, None, t0) if wait else status(cfg)
        st.message = f"already running: {st.message}"
        return st
    if _port_open("127.0.0.1", port):
        ok, version, err = _probe(cfg)
        if ok:
            return ServerStatus(False, True, None, cfg.graph.neo4j_uri, None,
                                f"already running: a Neo4j {version} not started by credgraph answers at "
                                f"{cfg.graph.neo4j_uri}", version, 0.0)
        raise ServerError(f"port {port} is taken by another program; stop it or choose another port in NEO4J_URI")
    java = _java()
    fetch_jars(cfg, log=log)
    for d in (lay.conf, lay.data, lay.logs, lay.instance / "run", lay.instance / "import"):
        d.mkdir(parents=True, exist_ok=True)
    write_text(render_conf(cfg, lay), lay.conf / "neo4j.conf")
    _set_initial_password(cfg, lay, java)
    heap = cfg.graph.neo4j_heap
    cmd = [java, f"-Xms{heap}", f"-Xmx{heap}", *_JVM_OPTIONS, "-cp", f"{lay.plugins}/*:{lay.lib}/*", ENTRY_POINT,
           f"--home-dir={lay.instance}", f"--config-dir={lay.conf}", "--console-mode"]
    with open(lay.log_file, "ab") as out:
        out.write(f"\n--- credgraph start {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=lay.instance, start_new_session=True)
    write_text(f"{proc.pid}\n", lay.pid_file)
    log(f"started Neo4j (pid {proc.pid}); waiting for Bolt at {cfg.graph.neo4j_uri} ...")
    if not wait:
        return ServerStatus(True, False, proc.pid, cfg.graph.neo4j_uri, lay.instance, "starting")
    return _wait_ready(cfg, lay, proc, t0)


def _wait_ready(cfg, lay: ServerLayout, proc, t0: float) -> ServerStatus:
    deadline = t0 + cfg.graph.neo4j_start_timeout_s
    err = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            lay.pid_file.unlink(missing_ok=True)
            raise ServerError(f"Neo4j exited during start (code {proc.returncode}); "
                              f"last lines of {lay.log_file}:\n{_log_tail(lay)}")
        if proc is None and not _our_process(_read_pid(lay), lay):
            raise ServerError(f"Neo4j stopped during start; see {lay.log_file}")
        if _port_open("127.0.0.1", lay.port):
            ok, version, err = _probe(cfg)
            if ok:
                secs = time.monotonic() - t0
                return ServerStatus(True, True, _read_pid(lay), cfg.graph.neo4j_uri, lay.instance,
                                    f"Neo4j {version} is running (pid {_read_pid(lay)}) at {cfg.graph.neo4j_uri}; "
                                    f"ready in {secs:.1f} s", version, secs)
            if err == "auth":
                raise ServerError(_auth_message(cfg, lay))
        time.sleep(0.5)
    raise ServerError(f"Neo4j did not answer within {cfg.graph.neo4j_start_timeout_s:.0f} s "
                      f"(last: {err}); see {lay.log_file}:\n{_log_tail(lay, 10)}")


def stop(cfg, timeout: float = 90.0, log=print) -> ServerStatus:
    """Stop the local server started by :func:`start` (SIGTERM, then SIGKILL after ``timeout``)."""
    lay = layout(cfg)
    pid = _read_pid(lay)
    uri = cfg.graph.neo4j_uri
    if not _our_process(pid, lay):
        lay.pid_file.unlink(missing_ok=True)
        return ServerStatus(False, False, None, uri, lay.instance, f"Neo4j is not running at {uri} (nothing to stop)")
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    log(f"stopping Neo4j (pid {pid}) ...")
    while _our_process(pid, lay) and time.monotonic() - t0 < timeout:
        time.sleep(0.2)
    killed = False
    if _our_process(pid, lay):
        os.kill(pid, signal.SIGKILL)
        killed = True
        while _our_process(pid, lay) and time.monotonic() - t0 < timeout + 10:
            time.sleep(0.2)
    lay.pid_file.unlink(missing_ok=True)
    secs = time.monotonic() - t0
    how = "killed after the timeout" if killed else "stopped"
    return ServerStatus(False, False, None, uri, lay.instance, f"Neo4j {how} in {secs:.1f} s", seconds=secs)


# ------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    """``python -m credgraph.graph.neo4j_server start|stop|status|fetch [--test]``."""
    from credgraph.config import ConfigError, load_config

    parser = argparse.ArgumentParser(prog="python -m credgraph.graph.neo4j_server",
                                     description="Start, stop or inspect the local Neo4j server of credgraph.")
    parser.add_argument("action", choices=("start", "stop", "status", "fetch"))
    parser.add_argument("--test", action="store_true",
                        help=f"the test instance (port {TEST_PORT}, its own data) instead of the configured one")
    args = parser.parse_args(argv)
    try:
        cfg = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.test:
        cfg = config_for_tests(cfg)
    try:
        if args.action == "fetch":
            secs = fetch_jars(cfg)
            print(f"jars ready in {layout(cfg).home} ({secs:.0f} s)")
            return 0
        st = {"start": start, "stop": stop}.get(args.action)
        result = st(cfg) if st else status(cfg)
    except ServerError as exc:
        print(f"neo4j: {exc}", file=sys.stderr)
        return 2
    print(result.message)
    return 0 if args.action != "status" or result.answering else 1


if __name__ == "__main__":
    sys.exit(main())
