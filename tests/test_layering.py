"""One way through the house. Statically: the import-linter contracts in pyproject.toml (one
layers contract over every module by where it lives: entry > cli > tui > domain, sync,
guidance, letter > store > core; nothing below the TUI imports Textual; the TUI has no SQL of
its own), which also see imports inside functions; the module graph has no cycle; the
package root stays small and no module grows past 800 lines. At run time: importing a domain
module loads no Textual, and the start-up fast path (today's rows) loads no SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_layer_contracts_hold(monkeypatch, capsys):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "Contracts: 3 kept, 0 broken." in report


def _import_graph():
    import grimp

    return grimp.build_graph("nmi_desk", cache_dir=None)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
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
                    work.append((child, iter(sorted(edges.get(child, ())))))
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
    return found


def test_the_module_graph_has_no_cycle():
    graph = _import_graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    edges = {m: {d for d in deps if d.startswith("nmi_desk")} for m, deps in edges.items()}
    assert _cycles(edges) == []


def _all_modules() -> list[str]:
    root = ROOT / "nmi_desk"
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name != "nmi_desk.__main__":
            names.append(name)
    return names


@pytest.mark.parametrize("module", _all_modules())
def test_each_module_imports_first_in_a_fresh_process(module):
    """The graph above has no package-init edges: importing a.b.c runs a/b/__init__ first, and
    a package whose __init__ imports its own modules can meet one of them half-made (it did:
    visits -> clients.writes -> clients/__init__ -> clients.history -> visits). So every
    module is imported as the first of nmi_desk's."""
    run = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr.strip().splitlines()[-1:]


PACKAGE = ROOT / "nmi_desk"


def test_the_package_root_holds_at_most_five_modules():
    at_root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(at_root) <= 5, at_root


def test_no_module_is_over_800_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}


# Process-wide by nature, each with its reason; anything else a module keeps between calls
# belongs to an object (the Desk, its Context, its Keyring), not to the module.
PROCESS_WIDE = {
    # POSIX locks belong to the process: the kept descriptors that must not drop SQLite's
    "nmi_desk/store/file_state.py": {"_handles"},
    # the fault-injection counters of the kill -9 tests count passes in this process
    "nmi_desk/sync/crashpoints.py": {"_hits"},
}
_MUTATORS = {
    "append", "extend", "insert", "pop", "popitem", "clear", "update", "setdefault", "add",
    "discard", "remove",
}  # fmt: skip


def _module_state_writes(source: str) -> list[str]:
    """Writes from inside functions to a module-level name: `global x`, `x[k] = v`,
    `del x[k]`, `x.append(...)` and the like on a name the module assigns."""
    import ast

    tree = ast.parse(source)
    module_names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        module_names |= {t.id for t in targets if isinstance(t, ast.Name)}
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        local = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs, *fn.args.posonlyargs]}
        for n in ast.walk(fn):
            if isinstance(n, (ast.Assign, ast.AnnAssign)):
                for t in n.targets if isinstance(n, ast.Assign) else [n.target]:
                    if isinstance(t, ast.Name):
                        local.add(t.id)
        shared = module_names - local
        for n in ast.walk(fn):
            if isinstance(n, ast.Global):
                found += [f"global {name}" for name in n.names]
            elif (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in _MUTATORS
                and isinstance(n.func.value, ast.Name)
                and n.func.value.id in shared
            ):
                found.append(n.func.value.id)
            elif isinstance(n, (ast.Assign, ast.AugAssign, ast.Delete)):
                targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target]
                found += [
                    t.value.id
                    for t in targets
                    if isinstance(t, ast.Subscript)
                    and isinstance(t.value, ast.Name)
                    and t.value.id in shared
                ]
    return found


def test_no_module_keeps_mutable_state_of_its_own():
    writes = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        names = set(_module_state_writes(path.read_text(encoding="utf-8")))
        names -= PROCESS_WIDE.get(rel, set())
        if names:
            writes[rel] = sorted(names)
    assert writes == {}


