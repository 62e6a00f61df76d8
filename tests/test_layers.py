"""DESIGN.md layering: the core never imports the subsystems or the product; subsystems never import
each other. Walks the source with `ast`, so it also catches imports inside functions."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The top layer: the only places that may join both subsystems (the product, stage-2 clips, alignment, the web
# app, the demo recipe, the shared test fixtures).
TOP = ("wonderland.pipeline", "wonderland.cli", "wonderland.align", "wonderland.app", "wonderland.demo",
       "wonderland.testing")
NEVER = ("scripts", "tests")  # nothing imports these
FORBIDDEN = {
    "wonderland": ("camera_video", "lalrm", *TOP, *NEVER),
    "camera_video": ("lalrm", *TOP, *NEVER),
    "lalrm": ("camera_video", *TOP, *NEVER),
    "scripts": NEVER,
}
PRODUCT = tuple(m.replace(".", "/") for m in TOP)


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


def edits_sys_path(path: Path) -> bool:
    """`sys.path.insert/append/...` or an assignment to `sys.path` anywhere in the file."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        target = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = next((t for t in targets if isinstance(t, ast.Attribute)), None)
        if isinstance(target, ast.Attribute) and target.attr == "path" and getattr(target.value, "id", "") == "sys":
            return True
    return False


def violations() -> list[str]:
    found = []
    for top, banned in FORBIDDEN.items():
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if top != "scripts" and edits_sys_path(path):
                found.append(f"{rel} edits sys.path")
            # the top layer may join the subsystems, never import scripts or tests
            refused = NEVER if rel.startswith(PRODUCT) else banned
            for name in imported_modules(path):
                if any(name == b or name.startswith(b + ".") for b in refused):
                    found.append(f"{rel} imports {name}")
    return sorted(found)


def test_no_forbidden_imports():
    assert violations() == []


def test_checker_catches_a_violation(tmp_path, monkeypatch):
    # The checker itself must be able to fail: plant a bad import in a fake tree.
    (tmp_path / "wonderland").mkdir()
    (tmp_path / "wonderland" / "demo").mkdir()
    (tmp_path / "wonderland" / "demo" / "ok.py").write_text("import lalrm\nimport camera_video\n")
    (tmp_path / "wonderland" / "demo" / "bad.py").write_text("from tests.pipeline import conftest\n")
    (tmp_path / "wonderland" / "zz_bad.py").write_text("def f():\n    from lalrm.model import x\n")
    (tmp_path / "lalrm").mkdir()
    (tmp_path / "lalrm" / "ok.py").write_text("from .model import y\n")
    (tmp_path / "lalrm" / "path.py").write_text("import sys\nsys.path.insert(0, '..')\n")
    (tmp_path / "camera_video").mkdir()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "bad.py").write_text("from tests.test_sfm import room_clip\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == ["lalrm/path.py edits sys.path", "scripts/bad.py imports tests.test_sfm",
                            "scripts/bad.py imports tests.test_sfm.room_clip",
                            "wonderland/demo/bad.py imports tests.pipeline",
                            "wonderland/demo/bad.py imports tests.pipeline.conftest",
                            "wonderland/zz_bad.py imports lalrm.model", "wonderland/zz_bad.py imports lalrm.model.x"]


def test_core_package_import_is_light():
    import subprocess

    code = "import sys, wonderland; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'diffusers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
