"""Training samples for the LaLRM: captured clips, a latent cache, generated clips; deterministic mixing.

Sample (a dict, one per scene):
  latents (16, T, h, w) scaled VAE latents        -- absent for captured clips encoded on the fly
  frames (F, 3, H, W) in [0, 1]                    -- only when latents are absent (H, W = 8h, 8w)
  c2w (F, 4, 4) relative to frame 0, scale-normalised; K (F, 3, 3) pixels of (H, W)
  sup_frames (V, 3, hs, ws); sup_c2w (V, 4, 4) same frame as c2w; sup_K (V, 3, 3); sup_is_seen (V,)

Latent cache (scripts/cache_latents.py): `wonderland.data.latent_cache` with the supervision group, one file
per stream sample `<cache_dir>/<index:08d>.safetensors` (frames dropped, latents added).

Generated clips (`wonderland-make-clips`; format and reader: `wonderland.data.generated_clips`): the latents are the
input, the cameras they were generated along (relative to frame 0 and scale-normalised like a captured clip's)
and the decoded frames at those cameras the supervision. Every view is "seen" (there is no video outside a
generated clip): V = num_seen + num_unseen views are drawn from its frames.

Determinism: sample i of the stream depends only on (seed, i), so the data position of a run is its step
count (resume = start the batch sampler at that step), and every process draws disjoint samples.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from torch.utils.data import Dataset

from wonderland.data.generated_clips import list_clips, read_clip, read_header
from wonderland.data.shims import center_crop_resize_images
from wonderland.errors import InputError
from wonderland.geometry import Cameras, normalize_poses
from wonderland.training import MixedStream


class GeneratedClips(Dataset):
    """Clips of `wonderland.data.generated_clips` as LaLRM samples (layout in the module docstring).

    Every clip's header is read and checked at construction (frame count, video size = the stage's, the VAE
    that made the latents = the one encoding the captured data when given): a mismatch is one line naming
    `data.generated.root` and the clip, before training starts. Supervision views are a function of
    (seed, epoch, index), so a resumed run reads the same views."""

    def __init__(self, root: str | Path, num_frames: int, height: int, width: int, num_views: int, sup_height: int,
                 sup_width: int, seed: int = 0, vae_identity: str | None = None):
        self.clips = list_clips(root)
        if not self.clips:
            raise InputError(None, "data.generated.root", "expected a folder of generated clips (<clip>/clip.json, "
                             "written by wonderland-make-clips)", value=str(root))
        self.headers = [read_header(clip) for clip in self.clips]
        for clip, head in zip(self.clips, self.headers):
            got = {"frames": head.num_frames, "video size": (head.height, head.width)}
            want = {"frames": num_frames, "video size": (height, width)}
            if vae_identity is not None:
                got["VAE"], want["VAE"] = head.vae_identity, vae_identity
            for k in got:
                if got[k] != want[k]:
                    raise InputError(None, "data.generated.root", f"clip {clip.name} has {k} {got[k]}, the training "
                                     f"run uses {want[k]}", value=str(root))
        self.num_views, self.size, self.seed, self.epoch = num_views, (sup_height, sup_width), seed, 0

    def __len__(self) -> int:
        return len(self.clips)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> dict:
        rng = random.Random(f"{self.seed}/{self.epoch}/generated/{i}")
        num_frames = self.headers[i].num_frames
        views = sorted(rng.sample(range(num_frames), min(self.num_views, num_frames)))
        views += sorted(rng.choices(range(num_frames), k=self.num_views - len(views)))  # V > F: repeat frames
        clip = read_clip(self.clips[i], frames=sorted(set(views)))
        pos = {f: j for j, f in enumerate(sorted(set(views)))}
        frames = clip.frames[[pos[f] for f in views]]  # (V, 3, H, W)
        cams = clip.cameras  # (F,) in the trajectory's units -> the normalised frame a captured clip is in
        c2w, _ = normalize_poses(cams.c2w)
        sup = cams[torch.tensor(views)]
        box = sup.center_crop_box(*self.size)
        return {"latents": clip.latents, "c2w": c2w.float(), "K": cams.K.float(),
                "sup_frames": center_crop_resize_images(frames, box, *self.size),
                "sup_c2w": c2w[views].float(), "sup_K": sup.center_crop_resize(*self.size).K.float(),
                "sup_is_seen": torch.ones(len(views), dtype=torch.bool), "key": clip.header.path.name}


def build_stream(cfg, captured: bool | None = None, vae=None) -> MixedStream:
    """The training stream of a `TrainConfig`: captured data (on-the-fly clips or the latent cache) mixed
    with generated clips at `data.generated.ratio`. `captured=True` forces the raw clips (cache writer).
    `vae`: the VAE that encodes the captured clips; generated clips must come from one of its identity."""
    from wonderland.data import ReconstructionDataset, open_scenes
    from wonderland.data.latent_cache import LatentCache

    st = cfg.stage
    if cfg.data.latents == "cache" and not captured:
        if cfg.data.cache_dir is None:
            raise InputError("config", "data.cache_dir", "latents=cache needs a cache_dir")
        sources = [(LatentCache(cfg.data.cache_dir, require=("supervision",)), 1.0)]
    else:
        sources = [(ReconstructionDataset(open_scenes(s.kind, s.root), cfg.num_frames, st.height, st.width,
                                          s.strides, st.num_seen, st.num_unseen, st.sup_height, st.sup_width,
                                          seed=cfg.trainer.seed), s.weight) for s in cfg.data.sources.values()]
    gen = cfg.data.generated
    if gen.root is not None and not captured:
        total = sum(w for _, w in sources)
        sources = [(ds, w * (1 - gen.ratio) / total) for ds, w in sources]
        from wonderland.vae import vae_identity

        sources.append((GeneratedClips(gen.root, cfg.num_frames, st.height, st.width, st.num_seen + st.num_unseen,
                                       st.sup_height, st.sup_width, cfg.trainer.seed,
                                       vae_identity(vae) if vae is not None else None), gen.ratio))
    return MixedStream(sources, cfg.trainer.seed)


def collate(items: list[dict]) -> list[dict]:
    """Keep samples separate: some carry latents, others frames still to encode (see `prepare_batch`)."""
    return items


def prepare_batch(items: list[dict], vae, device: torch.device) -> dict:
    """Samples -> batch: latents (B, 16, T, h, w) (encoding frames with the frozen VAE where needed),
    cameras Cameras (B, F) at (8h, 8w), sup_cameras Cameras (B, V) at (hs, ws), sup_frames (B, V, 3, hs, ws)."""
    from wonderland.vae import encode_video

    latents = []
    for it in items:
        if "latents" in it:
            latents.append(it["latents"].to(device))
        else:
            if vae is None:
                raise InputError("config", "vae", "samples without cached latents need a VAE (vae.path or vae.tiny)")
            latents.append(encode_video(vae, it["frames"][None].to(device))[0].float())
    latents = torch.stack(latents)
    h, w = (8 * n for n in latents.shape[-2:])
    hs, ws = items[0]["sup_frames"].shape[-2:]
    stack = lambda k: torch.stack([it[k] for it in items]).to(device)  # noqa: E731
    return {"latents": latents, "cameras": Cameras(stack("c2w"), stack("K"), h, w),
            "sup_cameras": Cameras(stack("sup_c2w"), stack("sup_K"), hs, ws), "sup_frames": stack("sup_frames")}
