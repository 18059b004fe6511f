"""The analysts' query gate: an allowlist checked on the tokenised query before anything runs.

Both backends run an analyst's Cypher (``credgraph query``, the dashboard's console) only
after :func:`check_query` accepted it. The query is split into tokens the way a Cypher parser
splits it (string literals, backtick names, ``//`` and ``/* */`` comments, parameters, words,
symbols), and then:

* one statement: no ``;`` except one at the very end;
* it starts with a read clause: ``MATCH``, ``OPTIONAL MATCH``, ``WITH``, ``UNWIND`` or ``RETURN``;
* every keyword is a read keyword (:data:`READ_KEYWORDS`); a word on :data:`FORBIDDEN` used as a
  keyword (``LOAD``, ``COPY``, ``INSTALL``, ``ATTACH``, ``CREATE``, ``SET``, ``DELETE``, ``SHOW``,
  ``TERMINATE``, ``USE``, ``EXPLAIN``, ...) refuses the query, wherever it stands;
* every function called is on :data:`FUNCTIONS` (no namespaced call: ``dbms.*``, ``apoc.*``,
  ``db.*``, ``file.*``; no ``range``/``reduce``, which build values of any size);
* ``CALL`` only of a procedure on :data:`PROCEDURES` (Neo4j's full-text search and schema
  listings), never a ``CALL { ... }`` subquery;
* no backslash outside string literals, no unterminated string or comment, at most
  :data:`MAX_QUERY_CHARS` characters.

Labels, relationship types, property keys and map keys may be any name (``n.load`` is a
property, ``(:Copy)`` a label). The database's own protections stay on behind the gate: the
embedded store is opened read-only, Neo4j sessions use READ access, every query has a timeout,
and results are cut at a row limit and a byte limit.

>>> check_query("MATCH (n:LegalPerson) WHERE n.name CONTAINS '华强' RETURN n.name LIMIT 5")
>>> check_query("LOAD FROM '/etc/passwd' RETURN *")
Traceback (most recent call last):
...
credgraph.security.gate.GateError: refused: `LOAD` is not allowed: analysts' queries are read-only (read clauses only: MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN)
>>> check_query("RETURN 1; COPY (MATCH (n) RETURN n) TO '/tmp/x.csv'")
Traceback (most recent call last):
...
credgraph.security.gate.GateError: refused: one statement at a time (found `;` before the end)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GateError", "check_query", "tokenize", "Token", "READ_KEYWORDS", "FORBIDDEN", "FUNCTIONS",
           "PROCEDURES", "MAX_QUERY_CHARS"]

MAX_QUERY_CHARS = 20_000

#: Words an analyst's query may use as keywords.
READ_KEYWORDS = frozenset("""
MATCH OPTIONAL WHERE RETURN WITH UNWIND ORDER BY SKIP LIMIT OFFSET DISTINCT AS AND OR XOR NOT IN IS NULL
TRUE FALSE CASE WHEN THEN ELSE END ASC DESC ASCENDING DESCENDING STARTS ENDS CONTAINS UNION ALL ANY NONE
SINGLE EXISTS COUNT SHORTEST ACYCLIC TRAIL WALK YIELD
""".split())

#: Words that refuse a query when used as a keyword (write, file, extension, admin and
#: transaction commands of either backend).
FORBIDDEN = frozenset("""
LOAD COPY INSTALL ATTACH DETACH CALL CREATE MERGE DELETE SET REMOVE DROP ALTER GRANT DENY REVOKE SHOW
TERMINATE USE FOREACH IMPORT EXPORT CHECKPOINT BEGIN COMMIT ROLLBACK EXPLAIN PROFILE PERIODIC CSV FROM
START STOP ENABLE DISABLE RENAME TRANSACTION TRANSACTIONS DATABASE DATABASES USER USERS ROLE ROLES
PRIVILEGE PRIVILEGES INDEX CONSTRAINT PROCEDURE PROCEDURES FUNCTION FUNCTIONS EXTENSION MACRO PROJECT
GRAPH INSERT FINISH OPTIONS UPDATE UNINSTALL FORCE
""".split())

#: Functions an analyst may call (lower case; either backend's spelling).
FUNCTIONS = frozenset("""
count sum avg min max collect stdev stdevp percentilecont percentiledisc
labels label type nodes relationships rels length size coalesce
tolower toupper lower upper trim ltrim rtrim substring left right split replace reverse
tostring tointeger tofloat toboolean tostringornull tointegerornull tofloatornull
abs round floor ceil sign sqrt exp log log10
startnode endnode start_node end_node properties keys head last tail isempty
exists date datetime localdatetime duration year month day
shortestpath allshortestpaths any all none single
""".split())

#: Procedures an analyst may CALL (lower case): Neo4j's full-text search and schema listings.
PROCEDURES = frozenset({"db.index.fulltext.querynodes", "db.labels", "db.relationshiptypes", "db.propertykeys"})

_FIRST = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL"})


class GateError(ValueError):
    """The query was refused before running; the message says what is not allowed."""


@dataclass(frozen=True)
class Token:
    kind: str  # word, qname (backtick name), string, number, param, sym
    text: str
    pos: int


_WORD = re.compile(r"[^\W\d]\w*", re.UNICODE)
_NUMBER = re.compile(r"\d[\w.]*")
_SPACE = re.compile(r"\s+", re.UNICODE)


def tokenize(text: str) -> list[Token]:
    """Tokens of a Cypher text, comments and whitespace dropped; GateError on what a parser would not close."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise GateError("refused: a /* comment is not closed")
            i = j + 2
            continue
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise GateError("refused: a string literal is not closed")
            out.append(Token("string", text[i:j + 1], i))
            i = j + 1
            continue
        if c == "`":
            j = i + 1
            buf = []
            while True:
                k = text.find("`", j)
                if k < 0:
                    raise GateError("refused: a `quoted` name is not closed")
                buf.append(text[j:k])
                if text.startswith("``", k):
                    buf.append("`")
                    j = k + 2
                    continue
                break
            out.append(Token("qname", "".join(buf), i))
            i = k + 1
            continue
        if c == "$":
            m = _WORD.match(text, i + 1) or _NUMBER.match(text, i + 1)
            if not m:
                raise GateError("refused: `$` must start a parameter name")
            out.append(Token("param", m.group(), i))
            i = m.end()
            continue
        m = _WORD.match(text, i)
        if m:
            out.append(Token("word", m.group(), i))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m:
            out.append(Token("number", m.group(), i))
            i = m.end()
            continue
        if c == "\\":
            raise GateError("refused: a backslash outside a string literal")
        out.append(Token("sym", c, i))
        i += 1
    return out


def _is_name(toks: list[Token], k: int) -> bool:
    """Token k stands where a name goes: after ``.`` (property), ``:`` (label/type), ``|``/``&``/``!``
    inside a label expression (``:A|B``), or before ``:`` as a map key (``{name: ...}``)."""
    prev = toks[k - 1].text if k > 0 and toks[k - 1].kind == "sym" else ""
    if prev in (".", ":"):
        return True
    if prev in ("|", "&", "!"):
        return _in_label_expr(toks, k)
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    return nxt is not None and nxt.kind == "sym" and nxt.text == ":" and prev in ("{", ",")


def _in_label_expr(toks: list[Token], k: int) -> bool:
    """``|`` between labels or types (``:A|B``): walk back over names and bars to a ``:``."""
    j = k - 1
    while j >= 1 and toks[j].kind == "sym" and toks[j].text in ("|", "!", "&") and toks[j - 1].kind in ("word", "qname"):
        j -= 2
        if j >= 0 and toks[j].kind == "sym" and toks[j].text == ":":
            return True
    return False


def _next_sym(toks: list[Token], k: int) -> str:
    return toks[k + 1].text if k + 1 < len(toks) and toks[k + 1].kind == "sym" else ""


def _call(toks: list[Token], k: int) -> int:
    """Check ``CALL proc.name(`` at k; return the index of its ``(``."""
    parts, j = [], k + 1
    while j < len(toks) and toks[j].kind in ("word", "qname"):
        parts.append(toks[j].text.lower())
        j += 1
        if j < len(toks) and toks[j].kind == "sym" and toks[j].text == ".":
            j += 1
            continue
        break
    name = ".".join(parts)
    if not parts or j >= len(toks) or toks[j].text != "(" or name not in PROCEDURES:
        what = name or "a subquery"
        raise GateError(f"refused: CALL {what} is not allowed (allowed procedures: {', '.join(sorted(PROCEDURES))})")
    return j


def check_query(text: str) -> None:
    """Refuse (GateError with the reason) any query that is not a single read query made of allowed parts."""
    if not isinstance(text, str) or not text.strip():
        raise GateError("refused: the query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise GateError(f"refused: the query is longer than {MAX_QUERY_CHARS:,} characters")
    if "\x00" in text:
        raise GateError("refused: the query holds a NUL character")
    toks = tokenize(text)
    if toks and toks[-1].kind == "sym" and toks[-1].text == ";":
        toks = toks[:-1]
    if not toks:
        raise GateError("refused: the query is empty")
    for t in toks:
        if t.kind == "sym" and t.text == ";":
            raise GateError("refused: one statement at a time (found `;` before the end)")
    first = toks[0]
    if first.kind != "word" or first.text.upper() not in _FIRST:
        word = first.text if first.kind in ("word", "qname") else first.text
        raise GateError(f"refused: `{word}` is not allowed: analysts' queries are read-only "
                        "(read clauses only: MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN)")
    skip_to = -1
    for k, t in enumerate(toks):
        if k <= skip_to:
            continue
        if t.kind not in ("word", "qname"):
            continue
        if _is_name(toks, k):
            # a property, label, type or map key; but never a namespaced call like dbms.x()
            if _next_sym(toks, k) == "(" and k > 0 and toks[k - 1].text == ".":
                raise GateError(f"refused: namespaced function `{toks[k - 2].text if k > 1 else ''}.{t.text}()` "
                                "is not allowed")
            continue
        up = t.text.upper()
        if t.kind == "word" and up == "CALL":
            skip_to = _call(toks, k)
            continue
        if t.kind == "word" and up in FORBIDDEN:
            raise GateError(f"refused: `{t.text}` is not allowed: analysts' queries are read-only "
                            "(read clauses only: MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN)")
        if _next_sym(toks, k) == "(":
            if t.kind == "word" and up in READ_KEYWORDS and t.text.lower() not in FUNCTIONS:
                continue  # MATCH (, WHERE (, AND (, IN (, ...
            if t.text.lower() not in FUNCTIONS:
                raise GateError(f"refused: function `{t.text}()` is not allowed in an analyst's query")
        elif _next_sym(toks, k) == "." and k + 3 < len(toks) and toks[k + 2].kind in ("word", "qname") \
                and _next_sym(toks, k + 2) in (".", "("):
            # a.b( or a.b.c(: a namespaced function or procedure
            j = k + 2
            while _next_sym(toks, j) == "." and j + 2 < len(toks):
                j += 2
            if _next_sym(toks, j) == "(":
                raise GateError(f"refused: namespaced function `{t.text}.…()` is not allowed")
