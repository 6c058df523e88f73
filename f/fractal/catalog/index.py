"""The derived index of one catalog clone, in SQLite: one row, a page, a filter or a search
without loading every row.

Git is the store of truth; this file (in the clone's .git) is derived from the tree, brought up to
date from the commits since the one it records, and rebuilt when missing, damaged or of another
format. Rows are kept as JSON and decoded only for the page returned. Search is the BM25 of
f.fractal.catalog.search over postings stored here (same terms, weights and ranking), so a query reads
the postings of its own terms, not the whole catalog.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from f.fractal.catalog.search import FIELD_WEIGHTS, K1, B, Hit, row_text, terms, weight
from f.fractal.model.providers import fitting

FORMAT = "4"  # 3: items.providers holds the providers a row fits (search.fits_row); 4: trigram text index
_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items(
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, name TEXT NOT NULL,
  tool TEXT NOT NULL, provider TEXT NOT NULL, providers TEXT NOT NULL, tags TEXT NOT NULL, length REAL NOT NULL);
CREATE INDEX items_kind_name ON items(kind, name);
CREATE TABLE texts(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE rows(id INTEGER PRIMARY KEY, row TEXT NOT NULL);
CREATE TABLE postings(term TEXT NOT NULL, id INTEGER NOT NULL, tf REAL NOT NULL, PRIMARY KEY(term, id)) WITHOUT ROWID;
CREATE INDEX postings_id ON postings(id);
CREATE TABLE members(id INTEGER NOT NULL, member TEXT NOT NULL);
CREATE INDEX members_member ON members(member);
"""
# Substring matches of list_items' query words without scanning every text: a trigram index over `texts`
# (SQLite ≥ 3.34). Where SQLite lacks it, queries scan the texts as before.
_GRAMS = "CREATE VIRTUAL TABLE grams USING fts5(text, content='texts', content_rowid='id', tokenize='trigram')"
_MIN_GRAM = 3  # a trigram index finds words of 3 characters or more


class Damaged(Exception):
    """The index file cannot be used (damaged, another format): it is removed and rebuilt."""


def _bars(values: Iterable[str]) -> str:
    """'|a|b|' for membership tests with instr(); '' for none."""
    joined = "|".join(values)
    return f"|{joined}|" if joined else ""


def _search_text(row: dict[str, Any]) -> str:
    """What list_items' query words are matched in (lowercase)."""
    parts = [row["name"], row.get("description", ""), " ".join(row.get("tags") or []), row.get("tool", ""),
             " ".join(row.get("providers") or [])]
    return " ".join(parts).lower()


def _counts(row: dict[str, Any]) -> dict[str, float]:
    """BM25 term frequencies of a row, weighted by field (as search.Index.build)."""
    counts: dict[str, float] = {}
    texts = row_text(row)
    for field, field_weight in FIELD_WEIGHTS:
        for term in terms(texts[field]):
            counts[term] = counts.get(term, 0.0) + field_weight
    return counts


def _member_keys(row: dict[str, Any]) -> set[str]:
    """'slug:name' of every member a composite row's steps use (for delete's 'used by' check)."""
    return {step["ref"].split("@", 1)[0] for step in row.get("steps") or [] if isinstance(step.get("ref"), str)}


