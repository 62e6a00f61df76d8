"""The alignment-LoRA: a second peft adapter ("align") on the main blocks' attention projections, beside the
camera-LoRA ("camera"), and the family component that holds its EMA weights.

Both adapters are active together (peft sums their deltas); peft initialises lora_B to zero, so a fresh
alignment-LoRA leaves the camera model's output unchanged bit for bit. Like the camera-LoRA it is off when
the model runs without a camera (`CameraVideoTransformer.forward` scales every LoRA layer by 0 then).

A component folder (`<family>/alignment/`, the manifest's optional "alignment" entry):
    config.json                {"format": "wonderland.alignment", "version": 1, "rank", "alpha", "targets", ...}
    align_lora.safetensors     the EMA LoRA weights (peft state-dict keys, adapter name stripped)
    camera/                    only when the run also trained the camera branches (a camera folder)
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from wonderland.errors import InputError
from wonderland.io import atomic_path, write_json

ADAPTER = "align"
CAMERA_ADAPTER = "camera"  # camera_video.lora.ADAPTER_NAME
WEIGHTS = "align_lora.safetensors"
FORMAT = "wonderland.alignment"


def add_align_lora(transformer, rank: int, alpha: float, targets: list[str] | tuple[str, ...]) -> None:
    """Add the alignment-LoRA to `transformer.base`'s main-block attention projections; both adapters active.
    Only the flags are left as they were: peft's `set_adapter` marks active adapters trainable."""
    from peft import LoraConfig

    base = transformer.base
    flags = {n: p.requires_grad for n, p in transformer.named_parameters()}
    names = "|".join(t.replace(".", r"\.") for t in targets)
    with warnings.catch_warnings():  # two adapters on one model is the design here, not the accident peft warns of
        warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
        base.add_adapter(LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights=True,
                                    target_modules=rf"transformer_blocks\.\d+\.attn1\.({names})"), adapter_name=ADAPTER)
    active = [CAMERA_ADAPTER] if transformer.camera_config.lora_rank else []
    base.set_adapter([*active, ADAPTER])
    for n, p in transformer.named_parameters():
        p.requires_grad_(flags.get(n, False))


def align_parameters(transformer) -> dict[str, nn.Parameter]:
    """name -> parameter of the alignment-LoRA (lora_A / lora_B of adapter "align")."""
    return {n: p for n, p in transformer.named_parameters() if f".{ADAPTER}." in n and "lora_" in n}


def set_trainable(transformer, train_camera: bool) -> None:
    """The alignment-LoRA trains; the camera branches too when asked; everything else is frozen."""
    transformer.requires_grad_(False)
    if train_camera:
        transformer.freeze_base()  # camera encoders, control blocks, fuse, both LoRAs
    for p in align_parameters(transformer).values():
        p.requires_grad_(True)


def align_state_dict(transformer) -> dict[str, Tensor]:
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(transformer.base, adapter_name=ADAPTER)


def save_component(transformer, folder: str | Path, rank: int, alpha: float, targets, info: dict,
                   camera: bool = False) -> Path:
    """The alignment component of `transformer` (its current LoRA values: copy the EMA in first)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().contiguous().cpu() for k, v in align_state_dict(transformer).items()}
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file(state, str(tmp))
    if camera:
        transformer.save_camera(folder / "camera")
    write_json(folder / "config.json", {"format": FORMAT, "version": 1, "rank": rank, "alpha": alpha,
                                        "targets": list(targets), "camera": camera, **info})
    return folder


def read_component(folder: str | Path) -> dict:
    folder = Path(folder)
    path = folder / "config.json"
    if not path.is_file() or not (folder / WEIGHTS).is_file():
        raise InputError(folder, "alignment", f"not an alignment component (needs config.json and {WEIGHTS})")
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT or meta.get("version") != 1:
        raise InputError(path, "format", f"expected format '{FORMAT}' version 1")
    return meta


def apply_alignment(transformer, folder: str | Path) -> dict:
    """Load an alignment component into a `CameraVideoTransformer` (its camera parts first when it has them);
    -> its config. Every saved key must be one of the adapter's weights and vice versa."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    folder = Path(folder)
    meta = read_component(folder)
    if meta.get("camera"):
        from camera_video.models.build import load_camera_into

        load_camera_into(transformer, folder / "camera")
    flags = {n: p.requires_grad for n, p in transformer.named_parameters()}
    add_align_lora(transformer, int(meta["rank"]), float(meta["alpha"]), meta["targets"])
    state = load_file(str(folder / WEIGHTS), device=str(transformer.device))
    expected = set(align_state_dict(transformer))
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise InputError(folder / WEIGHTS, None, f"alignment-LoRA weights do not fit the model: missing "
                         f"{missing[:3]}, unexpected {extra[:3]}")
    set_peft_model_state_dict(transformer.base, state, adapter_name=ADAPTER)
    for n, p in transformer.named_parameters():
        p.requires_grad_(flags.get(n, False))
    return meta


class LoraEMA:
    """EMA of the alignment-LoRA (diffusers' `EMAModel`: decay min(0.99, (1 + n) / (10 + n)) after n updates),
    registered with accelerate so checkpoints hold it and `resume` restores it."""

    def __init__(self, transformer, decay: float):
        from diffusers.training_utils import EMAModel

        self.params = list(align_parameters(transformer).values())
        self.ema = EMAModel(self.params, decay=decay)

    def update(self) -> None:
        self.ema.step(self.params)

    def state_dict(self) -> dict:
        return self.ema.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.ema.load_state_dict(state)

    @torch.no_grad()
    def swapped_in(self):
        """Context: the EMA values in the LoRA parameters, the trained values restored afterwards."""
        import contextlib

        @contextlib.contextmanager
        def swap():
            self.ema.store(self.params)
            self.ema.copy_to(self.params)
            try:
                yield
            finally:
                self.ema.restore(self.params)

        return swap()


def attach_alignment(family: str | Path, component: str | Path, name: str = "alignment") -> Path:
    """Copy an alignment component into a model family as `<family>/<name>/` and name it in the manifest's
    "alignment" entry (replacing an earlier one). -> the component's folder in the family."""
    import shutil

    from wonderland.io import atomic_dir

    family, component = Path(family), Path(component)
    read_component(component)
    manifest = family / "wonderland.json"
    if not manifest.is_file():
        raise InputError(family, None, "not a Wonderland model directory (no wonderland.json)")
    data = json.loads(manifest.read_text())
    with atomic_dir(family / name) as tmp:
        shutil.copytree(component, tmp, dirs_exist_ok=True)
    write_json(manifest, {**data, "alignment": name})
    return family / name
