"""Lexical retrieval over catalog index rows: BM25 with field weights, English and French.

Offline and dependency-free (no model to download): text is folded (lowercase, accents removed),
split into words, stop words dropped, French words mapped to their English catalog term, a few
synonyms merged, and every word cut to a 6-letter stem so `clusters`/`cluster` and
`configuration`/`configure` meet. Names weigh 3, tags and tool 2, the rest 1.

    index = Index.build(rows)                 # rows: catalog.list_items()["items"]
    hits = index.search("cluster k3s", k=10, kinds=("Entity",), provider="exoscale")

`coverage` (0..1) on each hit says how much of the query's meaning (idf-weighted) the item
matched; the composer treats a need as uncovered below `MIN_COVERAGE`.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import f.fractal.platform.workspace as workspace
from f.fractal.model.providers import fitting
from f.fractal.platform.text import fold

STEM_LEN = 6
MIN_COVERAGE = 0.5
K1, B = 1.2, 0.75


def _words(text: str) -> list[str]:
    return text.split()



STOP = frozenset(_words(
    """a an the of for on in into to with and or by at from as is are be it its this that these my our your
    me us we i you some any all new one please want need needs using use via which who what how then also
    le la les l un une des du de d au aux en dans sur sous pour par avec et ou sans qui que quoi mon ma mes
    notre nos votre vos ce cet cette ces se sa son ses il elle on nous vous je j y est sont avoir etre veux
    faut besoin puis ensuite aussi tout tous toute toutes
    them those there elles eux lui leur leurs ca cela celui celle ceux celles dessus dedans devant"""
))
# Action verbs: they carry little meaning for matching; they count, but at a tenth of a noun.
WEAK_WORDS = frozenset(_words(
    """create creat make set setup up add get run deploy provision build start spin give write put
    cree creer fai faire mettre met ajoute ajout lance lancer deploie deployer donne ecri ecrire
    install run tourne tourner"""
))
# French (and a few English variants) → the English word catalogs use. Keys and values are folded words.
SYNONYMS: dict[str, str] = {
    "grappe": "cluster", "noeud": "node", "noeuds": "node", "nodes": "node", "reseau": "network",
    "parefeu": "firewall", "pare": "firewall", "feu": "firewall", "disque": "disk", "stockage": "storage",
    "sauvegarde": "backup", "sauvegardes": "backup", "supervision": "monitoring", "surveillance": "monitoring",
    "journal": "log", "journaux": "log", "logs": "log", "utilisateur": "user", "utilisateurs": "user",
    "paquet": "package", "paquets": "package", "fichier": "file", "fichiers": "file", "dossier": "folder",
    "repertoire": "folder", "directory": "folder", "dir": "folder", "certificat": "certificate",
    "conteneur": "container", "conteneurs": "container", "cle": "key", "cles": "key", "jeton": "token",
    "motdepasse": "password", "identifiant": "credential", "identifiants": "credential", "credentials": "credential",
    "serveur": "instance", "serveurs": "instance", "machine": "instance", "vm": "instance", "vms": "instance",
    "server": "instance", "servers": "instance", "instances": "instance", "espace": "namespace",
    "namespaces": "namespace", "entrainement": "training", "modele": "model", "donnees": "data",
    "base": "database", "db": "database", "bdd": "database", "charge": "load",
    "securite": "security", "durcissement": "hardening", "installer": "install", "installe": "install",
    "installation": "install", "configurer": "configure", "configuration": "configure", "config": "configure",
    "mise": "update", "jour": "day", "message": "message", "bienvenue": "welcome", "gpus": "gpu",
    "carte": "gpu", "volumes": "volume", "go": "gb", "gio": "gb", "inventaire": "inventory", "hote": "host",
    "hotes": "host", "hosts": "host", "adresse": "address", "adresses": "address", "ip": "address", "ips": "address",
    "k8s": "kubernetes", "kube": "kubernetes", "vast": "vastai", "sks": "kubernetes", "motd": "motd",
    "calculer": "compute", "calcule": "compute", "calcul": "compute", "somme": "checksum", "controle": "checksum",
    "ecrire": "write", "ecrit": "write", "creer": "create", "rapport": "report", "environnement": "environment",
    "api": "api", "apikey": "key", "secrets": "secret", "mot": "password", "passe": "password",
    "durcir": "hardening", "harden": "hardening", "hardened": "hardening", "bannir": "ban", "attaques": "attack",
    "nocturne": "nightly", "nocturnes": "nightly", "ligne": "line", "lignes": "line", "ajouter": "add",
    "equilibreur": "balancer", "loadbalancer": "balancer", "lb": "balancer", "sauvegarder": "backup",
    "sauvegardee": "backup", "superviser": "monitoring", "exposer": "expose", "expose": "expose",
    "tournant": "run", "running": "run", "runs": "run", "vienne": "zone", "vienna": "zone", "geneve": "zone",
    "geneva": "zone", "zurich": "zone", "francfort": "zone", "frankfurt": "zone", "munich": "zone", "sofia": "zone",
    "region": "zone", "zones": "zone", "instancier": "instance", "pile": "stack",
}
FIELD_WEIGHTS = (("name", 3), ("tags", 2), ("tool", 2), ("providers", 1), ("description", 1), ("inputs", 1), ("outputs", 1))

_SPLIT = re.compile(r"[^a-z0-9]+")


def terms(text: str) -> list[str]:
    """The index terms of a text: folded, stop words out, synonyms mapped, stemmed."""
    out = []
    for word in _SPLIT.split(fold(text)):
        if not word or word in STOP or (len(word) == 1 and not word.isdigit()):
            continue
        word = SYNONYMS.get(word, word)
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = SYNONYMS.get(word[:-1], word[:-1])
        out.append(word[:STEM_LEN])
    return out


_WEAK: frozenset[str] = frozenset()


def weight(term: str) -> float:
    global _WEAK
    if not _WEAK:
        _WEAK = frozenset(t for w in WEAK_WORDS for t in terms(w))
    return 0.1 if term in _WEAK else 1.0


def row_text(row: dict[str, Any]) -> dict[str, str]:
    return {
        "name": row.get("name", "").replace("-", " "),
        "tags": " ".join(row.get("tags") or []),
        "tool": row.get("tool", ""),
        "providers": " ".join(row.get("providers") or ([row["provider"]] if row.get("provider") else [])),
        "description": row.get("description", ""),
        "inputs": " ".join(row.get("inputs") or []).replace("_", " "),
        "outputs": " ".join(row.get("outputs") or []).replace("_", " "),
    }


@dataclass
class Hit:
    score: float
    coverage: float
    matched: list[str]
    row: dict[str, Any]


class Searcher(Protocol):
    """What the composer searches: an in-memory Index, or a catalog clone's stored index."""

    def search(
        self, query: str, k: int = 10, *, kinds: Iterable[str] = (), provider: str | None = None, tool: str | None = None
    ) -> list[Hit]: ...