class CatalogIndex:
    """One clone's index file. Open with `CatalogIndex.open(path)`; close when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.grams = False

    @classmethod
    def open(cls, path: Path) -> CatalogIndex:
        """Open the index, creating it empty, or recreating it when damaged or of another format."""
        for _ in range(2):
            index = cls(path)
            try:
                index._prepare()
                return index
            except (sqlite3.DatabaseError, Damaged):
                index.close()
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise Damaged(f"cannot create the catalog index at {path}")

    def _prepare(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            with self.transaction():
                if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table'").fetchone():
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    with suppress(sqlite3.OperationalError):  # no FTS5 or no trigram tokenizer
                        self.db.execute(_GRAMS)
                    self.db.executemany("INSERT INTO meta VALUES (?, ?)",
                                        [("format", FORMAT), ("commit", ""), ("folder", ""), ("count", "0"), ("length", "0")])
        elif self.meta("format") != FORMAT:
            raise Damaged("another index format")
        self.grams = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'grams'").fetchone() is not None

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ state

    def meta(self, key: str) -> str:
        found = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if found is None:
            raise Damaged(f"index meta {key} missing")
        return str(found[0])

    def state(self) -> tuple[str, str]:
        """(commit, folder) the index describes; commit '' when it describes nothing yet."""
        return self.meta("commit"), self.meta("folder")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction (IMMEDIATE: one writer at a time; readers keep reading the last commit)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------ writing (inside a transaction)

    def set_state(self, commit: str, folder: str) -> None:
        self.db.executemany("UPDATE meta SET value = ? WHERE key = ?", [(commit, "commit"), (folder, "folder")])

    def clear(self) -> None:
        for table in ("items", "texts", "rows", "postings", "members"):
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        if self.grams:
            self.db.execute("INSERT INTO grams(grams) VALUES ('delete-all')")
        self.db.executemany("UPDATE meta SET value = '0' WHERE key = ?", [("count",), ("length",)])

    def put(self, key: str, row: dict[str, Any] | None) -> None:
        """Insert, replace (row) or remove (None) one item's row, its postings and its member links."""
        old = self.db.execute("SELECT id, length FROM items WHERE key = ?", (key,)).fetchone()
        count, length = int(self.meta("count")), float(self.meta("length"))
        if old:
            doc, old_length = old
            self.db.execute("DELETE FROM postings WHERE id = ?", (doc,))
            self.db.execute("DELETE FROM members WHERE id = ?", (doc,))
            if self.grams:  # an external-content index is told the old text it drops
                self.db.execute("INSERT INTO grams(grams, rowid, text) SELECT 'delete', id, text FROM texts WHERE id = ?",
                                (doc,))
            for table in ("items", "texts", "rows"):
                self.db.execute(f"DELETE FROM {table} WHERE id = ?", (doc,))  # noqa: S608 - fixed table names
            count, length = count - 1, length - old_length
        if row is not None:
            counts = _counts(row)
            size = sum(counts.values())
            providers = _fits(row)
            cursor = self.db.execute(
                "INSERT INTO items(key, kind, name, tool, provider, providers, tags, length) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, row["kind"], row["name"], row.get("tool") or "", row.get("provider") or "", _bars(providers),
                 _bars(row.get("tags") or []), size),
            )
            doc = cursor.lastrowid
            text = _search_text(row)
            self.db.execute("INSERT INTO texts VALUES (?, ?)", (doc, text))
            if self.grams:
                self.db.execute("INSERT INTO grams(rowid, text) VALUES (?, ?)", (doc, text))
            self.db.execute("INSERT INTO rows VALUES (?, ?)", (doc, json.dumps(row, separators=(",", ":"))))
            self.db.executemany("INSERT INTO postings VALUES (?, ?, ?)", [(t, doc, tf) for t, tf in counts.items()])
            self.db.executemany("INSERT INTO members VALUES (?, ?)", [(doc, m) for m in _member_keys(row)])
            count, length = count + 1, length + size
        self.db.executemany("UPDATE meta SET value = ? WHERE key = ?", [(str(count), "count"), (repr(length), "length")])

    # ------------------------------------------------------------ reading

    def row(self, key: str) -> dict[str, Any] | None:
        found = self.db.execute("SELECT r.row FROM items i JOIN rows r ON r.id = i.id WHERE i.key = ?", (key,)).fetchone()
        return json.loads(found[0]) if found else None

    def count(self) -> int:
        return int(self.meta("count"))

    def all_rows(self) -> dict[str, dict[str, Any]]:
        """Every row, in (kind, name) order: for merging several targets."""
        query = "SELECT i.key, r.row FROM items i JOIN rows r ON r.id = i.id ORDER BY i.kind, i.name"
        return {key: json.loads(row) for key, row in self.db.execute(query)}

    def users(self, slug: str, name: str) -> list[str]:
        """Refs of the composites whose steps use slug:name (any version)."""
        rows = self.db.execute(
            "SELECT r.row FROM members m JOIN rows r ON r.id = m.id WHERE m.member = ?", (f"{slug}:{name}",)
        )
        return sorted(json.loads(r[0])["ref"] for r in rows)

    def names(self, kind: str, prefix: str) -> list[str]:
        """Names of a kind starting with prefix, sorted."""
        high = prefix + "\U0010ffff"
        rows = self.db.execute("SELECT name FROM items WHERE kind = ? AND name >= ? AND name < ? ORDER BY name",
                               (kind, prefix, high))
        return [r[0] for r in rows]

    def count_prefix(self, kind: str, prefix: str) -> int:
        """How many names of a kind start with prefix."""
        found = self.db.execute("SELECT count(*) FROM items WHERE kind = ? AND name >= ? AND name < ?",
                                (kind, prefix, prefix + "\U0010ffff")).fetchone()
        return int(found[0])

    def rows_named(self, kind: str, names: list[str]) -> list[dict[str, Any]]:
        """The rows of these names of a kind, in name order."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = (f"SELECT r.row FROM items i JOIN rows r ON r.id = i.id"  # noqa: S608 - placeholders
                     f" WHERE i.kind = ? AND i.name IN ({marks})")
            found.extend(json.loads(r[0]) for r in self.db.execute(query, (kind, *chunk)))
        return sorted(found, key=lambda r: str(r["name"]))

    def kind_count(self, kind: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM items WHERE kind = ?", (kind,)).fetchone()[0])

    def page(
        self, *, kind: str | None = None, tool: str | None = None, provider: str | None = None,
        tags: list[str] | None = None, words: list[str] | None = None, limit: int = 50, offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total, rows of the page): filtered, ranked by the query words (as catalog._score), else in
        (kind, name) order. Only the page's rows are decoded."""
        where, args = _filters(kind, tool, provider, tags or [])
        words = words or []
        if words and self.grams and all(len(w) >= _MIN_GRAM for w in words):  # only rows holding a word are scored
            where += " AND i.id IN (SELECT rowid FROM grams WHERE grams MATCH ?)"
            args = [*args, " OR ".join('"' + w.replace('"', '""') + '"' for w in words)]
        if words:
            score = " + ".join("(CASE WHEN instr(t.text, ?) THEN (CASE WHEN instr(i.name, ?) THEN 3 ELSE 1 END) ELSE 0 END)"
                               for _ in words)
            scored = (f"SELECT i.id, i.kind, i.name, ({score}) AS score FROM items i JOIN texts t ON t.id = i.id"  # noqa: S608
                      f" WHERE {where}")
            query_args = [*(a for w in words for a in (w, w)), *args]
            total = self.db.execute(f"SELECT count(*) FROM ({scored}) WHERE score > 0", query_args).fetchone()[0]  # noqa: S608
            ids = [r[0] for r in self.db.execute(
                f"SELECT id FROM ({scored}) WHERE score > 0 ORDER BY score DESC, name, kind LIMIT ? OFFSET ?",  # noqa: S608
                (*query_args, limit, offset))]
        else:
            total = self.db.execute(f"SELECT count(*) FROM items i WHERE {where}", args).fetchone()[0]  # noqa: S608
            ids = [r[0] for r in self.db.execute(
                f"SELECT i.id FROM items i WHERE {where} ORDER BY i.kind, i.name LIMIT ? OFFSET ?",  # noqa: S608
                (*args, limit, offset))]
        rows = self._rows(ids)
        return int(total), [json.loads(rows[i]) for i in ids]

    def _rows(self, ids: list[int]) -> dict[int, str]:
        """The JSON rows of these ids."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return dict(self.db.execute(f"SELECT id, row FROM rows WHERE id IN ({marks})", ids))  # noqa: S608 - placeholders

    def search(
        self, query: str, k: int = 10, *, kinds: Iterable[str] = (), provider: str | None = None, tool: str | None = None
    ) -> list[Hit]:
        """search.Index.search over the stored postings: the same hits, reading only the query's terms."""
        q_terms = list(dict.fromkeys(terms(query)))
        n = self.count()
        if not q_terms or not n:
            return []
        avg_len = float(self.meta("length")) / n
        marks = ",".join("?" * len(q_terms))
        dfs = dict(self.db.execute(f"SELECT term, count(*) FROM postings WHERE term IN ({marks}) GROUP BY term", q_terms))  # noqa: S608
        idfs = {t: math.log(1 + (n - dfs.get(t, 0) + 0.5) / (dfs.get(t, 0) + 0.5)) * weight(t) for t in q_terms}
        total = sum(idfs.values()) or 1.0
        kind_list = list(kinds)
        where, args = _filters(None, tool, provider, [])
        if kind_list:
            where += f" AND i.kind IN ({','.join('?' * len(kind_list))})"
            args = [*args, *kind_list]
        # search.Index.search's BM25, summed and ranked by SQLite: only the k best ids come back (the same
        # operations in the same order as the Python, so the same floats)
        idf_of = " ".join("WHEN ? THEN ?" for _ in q_terms)
        norm = "(p.tf * ? / (p.tf + ? * (1 - ? + ? * i.length / ?)))"
        best = [r[0] for r in self.db.execute(
            # CROSS JOIN keeps SQLite on the query terms' postings (a kind filter would make it scan every item)
            f"SELECT p.id, SUM((CASE p.term {idf_of} END) * {norm}) AS score FROM postings p CROSS JOIN items i ON i.id = p.id"  # noqa: S608
            f" WHERE p.term IN ({marks}) AND {where} GROUP BY p.id ORDER BY score DESC, i.name LIMIT ?",
            (*(v for t in q_terms for v in (t, idfs[t])), K1 + 1, K1, B, B, avg_len, *q_terms, *args, k),
        )]
        if not best:
            return []
        ids = ",".join("?" * len(best))
        postings = self.db.execute(
            f"SELECT p.term, p.id, p.tf, i.length FROM postings p JOIN items i ON i.id = p.id"  # noqa: S608
            f" WHERE p.id IN ({ids}) AND p.term IN ({marks})", (*best, *q_terms)).fetchall()
        order = {t: i for i, t in enumerate(q_terms)}
        postings.sort(key=lambda p: order[p[0]])
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for term, doc, tf, length in postings:  # the k rows' scores as the Python sums them, for the Hits
            norm_tf = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avg_len))
            scores[doc] = scores.get(doc, 0.0) + idfs[term] * norm_tf
            matched.setdefault(doc, []).append(term)
        rows = self._rows(best)
        return [
            Hit(round(scores[d], 4), round(sum(idfs[t] for t in matched[d]) / total, 3), matched[d], json.loads(rows[d]))
            for d in best
        ]


