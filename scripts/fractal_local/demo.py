"""`scripts/fractal demo`: the main job with embedded defaults, in a fresh local workspace.

Two local bare repositories become two catalog targets; sample items (resources/samples/) are
saved to both, listed, shown, changed (a new version) and read back at their old version.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from f.fractal import workspace, yamlio
from f.fractal.gitstore import git
from fractal_local.runner import call

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
TARGETS = ["f/fractal/catalog", "f/fractal/catalog_mirror"]


def _say(text: str) -> None:
    print(text, flush=True)


def setup_workspace(home: Path) -> list[str]:
    """Point FRACTAL_HOME at `home` and create two bare repos as catalog targets."""
    os.environ["FRACTAL_HOME"] = str(home)
    for path in TARGETS:
        repo = home / "repos" / f"{path.rsplit('/', 1)[1]}.git"
        if not repo.exists():
            repo.parent.mkdir(parents=True, exist_ok=True)
            git(None, "init", "-q", "--bare", "-b", "main", str(repo))
        workspace.write_resource(path, "git_repository", {"url": str(repo), "branch": "main"}, "demo catalog")
    return TARGETS


def run_demo(home: Path | None = None) -> int:
    home = home or Path(tempfile.mkdtemp(prefix="fractal-demo-"))
    targets = setup_workspace(home)
    _say(f"Local workspace: {home}\nCatalog targets: {', '.join(targets)}\n")
    for sample in sorted(SAMPLES.glob("*.yaml")):
        item = yamlio.load_untrusted(sample.read_text(), what=sample.name)
        result = call("f/fractal/save_item", {"item": item, "targets": targets})
        states = ", ".join(f"{r['target']}: {r['status']}" for r in result["targets"])
        _say(f"saved {result['ref']:<36} ({states})")
    listing = call("f/fractal/list_items", {"targets": targets})
    _say(f"\nThe catalog holds {listing['total']} items:")
    for row in listing["items"]:
        _say(f"  {row['ref']:<36} {row['description'][:60]}")
    shown = call("f/fractal/get_item", {"ref": "entity:local-motd", "targets": targets})
    _say(f"\nshow {shown['ref']}: files {', '.join(shown['item']['spec'].get('files', {}))}, commit {shown['commit'][:10]}")
    item = shown["item"]
    item["metadata"]["description"] = "Write a message of the day file (now with a custom message)"
    new = call(
        "f/fractal/save_item", {"item": item, "targets": targets, "expected_version": shown["item"]["metadata"]["version"]}
    )
    _say(f"changed it: now {new['ref']}")
    old = call("f/fractal/get_item", {"ref": "entity:local-motd@1.0.0", "targets": targets})
    _say(f"still readable: {old['ref']} — {old['item']['metadata']['description']}")
    history = call("f/fractal/item_history", {"ref": "entity:local-motd", "targets": targets[:1]})
    versions = [e["version"] for e in history["targets"][0]["entries"]]
    _say(f"history: {' → '.join(reversed(versions))}")
    _say(f"\nBrowse a catalog: git clone {home / 'repos' / 'catalog.git'}")
    return 0
