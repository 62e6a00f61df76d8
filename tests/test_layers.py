"""DESIGN.md layering: the core never imports the subsystems or the product; subsystems never import
each other. Walks the source with `ast`, so it also catches imports inside functions."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "wonderland": ("camera_video", "lalrm", "wonderland.pipeline", "wonderland.cli", "wonderland.app"),
    "camera_video": ("lalrm", "wonderland.pipeline", "wonderland.cli", "wonderland.app"),
    "lalrm": ("camera_video", "wonderland.pipeline", "wonderland.cli", "wonderland.app"),
}
PRODUCT = ("wonderland/pipeline", "wonderland/cli", "wonderland/app")  # the only places that may join both subsystems


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)
    return names


def violations() -> list[str]:
    found = []
    for top, banned in FORBIDDEN.items():
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(PRODUCT):
                continue
            for name in imported_modules(path):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    found.append(f"{rel} imports {name}")
    return sorted(found)


def test_no_forbidden_imports():
    assert violations() == []


def test_checker_catches_a_violation(tmp_path, monkeypatch):
    # The checker itself must be able to fail: plant a bad import in a fake tree.
    (tmp_path / "wonderland").mkdir()
    (tmp_path / "wonderland" / "bad.py").write_text("def f():\n    from lalrm.model import x\n")
    (tmp_path / "lalrm").mkdir()
    (tmp_path / "lalrm" / "ok.py").write_text("from .model import y\n")
    (tmp_path / "camera_video").mkdir()
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == ["wonderland/bad.py imports lalrm.model", "wonderland/bad.py imports lalrm.model.x"]


def test_core_package_import_is_light():
    import subprocess

    code = "import sys, wonderland; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'diffusers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
