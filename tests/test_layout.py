"""The design can be read off the tree: one-way imports between the packages, no import
circles, and the yearly schedule in the order the ODD describes.

Imports are read from the source with ``ast`` (module level and inside functions alike; only
``if TYPE_CHECKING:`` blocks, which never run, are left out).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sim.model.schedule import SCHEDULE

ROOT = Path(__file__).resolve().parent.parent
# Packages of sim/, lowest first: each may import only from its own layer and those before it.
LAYERS = (
    ("sim.errors", "sim.version"),
    ("sim.scenario",),
    ("sim.state",),
    ("sim.inputs",),
    ("sim.model",),
    ("sim.experiments",),
    ("sim.cli",),
)
# What reports, dashboards and calibration may use of sim: the public API and the results.
PUBLIC = ("sim", "sim.errors", "sim.version", "sim.scenario", "sim.state.outcomes",
          "sim.experiments")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


ALL = {**modules("sim"), **modules("dashboards"), **modules("calibration")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) of every import that can run."""
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, []) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module, [alias.name for alias in child.names]))
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def targets(path: Path) -> set[str]:
    """The project modules an import in ``path`` loads: ``from pkg import mod`` counts as
    ``pkg.mod`` when ``mod`` is a module, else as ``pkg``."""
    out = set()
    for module, names in imports(path):
        for name in names or [None]:
            candidate = f"{module}.{name}" if name else module
            if candidate in ALL:
                out.add(candidate)
            elif module in ALL:
                out.add(module)
    return out


GRAPH = {name: targets(path) for name, path in ALL.items()}


def layer(module: str) -> int | None:
    for i, group in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in group):
            return i
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (as a list of modules, first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_circle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_function_imports_but_not_type_checking_ones(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
                      "def f():\n    from b import c\n")
    assert imports(source) == [("typing", ["TYPE_CHECKING"]), ("b", ["c"])]


def test_no_import_circle_inside_sim():
    graph = {m: {t for t in ts if t.startswith("sim")} for m, ts in GRAPH.items()
             if m.startswith("sim")}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_packages_import_only_downwards():
    """scenario (imports no model code) → state → inputs → model → experiments → cli."""
    wrong = []
    for module, ts in GRAPH.items():
        own = layer(module)
        if own is None:  # sim/__init__.py, the public API, may reach every layer
            continue
        wrong += [f"{module} -> {t}" for t in sorted(ts)
                  if t.startswith("sim") and layer(t) is not None and layer(t) > own]
    assert not wrong, wrong


def test_the_model_never_imports_the_command_line_dashboards_or_calibration():
    lower = [m for m in GRAPH if layer(m) is not None and layer(m) <= layer("sim.experiments")]
    wrong = [f"{m} -> {t}" for m in lower for t in GRAPH[m]
             if t.startswith(("sim.cli", "dashboards", "calibration"))]
    assert not wrong, wrong


def test_the_scenario_schema_imports_no_model_code():
    wrong = [f"{m} -> {t}" for m, ts in GRAPH.items() if m.startswith("sim.scenario")
             for t in ts if t.startswith("sim") and not t.startswith(("sim.scenario",
                                                                        "sim.errors"))]
    assert not wrong, wrong


def test_metrics_read_state_and_import_no_process():
    wrong = [t for t in GRAPH["sim.model.metrics"] if t.startswith("sim.model.processes")]
    assert not wrong, wrong


@pytest.mark.parametrize("package", ["dashboards", "calibration"])
def test_dashboards_and_calibration_use_the_public_api_and_results_only(package):
    """No model kernel or input builders, and no private names of sim."""
    wrong = []
    for module, path in ALL.items():
        if not module.startswith(package):
            continue
        for imported, names in imports(path):
            if not imported.startswith("sim"):
                continue
            if not any(imported == p or imported.startswith(p + ".") for p in PUBLIC):
                wrong.append(f"{module}: {imported}")
            wrong += [f"{module}: {imported}.{n}" for n in names
                      if n.startswith("_") and not n.endswith("__")]
    assert not wrong, wrong


def odd_schedule() -> list[str]:
    """The process names of the ODD's section 3, in order: the numbered list items' leading
    ``name`` in backticks."""
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = text.split("### 3 Process overview and scheduling", 1)[1].split("\n## ", 1)[0]
    section = section.split("\n### ", 1)[0]
    return re.findall(r"^\d+\. `([a-z_]+)`", section, flags=re.M)


def test_the_odd_names_the_steps_of_the_schedule_in_its_order():
    assert odd_schedule() == [p.name for p in SCHEDULE]


def test_every_step_is_one_module_of_the_processes_package():
    for process in SCHEDULE:
        assert process.step.__name__ == "step"
        assert process.step.__module__ == f"sim.model.processes.{process.name}"


def test_step_only_runs_the_schedule_and_records():
    from sim.model.kernel import QuartierModel

    tree = ast.parse((ROOT / "sim" / "model" / "kernel.py").read_text(encoding="utf-8"))
    step = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "step")
    assert step.end_lineno - step.lineno + 1 < 40
    assert QuartierModel.step.__doc__


def test_no_module_of_sim_is_over_600_lines():
    long = {m: n for m, p in modules("sim").items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long
