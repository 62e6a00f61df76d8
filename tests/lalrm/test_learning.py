"""Proof that the LaLRM learns: the tiny model trained with the real `train()` on wonderland-synth scenes
(latents from the seeded tiny VAE). Slow bar: it reconstructs *held-out* scenes well enough that their
*unseen* views (frames outside the input clip) beat a threshold and the mean-colour baseline. Quick bar:
the unseen views of the training scenes improve by a margin over the initial model.

Set-up (CPU-sized): 9-frame clips at 32x48 (stride 4 over 49-frame videos), Gaussian map 8x12 per frame
(head stride 4: 864 Gaussians), supervision and evaluation at 16x24. A map this coarse needs Gaussians of
~1.5 px, hence init_scale 0.3 and init_opacity 0.5 here (the paper configs' small/transparent
initialisation targets 240x360 maps). MSE only: a random VGG would be noise.
"""

import pytest
import torch
import torch.nn.functional as F

from lalrm import LaLRM
from lalrm.config import build_config
from lalrm.inference import evaluate_views, reconstruct
from lalrm.train import build_vae, train
from wonderland.data.synth import make_synthetic_scene, scene_seed, write_synthetic_dataset
from wonderland.metrics import psnr
from wonderland.vae import encode_video

from .conftest import compose, smoke_overrides

QUICK_GAIN_DB = 1.5
SLOW_PSNR_DB = 16.0
SLOW_MARGIN_DB = 1.0
CLIP = list(range(0, 33, 4))  # the 9 input frames (stride 4)
UNSEEN = [36, 40, 44, 48]  # frames after the clip: never given to the model
LEARN = ["stage.init_from=null", "model.head_stride=4", "model.init_scale=0.3", "model.scale_max=1.0",
         "model.init_opacity=0.5", "loss.perceptual=0", "stage.num_seen=2", "stage.num_unseen=2",
         "stage.batch_size=2", "stage.lr=3e-3", "stage.min_lr=3e-4", "optim.warmup_steps=10",
         "trainer.checkpoint_every=1000000", "trainer.log_every=10", "trainer.resume=null"]


def unseen_view_scores(model: LaLRM, vae, dataset_seed: int, scenes: int = 4) -> tuple[float, float]:
    """-> (mean PSNR of the model's renders, of the clip's mean colour) on the unseen views of scenes
    0..scenes-1 of the wonderland-synth dataset with `dataset_seed` (training data uses seed 0)."""
    ours, base = [], []
    for i in range(scenes):
        frames, cams = make_synthetic_scene(scene_seed(dataset_seed, i), 49, 32, 48)
        gaussians = reconstruct(model, encode_video(vae, frames[None, CLIP]), cams[None, CLIP])[0]
        target = F.interpolate(frames[UNSEEN], size=(16, 24), mode="area")
        ours.append(evaluate_views(gaussians, cams[UNSEEN].resize(16, 24), target)["psnr"])
        mean = frames[CLIP].mean((0, 2, 3))[None, :, None, None].expand_as(target)
        base.append(psnr(mean, target).mean().item())
    return sum(ours) / scenes, sum(base) / scenes


def run(root, out, steps: int, dataset_seed: int) -> tuple[float, float, float]:
    """Train `steps` steps -> unseen-view PSNR (before training, after training, mean-colour baseline)."""
    cfg = compose(smoke_overrides("highres", root, out) + LEARN + [f"trainer.max_steps={steps}"])
    typed = build_config(cfg)
    vae = build_vae(typed, torch.device("cpu"))
    torch.manual_seed(typed.seed)  # train() seeds the same way: this is its initial model
    before, _ = unseen_view_scores(LaLRM(**typed.model).eval(), vae, dataset_seed)
    after, baseline = unseen_view_scores(LaLRM.from_pretrained(train(cfg)).eval(), vae, dataset_seed)
    return before, after, baseline


def test_quick_training_improves_unseen_views(synth_root, tmp_path):
    """Weaker bar, CPU-quick (4 training scenes, 30 steps): through the real train() (data, VAE, model,
    deferred render, loss, optimizer) the views *outside* each training clip must gain QUICK_GAIN_DB over
    the initial model. No generalisation claim; a broken gradient path, wrong cameras or supervision
    paired with the wrong views cannot pass."""
    before, after, baseline = run(synth_root, tmp_path / "run", steps=30, dataset_seed=0)
    print(f"unseen-view PSNR: before {before:.2f}, after {after:.2f}, mean colour {baseline:.2f}")
    assert after > before + QUICK_GAIN_DB


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="not reached yet: measured 2026-11-21 (2 CPU threads, 195 s) held-out "
                   "unseen views 11.09 dB before -> 11.19 after 300 steps vs mean colour 13.81; the tiny model "
                   "fits training scenes but does not generalise at this data/step budget (issue 5)")
def test_training_beats_mean_colour_on_unseen_views_of_held_out_scenes(tmp_path_factory, tmp_path):
    """The full bar: 16 training scenes, 300 steps; unseen views of held-out scenes must reach
    SLOW_PSNR_DB and beat the clip's mean colour by SLOW_MARGIN_DB (a model that ignores its input, or
    predicts one colour per scene, cannot)."""
    root = tmp_path_factory.mktemp("synth16")
    write_synthetic_dataset(root, 16, num_frames=49, height=32, width=48)
    before, after, baseline = run(root, tmp_path / "run", steps=300, dataset_seed=99)  # held-out scenes
    print(f"held-out unseen-view PSNR: before {before:.2f}, after {after:.2f}, mean colour {baseline:.2f}")
    assert after > SLOW_PSNR_DB and after > baseline + SLOW_MARGIN_DB
