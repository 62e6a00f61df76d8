"""Learning tests (2 CPU cores): on wonderland-synth clips, and on a camera-determined video.

Clips: wonderland-synth scenes (49 frames, 32 x 48, stride 1) along their own moving camera path, and
the same scenes with the camera held still at frame 0 (a `static` trajectory: 49 copies of frame 0).
Latents come from the tiny VAE through the latent cache (scripts/cache_video_latents.py's code path);
text embeddings are one fixed random embedding. The paper's recipe at CPU size: a stock CogVideoX base
(the `small` config; there is no released one) is first trained on image-to-video without a camera
(`stage=base`), then the camera branches are trained on it, frozen (`stage=camera`), both by the real
`train()`. After training, the held-out denoising loss (fixed noise and timesteps, scenes never seen in
training) must be clearly below the camera model's loss at initialisation (= the base's: the camera layers
start at zero) and clearly below the trained model's loss with the cameras shuffled across the batch.
"""

import pytest
import torch

from camera_video.cache import cache_video_latents
from camera_video.config import to_schema
from camera_video.data import DataConfig, PromptEmbeddings, build_datasets
from camera_video.models import load_camera_into
from camera_video.train import BASES, build_model, build_vae_and_scheduler, train
from camera_video.validate import held_out_loss

from .conftest import H, W, compose, plucker_of


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


def learning_run(tmp_path, num_scenes: int, val_scenes: int, base_steps: int, steps: int):
    from wonderland.data.synth import write_synthetic_dataset

    write_synthetic_dataset(tmp_path / "synth", num_scenes, num_frames=49, height=H, width=W, seed=0, workers=1)
    # demo-sized camera branches: control copies of 2 of the base's 4 blocks, LoRA rank 32
    overrides = ["model=tiny", "model.base=small", "model.camera.num_control_blocks=2", "model.camera.lora_rank=32",
                 "model.camera.encoder_channels=32", "data=synthetic", "trainer=smoke", "data.kind=cache",
                 f"data.root={tmp_path / 'cache'}", f"data.val_scenes={2 * val_scenes}", "trainer.batch_size=8",
                 "optim.lr=1e-3", "optim.schedule=wsd", "optim.min_lr=1e-4", "trainer.log_every=50"]
    schema = to_schema(compose(*overrides))
    clips, _ = build_datasets(DataConfig(kind="re10k", root=str(tmp_path / "synth"), height=H, width=W, strides=[1],
                                         val_scenes=0))
    vae, scheduler = build_vae_and_scheduler(compose_schema(overrides))  # the seeded tiny VAE training builds
    cache_video_latents(WithStaticTwins(clips), vae, tmp_path / "cache")  # held out: the last scenes' pairs
    # the paper's recipe at CPU size: a stock base pre-trained on image-to-video (stage=base), then the camera
    # branches on it, frozen (stage=camera), both by the real train()
    base = train(compose(*overrides, "stage=base", f"trainer.output_dir={tmp_path / 'base'}",
                         f"trainer.max_steps={base_steps}", f"trainer.checkpoint_every={base_steps}"))
    cfg = compose(*overrides, f"model.pretrained={base.model_dir}", f"trainer.output_dir={tmp_path / 'out'}",
                  f"trainer.max_steps={steps}", f"trainer.checkpoint_every={steps}")
    camera = train(cfg)
    _, val = build_datasets(schema.data)
    c = BASES[schema.model.base]
    prompts = PromptEmbeddings(None, c["max_text_seq_length"], c["text_embed_dim"], schema.data.seed)
    model = build_model(to_schema(cfg)).eval()
    # batches of 4 consecutive held-out clips = 2 scenes x (moving, static): rolling by 1 swaps cameras
    # between a scene's moving and static clips and across scenes.
    losses = {"init": held_out_loss(model, scheduler, val, prompts, seed=1)}
    load_camera_into(model, camera.model_dir)
    losses["trained"] = held_out_loss(model, scheduler, val, prompts, seed=1)
    losses["shuffled"] = held_out_loss(model, scheduler, val, prompts, seed=1, shuffle_cameras=True)
    print("held-out denoising loss:", {k: round(v, 4) for k, v in losses.items()})
    return losses


def compose_schema(overrides):
    """The config with pixel data (the cache does not exist yet): what builds the tiny VAE of the run."""
    return to_schema(compose(*[o for o in overrides if not o.startswith(("data.kind", "data.root"))]))


