"""The operator UIs end to end in a real browser: Debian's Chromium driven by Playwright.

Nothing is mocked: `scripts/fractal serve` runs in its own process on 127.0.0.1 with a fresh workspace
whose catalogs are two real bare Git repositories; it serves the apps exactly as `wmill app bundle`
builds them, behind the host page that plays Windmill's side of the raw-app bridge, and runs the
pack's scripts (real Git, real Ansible). No LLM is configured: the offline generator and composer
answer, as they would in a workspace without one.

One browser for the module, a fresh page per test. Screenshots go to $FRACTAL_SCREENSHOTS (default:
the test's temporary folder); the README shows the best ones, copied to apps/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import audit_repos

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/lib/chromium/chromium")
TARGETS = ["f/fractal/catalog", "f/fractal/mirror"]
KNOWLEDGE = "f/fractal/knowledge"  # the default knowledge catalog (submit_solution)
EXOSCALE_KEYS = {"f/fractal/exoscale": "EXO0123456789abcdef0123", "u/ui/exoscale_other": "EXOfedcba9876543210fedcba98765"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by scripts/setup (requirements-dev.txt)")
expect = sync_api.expect
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # one server and one browser for the module (scripts/test: --dist loadgroup)
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: scripts/setup installs it with apt-get"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`scripts/fractal serve` in its own process on a fresh workspace."""

    def __init__(self, home: Path, knowledge: Path) -> None:
        self.home = home
        self.knowledge = knowledge  # the bare repository of the knowledge catalog
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FRACTAL_HOME": str(home), "FRACTAL_ACTOR": "UI Test <ui@localhost>",
               "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
               "PATH": f"{Path(sys.executable).parent}:{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"}
        for var in ("FRACTAL_API_TOKEN", "FRACTAL_LLM_MODEL", "FRACTAL_DEFAULT_TARGETS", "FRACTAL_KNOWLEDGE_TARGETS", "WM_TOKEN",
                    "EXOSCALE_API_KEY", "EXOSCALE_API_SECRET"):
            env.pop(var, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "fractal_local", "serve", "--port", str(self.port)],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90  # generous: a busy CI machine imports slowly
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                urllib.request.urlopen(f"{self.base}/api/version", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        said = self.proc.stderr.read().decode()[-2000:] if self.proc.poll() is not None and self.proc.stderr else ""
        raise RuntimeError(f"the local server did not start: {said}")

    def call(self, script: str, args: dict[str, Any]) -> Any:
        request = urllib.request.Request(f"{self.base}/api/w/local/jobs/run_wait_result/p/f/fractal/{script}",
                                         data=json.dumps(args).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def _resource(home: Path, path: str, kind: str, value: dict[str, str]) -> None:
    file = home / f"{path}.resource.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(yaml.safe_dump({"description": f"test {kind} {path}", "resource_type": kind, "value": value}))


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("remotes")
    return {path: _bare(base / f"{path.rsplit('/', 1)[1]}.git") for path in TARGETS}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, repos: dict[str, Path]) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("home")
    knowledge = _bare(tmp_path_factory.mktemp("knowledge") / "knowledge.git")
    for path, repo in [*repos.items(), (KNOWLEDGE, knowledge)]:
        _resource(home, path, "git_repository", {"url": str(repo), "branch": "main"})
    for path, key in EXOSCALE_KEYS.items():  # two credentials of one type: the launch form picks one
        _resource(home, path, "exoscale", {"api_key": key, "api_secret": f"secret-of-{path}-0123456789"})
    server = Server(home, knowledge)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FRACTAL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser: Any, server: Server, app: str, width: int = 1280, height: int = 1500) -> tuple[Any, Any]:
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base}/apps/{app}/")
    page.errors = errors
    return page, page.frame_locator("#app")


