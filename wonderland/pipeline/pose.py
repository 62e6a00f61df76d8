"""A family's pose stream (VideoRFSplat, `--trajectory auto`): the manifest's optional `"pose_stream"` component.

The component is a `camera_video.models.PoseStream` folder as diffusers writes it (`save_pretrained`: config.json +
diffusion_pytorch_model.safetensors; `camera_video.train model.pose_stream=true` leaves one in
`<output_dir>/model/pose_stream/`). `attach_pose_stream` copies one into a family and names it in the manifest
(`python -m wonderland.pipeline.pose FAMILY COMPONENT`); `WonderlandPipeline.from_pretrained` loads it
(`load_pose_stream`) and attaches it to the video transformer.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path

from ..errors import InputError
from ..io import write_json

# What a pose stream must share with the video transformer it is attached to (PoseStream args <- base config).
_FITS = {"video_dim": lambda c: c.num_attention_heads * c.attention_head_dim,
         "video_time_dim": lambda c: c.time_embed_dim, "video_blocks": lambda c: c.num_layers,
         "text_dim": lambda c: c.text_embed_dim}


def check_fits(component: Path, base_config) -> dict:
    """The component's config.json, checked against a CogVideoX transformer config (one line if it does not fit)."""
    path = Path(component) / "config.json"
    if not path.is_file():
        raise InputError(component, None, "not a pose stream folder (no config.json)")
    cfg = json.loads(path.read_text())
    if cfg.get("_class_name") != "PoseStream":
        raise InputError(path, "_class_name", "expected PoseStream", value=cfg.get("_class_name"))
    for key, want in _FITS.items():
        if cfg.get(key) != want(base_config):
            raise InputError(path, key, f"the pose stream was built for another video model (this one has "
                             f"{want(base_config)})", value=cfg.get(key))
    return cfg


def load_pose_stream(component: str | Path, base_config):
    """A saved pose stream that fits `base_config` (the video transformer's) -> `PoseStream` (eval, no grad)."""
    from camera_video.models import PoseStream

    check_fits(Path(component), base_config)
    return PoseStream.from_pretrained(component).eval().requires_grad_(False)


def attach_pose_stream(family: str | Path, component: str | Path, name: str = "pose_stream") -> Path:
    """Copy a pose stream into a model family as `<family>/<name>/` and name it in the manifest's "pose_stream"
    entry (replacing an earlier one); the other components and keys are left as they are. -> the folder."""
    import shutil

    from camera_video.models import load_base

    from ..io import atomic_dir
    from .manifest import MANIFEST, read_manifest

    family, component = Path(family), Path(component)
    manifest = read_manifest(family)  # a whole, valid family first
    check_fits(component, load_base(manifest.base).config)
    data = json.loads((family / MANIFEST).read_text())
    with atomic_dir(family / name) as tmp:
        shutil.copytree(component, tmp, dirs_exist_ok=True)
    write_json(family / MANIFEST, {**data, "pose_stream": name})
    return family / name


def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m wonderland.pipeline.pose",
                       description="Add a trained pose stream to a model family (for --trajectory auto).")
    p.add_argument("family", type=Path)
    p.add_argument("component", type=Path, help="a PoseStream folder, e.g. <output_dir>/model/pose_stream")
    p.add_argument("--name", default="pose_stream", help="the component's folder name in the family")
    args = p.parse_args(argv)
    try:
        print(attach_pose_stream(args.family, args.component, args.name))
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
