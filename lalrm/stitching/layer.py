"""The stitching layer (SPEC.md section 7): temporal upsampling of the latents, then one Conv3d.

    latents (B, 16, T, h, w) --trilinear, T -> (T-1)*4+1--> (B, 16, F, h, w) --Conv3d, replicate padding-->
    activations (B, C, T', h', w') on the 3D model's grid at the stitching layer

described by a config string, `conv3d_k<kt>x<kh>x<kw>_o<C>_s<st>x<sh>x<sw>_p<pt>x<ph>x<pw>` (VIST3A's naming;
stride and padding may be omitted: 1 and 0; one number stands for all three dimensions), e.g. SPEC's
`conv3d_k5x3x3_o1024_s1x2x2_p2x1x1` for AnySplat / VGGT (per-frame tokens: 49 x 30 x 45 at 480 x 720).

The closed-form fit and the Conv3d are one map by construction: `unfold_latents` produces, for every output
position of the conv, the same receptive field the conv reads (upsampled, replicate-padded, kt x kh x kw
neighbourhood, flattened in the conv weight's (C_in, kt, kh, kw) order), so `rows @ S + b` equals
`conv(upsampled)` with `weight = S.T.reshape(C, C_in, kt, kh, kw)` (tests/lalrm/stitching check both paths).

Upsampling with `align_corners=True` puts latent frame k on frame 4k of the 4T-3 grid, as VIST3A's code does;
the frames in between are linear blends of their neighbours (the causal grouping of SPEC section 1 has latent
k >= 1 cover frames 4k-3..4k; the conv's temporal kernel is free to compensate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from wonderland.latents import TEMPORAL_COMPRESSION

_SPEC = re.compile(r"conv3d_k(?P<k>[0-9x]+)_o(?P<o>[0-9]+)(?:_s(?P<s>[0-9x]+))?(?:_p(?P<p>[0-9x]+))?")
EXAMPLE = "conv3d_k5x3x3_o1024_s1x2x2_p2x1x1"


@dataclass(frozen=True)
class StitchSpec:
    kernel: tuple[int, int, int]
    out_channels: int
    stride: tuple[int, int, int] = (1, 1, 1)
    padding: tuple[int, int, int] = (0, 0, 0)

    def __str__(self) -> str:
        x = lambda t: "x".join(map(str, t))  # noqa: E731
        return f"conv3d_k{x(self.kernel)}_o{self.out_channels}_s{x(self.stride)}_p{x(self.padding)}"

    def in_features(self, latent_channels: int) -> int:
        """Columns of the closed-form problem: one receptive field, C_in x kt x kh x kw."""
        kt, kh, kw = self.kernel
        return latent_channels * kt * kh * kw

    def output_grid(self, latent_frames: int, h: int, w: int) -> tuple[int, int, int]:
        """(T', h', w') of the activations for latents (T, h, w): pure arithmetic (meta-safe)."""
        sizes = (upsampled_frames(latent_frames), h, w)
        out = []
        for n, k, s, p in zip(sizes, self.kernel, self.stride, self.padding):
            m = (n + 2 * p - k) // s + 1
            if m < 1:
                raise ValueError(f"stitching spec {self}: a kernel of {k} with padding {p} does not fit {n} "
                                 f"positions ({latent_frames} latent frames of {h} x {w})")
            out.append(m)
        return tuple(out)


def _triple(text: str | None, default: int, what: str, spec: str) -> tuple[int, int, int]:
    if text is None:
        return (default,) * 3
    parts = text.split("x")
    if len(parts) not in (1, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"stitching spec {spec!r}: {what} {text!r} must be one number or three joined by 'x'")
    values = tuple(int(p) for p in parts)
    return values * 3 if len(values) == 1 else values


def parse_stitch_spec(spec: str) -> StitchSpec:
    """`conv3d_k5x3x3_o1024_s1x2x2_p2x1x1` -> StitchSpec; ValueError naming what is wrong otherwise."""
    if not isinstance(spec, str):
        raise ValueError(f"stitching spec must be a string like {EXAMPLE!r}, got {spec!r}")
    m = _SPEC.fullmatch(spec.strip().lower())
    if m is None:
        raise ValueError(f"stitching spec {spec!r}: expected conv3d_k<t>x<h>x<w>_o<channels>[_s<t>x<h>x<w>]"
                         f"[_p<t>x<h>x<w>], e.g. {EXAMPLE!r}")
    kernel = _triple(m["k"], 1, "kernel", spec)
    stride = _triple(m["s"], 1, "stride", spec)
    padding = _triple(m["p"], 0, "padding", spec)
    out = int(m["o"])
    if min(kernel) < 1 or min(stride) < 1 or out < 1:
        raise ValueError(f"stitching spec {spec!r}: kernel, stride and output channels must be >= 1")
    if any(p >= k for p, k in zip(padding, kernel)):
        raise ValueError(f"stitching spec {spec!r}: padding {padding} must be smaller than the kernel {kernel}")
    return StitchSpec(kernel, out, stride, padding)


def upsampled_frames(latent_frames: int) -> int:
    """T latent frames -> (T-1)*4+1 frames: the video's frame count."""
    return (latent_frames - 1) * TEMPORAL_COMPRESSION + 1


def upsample_latents(latents: Tensor) -> Tensor:
    """(B, C, T, h, w) -> (B, C, (T-1)*4+1, h, w), trilinear in time only (align_corners: latent k at frame 4k)."""
    b, c, t, h, w = latents.shape
    if t == 1:  # interpolate's align_corners needs two samples; one latent frame is one video frame
        return latents
    return F.interpolate(latents, size=(upsampled_frames(t), h, w), mode="trilinear", align_corners=True)


def _replicate_pad(x: Tensor, padding: tuple[int, int, int]) -> Tensor:
    pt, ph, pw = padding
    return F.pad(x, (pw, pw, ph, ph, pt, pt), mode="replicate") if any(padding) else x


def unfold_latents(latents: Tensor, spec: StitchSpec) -> Tensor:
    """latents (B, C, T, h, w) -> rows (B, T', h', w', C*kt*kh*kw): the receptive field of every output position
    of the stitching conv, after the same upsampling and replicate padding, in the conv weight's order."""
    x = _replicate_pad(upsample_latents(latents), spec.padding)
    for dim, (k, s) in enumerate(zip(spec.kernel, spec.stride)):
        x = x.unfold(2 + dim, k, s)  # (B, C, T', h', w', kt, kh, kw) after the three unfolds
    return x.permute(0, 2, 3, 4, 1, 5, 6, 7).flatten(4)


class StitchingLayer(nn.Module):
    """Upsample in time, then `Conv3d(latent_channels -> spec.out_channels)` with replicate padding."""

    def __init__(self, spec: StitchSpec, latent_channels: int = 16):
        super().__init__()
        self.spec = spec
        self.conv = nn.Conv3d(latent_channels, spec.out_channels, spec.kernel, stride=spec.stride,
                              padding=spec.padding, padding_mode="replicate")

    def forward(self, latents: Tensor) -> Tensor:
        """latents (B, C_in, T, h, w) -> activations (B, C, T', h', w') (see `StitchSpec.output_grid`)."""
        return self.conv(upsample_latents(latents).to(self.conv.weight.dtype))

    @torch.no_grad()
    def load_map(self, weight: Tensor, bias: Tensor) -> None:
        """The closed-form map: weight (C_in*kt*kh*kw, C) (rows @ weight + bias), bias (C,)."""
        c_out, c_in, *k = self.conv.weight.shape
        if tuple(weight.shape) != (c_in * k[0] * k[1] * k[2], c_out) or tuple(bias.shape) != (c_out,):
            raise ValueError(f"stitching map {tuple(weight.shape)} + bias {tuple(bias.shape)} does not fit "
                             f"{self.spec} on {c_in} latent channels")
        self.conv.weight.copy_(weight.T.reshape(self.conv.weight.shape))
        self.conv.bias.copy_(bias)