def _fits_width(page: Any, width: int) -> bool:
    """At this viewport width, the app needs no horizontal scrolling."""
    page.set_viewport_size({"width": width, "height": 1500})
    app_frame = page.locator("#app").element_handle().content_frame()
    return bool(app_frame.evaluate(f"document.documentElement.scrollWidth <= {width}"))


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def test_entity_composer_drafts_refines_and_saves_to_two_repos(browser: Any, server: Server, repos: dict[str, Path],
                                                               shots: Path) -> None:
    page, app = _open(browser, server, "entity_composer")
    need = app.get_by_role("textbox", name="Describe the need")
    need.fill("a 3-node K3s cluster on Exoscale in ch-gva-2")
    need.press("Control+Enter")  # keyboard: submit from the text area
    app.get_by_text("All checks passed").wait_for(timeout=90_000)
    app.get_by_role("tab", name="main.tf").focus()
    app.get_by_role("tab", name="main.tf").press("ArrowRight")  # keyboard: the next file's tab
    assert app.get_by_role("tab", name="variables.tf").get_attribute("aria-selected") == "true"
    assert 'variable "zone"' in app.get_by_role("tabpanel").locator("textarea").input_value()
    app.get_by_text("No LLM configured").wait_for()
    page.screenshot(path=shots / "entity-composer-draft.png")

    app.get_by_role("textbox", name="Ask for a change").fill("use 5 nodes in de-fra-1")
    app.get_by_role("button", name="Send").click()
    diff = app.get_by_role("figure", name="Changes from the previous turn")
    diff.wait_for(timeout=90_000)
    assert "de-fra-1" in " ".join(diff.locator(".plus").all_inner_texts())
    assert "ch-gva-2" in " ".join(diff.locator(".minus").all_inner_texts())
    page.screenshot(path=shots / "entity-composer-refine.png")
    app.get_by_role("button", name="Accept").click()
    assert app.locator(".thread li").count() == 2

    save = app.get_by_role("region", name="Save")
    save.get_by_label("f/fractal/mirror").check()
    assert save.get_by_label("f/fractal/catalog").is_checked()  # the default target comes pre-checked
    save.get_by_role("button", name="Save").click()
    app.get_by_text("✓ Saved").wait_for(timeout=60_000)
    page.screenshot(path=shots / "entity-composer-saved.png")
    shown = save.locator("code.sha").all_inner_texts()
    assert len(shown) == 2
    for (path, repo), sha in zip(repos.items(), shown, strict=True):
        log = _git(repo, "log", "--format=%H %s", "main")
        assert log.startswith(sha) and "save entity:3-node-k3s-cluster-exoscale@1.0.0" in log, (path, log)
        assert "entity/3-node-k3s-cluster-exoscale/v1.0.0" in _git(repo, "tag")

    save.get_by_label("Expected current version").fill("0.9.0")  # a stale expectation: the API's conflict, kept
    save.get_by_role("button", name="Save").click()
    alert = save.get_by_role("alert")
    alert.wait_for(timeout=60_000)
    assert alert.get_attribute("data-kind") == "conflict" and "1.0.0" in alert.inner_text()
    conflict = save.get_by_role("figure", name=re.compile("current v1.0.0"))  # mine vs current
    conflict.wait_for()
    assert "de-fra-1" in conflict.inner_text()
    page.screenshot(path=shots / "entity-composer-conflict.png")

    teach = app.get_by_role("region", name="Teach Fractal this solution")  # the learning loop's intake
    teach.get_by_text("Make this draft a reusable template").click()  # the form folds open
    task = teach.get_by_role("textbox", name="What it does (the task)")
    assert task.input_value() == "a 3-node K3s cluster on Exoscale in ch-gva-2"  # the need, as a start
    task.fill("a 5-node K3s cluster on Exoscale in de-fra-1")
    teach.get_by_role("button", name="Teach", exact=True).click()
    teach.get_by_text("Learned as").wait_for(timeout=90_000)
    assert "fractal: save entity:" in _git(server.knowledge, "log", "--format=%s", "main")  # the Rune, in Git

    assert _fits_width(page, 800) and _fits_width(page, 1280)
    app.get_by_role("button", name="Français").click()  # the language switch
    app.get_by_role("heading", name="Composeur d'entités").wait_for()
    assert not page.errors
    page.close()


@pytest.fixture(scope="module")
def catalog(server: Server) -> Server:
    """The default catalog seeded with the sample entities and two pipelines composed offline from them."""
    for name in ("local-motd", "composition/app-workdir", "composition/app-config", "composition/file-checksum",
                 "composition/checksum-report"):
        item = yaml.safe_load((ROOT / "resources" / "samples" / f"{name}.yaml").read_text())
        server.call("save_item", {"item": item, "targets": [TARGETS[0]]})
    for name, need in (("app-setup", "create the application folder, then write the application's configuration file into it"),
                       ("app-report", "compute the checksum of the configuration file, then write a report of that checksum")):
        server.call("compose_pipeline", {"need": need, "name": name, "llm": "offline", "targets": [TARGETS[0]], "save": True})
    server.call("save_item", {"item": KEY_PROBE, "targets": [TARGETS[0]]})
    return server


