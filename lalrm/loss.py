"""Reconstruction loss: MSE + lambda x VGG-19 perceptual (+ optional regularisers), SPEC.md section 3.

Weights live in the config (configs/lalrm/config.yaml `loss:`), with the reasons there. The perceptual
term follows GS-LRM / LVSM (Chen & Koltun's feature-L1 on VGG-19 with their per-layer weights). The VGG
weights come from a local file; without one the loss refuses to be built unless `allow_random_weights`
(tests) says so, because a random-VGG "perceptual" loss is noise that nobody should train against.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from wonderland.errors import InputError
from wonderland.metrics import psnr
from wonderland.metrics.nets import FeatureNet, load_feature_net

# Chen & Koltun (2017) layer weights, as used by GS-LRM / LVSM's perceptual loss.
PERCEPTUAL_LAYERS = {"relu1_2": 1 / 2.6, "relu2_2": 1 / 4.8, "relu3_4": 1 / 3.7, "relu4_4": 1 / 5.6,
                     "relu5_4": 10 / 1.5}


@dataclass
class LossConfig:
    mse: float = 1.0
    perceptual: float = 0.5
    opacity: float = 0.0
    depth: float = 0.0
    color_tv: float = 0.0
    background: float = 1.0  # grey level the supervision views are rendered against (white)
    vgg_weights: str | None = None
    allow_random_weights: bool = False


class ReconstructionLoss(nn.Module):
    def __init__(self, cfg: LossConfig, vgg: FeatureNet | None):
        super().__init__()
        if cfg.perceptual > 0 and vgg is None:
            raise ValueError("perceptual weight > 0 needs a VGG-19 feature net")
        self.cfg = cfg
        self.vgg = vgg

    def perceptual(self, pred: Tensor, target: Tensor) -> Tensor:
        """(N, 3, h, w) x 2 in [0, 1] -> scalar: weighted mean |features| difference over VGG-19 layers."""
        fp, ft = self.vgg(pred, tuple(PERCEPTUAL_LAYERS)), self.vgg(target, tuple(PERCEPTUAL_LAYERS))
        # Under autocast the VGG runs in bf16 (that is its point); the differences and means are taken in fp32.
        return sum(w * (fp[k].float() - ft[k].float()).abs().mean() for k, w in PERCEPTUAL_LAYERS.items())

    def forward(self, rendered: Tensor, target: Tensor, opacities: Tensor, distance: Tensor,
                colors: Tensor | None = None) -> dict[str, Tensor]:
        """rendered, target (B, V, 3, h, w); opacities (B, G); distance (B, F, Hg, Wg); colors (B, G, 3), G = F *
        Hg * Wg in that order (needed when color_tv > 0) -> terms + total."""
        cfg, zero = self.cfg, rendered.new_zeros(())
        mse = (rendered - target).pow(2).mean()
        terms = {"mse": mse, "psnr": psnr(rendered.detach(), target).mean()}
        terms["perceptual"] = self.perceptual(rendered.flatten(0, 1), target.flatten(0, 1)) \
            if cfg.perceptual > 0 else zero
        # Opacity: L1 pull towards transparency, so Gaussians nobody sees fade (Long-LRM's pruning prior).
        terms["opacity"] = opacities.mean() if cfg.opacity > 0 else zero
        # Depth: edge-agnostic smoothness of log ray distance across the Gaussian map (scale-free).
        terms["depth"] = log_distance_tv(distance) if cfg.depth > 0 else zero
        # Colour: smoothness of each frame's Gaussian colour map. The render constrains only what the many
        # translucent layers blend to, so without it the differences between layers drift into colour noise
        # that shows as speckle away from the training views.
        if cfg.color_tv > 0:
            if colors is None:
                raise ValueError("loss.color_tv > 0 needs the Gaussian colours")
            terms["color_tv"] = map_tv(colors.reshape(*distance.shape, 3).movedim(-1, -3))
        else:
            terms["color_tv"] = zero
        terms["loss"] = (cfg.mse * mse + cfg.perceptual * terms["perceptual"] + cfg.opacity * terms["opacity"]
                         + cfg.depth * terms["depth"] + cfg.color_tv * terms["color_tv"])
        return terms


def map_tv(x: Tensor) -> Tensor:
    """(..., Hg, Wg) -> mean absolute neighbour difference down plus across (total variation)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def log_distance_tv(distance: Tensor) -> Tensor:
    """(..., Hg, Wg) -> total variation of log distance (scale-free)."""
    return map_tv(distance.clamp_min(1e-6).log())


def build_loss(cfg: LossConfig, source: str = "config") -> ReconstructionLoss:
    """Load the VGG-19 (strictly, from `cfg.vgg_weights`) when the perceptual term is on."""
    vgg = None
    if cfg.perceptual > 0:
        if cfg.vgg_weights is None and not cfg.allow_random_weights:
            raise InputError(source, "loss.vgg_weights", "perceptual loss needs the VGG-19 ImageNet weights "
                             "file (torchvision vgg19-*.pth or .safetensors); set allow_random_weights only in tests")
        vgg = load_feature_net("vgg19", cfg.vgg_weights, allow_random=cfg.allow_random_weights)
    return ReconstructionLoss(cfg, vgg)

