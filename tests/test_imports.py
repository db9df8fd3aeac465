"""The package's import graph, read from the source with ``ast``: no cycle, rooms kept apart.

Every ``import`` statement counts, those inside functions included: a function-level import only
delays a cycle to the first call, it does not remove it. Importing ``a.b.c`` also runs the
``__init__`` of ``a.b`` (unless the importer lives inside it), so those edges are in the graph too.
A *room* is a top-level subpackage (``io``, ``nn``, ...) or a top-level module (``metrics``,
``conventions``, ...), except that the estimator modules share one room (:data:`ESTIMATOR_ROOM`:
the base class and its parts, the skorch glue, persistence, the seed checkpoint, the estimators
and data-parallel training): a private base class or helper shared inside it is no crossing. See
``docs/architecture.md``.
"""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

import sksurv_ecg

ROOT = Path(sksurv_ecg.__file__).parent
PACKAGE = "sksurv_ecg"
# The data code reads and shapes signals; it must work (and be importable) without the torch layer.
DATA_ROOMS = {"io", "datasets", "preprocessing", "biomarkers", "utils"}
# The top-level modules of the estimator room, which share private names among themselves.
ESTIMATOR_ROOM = {
    "_base",
    "_params",
    "_warm_start",
    "_training",
    "_persistence",
    "_seed_checkpoint",
    "embedding",
    "survival",
    "competing",
    "calibration",
    "distributed",
}


def _module_name(path):
    parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _absolute(node, module, is_package):
    """The absolute dotted name an ``ImportFrom`` node imports from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_only(tree):
    """Nodes under ``if TYPE_CHECKING:``: read by type checkers, never run."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def _imports(module, path, modules):
    """``(target module, imported name or None, line)`` for every import of the package in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    skipped = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                # `from . import x` imports the submodule x; `from .a import f` imports a name of a
                if submodule in modules:
                    found.append((submodule, None, node.lineno))
                else:
                    found.append((source, alias.name, node.lineno))
    return [(target, name, line) for target, name, line in found if target.split(".")[0] == PACKAGE]


def _graph():
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        edges = set()
        for target, _, _ in _imports(module, path, modules):
            parts = target.split(".")
            # The target, and the packages above it that the importer is not already inside: a module
            # runs inside its own packages' imports, so only naming one of them (`import sksurv_ecg`)
            # makes an edge to it.
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                explicit = depth == len(parts)
                if name in modules and name != module and (explicit or not module.startswith(name + ".")):
                    edges.add(name)
        graph[module] = edges
    return graph


def _room(module):
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    return "estimators" if top in ESTIMATOR_ROOM else top


def _cycles(graph):
    """Strongly connected components of more than one module, as sorted lists."""
    names = sorted(graph)
    position = {name: i for i, name in enumerate(names)}
    pairs = [(position[a], position[b]) for a in names for b in graph[a]]
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    adjacency = csr_array((np.ones(len(pairs)), (rows, cols)), shape=(len(names), len(names)))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    components = [sorted(np.array(names)[labels == label].tolist()) for label in np.unique(labels)]
    return [component for component in components if len(component) > 1]


def test_graph_sees_function_level_and_relative_imports():
    """The reader must find what the rules below are about, or they would pass on an empty graph."""
    graph = _graph()
    assert len(graph) > 40
    assert "sksurv_ecg._cli" in graph
    # _cli imports the estimators only inside its commands, relatively.
    assert "sksurv_ecg.survival" in graph["sksurv_ecg._cli"]
    assert "sksurv_ecg.io" in graph["sksurv_ecg._cli"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    cycles = _cycles(_graph())
    assert cycles == [], f"import cycles (function-level imports included): {cycles}"


def _data_imports_of_nn():
    modules = _modules()
    return sorted(
        f"{module} imports {target}"
        for module, path in modules.items()
        if _room(module) in DATA_ROOMS
        for target, _, _ in _imports(module, path, modules)
        if _room(target) == "nn"
    )


def _private_imports_across_rooms():
    """``module:line imports X`` where X, or a module on its path, is private to another room."""
    modules = _modules()
    found = []
    for module, path in modules.items():
        for target, name, line in _imports(module, path, modules):
            if _room(target) == _room(module) or target == PACKAGE:
                continue
            inner = target.split(".")[2:] + ([name] if name else [])
            if any(part.startswith("_") and not part.startswith("__") for part in inner):
                found.append(f"{module}:{line} imports {target}{'.' + name if name else ''}")
    return sorted(found)


def test_data_code_does_not_import_the_torch_layer():
    offenders = _data_imports_of_nn()
    assert offenders == [], "\n".join(offenders)


def test_no_private_import_across_rooms():
    offenders = _private_imports_across_rooms()
    assert offenders == [], "\n".join(offenders)


def _run(code):
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return its stdout."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_is_lazy_and_load_estimator_finds_its_class(tmp_path, tiny_net):
    """In a fresh interpreter: ``import sksurv_ecg`` loads no heavy library, every public name resolves,
    and ``load_estimator`` rebuilds a saved model whose module nothing has imported yet."""
    from sksurv_ecg import ECGSurvivalAnalysis
    from sksurv_ecg.datasets import make_ecg_survival

    X, y, _ = make_ecg_survival(24, fs=125, event_rate=0.5, random_state=0)
    ECGSurvivalAnalysis(fs=125, **{**tiny_net, "batch_size": 12}).fit(X, y).save(tmp_path / "m")
    out = _run(
        "import sys, sksurv_ecg\n"
        "print([m for m in ('torch', 'sklearn', 'skorch', 'sksurv', 'pandas') if m in sys.modules])\n"
        "from sksurv_ecg import load_estimator\n"
        f"model = load_estimator({str(tmp_path / 'm')!r})\n"
        "print(type(model).__name__)\n"
        "from sksurv_ecg import ECGSurvivalAnalysis, InsufficientEventsError\n"
        "print(ECGSurvivalAnalysis.__module__, issubclass(InsufficientEventsError, ValueError))\n"
        "print(all(hasattr(sksurv_ecg, name) for name in sksurv_ecg.__all__), 'datasets' in dir(sksurv_ecg))\n"
        "print(sksurv_ecg.datasets.make_ecg_survival.__module__)"
    )
    assert out.split("\n")[:5] == [
        "[]",
        "ECGSurvivalAnalysis",
        "sksurv_ecg.survival True",
        "True True",
        "sksurv_ecg.datasets._synthetic",
    ]
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        sksurv_ecg.no_such_name  # noqa: B018


def test_persistence_table_lists_every_registered_estimator():
    from sksurv_ecg import _persistence, embedding, survival  # noqa: F401  (defining the classes registers them)

    ours = {name: cls.__module__ for name, cls in _persistence._REGISTRY.items() if cls.__module__.startswith(PACKAGE)}
    assert ours == _persistence._ESTIMATOR_MODULES


def test_the_lazy_export_table_matches_the_exceptions_module():
    """The package's lazy table repeats the names of ``sksurv_ecg.exceptions`` (reading them from the
    module would import skorch and torch at ``import sksurv_ecg``): the two lists must agree, and
    ``__all__`` is exactly the table plus ``__version__``."""
    import sksurv_ecg
    from sksurv_ecg import exceptions

    exported = {name for name, module in sksurv_ecg._EXPORTS.items() if module == "exceptions"}
    assert exported == set(exceptions.__all__) - {"user_stacklevel"}
    assert set(sksurv_ecg.__all__) == set(sksurv_ecg._EXPORTS) | {"__version__"}
