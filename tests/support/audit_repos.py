"""Repositories the audit tests build: real Git repos in temp folders, from the files in tests/audit/data/.

`planted` has the problems the audit must find (a key committed then removed, a root Dockerfile,
a manifest without limits and with :latest, an open security group, compose files, a push
deploy); `control` is a well-structured GitOps repository. The key is made at test time (never
stored in this repository) and returned so tests can check it never appears in a report.
"""

from __future__ import annotations

import random
import shutil
import string
import subprocess
from pathlib import Path

from support.paths import ROOT

DATA = ROOT / "tests" / "audit" / "data"
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def from_data(name: str, into: Path) -> Path:
    shutil.copytree(DATA / name, into)
    subprocess.run(["git", "init", "-q", "-b", "main", str(into)], check=True)
    return into


def fake_aws_key(seed: int = 7) -> tuple[str, str]:
    """An access key id and secret of the AWS shape (random, not a real credential)."""
    rng = random.Random(seed)
    key_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40))
    return key_id, secret


def planted(tmp: Path) -> tuple[Path, list[str], str]:
    """(repo, secret values, commit that added the key): the key is removed by the next commit."""
    repo = from_data("planted", tmp / "planted")
    commit_all(repo, "App, manifests, infra")
    key_id, secret = fake_aws_key()
    (repo / "app" / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key_id}"\naws_secret_access_key = "{secret}"\n')
    leaked = commit_all(repo, "Add settings")
    (repo / "app" / "settings.py").write_text('import os\n\nAWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n')
    commit_all(repo, "Read the key from the environment")
    return repo, [key_id, secret], leaked


def control(tmp: Path) -> Path:
    repo = from_data("control", tmp / "control")
    commit_all(repo, "Shop: service, GitOps layout, infra")
    return repo


def with_history(repo: Path, commits: int) -> Path:
    """Add `commits` small commits (a changelog line each) to a repo."""
    log = repo / "CHANGELOG.md"
    for n in range(commits):
        with log.open("a") as f:
            f.write(f"- change {n}\n")
        (repo / "app" / f"module_{n % 20}.py").write_text(f"VALUE = {n}\n")
        commit_all(repo, f"Change {n}")
    return repo
