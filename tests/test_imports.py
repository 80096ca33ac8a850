"""The import graph runs one way: the GUI imports the engine; the engine and the CLI never import the
GUI (only ``demo.run_demo`` opens the demo viewer, lazily); no module imports the CLI; no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "napari_inf3"
GUI_PACKAGES = ("qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "napari", "magicgui", "vispy")


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, bool]]:
    """``(imported module, at module level)`` for every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    top_level = {id(n) for n in tree.body}
    top_level |= {id(c) for n in tree.body if isinstance(n, (ast.If, ast.Try)) for c in ast.walk(n)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            out += [(n, id(node) in top_level) for n in names] + [(target, id(node) in top_level)]
    return out


def internal_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for target, _ in imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != "napari_inf3":
                targets.add(target)
        graph[name] = targets
    return graph


def test_engine_and_cli_never_import_the_gui():
    offenders = []
    for path in PKG.rglob("*.py"):
        name = module_name(path)
        if name.startswith("napari_inf3._napari"):
            continue
        for target, top in imports(path):
            gui = target.startswith("napari_inf3._napari") or target.split(".")[0] in GUI_PACKAGES
            if gui and not (name == "napari_inf3.demo" and not top and target.startswith("napari_inf3._napari")):
                offenders.append(f"{name} imports {target}")
    assert not offenders, offenders


def test_nothing_imports_the_cli():
    graph = internal_graph()
    cli = "napari_inf3.cli"

    def in_cli(name: str) -> bool:
        return name == cli or name.startswith(cli + ".")

    users = [m for m, targets in graph.items()
             if m != "napari_inf3.__main__" and not in_cli(m) and any(in_cli(t) for t in targets)]
    assert not users, users


def test_no_import_cycles():
    graph = internal_graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def _package(module: str) -> str:
    """The package a module belongs to, one level below napari_inf3 (``'(top)'`` for a top-level module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PKG / parts[1]).is_dir()) else "(top)"


def test_packages_import_each_other_one_way_at_module_level():
    """What a module imports when it is loaded (not inside a function) never runs from one package back to one that
    imports it: the packages form layers. (A function's own import, e.g. ``fuse('pair')`` reaching ``pair``, may
    go the other way: it runs when called, after both are loaded.)"""
    modules = {module_name(p): p for p in PKG.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        for target, top in imports(path):
            while top and target and target not in modules:
                target = target.rpartition(".")[0]
            if top and target and target not in (name, "napari_inf3") and _package(name) != _package(target):
                edges.setdefault(_package(name), set()).add(_package(target))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and not seen.add(n) and reaches(n, goal, seen))
                   for n in edges.get(start, ()))

    both_ways = sorted((a, b) for a, bs in edges.items() for b in bs if reaches(b, a, set()))
    assert not both_ways, both_ways


def test_gui_modules_import_no_qt_binding_directly():
    """Qt through qtpy only, so PyQt5 and PyQt6 both work."""
    offenders = [f"{module_name(p)} imports {t}" for p in (PKG / "_napari").rglob("*.py")
                 for t, _ in imports(p) if t.split(".")[0] in ("PyQt5", "PyQt6", "PySide2", "PySide6")]
    assert not offenders, offenders