KEY_PROBE = {  # which credential a play received; its description has Markdown and HTML (shown as text, never run)
    "apiVersion": "fractal/v1", "kind": "Entity",
    "metadata": {"name": "key-probe", "description": "Show **which** Exoscale key a play gets <img src=x onerror=alert(1)>"},
    "spec": {
        "tool": "ansible", "providers": ["local"], "credentials": ["exoscale"],
        "allow": [{"rule": "ansible-env-lookup", "reason": "test: shows which credential the play received"}],
        "outputs": {"key_length": {"description": "length of the key the play received"}},
        "files": {"site.yml": "- name: Probe\n  hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
                              "    - name: Measure the key\n      ansible.builtin.set_fact:\n"
                              "        key_length: \"{{ lookup('env', 'EXOSCALE_API_KEY') | length }}\"\n"},
    },
}


def test_catalog_explorer_runs_an_ansible_entity_and_a_pipeline(browser: Any, catalog: Server, shots: Path,
                                                                tmp_path: Path) -> None:
    page, app = _open(browser, catalog, "catalog_explorer")
    app.get_by_role("searchbox", name="Search the catalog").fill("motd")
    app.get_by_role("searchbox", name="Search the catalog").press("Enter")
    app.get_by_role("button", name="entity:local-motd@1.0.0").click()
    app.get_by_role("tab", name="Files").click()
    expect(app.get_by_role("textbox", name="site.yml")).to_have_value(re.compile("ansible.builtin.copy"))
    run = app.get_by_role("region", name="Run entity:local-motd@1.0.0")
    expect(run.get_by_label("Provider")).to_have_value("local")  # the one provider that fits
    expect(run.locator("option[value='k3s']")).to_be_disabled()  # greyed out, with the reason
    assert "does not fit" in run.locator("option[value='k3s']").inner_text()
    run.get_by_label("motd_dir").fill(str(tmp_path))
    run.get_by_label("message").fill("Bonjour from the browser")
    run.get_by_role("button", name="Launch").click()
    app.get_by_text("Status: success").wait_for(timeout=90_000)
    assert app.locator("tr[data-step='local-motd'][data-status='success']").count() == 1
    assert (tmp_path / "motd").read_text() == "Bonjour from the browser\n"  # real Ansible ran
    assert str(tmp_path / "motd") in app.locator("tr[data-step='local-motd']").inner_text()  # its output
    page.screenshot(path=shots / "catalog-explorer-entity-run.png")

    app.get_by_role("searchbox", name="Search the catalog").fill("probe")
    app.get_by_role("button", name="Find").click()
    app.get_by_role("button", name="entity:key-probe@1.0.0").click()
    app.get_by_role("tab", name="README").click()
    readme = app.get_by_role("article", name="README entity:key-probe@1.0.0")
    expect(readme.locator("strong")).to_have_text(["which"])  # Markdown rendered
    assert "<img src=x onerror=alert(1)>" in readme.inner_text() and readme.locator("img").count() == 0  # HTML as text
    expect(readme.get_by_role("heading", name="key-probe")).to_be_visible()
    run = app.get_by_role("region", name="Run entity:key-probe@1.0.0")
    picker = run.get_by_label("Credential exoscale")  # the workspace's exoscale resources, the default first chosen
    expect(picker).to_have_value("f/fractal/exoscale")
    expect(picker.locator("option")).to_have_text(["f/fractal/exoscale (default)", "u/ui/exoscale_other"])
    picker.select_option("u/ui/exoscale_other")
    run.get_by_role("button", name="Launch").click()
    app.get_by_text("Status: success").wait_for(timeout=90_000)
    assert f"key_length={len(EXOSCALE_KEYS['u/ui/exoscale_other'])}" in app.locator("tr[data-step='key-probe']").inner_text()

    app.get_by_role("searchbox", name="Search the catalog").fill("workdir")
    app.get_by_role("button", name="Find").click()
    app.get_by_role("button", name="entity:app-workdir@1.0.0").click()
    app.get_by_role("tab", name="Used by").click()
    used = app.get_by_role("tabpanel").locator("li[data-depth='1']")  # the item_users script's answer
    expect(used).to_have_count(1)
    assert "pipeline:app-setup@1.0.0" in used.inner_text() and "app_workdir" in used.inner_text()
    app.get_by_role("tab", name="History").click()
    expect(app.get_by_role("tabpanel").locator("tbody tr")).to_have_count(1)  # one save, from git log

    app.get_by_role("region", name="Search the catalog").get_by_label("Kind").select_option("pipeline")
    app.get_by_role("searchbox", name="Search the catalog").fill("")
    app.get_by_role("button", name="Find").click()
    app.get_by_role("button", name="pipeline:app-setup@1.0.0").click()
    app.get_by_role("tab", name="Graph").click()
    link = app.get_by_role("tabpanel").locator("svg.edges g[data-from='app_workdir'][data-to='app_config']")
    expect(link).to_have_count(1)  # the step link drawn, labelled with the output it carries
    assert link.get_attribute("class") == "data" and link.locator("text").text_content()
    run = app.get_by_role("region", name="Run pipeline:app-setup@1.0.0")
    run.get_by_label("base_dir").fill(str(tmp_path / "apps"))
    run.get_by_role("button", name="Launch").click()
    app.get_by_text("Running…").wait_for()
    assert app.locator(".node[data-mark='running']").count() == 2  # every step shown as running meanwhile
    app.get_by_text("Status: success").wait_for(timeout=120_000)
    for step in ("app_workdir", "app_config"):
        assert app.locator(f".node[data-step='{step}'][data-mark='success']").count() == 1
        assert app.locator(f"tr[data-step='{step}'][data-status='ok']").count() == 1
    assert (tmp_path / "apps" / "demo-app" / "app.conf").is_file()  # real Ansible ran
    assert app.locator("tbody tr td.ok").count() == 3  # the run list: the two entities, then the pipeline
    page.screenshot(path=shots / "catalog-explorer-pipeline-run.png")
    assert _fits_width(page, 800)
    page.screenshot(path=shots / "catalog-explorer-800.png")
    assert not page.errors
    page.close()


