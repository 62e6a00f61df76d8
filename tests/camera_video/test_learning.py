"""Proof that the camera branches learn to use the camera (tiny model, wonderland-synth, 2 CPU cores).

Clips: wonderland-synth scenes (49 frames, 32 x 48, stride 1) along their own moving camera path, and
the same scenes with the camera held still at frame 0 (a `static` trajectory: 49 copies of frame 0).
Latents come from the tiny VAE through the latent cache (scripts/cache_video_latents.py's code path);
text embeddings are one fixed random embedding. After training, the held-out denoising loss (fixed
noise and timesteps, scenes never seen in training) must be clearly below the same model's loss at
initialisation AND clearly below the trained model's loss with the cameras shuffled across the batch.
"""

import pytest
import torch

from camera_video.cache import cache_video_latents
from camera_video.config import to_schema
from camera_video.data import DataConfig, PromptEmbeddings, build_datasets
from camera_video.models import load_camera_weights
from camera_video.train import build_model, build_vae_and_scheduler, train
from camera_video.validate import held_out_loss
from wonderland.vae import build_tiny_vae

from .conftest import H, W, compose


class WithStaticTwins(torch.utils.data.Dataset):
    """Each clip, then its static twin: frame 0 and camera 0 repeated for all frames."""

    def __init__(self, clips):
        self.clips = clips

    def __len__(self):
        return 2 * len(self.clips)

    def __getitem__(self, i):
        item = self.clips[i // 2]
        if i % 2 == 0:
            return item
        f = item["frames"].shape[0]
        return item | {"frames": item["frames"][:1].expand(f, -1, -1, -1).clone(),
                       "c2w": item["c2w"][:1].expand(f, -1, -1).clone(), "key": item["key"] + "_static"}


def learning_run(tmp_path, num_scenes: int, val_scenes: int, steps: int):
    from wonderland.data.synth import write_synthetic_dataset

    write_synthetic_dataset(tmp_path / "synth", num_scenes, num_frames=49, height=H, width=W, seed=0, workers=1)
    cfg = compose("model=tiny", "data=synthetic", "trainer=smoke", "data.kind=cache",
                  f"data.root={tmp_path / 'cache'}", f"data.val_scenes={2 * val_scenes}",
                  f"trainer.output_dir={tmp_path / 'out'}", f"trainer.steps={steps}", "trainer.batch_size=4",
                  "trainer.lr=1e-3", f"trainer.checkpoint_every={steps}", "trainer.log_every=50")
    schema = to_schema(cfg)
    clips, _ = build_datasets(DataConfig(kind="re10k", root=str(tmp_path / "synth"), height=H, width=W, strides=[1],
                                         val_scenes=0))
    vae = build_tiny_vae(H, W, scaling_factor=schema.model.vae_scaling_factor).eval()
    cache_video_latents(WithStaticTwins(clips), vae, tmp_path / "cache")  # held out: the last scenes' pairs
    train(cfg)

    _, val = build_datasets(schema.data)
    _, scheduler = build_vae_and_scheduler(schema)
    model = build_model(schema).eval()
    prompts = PromptEmbeddings(None, model.config.max_text_seq_length, model.config.text_embed_dim, schema.data.seed)
    # batches of 4 consecutive held-out clips = 2 scenes x (moving, static): rolling by 1 swaps cameras
    # between a scene's moving and static clips and across scenes.
    losses = {"init": held_out_loss(model, scheduler, val, prompts, seed=1)}
    load_camera_weights(model, tmp_path / "out" / "checkpoints" / f"step_{steps:08d}")
    losses["trained"] = held_out_loss(model, scheduler, val, prompts, seed=1)
    losses["shuffled"] = held_out_loss(model, scheduler, val, prompts, seed=1, shuffle_cameras=True)
    print("held-out denoising loss:", {k: round(v, 4) for k, v in losses.items()})
    return losses


@pytest.mark.slow
def test_tiny_model_learns_to_use_the_camera(tmp_path):
    loss = learning_run(tmp_path, num_scenes=20, val_scenes=4, steps=300)
    assert loss["trained"] < 0.8 * loss["init"]  # margin 1: training helps by > 20 %
    assert loss["shuffled"] > 1.1 * loss["trained"]  # margin 2: wrong cameras cost > 10 %


def test_tiny_model_starts_to_use_the_camera(tmp_path):
    """The fast variant: fewer scenes and steps, smaller stated margins."""
    loss = learning_run(tmp_path, num_scenes=10, val_scenes=2, steps=120)
    assert loss["trained"] < 0.9 * loss["init"]
    assert loss["shuffled"] > 1.03 * loss["trained"]