@dataclass
class Index:
    rows: list[dict[str, Any]]
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    lengths: list[float] = field(default_factory=list)
    avg_len: float = 1.0

    @classmethod
    def build(cls, rows: Iterable[dict[str, Any]]) -> Index:
        index = cls(rows=list(rows))
        for doc, row in enumerate(index.rows):
            counts: dict[str, float] = {}
            for name, weight in FIELD_WEIGHTS:
                for term in terms(row_text(row)[name]):
                    counts[term] = counts.get(term, 0.0) + weight
            index.lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                index.postings.setdefault(term, []).append((doc, tf))
        index.avg_len = (sum(index.lengths) / len(index.lengths)) if index.lengths else 1.0
        return index

    def idf(self, term: str) -> float:
        n, df = len(self.rows), len(self.postings.get(term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self, query: str, k: int = 10, *, kinds: Iterable[str] = (), provider: str | None = None, tool: str | None = None
    ) -> list[Hit]:
        """The k best rows for the query, filtered by kind, fitting provider and tool."""
        q_terms = list(dict.fromkeys(terms(query)))
        if not q_terms:
            return []
        kind_set = set(kinds)
        idfs = {t: self.idf(t) * weight(t) for t in q_terms}
        total = sum(idfs.values()) or 1.0
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for term in q_terms:
            for doc, tf in self.postings.get(term, ()):
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[doc] / self.avg_len))
                scores[doc] = scores.get(doc, 0.0) + idfs[term] * norm
                matched.setdefault(doc, []).append(term)
        ranked = sorted(scores, key=lambda d: (-scores[d], self.rows[d].get("name", "")))
        hits: list[Hit] = []
        for doc in ranked:
            row = self.rows[doc]
            if (kind_set and row.get("kind") not in kind_set) or not _fits(row, provider) or (tool and row.get("tool") != tool):
                continue
            coverage = sum(idfs[t] for t in matched[doc]) / total
            hits.append(Hit(round(scores[doc], 4), round(coverage, 3), matched[doc], row))
            if len(hits) >= k:
                break
        return hits


