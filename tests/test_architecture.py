"""The shape issue 13 set, kept by tests: no import cycle among netlab's modules (lazy,
function-level imports included), no module over 800 lines, a thin ui/app.py, and the
layers' files where a newcomer looks for them.  (import-linter's contracts in pyproject.toml
check which layer may import which; ruff checks complexity.)"""

from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "netlab"


def _cycles():
    spec = importlib.util.spec_from_file_location("cycles", ROOT / "scripts" / "cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.import_cycles("netlab")


def test_no_import_cycles():
    assert _cycles() == []


def test_the_cycle_finder_sees_a_cycle(tmp_path, monkeypatch):
    """The finder itself can fail: a package whose two modules import each other lazily."""
    pkg = tmp_path / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from cyclepkg import b\n    return b\n")
    (pkg / "b.py").write_text("import cyclepkg.a\n")
    (pkg / "c.py").write_text("import cyclepkg.b\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("cycles", ROOT / "scripts" / "cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.import_cycles("cyclepkg") == [["cyclepkg.a", "cyclepkg.b"]]


def test_no_module_over_800_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert long == {}


def test_the_app_module_stays_thin():
    lines = len((PACKAGE / "ui" / "app.py").read_text(encoding="utf-8").splitlines())
    assert lines <= 300, f"netlab/ui/app.py has {lines} lines: it routes messages, the work lives elsewhere"


def test_a_newcomer_finds_the_layers_by_file_name():
    """Where a response byte is read (transport), framed (http1) and drawn (ui/views)."""
    assert (PACKAGE / "engine" / "transport.py").is_file()
    assert (PACKAGE / "engine" / "http1.py").is_file() or (PACKAGE / "engine" / "http1").is_dir()
    views = {p.stem for p in (PACKAGE / "ui" / "views").glob("*.py")}
    assert {"body", "raw", "hexdump"} <= views
