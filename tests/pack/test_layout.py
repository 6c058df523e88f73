"""Guard rails of the pack's layout (issue 8): public paths, one-way imports, Windmill-followable imports.

Read statically with `ast`, as Windmill's dependency resolver reads the scripts: nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from support.paths import ROOT

PACK = ROOT / "f" / "fractal"
PUBLIC_SCRIPTS = {
    "compile_playbook", "compose_meta_pipeline", "compose_pipeline", "delete_item", "deploy_flow", "generate_entity",
    "get_item", "get_run", "item_diff", "item_history", "item_users", "list_items", "list_providers", "list_runs",
    "pipeline_result", "refine_entity", "run_item", "save_item", "sync_catalog",
}
# model → platform → tools → flows → catalog → learning | generation | composition | audit → execution → public scripts
LAYERS = {"model": 0, "platform": 1, "tools": 2, "flows": 3, "catalog": 4, "learning": 5, "generation": 5,
          "composition": 5, "audit": 5, "execution": 6}
TOP = 7


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in PACK.rglob("*.py")
            if "__raw_app" not in str(p) and "__pycache__" not in str(p)}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[2], -1) if len(parts) > 3 else TOP


def _pack_imports(tree: ast.Module) -> list[tuple[ast.stmt, str, bool]]:
    """(node, imported pack module, at module top) for every pack import, at any depth."""
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("f."):
            found.append((node, node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            found += [(node, a.name, id(node) in top) for a in node.names if a.name.startswith("f.")]
    return found


def test_public_scripts_stay_at_the_top_with_their_metadata() -> None:
    scripts = {p.stem for p in PACK.glob("*.py")}
    assert scripts >= PUBLIC_SCRIPTS, f"public scripts moved: {sorted(PUBLIC_SCRIPTS - scripts)}"
    for name in scripts:
        source = (PACK / f"{name}.py").read_text()
        assert "\ndef main(" in source, f"f/fractal/{name}.py is at the top but is no script (no main)"
        assert (PACK / f"{name}.script.yaml").is_file(), f"f/fractal/{name}.py has no .script.yaml"
    assert not [p.name for p in PACK.iterdir() if p.is_dir() and p.name not in LAYERS and "__" not in p.name], \
        "a folder under f/fractal/ is not a layer of LAYERS"


def test_every_route_targets_a_public_script() -> None:
    routes = list(PACK.glob("*.http_trigger.yaml"))
    assert len(routes) >= 14
    for route in routes:
        target = yaml.safe_load(route.read_text())["script_path"]
        assert (ROOT / f"{target}.py").is_file() and target.count("/") == 2, f"{route.name} targets {target}: no public script"


def test_pack_imports_are_at_module_top_and_name_modules() -> None:
    """Windmill follows only top-level imports of a module path (`from f.fractal.catalog.items import get`,
    `import f.fractal.catalog.items`); `from f.fractal.catalog import items` names a folder and is not followed."""
    modules = _modules()
    problems = []
    for path in modules.values():
        for node, imported, at_top in _pack_imports(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if not at_top:
                problems.append(f"{where}: pack import inside a function (Windmill's resolver never sees it)")
            if imported not in modules:
                problems.append(f"{where}: `{imported}` is a folder or no module: import from the module itself")
    assert not problems, "\n".join(problems)


def test_imports_go_one_way_and_have_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    problems = []
    modules = _modules()
    for module, path in modules.items():
        deps = {imp for _n, imp, _t in _pack_imports(ast.parse(path.read_text())) if imp in modules}
        graph[module] = deps
        for dep in deps:
            if _layer(dep) > _layer(module):
                problems.append(f"{module} (layer {_layer(module)}) imports {dep} (layer {_layer(dep)}): imports go down only")
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                problems.append("cycle: " + " → ".join([*trail[trail.index(dep):], dep]))
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not problems, "\n".join(problems)


def test_no_private_function_is_called_across_modules() -> None:
    problems = []
    for _module, path in _modules().items():
        tree = ast.parse(path.read_text())
        for node, _imported, _top in _pack_imports(tree):
            if isinstance(node, ast.ImportFrom):
                problems += [f"{path.relative_to(ROOT)}: imports private {a.name}" for a in node.names if a.name.startswith("_")]
        aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                   if a.name.startswith("f.")}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_"):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: calls private {node.value.id}.{node.attr}")
    assert not problems, "\n".join(problems)
