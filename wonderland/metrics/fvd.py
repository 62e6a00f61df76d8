"""FVD: the Fréchet distance of I3D (Kinetics-400) logits of video clips.

Weights (a local file named in config; never downloaded): the TorchScript I3D that StyleGAN-V
released for FVD, `i3d_torchscript.pt` (https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt,
linked from https://github.com/universome/stylegan-v and https://github.com/universome/fvd-comparison),
which reproduces the TF-Hub I3D of the original FVD. Preprocessing follows the original TF code:
every frame resized to 224x224 (bilinear) and scaled to [-1, 1]; the detector is then called with
`rescale=False, resize=False, return_features=True` -> (N, 400). Clips are usually 16 frames.
Without the file FVD is reported unavailable: `fvd` returns (None, reason).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..precision import full_precision
from .fid import frechet_distance_of_features
from .weights import MissingWeightsError, load_torchscript

I3D_WHERE = ("https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt (StyleGAN-V's TorchScript I3D, "
             "see github.com/universome/stylegan-v)")
I3D_SIZE = 224


def load_i3d(path: str | Path | None) -> torch.jit.ScriptModule:
    return load_torchscript(path, "the FVD I3D", I3D_WHERE)


def i3d_input(videos: Tensor) -> Tensor:
    """(N, T, 3, H, W) in [0, 1] -> (N, 3, T, 224, 224) in [-1, 1], as the TF FVD preprocessing."""
    n, t = videos.shape[:2]
    frames = F.interpolate(videos.flatten(0, 1).float(), size=(I3D_SIZE, I3D_SIZE), mode="bilinear",
                           align_corners=False)
    return (frames * 2 - 1).reshape(n, t, 3, I3D_SIZE, I3D_SIZE).transpose(1, 2)


@torch.no_grad()
@full_precision
def i3d_features(detector: torch.jit.ScriptModule, videos: Tensor, batch_size: int = 8) -> np.ndarray:
    """videos (N, T, 3, H, W) in [0, 1] -> (N, 400) float64 I3D features."""
    device = next(iter(detector.parameters()), torch.empty(0)).device
    feats = [
        detector(i3d_input(chunk).to(device), rescale=False, resize=False, return_features=True).double().cpu()
        for chunk in videos.split(batch_size)
    ]
    return torch.cat(feats).flatten(1).numpy()


def fvd(real: Tensor, fake: Tensor, weights_path: str | Path | None) -> tuple[float | None, str | None]:
    """FVD between two clip sets (N_i, T, 3, H, W) in [0, 1]: (value, None), or (None, why unavailable)."""
    if min(len(real), len(fake)) < 2:
        return None, f"FVD needs at least 2 clips per set, got {len(real)} and {len(fake)}"
    try:
        detector = load_i3d(weights_path)
    except MissingWeightsError as err:
        return None, str(err)
    return frechet_distance_of_features(i3d_features(detector, real), i3d_features(detector, fake)), None
