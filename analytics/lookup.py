"""Finding the entity a user means: by code (exact) or by name (exact, then fuzzy).

Codes are compared in normal form (half-width, upper case, no spaces): an entity's node id,
USCC, 9-character organisation code (also read out of a USCC), 15-digit registration
number, or an 18-character resident ID. Code matches have confidence 1.0. The graph keeps a
person's ID number only masked (``id_masked``) and as a keyed hash (``id_hash``,
HMAC-SHA256 under ``graph.hash_key``): given that key, a full ID number in the list is
hashed and matched exactly on ``id_hash`` (confidence 1.0, method ``id_hash``). Otherwise,
and for persons whose full number is unknown (no ``id_hash``), an ID number matched only
against a masked one (``440301********123X``) needs the name to agree too (confidence 0.9);
a person whose full number is known and differs is not matched that way, and a name whose
ID numbers all disagree stays unresolved. Names are
compared after NFKC folding, traditional-to-simplified conversion and bracket unification:
a unique exact match has confidence 0.97 (0.5 for a person: names are shared); otherwise the
best fuzzy match (rapidfuzz ``ratio``) scoring at least ``min_score`` has confidence
``0.9 * score / 100``. When two entities fit equally well the row is ``ambiguous`` and the
first by id is given.

>>> import polars as pl
>>> from credgraph.analytics.frames import make_frames
>>> from credgraph.analytics.network import CreditNetwork
>>> nodes, edges = make_frames([{"node_id": "e1", "label": "LegalPerson", "name": "深圳市华强电子有限公司",
...                              "uscc": "914403001922038216"}], [])
>>> idx = EntityIndex(CreditNetwork.from_frames(nodes, edges))
>>> idx.resolve(["", "深圳市華強電子有限公司"], ["192203821", ""]).select("node_id", "confidence", "method").rows()
[('e1', 1.0, 'org_code'), ('e1', 0.97, 'name')]
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from credgraph.graph import keyed_hash
from credgraph.identifiers import id_is_valid, is_masked, masked_id_compatible, normalise_code, org_code_of_uscc

from .network import ENTITY_LABELS, CreditNetwork

__all__ = ["EntityIndex", "normalise_name", "id_hash"]

_BRACKETS = str.maketrans({c: "(" for c in "（[【〔"} | {c: ")" for c in "）]】〕"})


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalise_name(name: str | None) -> str:
    """The form names are compared in.

    >>> normalise_name(" 華強電子（深圳）有限公司 ")
    '华强电子(深圳)有限公司'
    """
    if not name:
        return ""
    s = unicodedata.normalize("NFKC", str(name)).translate(_BRACKETS)
    s = re.sub(r"\s+", "", s)
    return _t2s().convert(s)


def id_hash(value: str | None, key: str) -> str | None:
    """The graph's keyed hash of a full resident ID number (HMAC-SHA256 of its normal form under
    ``key``, hex), as stored in ``id_hash``; None for a masked or invalid number.

    >>> id_hash("11010519491231002x", "k") == id_hash("11010519491231002X", "k")
    True
    >>> id_hash("110105********002X", "k") is None
    True
    """
    c = normalise_code(value) if value else ""
    if not c or is_masked(c) or not id_is_valid(c):
        return None
    return keyed_hash(c, key)  # the graph stage's own hash, so the two cannot drift apart


class EntityIndex:
    """Code and name look-up over a network's LegalPerson and NaturalPerson nodes.

    ``hash_key`` is the graph's ``graph.hash_key``: with it, full ID numbers are matched on the
    nodes' ``id_hash``.
    """

    def __init__(self, net: CreditNetwork, hash_key: str | None = None):
        self.net = net
        self.hash_key = hash_key
        ent = np.nonzero(np.isin(net.labels, ENTITY_LABELS))[0]
        self.rows = ent
        codes: dict[str, list[tuple[int, str]]] = {}

        def add(values, method):
            if values is None:
                return
            for i, v in zip(ent.tolist(), values[ent].tolist()):
                c = normalise_code(v) if v else ""
                if c and not is_masked(c):
                    codes.setdefault(c, []).append((i, method))

        add(net.ids.astype(object), "node_id")
        uscc = net.prop("uscc", pl.Utf8)
        add(uscc, "uscc")
        if uscc is not None:
            add(np.array([org_code_of_uscc(u) if u else None for u in uscc], dtype=object), "org_code")
        add(net.prop("org_code", pl.Utf8), "org_code")
        add(net.prop("reg_no", pl.Utf8), "reg_no")
        add(net.prop("id_number", pl.Utf8), "id_number")
        self.codes = codes
        # The graph keeps ID numbers masked (id_masked); hand-made frames may say id_number.
        ids = net.prop("id_masked", pl.Utf8)
        if ids is None:
            ids = net.prop("id_number", pl.Utf8)
        self.id_numbers = ids if ids is not None else np.full(net.n, None, dtype=object)
        hashes = net.prop("id_hash", pl.Utf8)
        self.id_hashes = hashes if hashes is not None else np.full(net.n, None, dtype=object)
        self.by_hash: dict[str, list[int]] = {}
        if hashes is not None:
            for i, h in zip(ent.tolist(), hashes[ent].tolist()):
                if h:
                    self.by_hash.setdefault(h, []).append(i)
        # Every name an entity was written under (the graph's ``names``) finds it too.
        aliases = [[n] for n in net.names[ent].tolist()]
        if "names" in net.nodes.columns:
            extra = net.nodes["names"].to_list()
            aliases = [a + [x for x in (extra[i] or []) if x and x != a[0]] for a, i in zip(aliases, ent.tolist())]
        uniq = {n: normalise_name(n) for a in aliases for n in a}
        self.norm = np.array([uniq[a[0]] for a in aliases], dtype=object)
        self.alias_rows = np.array([i for i, a in zip(ent.tolist(), aliases) for _ in a], dtype=np.int64)
        self.alias_norm = np.array([uniq[n] for a in aliases for n in a], dtype=object)
        self.by_name: dict[str, list[int]] = {}
        for i, nm in zip(self.alias_rows.tolist(), self.alias_norm.tolist()):
            if nm and i not in self.by_name.get(nm, []):
                self.by_name.setdefault(nm, []).append(i)

    def resolve(self, names, codes, min_score: float = 85.0) -> pl.DataFrame:
        """One row per query: node_id (null when unresolved), confidence, method, status, note."""
        out = [self._one(n or "", c or "", min_score) for n, c in zip(names, codes)]
        return pl.DataFrame(out, schema={"node_id": pl.Utf8, "confidence": pl.Float64, "method": pl.Utf8,
                                         "status": pl.Utf8, "note": pl.Utf8}, orient="row")

    def _one(self, name: str, code: str, min_score: float):
        ids = self.net.ids
        nm = normalise_name(name)
        c = normalise_code(code)
        if c and not is_masked(c):
            hits = self.codes.get(c) or (self.codes.get(c[8:17]) if len(c) == 18 else None)
            if hits:
                cand = sorted({i for i, _ in hits})
                status = "resolved" if len(cand) == 1 else "ambiguous"
                return (str(ids[cand[0]]), 1.0, hits[0][1], status,
                        "" if len(cand) == 1 else f"{len(cand)} entities carry this code")
        full = id_hash(c, self.hash_key) if (self.hash_key and self.by_hash and c) else None
        if full:
            cand = sorted(self.by_hash.get(full, []))
            if cand:
                return (str(ids[cand[0]]), 1.0, "id_hash", "resolved" if len(cand) == 1 else "ambiguous",
                        "" if len(cand) == 1 else f"{len(cand)} entities carry this ID number")
        if c and len(c) == 18 and nm:  # a (possibly masked) ID number: check it against masked ones with the name
            named = sorted(self.by_name.get(nm, []))
            # A person whose full number is known (hashed) and is not this one is someone else.
            cand = [i for i in named if masked_id_compatible(self.id_numbers[i], c)
                    and not (full and self.id_hashes[i])]
            if cand:
                return (str(ids[cand[0]]), 0.9, "masked_id+name", "resolved" if len(cand) == 1 else "ambiguous", "")
            if full and any(masked_id_compatible(self.id_numbers[i], c) for i in named):
                return (None, 0.0, "", "unresolved",
                        "the name and masked ID number match, but the full ID number differs "
                        "(if unexpected: is graph.hash_key the key the graph was built with?)")
            if any(self.id_numbers[i] for i in named):
                return (None, 0.0, "", "unresolved", "the name matches but the ID number does not")
        if not nm:
            return (None, 0.0, "", "unresolved", "no name and no known code" if not c else f"code {c} not found")
        exact = sorted(self.by_name.get(nm, []))
        if exact:
            status = "resolved" if len(exact) == 1 else "ambiguous"
            note = "" if len(exact) == 1 else f"{len(exact)} entities share this name"
            if c:
                note = (note + "; " if note else "") + f"code {c} not found"
            if self.net.labels[exact[0]] == "NaturalPerson":
                # Person names are far from unique: a name alone is weak evidence.
                note = (note + "; " if note else "") + "person matched on name only"
                return (str(ids[exact[0]]), 0.5, "name", "ambiguous" if len(exact) > 1 else "resolved", note)
            return (str(ids[exact[0]]), 0.97, "name", status, note)
        best = process.extract(nm, self.alias_norm, scorer=fuzz.ratio, limit=5, score_cutoff=min_score)
        if not best:
            return (None, 0.0, "", "unresolved", f"no name scores {min_score:.0f} or more")
        _, score, pos = best[0]
        row = int(self.alias_rows[pos])
        rivals = {int(self.alias_rows[p]) for _, sc, p in best if sc == score} - {row}
        status = "ambiguous" if rivals else "resolved"
        return (str(ids[row]), round(0.9 * score / 100, 4), "fuzzy_name", status,
                f"closest name {self.alias_norm[pos]} ({score:.0f})")
