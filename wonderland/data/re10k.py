"""RealEstate10K and ACID in the original layout (a).

    <root>/<any/sub/dirs>/<key>.txt           line 1: video URL; then one line per frame:
                                              timestamp_us fx fy cx cy 0 0 r00 r01 r02 t0 r10 ... t2
                                              (intrinsics normalised by width/height, row-major 3x4 w2c)
    <frames_root>/<same sub dirs>/<key>/<timestamp_us>.png|.jpg   one image per camera line

`frames_root` defaults to `root` (frames folder beside its camera file). Camera files without a frames
folder (videos never downloaded) are left out of the collection. ACID has the same format. The camera file is
parsed and written by `wonderland.formats.re10k_txt` (shared with `--trajectory`); frames in file order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from wonderland.errors import InputError
from wonderland.formats import Re10kFile, re10k_cameras, read_re10k_txt, write_re10k_txt
from wonderland.geometry import Cameras
from wonderland.io import atomic_path

from .scene import CorruptSampleError, Scene, SceneCollection, image_size, read_image, require_dir

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def parse_re10k_txt(path: Path, key: str) -> Re10kFile:
    """The shared parser (wonderland.formats.re10k_txt); a malformed file is `CorruptSampleError('unreadable')`."""
    try:
        return read_re10k_txt(path)
    except InputError as e:
        raise CorruptSampleError(key, "unreadable", str(e)) from None


class RE10KScene(Scene):
    def __init__(self, key: str, camera_file: Path, frames_dir: Path):
        self.key, self.camera_file, self.frames_dir = key, camera_file, frames_dir
        parsed = parse_re10k_txt(camera_file, key)
        self.url, self.timestamps = parsed.url, parsed.timestamps
        files = {p.stem: p for p in frames_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        self.frame_files = [files.get(str(t), frames_dir / f"{t}.png") for t in self.timestamps]
        first = next((f for f in self.frame_files if f.exists()), None)
        if first is None:
            raise CorruptSampleError(key, "missing_frame", f"no frames of {camera_file.name} in {frames_dir}")
        h, w = image_size(first, key)
        self.cameras = re10k_cameras(parsed.rows, h, w)  # at the frames' own size

    def read_frame(self, index: int) -> Tensor:
        return read_image(self.frame_files[index], self.key)


def open_re10k(root: str | Path, frames_root: str | Path | None = None, kind: str = "re10k") -> SceneCollection:
    """Every `<key>.txt` under `root` whose frames folder exists, sorted by key."""
    root = require_dir(root)
    frames_root = require_dir(frames_root) if frames_root is not None else root
    pairs = []
    for txt in root.rglob("*.txt"):
        frames_dir = frames_root / txt.relative_to(root).with_suffix("")
        if frames_dir.is_dir():
            pairs.append((txt.stem, txt, frames_dir))
    pairs.sort()
    return SceneCollection(root, [p[0] for p in pairs], lambda i: RE10KScene(*pairs[i]), kind)


def write_re10k_scene(root: str | Path, key: str, cameras: Cameras, frames: Tensor, timestamps: Sequence[int],
                      url: str = "", ext: str = ".png") -> Path:
    """Write one scene in layout (a): `<root>/<key>.txt` + `<root>/<key>/<timestamp><ext>`.

    frames: uint8 (F, 3, H, W) at the cameras' size. Returns the camera file's path."""
    from PIL import Image

    root = Path(root)
    if frames.shape[0] != len(cameras) or tuple(frames.shape[-2:]) != (cameras.height, cameras.width):
        raise ValueError(f"frames {tuple(frames.shape)} do not match {len(cameras)} cameras at "
                         f"{cameras.height}x{cameras.width}")
    (root / key).mkdir(parents=True, exist_ok=True)
    for t, im in zip(timestamps, frames.permute(0, 2, 3, 1).numpy()):
        with atomic_path(root / key / f"{int(t)}{ext}") as tmp:
            Image.fromarray(im).save(tmp)
    return write_re10k_txt(root / f"{key}.txt", cameras, list(timestamps), url)
