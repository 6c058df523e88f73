"""The SQLite catalog index answers exactly as the in-memory paths it replaces (real SQLite, real rows)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import f.fractal.catalog.items as catalog
import f.fractal.catalog.search as retrieval
from f.fractal.catalog.index import CatalogIndex
from f.fractal.model.item import normalize_item, summary

WORDS = ["postgres", "redis", "k3s", "nginx", "backup", "cluster", "réseau", "gpu", "bucket", "dns", "monitoring"]
PROVIDERS = ["aws", "exoscale", "runpod", "local"]
STEP_REF = "entity:redis-dns-1@1.0.0"


def rows(n: int, seed: int = 7) -> dict[str, dict[str, Any]]:
    rng = random.Random(seed)
    out: dict[str, dict[str, Any]] = {}
    for i in range(n):
        words = rng.sample(WORDS, 3)
        name = f"{words[0].replace('é', 'e')}-{words[1].replace('é', 'e')}-{i}"
        if i % 5:
            meta = {"name": name, "description": " ".join(words), "tags": rng.sample(["prod", "dev", "db"], 1)}
            item = {"kind": "Entity", "metadata": meta,
                    "spec": {"tool": rng.choice(["terraform", "ansible"]), "providers": rng.sample(PROVIDERS, rng.randint(0, 2)),
                             "files": {"main.tf": "x"} if i % 2 else {"site.yml": "- hosts: all\n"}}}
        else:
            item = {"kind": "Pipeline", "metadata": {"name": name, "description": " then ".join(words)},
                    "spec": {"provider": rng.choice([None, *PROVIDERS]), "steps": [{"id": "s0", "ref": STEP_REF}]}}
        normal = normalize_item({"apiVersion": "fractal/v1", **item})
        row = summary({**normal, "metadata": {**normal["metadata"], "version": "1.0.0"}})
        out[f"{row['kind']}/{row['name']}"] = row
    return dict(sorted(out.items()))


def filled(path: Path, data: dict[str, dict[str, Any]]) -> CatalogIndex:
    index = CatalogIndex.open(path)
    with index.transaction():
        for key, row in data.items():
            index.put(key, row)
        index.set_state("c1", "")
    return index


def test_search_ranks_exactly_as_the_in_memory_bm25(tmp_path: Path) -> None:
    data = rows(300)
    index, memory = filled(tmp_path / "i.sqlite", data), retrieval.Index.build(data.values())
    for query, opts in [("postgres backup", {}), ("grappe réseau", {"kinds": ("Entity",)}), ("k3s gpu", {"provider": "runpod"}),
                        ("redis", {"tool": "ansible", "k": 3}), ("nothing-here", {})]:
        got = [(h.row["ref"], h.score, h.coverage, h.matched) for h in index.search(query, **opts)]  # type: ignore[arg-type]
        want = [(h.row["ref"], h.score, h.coverage, h.matched) for h in memory.search(query, **opts)]  # type: ignore[arg-type]
        assert got == want, query


def test_pages_filters_and_query_match_the_list_rules(tmp_path: Path) -> None:
    data = rows(200)
    index = filled(tmp_path / "i.sqlite", data)
    for kind, tool, provider, tags, query in [(None, None, None, [], ""), ("Entity", "terraform", "aws", ["prod"], ""),
                                             (None, None, "exoscale", [], "redis backup"), ("Pipeline", None, None, [], "dns"),
                                             (None, None, None, [], "gres kup"), (None, None, None, [], "gres db")]:
        words = catalog._tokens(query)
        want = [r for r in data.values() if catalog._matches(r, kind, tool, provider, tags)]
        if words:
            scored = [(s, r) for r in want if (s := catalog._score(r, words))]
            want = [r for _, r in sorted(scored, key=lambda sr: (-sr[0], sr[1]["name"]))]
        total, page = index.page(kind=kind, tool=tool, provider=provider, tags=tags, words=words, limit=7, offset=3)
        assert (total, page) == (len(want), want[3:10])
    assert index.grams, "this SQLite has FTS5 with the trigram tokenizer: substrings of 3+ letters use it"


def test_updates_are_incremental_and_users_are_tracked(tmp_path: Path) -> None:
    data = rows(50)
    index = filled(tmp_path / "i.sqlite", data)
    removed = next(k for k in data if k.startswith("Entity/"))
    with index.transaction():
        index.put(removed, None)
    del data[removed]
    assert index.count() == len(data) and index.row(removed) is None
    words = catalog._tokens(removed.split("/")[1].split("-")[0])  # the trigram index forgot the removed row's text
    total, _ = index.page(words=words, limit=1000)
    assert total == sum(1 for r in data.values() if catalog._score(r, words))
    rebuilt = retrieval.Index.build(data.values())
    assert [h.score for h in index.search("redis dns")] == [h.score for h in rebuilt.search("redis dns")]
    assert index.users("entity", "redis-dns-1") == sorted(r["ref"] for r in data.values() if r["kind"] == "Pipeline")


def test_a_damaged_or_foreign_file_is_rebuilt_empty(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    index = CatalogIndex.open(path)
    assert index.state() == ("", "") and index.count() == 0
    index.close()
    sqlite3.connect(path).execute("UPDATE meta SET value = '0' WHERE key = 'format'").connection.commit()
    assert CatalogIndex.open(path).count() == 0
