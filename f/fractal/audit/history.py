"""Secrets searched through the whole history: every blob any commit introduced, not only the tip.

One `git log --raw` lists each blob with the commit and path that first brought it; one
`git cat-file --batch` reads them all; the pack's own detector (`secret_scan`) looks at each. A
key committed and removed later is found with its commit, and the finding says it left the tip
(the key must still be rotated: the history keeps it). Values never leave this module.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import f.fractal.catalog.store as gitstore
from f.fractal.audit.findings import Finding
from f.fractal.platform.secrets import scan_text

MAX_BLOB = 1024 * 1024
TOOL = "fractal-history"
FIX = ("rotate the credential now (the history keeps it even after a delete), store it in a secret manager "
       "(a Windmill secret, a Kubernetes Secret from it), then purge it from the history (git filter-repo) if the repo is shared")


@dataclass(frozen=True)
class Blob:
    sha: str
    commit: str
    path: str


def introduced_blobs(root: Path) -> list[Blob]:
    """Each blob of the history once, with the first (oldest) commit and path that added it."""
    out = gitstore.git(root, "-c", "core.quotePath=false", "log", "--all", "--reverse", "--no-renames",
                       "--raw", "--no-abbrev", "--format=commit %H")
    seen: dict[str, Blob] = {}
    commit = ""
    for line in out.splitlines():
        if line.startswith("commit "):
            commit = line[7:].strip()
        elif line.startswith(":"):
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) >= 5 and fields[4][0] in "AMCT" and fields[1].startswith("100") and fields[3] not in seen:
                seen[fields[3]] = Blob(fields[3], commit, path)
    return list(seen.values())


def _read_blobs(root: Path, blobs: list[Blob]) -> dict[str, str]:
    """The text of each blob under MAX_BLOB that is not binary, by sha (one cat-file process)."""
    request = "".join(f"{b.sha}\n" for b in blobs).encode()
    proc = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input=request, capture_output=True, check=True)
    data, texts, pos = proc.stdout, {}, 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        body = data[pos:pos + size]
        pos += size + 1
        if size <= MAX_BLOB and b"\0" not in body[:8000]:
            texts[header[0].decode()] = body.decode("utf-8", errors="replace")
    return texts


def _tip_blobs(root: Path) -> set[str]:
    if not gitstore.git_ok(root, "rev-parse", "--verify", "-q", "HEAD"):
        return set()
    listing = gitstore.git(root, "ls-tree", "-r", "HEAD")
    return {line.split()[2] for line in listing.splitlines() if len(line.split()) >= 3}


def _secrets_in(text: str, path: str, commit: str | None, where: str) -> list[Finding]:
    found = []
    committed = f"committed in {commit[:12]} " if commit else ""
    for hit in scan_text(text, path):  # the pack's one detector: rule, why and line, never the value
        found.append(Finding(TOOL, hit.rule, "secret", "critical", path, f"{hit.why} {committed}({where})", hit.line or None,
                             commit[:12] if commit else None, FIX))
    return found


def scan_files(root: Path, files: list[str]) -> list[Finding]:
    """Secret findings in the current files only (a folder without Git history)."""
    found = []
    for path in files:
        try:
            data = (root / path).read_bytes()
        except OSError:
            continue
        if len(data) <= MAX_BLOB and b"\0" not in data[:8000]:
            text = data.decode("utf-8", errors="replace")
            if any(True for _ in scan_text(text)):
                found += _secrets_in(text, path, None, "in the files")
    return found


def scan_history(root: Path) -> tuple[list[Finding], int]:
    """Secret findings over every blob of the history, and how many blobs were read."""
    blobs = introduced_blobs(root)
    texts = _read_blobs(root, blobs)
    tip = _tip_blobs(root)
    findings: list[Finding] = []
    for blob in blobs:
        text = texts.get(blob.sha)
        if text is None or not any(True for _ in scan_text(text)):
            continue
        where = "still in the tip" if blob.sha in tip else "no longer in the tip, but the history keeps it"
        findings += _secrets_in(text, blob.path, blob.commit, where)
    return findings, len(texts)
