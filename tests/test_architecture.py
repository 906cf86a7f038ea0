"""The project's import map, read from the source with ``ast`` (nothing is imported).

Rules: no module imports itself through others (a cycle of files), no two top-level packages import each
other, ``llmops`` (the runtime) never imports the Spark jobs, the data gates, the demo tool or the DAGs
(they import it), ``llmops.contracts`` imports nothing of the project, and every Asset is declared once, in
``llmops/assets.py``. The checker itself is tested on small made-up trees, so a broken checker fails too.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# folder -> the import prefix of the modules in it ("" for plugins/, whose packages are top-level on sys.path)
SOURCE_ROOTS = {"plugins": "", "spark_jobs": "spark_jobs", "expectations": "expectations", "dags": "dags",
                "feature_repo": "feature_repo", "llmops_demo": "llmops_demo"}  # fmt: skip
ASSETS_MODULE = "llmops.assets"
# what the runtime package must not import: it is imported by them
NOT_FROM_RUNTIME = ("spark_jobs", "expectations", "llmops_demo", "dags")


def collect_modules(root: Path, source_roots: dict[str, str]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under the source roots (packages by their __init__)."""
    modules = {}
    for folder, prefix in source_roots.items():
        base = root / folder
        for path in sorted(base.rglob("*.py")) if base.is_dir() else []:
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(p for p in (prefix, *parts) if p)
            if name:
                modules[name] = path
    return modules


def _imported_names(module: str, path: Path, tree: ast.Module) -> list[tuple[str, str]]:
    """(name, fallback) for every import statement anywhere in the file (function-level ones included):
    ``from pkg import x`` loads module ``pkg.x`` when there is one, else the name ``x`` of ``pkg``."""
    is_package = path.name == "__init__.py"
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names += [(f"{base}.{alias.name}", base) for alias in node.names]
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (an import of ``a.b.c`` counts for the nearest known module)."""
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name, fallback in _imported_names(module, path, ast.parse(path.read_text(), str(path))):
            if name not in modules:
                name = fallback
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative), each sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Top-level package -> the other top-level packages its modules import."""
    top = lambda name: name.split(".")[0]  # noqa: E731
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        packages.setdefault(top(module), set()).update(top(t) for t in targets if top(t) != top(module))
    return packages


def forbidden_imports(graph: dict[str, set[str]], importer: str, banned: tuple[str, ...]) -> list[str]:
    """``module -> target`` for every import from the ``importer`` package of a module under ``banned``."""
    inside = lambda name, prefix: name == prefix or name.startswith(prefix + ".")  # noqa: E731
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if inside(module, importer)
        for target in targets
        if any(inside(target, b) for b in banned)
    )


def asset_declarations(modules: dict[str, Path]) -> list[tuple[str, str]]:
    """(Asset name, declaring module) for every ``Asset(...)`` call with a literal name."""
    found = []
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if func != "Asset":
                continue
            names = [k.value for k in node.keywords if k.arg == "name"] + node.args[:1]
            if names and isinstance(names[0], ast.Constant):
                found.append((names[0].value, module))
            else:
                found.append(("<not a literal>", module))
    return found


@pytest.fixture(scope="module")
def project():
    modules = collect_modules(ROOT, SOURCE_ROOTS)
    return modules, import_graph(modules)


def test_the_map_covers_the_project(project):
    modules, graph = project
    for expected in ("llmops.lake", "llmops.contracts.raw_landing", "spark_jobs.session", "expectations.gate",
                     "dags.llmops_data", ASSETS_MODULE):
        assert expected in modules
    assert "llmops.lake" in graph["spark_jobs.session"]  # the resolver sees `from llmops import lake`


def test_no_module_cycle(project):
    assert cycles(project[1]) == []


def test_no_package_cycle(project):
    assert cycles(package_graph(project[1])) == []


def test_the_runtime_imports_none_of_its_users(project):
    assert forbidden_imports(project[1], "llmops", NOT_FROM_RUNTIME) == []


def test_the_contracts_are_a_leaf(project):
    graph = project[1]
    contracts = [m for m in graph if m == "llmops.contracts" or m.startswith("llmops.contracts.")]
    assert contracts
    assert {m: graph[m] - set(contracts) for m in contracts} == {m: set() for m in contracts}


def test_every_asset_is_declared_once_in_the_assets_module(project):
    declared = asset_declarations(project[0])
    assert declared, "no Asset declaration found"
    counts = Counter(name for name, _ in declared)
    assert {name: n for name, n in counts.items() if n > 1} == {}
    assert {module for _, module in declared} == {ASSETS_MODULE}


# ------------------------------------------------------------------ the checker on made-up trees


def _tree(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return import_graph(collect_modules(root, {"plugins": "", "jobs": "jobs"}))


def test_checker_finds_a_cycle_through_a_function_level_and_a_relative_import(tmp_path):
    graph = _tree(tmp_path, {
        "plugins/rt/__init__.py": "",
        "plugins/rt/a.py": "from rt import b\n",
        "plugins/rt/b.py": "def f():\n    from .c import x\n",
        "plugins/rt/c.py": "import rt.a\nx = 1\n",
        "plugins/rt/d.py": "from rt.a import thing\n",
    })  # fmt: skip
    assert graph["rt.b"] == {"rt.c"}
    assert cycles(graph) == [["rt.a", "rt.b", "rt.c"]]


def test_checker_tells_a_submodule_from_a_name_of_the_package(tmp_path):
    graph = _tree(tmp_path, {
        "plugins/demo/__init__.py": "from demo.gen import generate\nSEED = 1\n",
        "plugins/demo/gen.py": "from demo import words\ndef generate(): ...\n",  # a sibling module: fine
        "plugins/demo/words.py": "",
        "plugins/demo/bad.py": "from demo import SEED\n",  # the package's own code
    })  # fmt: skip
    assert graph["demo.gen"] == {"demo.words"}
    assert graph["demo.bad"] == {"demo"}
    assert cycles(graph) == []
    (tmp_path / "plugins/demo/__init__.py").write_text("from demo.bad import x\nSEED = 1\n")
    assert cycles(import_graph(collect_modules(tmp_path, {"plugins": ""}))) == [["demo", "demo.bad"]]


def test_checker_finds_a_package_cycle_and_a_forbidden_import(tmp_path):
    graph = _tree(tmp_path, {
        "plugins/rt/__init__.py": "",
        "plugins/rt/lake.py": "",
        "plugins/rt/tok.py": "from jobs.pii import PLACEHOLDERS\n",
        "jobs/__init__.py": "",
        "jobs/pii.py": "from rt import lake\n",
    })  # fmt: skip
    assert cycles(graph) == []  # no file cycle...
    assert cycles(package_graph(graph)) == [["jobs", "rt"]]  # ...but the packages import each other
    assert forbidden_imports(graph, "rt", ("jobs",)) == ["rt.tok -> jobs.pii"]


def test_checker_finds_assets_declared_twice_or_outside_the_assets_module(tmp_path):
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "one.py").write_text('from airflow.sdk import Asset\nGOLD = Asset(name="gold", uri="x")\n')
    (tmp_path / "dags" / "two.py").write_text('import airflow.sdk as s\nG = s.Asset("gold", uri="x")\n')
    declared = asset_declarations(collect_modules(tmp_path, {"dags": "dags"}))
    assert sorted(declared) == [("gold", "dags.one"), ("gold", "dags.two")]
