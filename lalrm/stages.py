"""Stage initialisation (lowres -> highres): a stage starts from the previous stage's weights."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from wonderland.checks import check_dir
from wonderland.errors import InputError

from .model import LaLRM, resample_head_kernel

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "model.safetensors")


def weights_file(path: str | Path) -> Path:
    """The weights file of a `save_pretrained` folder or a training checkpoint folder (accelerate's
    model.safetensors); checked by the config before anything runs, read by `read_model_weights`."""
    folder = check_dir(path, "stage.init_from")
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise InputError(None, "stage.init_from", "no diffusion_pytorch_model.safetensors or model.safetensors here "
                     "(expected the previous stage's <output_dir>/model or one of its checkpoints)", value=str(path))


def read_model_weights(path: str | Path) -> dict[str, torch.Tensor]:
    return load_file(weights_file(path))


def init_from_stage(model: LaLRM, path: str | Path) -> None:
    """Initialise `model` from a previous stage's weights (tokenizers + transformer copied as they are).

    The head's deconvolution kernel changes shape with the head stride (16 -> 8 for lowres -> highres);
    it is resampled by `resample_head_kernel` (area average), so at step 0 the highres head's raw output
    is exactly the 2x2 average of what the lowres head would have produced for the same tokens. Its
    LayerNorm and bias are copied. Every other tensor must match exactly (strict load).
    """
    state = read_model_weights(path)
    key = "head.deconv.weight"
    if key in state:
        state[key] = resample_head_kernel(state[key], model.config.head_stride)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise InputError(path, "stage.init_from", "weights of another model configuration: "
                         + str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)) from None