def test_the_module_state_finder_finds_state():
    source = (
        "_cache = {}\n_seen = []\n_active = None\n"
        "def put(k, v):\n    _cache[k] = v\n"
        "def see(x):\n    _seen.append(x)\n"
        "def use(r):\n    global _active\n    _active = r\n"
        "def fine(_cache):\n    _cache[1] = 2\n"
    )
    assert sorted(_module_state_writes(source)) == ["_cache", "_seen", "global _active"]


UI_FREE = [
    "nmi_desk.cli.app",
    "nmi_desk.cli.clients",
    "nmi_desk.domain.clients",
    "nmi_desk.core.config",
    "nmi_desk.domain.desk",
    "nmi_desk.domain.demo",
    "nmi_desk.domain.doctor",
    "nmi_desk.core.names",
    "nmi_desk.domain.referrals",
    "nmi_desk.domain.reference.db",
    "nmi_desk.domain.reference.files",
    "nmi_desk.domain.sessions",
    "nmi_desk.domain.stats.compute",
    "nmi_desk.store.connect",
    "nmi_desk.store.engine",
    "nmi_desk.store.migrations",
    "nmi_desk.store.models",
    "nmi_desk.sync.clients_pull",
    "nmi_desk.core.validation",
    "nmi_desk.domain.visits",
]


def _modules_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", UI_FREE)
def test_domain_and_store_modules_do_not_import_textual(module):
    loaded = _modules_after_import(module)
    assert "textual" not in loaded


@pytest.mark.parametrize(
    "module",
    [
        "nmi_desk.domain.stats.today",
        "nmi_desk.store.connect",
        "nmi_desk.domain.desk",
        "nmi_desk.tui.app",
    ],
)
def test_the_start_up_read_path_stays_off_sqlalchemy(module):
    loaded = _modules_after_import(module)
    assert "sqlalchemy" not in loaded
    assert "sqlmodel" not in loaded


@pytest.mark.parametrize("package", ["nmi_desk.domain.clients", "nmi_desk.letter"])
def test_a_lazy_package_face_gives_its_names_even_after_its_modules_are_imported(package):
    """A name the package loads on first use (PEP 562) must not share its name with one of
    the package's modules: once that module is imported, the attribute is the module (the
    CLI's inzage export once called a module)."""
    import importlib
    import pkgutil
    import types

    face = importlib.import_module(package)
    for info in pkgutil.iter_modules(face.__path__):
        importlib.import_module(f"{package}.{info.name}")
    shadowed = [n for n in face.__all__ if isinstance(getattr(face, n), types.ModuleType)]
    assert shadowed == []


def test_the_tuis_main_thread_never_imports_the_orm():
    """Every TUI module imports without SQLAlchemy: the ORM is imported by workers only. When
    the main thread imported it too (a screen opened while the database opened in a worker),
    the two threads met SQLAlchemy half-made and the app stopped with an ImportError."""
    tui = [m for m in _all_modules() if m.startswith("nmi_desk.tui")]
    code = (
        "import importlib, json, sys\n"
        f"for name in {tui!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'psycopg'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def _needs_orm(name: str) -> bool:
    return name.split(".")[0] == "sqlmodel" or name.startswith("sqlalchemy.orm")


def test_every_module_that_imports_the_orm_at_its_top_imports_it_whole_first():
    """Two threads importing SQLAlchemy at once can meet it half-made (an ImportError in a
    worker, seen when the database opened while the sync line read its status): a module
    that imports SQLAlchemy or SQLModel at its top imports a gate before, whose body Python
    runs in one thread at a time: nmi_desk.store.orm for the ORM (SQLModel, sqlalchemy.orm),
    nmi_desk.store.sql_core (or orm, which imports it) for Core alone."""
    import ast

    late = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("nmi_desk/store/orm.py", "nmi_desk/store/sql_core.py"):
            continue
        orm_gate = core_gate = False
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if "nmi_desk.store.orm" in names:
                orm_gate = core_gate = True
            elif "nmi_desk.store.sql_core" in names:
                core_gate = True
            elif any(n.split(".")[0] in ("sqlalchemy", "sqlmodel") for n in names):
                if not (orm_gate if any(_needs_orm(n) for n in names) else core_gate):
                    late.append(rel)
    assert late == []