@pytest.mark.slow
def test_camera_model_learns_and_uses_the_camera_on_wonderland_synth(tmp_path):
    """Measured (48 scenes, base 400 + camera 400 steps at batch 8, 6.3 min with 2 threads): init 0.4724
    (the pretrained base; a random base scores ~1.43), trained 0.3286 (0.70 x init), shuffled 0.5207
    (1.58 x trained). Camera branches on a *random* frozen base (the previous form of this test) reached
    0.66 x init but only 0.994 x shuffled: with no video prior there is nothing for a camera to steer."""
    loss = learning_run(tmp_path, num_scenes=48, val_scenes=8, base_steps=400, steps=400)
    assert loss["trained"] < 0.75 * loss["init"]  # margin 1: > 25 % below initialisation
    assert loss["shuffled"] > 1.3 * loss["trained"]  # margin 2: the wrong cameras cost > 30 %


PRESETS = ["orbit", "spiral", "dolly_in", "dolly_out", "pan_left", "pan_right", "tilt_up", "tilt_down"]


def camera_determined_batch(seeds: list[int], mix: torch.Tensor) -> dict:
    """Clips whose video latents are a fixed local function of their camera: per latent cell, a fixed linear
    map `mix` of how the cell's Plücker coordinates differ from a still camera's (a stand-in for motion)."""
    from wonderland.latents import group_frames

    pl, names = [], []
    for s in seeds:
        g = torch.Generator().manual_seed(s)
        name = PRESETS[int(torch.randint(len(PRESETS), (1,), generator=g))]
        speed = 0.3 + 1.2 * torch.rand(1, generator=g).item()
        pl.append(plucker_of(name, speed=speed)[0])
        names.append(name)
    pl = torch.stack(pl)  # (B, 49, 6, H, W)

    def cells(p):  # (B, 49, 6, H, W) -> (B, 24, 13, 4, 6): each latent cell's 4 frames x 6 coordinates
        return torch.nn.functional.avg_pool3d(group_frames(p).flatten(2, 3).transpose(1, 2), (1, 8, 8))

    # Only what the motion changes: the still camera's rays (shared by every clip) are subtracted.
    motion = cells(pl) - cells(plucker_of("static").expand_as(pl))
    latents = torch.einsum("oc,bcthw->bothw", mix, motion)  # (B, 16, 13, 4, 6)
    return {"latents": latents, "image_latents": latents[:, :, :1], "plucker": pl,
            "prompt_embeds": torch.zeros(len(seeds), 8, 16)}


def test_camera_branches_learn_a_camera_determined_video():
    """Isolates the camera path: no VAE, no rendering. The tiny model must learn a video that only the
    camera can explain; shuffled cameras must then cost it clearly."""
    from diffusers import CogVideoXDPMScheduler

    from camera_video.loss import i2v_loss
    from camera_video.models import SCHEDULER_5B_I2V

    from .conftest import tiny_stock, wrap

    sched = CogVideoXDPMScheduler(**SCHEDULER_5B_I2V)
    mix = torch.randn(16, 24, generator=torch.Generator().manual_seed(0))
    mix = mix / camera_determined_batch(list(range(2000, 2008)), mix)["latents"].std()  # latents ~ unit std
    model = wrap(tiny_stock()).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3, betas=(0.9, 0.95))
    held_out = camera_determined_batch(list(range(1000, 1008)), mix)

    def evaluate(shuffle=False):
        batch = dict(held_out, plucker=held_out["plucker"].roll(1, 0)) if shuffle else held_out
        with torch.no_grad():
            return i2v_loss(model.eval(), sched, batch, torch.Generator().manual_seed(7)).item()

    init = evaluate()
    model.train()
    for step in range(150):
        batch = camera_determined_batch([4 * step + k for k in range(4)], mix)
        loss = i2v_loss(model, sched, batch, torch.Generator().manual_seed(step))
        opt.zero_grad()
        loss.backward()
        opt.step()
    trained, shuffled = evaluate(), evaluate(shuffle=True)
    print(f"camera-determined video, held-out loss: init {init:.4f} trained {trained:.4f} shuffled {shuffled:.4f}")
    # measured: init 0.8017, trained 0.3996 (0.50 x), shuffled 0.5476 (1.37 x trained)
    assert trained < 0.7 * init  # margin 1: > 30 % below initialisation
    assert shuffled > 1.2 * trained  # margin 2: the wrong cameras cost > 20 %