def test_pipeline_composer_fills_a_gap_with_the_entity_composer(browser: Any, catalog: Server, repos: dict[str, Path],
                                                                shots: Path) -> None:
    page, app = _open(browser, catalog, "pipeline_composer")
    app.get_by_role("textbox", name="Describe the need").fill("create the application folder, then install nginx on this machine")
    app.get_by_role("button", name="Compose").click()
    gap = app.locator(".node.gap[data-gap='install nginx on this machine']")
    gap.wait_for(timeout=60_000)
    assert app.locator(".node[data-step='app_workdir']").count() == 1
    assert app.get_by_role("region", name=re.compile("^Save")).get_by_role("button", name="Save").is_disabled()  # gaps first
    page.screenshot(path=shots / "pipeline-composer-gap.png")

    gap.get_by_role("button", name="Generate this entity").click()
    dialog = app.get_by_role("dialog", name="Entity composer")
    assert dialog.get_by_role("textbox", name="Describe the need").input_value() == "install nginx on this machine"  # prefilled
    assert dialog.get_by_label("Tool").input_value() == "ansible" and dialog.get_by_label("Provider").input_value() == "local"
    dialog.get_by_role("button", name="Generate").click()
    dialog.get_by_text("All checks passed").wait_for(timeout=120_000)
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="hidden", timeout=60_000)  # saved: back to the composition, recomposed
    app.locator(".node[data-step='install_nginx_machine'][data-mark='added']").wait_for(timeout=60_000)
    assert app.locator(".node.gap").count() == 0
    assert "install_nginx_machine" in app.locator(".graph-diff").inner_text()
    assert "fractal: save entity:install-nginx-machine@1.0.0" in _git(repos[TARGETS[0]], "log", "--format=%s", "main")
    page.screenshot(path=shots / "pipeline-composer-filled.png")
    app.get_by_role("tab", name="Wiring").wait_for()
    assert app.get_by_role("table", name="Wiring").locator("tbody tr").count() >= 2
    assert not page.errors
    page.close()