def _fits(row: dict[str, Any]) -> list[str]:
    """The providers a row fits, as search.fits_row: an entity's declared ones (none = any) narrowed to its
    tool; a composite's computed ones (none: its fixed provider, checked by the filter)."""
    if row["kind"] == "Entity":
        return fitting(row.get("providers"), row.get("tool") or None)
    return list(row.get("providers") or [])


def _filters(
    kind: str | None, tool: str | None, provider: str | None, tags: list[str]
) -> tuple[str, list[Any]]:
    """A WHERE clause over items (alias i) for catalog._matches and search._fits (both search.fits_row)."""
    col = "i."
    where, args = ["1"], []
    if kind:
        where.append(f"{col}kind = ?")
        args.append(kind)
    if tool:
        where.append(f"{col}tool = ?")
        args.append(tool)
    if provider:
        # search.fits_row: a provider the row fits, or a composite saved without them on no or this fixed provider
        where.append(f"(instr({col}providers, ?) > 0 OR ({col}kind != 'Entity' AND {col}providers = ''"
                     f" AND {col}provider IN ('', ?)))")
        args += [f"|{provider}|", provider]
    for tag in tags:
        where.append(f"instr({col}tags, ?) > 0")
        args.append(f"|{tag}|")
    return " AND ".join(where), args
