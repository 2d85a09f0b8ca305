"""The engine imports no UI: importing every module under netlab/engine pulls in
neither textual nor rich (nor netlab.ui), checked in a fresh interpreter and by
reading the source."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import netlab.engine

FORBIDDEN = ("textual", "rich")
ENGINE_DIR = Path(netlab.engine.__file__).parent

PROBE = """\
import importlib, json, sys
for name in {modules!r}:
    importlib.import_module(name)
{extra}
print(json.dumps({{
    "ui": sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r}),
    "netlab_ui": sorted(m for m in sys.modules if m == 'netlab.ui' or m.startswith('netlab.ui.')),
    "imported": sorted(m for m in sys.modules if m.startswith('netlab.engine')),
}}))
"""


def engine_modules() -> list[str]:
    names = ["netlab.engine"]
    names += [m.name for m in pkgutil.walk_packages(netlab.engine.__path__, "netlab.engine.")]
    return sorted(set(names))


def probe(modules: list[str], extra: str = "") -> dict:
    code = PROBE.format(modules=modules, extra=extra, forbidden=FORBIDDEN)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_discovery_finds_the_engine():
    mods = engine_modules()
    for expected in ("session", "http1", "request", "resolve", "transport", "errors", "events", "defaults"):
        assert f"netlab.engine.{expected}" in mods
    on_disk = {p.stem for p in ENGINE_DIR.glob("*.py") if p.stem != "__init__"}
    assert {m.rsplit(".", 1)[1] for m in mods if m != "netlab.engine"} >= on_disk


def test_importing_every_engine_module_imports_no_ui():
    mods = engine_modules()
    result = probe(mods)
    assert set(mods) <= set(result["imported"])
    assert result["ui"] == [], f"the engine pulled in UI libraries: {result['ui']}"
    assert result["netlab_ui"] == [], f"the engine imported netlab.ui: {result['netlab_ui']}"


def test_the_probe_would_notice_a_ui_import():
    """The check above can fail: plant `import rich` and the probe reports it."""
    pytest = __import__("pytest")
    try:
        import rich  # noqa: F401
    except ImportError:
        pytest.skip("rich is not installed, so a planted import cannot be demonstrated")
    result = probe(["netlab.engine"], extra="import rich.text")
    assert "rich" in result["ui"] and "rich.text" in result["ui"]


def _imported_names(tree: ast.AST, package: str = "netlab.engine") -> list[tuple[int, str]]:
    """Every module an import statement names, at any depth (lazy imports included),
    relative imports resolved against ``package``; ``from X import y`` also names X.y
    (y may be a module); plus importlib.import_module("...") / __import__("...")."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("import_module", "__import__"):
                found.append((node.lineno, node.args[0].value))
    return found


def _is_forbidden(name: str) -> bool:
    return name.split(".")[0] in FORBIDDEN or name == "netlab.ui" or name.startswith("netlab.ui.")


def test_engine_source_has_no_ui_import():
    files = sorted(ENGINE_DIR.rglob("*.py"))
    assert files
    bad = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(ENGINE_DIR.parent.parent)
        package = ".".join(rel.with_suffix("").parts[:-1])  # netlab.engine[.sub]
        bad += [f"{rel}:{line}: {name}" for line, name in _imported_names(tree, package) if _is_forbidden(name)]
    assert bad == [], "UI imports in the engine:\n" + "\n".join(bad)


def test_static_check_catches_lazy_relative_and_dynamic_imports():
    src = ("def f():\n    import rich.console\n    from textual.app import App\n"
           "    import importlib; importlib.import_module('textual')\n    from netlab.ui import app\n"
           "    from .. import ui\n    from ..ui.panes import composer\n")
    names = {n for _, n in _imported_names(ast.parse(src)) if _is_forbidden(n)}
    assert names >= {"rich.console", "textual.app", "textual", "netlab.ui", "netlab.ui.app",
                     "netlab.ui.panes", "netlab.ui.panes.composer"}
    ok = "from .. import __version__\nfrom . import errors\nfrom netlab import __version__\nimport h11\n"
    assert [n for _, n in _imported_names(ast.parse(ok)) if _is_forbidden(n)] == []
