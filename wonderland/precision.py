"""Full precision for geometry, rendering and metrics, whatever autocast surrounds them.

Mixed precision (bf16 autocast: the GPU default of the trainers and of LaLRM inference) is for the
networks. Under autocast every matmul runs in bf16 (8 significant bits), so a ray direction, a pose
product or a projection computed inside an autocast region comes out in bf16 beside fp32 tensors: at
best a precision loss of ~0.4 % (a ray that is off by 0.4 % puts a Gaussian at 20 m off by 8 cm), at
worst a crash (`torch.linalg.cross` of bf16 and fp32 inputs). So the functions that carry the
project's conventions (rays, Plücker maps, pixel-aligned means, camera transforms, the renderer,
image metrics) are wrapped in `full_precision`: autocast is switched off inside them and half-precision
tensor arguments are upcast to float32 (float64 stays float64).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TypeVar

import torch

_HALF = (torch.float16, torch.bfloat16)
_AUTOCAST_DEVICES = ("cpu", "cuda")

F = TypeVar("F", bound=Callable)


def no_autocast() -> contextlib.ExitStack:
    """A context that switches off every autocast region that is on (CPU and CUDA), and nothing else."""
    stack = contextlib.ExitStack()
    for device in _AUTOCAST_DEVICES:
        if torch.is_autocast_enabled(device):
            stack.enter_context(torch.autocast(device, enabled=False))
    return stack


def upcast(x):
    """float16 / bfloat16 tensors -> float32; every other value unchanged."""
    return x.float() if isinstance(x, torch.Tensor) and x.dtype in _HALF else x


def full_precision(fn: F) -> F:
    """Run `fn` outside autocast with half-precision tensor arguments upcast to float32."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with no_autocast():
            return fn(*(upcast(a) for a in args), **{k: upcast(v) for k, v in kwargs.items()})

    return wrapper
