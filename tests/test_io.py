import os
import stat

import pytest

from wonderland.io import atomic_open, atomic_path, write_json


def test_atomic_write_leaves_nothing_on_failure_and_keeps_old_file(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_open(target) as f:
            f.write("partial")
            raise RuntimeError("interrupted")
    assert target.read_text().strip().startswith("{")  # the old complete file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_atomic_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "x.bin") as tmp:
            assert tmp.suffix == ".bin" and tmp.parent == tmp_path
            tmp.write_bytes(b"1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.bin").stat().st_mode) == 0o644