def fits_row(row: dict[str, Any], provider: str) -> bool:
    """Whether an index row really fits a provider: an entity by its providers narrowed to its tool; a
    composite by the providers it runs on (computed at save; a row saved before: its fixed provider)."""
    if row["kind"] == "Entity":
        return provider in fitting(row.get("providers"), row.get("tool") or None)
    if row.get("providers"):
        return provider in row["providers"]
    return row.get("provider") in (provider, None)


def _fits(row: dict[str, Any], provider: str | None) -> bool:
    return not provider or fits_row(row, provider)


# ------------------------------------------------------------------ the catalog's rows, indexed once per state

_CACHE: dict[str, Index] = {}
_FORMAT = 1
STALE_INDEX_S = 86_400  # a cached index of another catalog state is removed a day after it was written


def fingerprint(rows: list[dict[str, Any]]) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for row in rows:
        digest.update(row.get("ref", "").encode())
        digest.update(b"\0")
    return digest.hexdigest()


def index_for(rows: list[dict[str, Any]]) -> Index:
    """An index of these rows, reused while the catalog does not change (same refs = same index): in
    memory within a process, and as a marshal file in the worker's cache across processes (jobs)."""
    key = fingerprint(rows)
    if key in _CACHE:
        return _CACHE[key]
    file = workspace.cache_dir("retrieval") / f"{key}.idx"
    index = _read_index(file, rows)
    if index is None:
        index = Index.build(rows)
        _write_index(file, index)
    _CACHE.clear()
    _CACHE[key] = index
    return index


def _read_index(file: Path, rows: list[dict[str, Any]]) -> Index | None:
    """The cached index of these rows, or None (absent, removed meanwhile, another format, damaged)."""
    import marshal

    try:
        data = marshal.loads(file.read_bytes())  # noqa: S302 - our own cache file
        if data.get("format") != _FORMAT:
            return None
        return Index(rows, {t: [tuple(p) for p in ps] for t, ps in data["postings"].items()}, data["lengths"], data["avg_len"])
    except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _write_index(file: Path, index: Index) -> None:
    """Cache the index (best effort): written to this process's own temporary file, then renamed into
    place atomically, so processes building the same index at once never touch each other's files.
    Indexes of other catalog states are removed only once stale (written a day ago)."""
    import marshal

    tmp = file.with_name(f"{file.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps({"format": _FORMAT, "postings": index.postings, "lengths": index.lengths,
                                       "avg_len": index.avg_len}))
        os.replace(tmp, file)
    except OSError:
        tmp.unlink(missing_ok=True)
        return
    cutoff = time.time() - STALE_INDEX_S
    for old in file.parent.glob("*.idx"):
        with contextlib.suppress(OSError):
            if old != file and old.stat().st_mtime < cutoff:
                old.unlink()