def test_meta_pipeline_composer_composes_pipelines_and_expands_them(browser: Any, catalog: Server, shots: Path) -> None:
    page, app = _open(browser, catalog, "meta_pipeline_composer")
    app.get_by_role("textbox", name="Describe the need").fill("set up the application, then report its checksum")
    app.get_by_role("button", name="Compose").click()
    app.locator(".node[data-step='app_setup']").wait_for(timeout=60_000)
    assert app.locator(".node[data-step='app_report']").count() == 1
    assert app.locator(".node.gap").count() == 0
    app.locator(".node[data-step='app_setup']").get_by_role("button", name="Expand").click()
    app.locator(".node[data-step='app_workdir']").wait_for()  # the member's own graph, nested
    collapse = app.locator(".node[data-step='app_setup']").get_by_role("button", name="Collapse")
    assert collapse.get_attribute("aria-expanded") == "true"
    app.get_by_role("tab", name="Compiled flow").click()
    app.get_by_text("All checks passed").wait_for()
    page.screenshot(path=shots / "meta-pipeline-composer.png")
    save = app.get_by_role("region", name=re.compile("^Save"))
    save.get_by_role("button", name="Save").click()
    app.get_by_text("✓ Saved").wait_for(timeout=60_000)
    assert "meta-pipeline:" in save.inner_text()
    assert _fits_width(page, 800)
    page.screenshot(path=shots / "meta-pipeline-composer-800.png")
    assert not page.errors
    page.close()


def test_repository_audit_scores_a_planted_repo_and_saves_its_migration(browser: Any, server: Server, repos: dict[str, Path],
                                                                       shots: Path, tmp_path: Path) -> None:
    """The planted repository of the audit tests (a key committed then removed, a root Dockerfile, manifests
    without limits, an open security group): its score with the checks' evidence, the findings by category,
    then the migration scaffolded, rescanned and saved to two catalogs. The history and the pack's own rules
    run (the external scanners have their own tests: tests/audit)."""
    repo, secrets, leaked = audit_repos.planted(tmp_path)
    page, app = _open(browser, server, "repository_audit")
    app.get_by_role("combobox", name="Repository").fill(str(repo))  # a text box with the known repositories as suggestions
    for scanner in ("checkov", "bandit", "detect-secrets"):
        app.get_by_role("checkbox", name=scanner).uncheck()
    app.get_by_role("button", name="Audit", exact=True).click()
    score = app.get_by_role("region", name="GitOps score")
    score.locator(".score").wait_for(timeout=90_000)
    history_check = score.locator("tr[data-check='no-secrets-in-history']")
    assert history_check.get_attribute("data-status") == "fail" and leaked[:7] in history_check.inner_text()  # its evidence
    findings = app.get_by_role("region", name=re.compile("^Findings"))
    secret = findings.get_by_role("region", name="secret").locator("li").first
    assert leaked[:10] in secret.inner_text()  # found in the history, with its commit
    shown = findings.inner_text()
    for rule in ("DF-ROOT-USER", "K8S-NO-LIMITS", "TF-OPEN-SECURITY-GROUP"):
        assert rule in shown, rule
    frame_html = page.frame_locator("#app").locator("html").inner_html()
    assert not any(value in frame_html for value in secrets)  # no secret value anywhere on the page
    page.screenshot(path=shots / "repository-audit.png", full_page=True)

    findings.get_by_label("Category").select_option("secret")  # filterable
    expect(findings.locator("section.finding-group")).to_have_count(1)
    findings.get_by_label("Filter").fill("K8S")
    expect(findings.get_by_text("Nothing found")).to_be_visible()

    migration = app.get_by_role("region", name="Migration to GitOps")
    migration.get_by_role("button", name="Scaffold the migration").click()
    change = migration.locator(".score-change")
    change.wait_for(timeout=90_000)
    before, after = (int(n) for n in change.locator("strong").all_inner_texts())
    assert after > before, change.inner_text()  # the rescanned scaffold scores higher
    migration.get_by_label("f/fractal/mirror").check()
    migration.get_by_role("button", name="Save the drafts and the pipeline").click()
    saved = migration.get_by_role("status", name="Saved")
    expect(saved.locator("li").last).to_contain_text("pipeline:", timeout=90_000)
    page.screenshot(path=shots / "repository-audit-migration.png", full_page=True)
    for bare in repos.values():
        log = _git(bare, "log", "--format=%s", "main")
        assert "fractal: save pipeline:planted" in log and "fractal: save entity:planted" in log, log
    assert _fits_width(page, 800)
    assert not page.errors
    page.close()
