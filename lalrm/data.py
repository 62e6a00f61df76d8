"""Training samples for the LaLRM: captured clips, a latent cache, generated clips; deterministic mixing.

Sample (a dict, one per scene):
  latents (16, T, h, w) scaled VAE latents        -- absent for captured clips encoded on the fly
  frames (F, 3, H, W) in [0, 1]                    -- only when latents are absent (H, W = 8h, 8w)
  c2w (F, 4, 4) relative to frame 0, scale-normalised; K (F, 3, 3) pixels of (H, W)
  sup_frames (V, 3, hs, ws); sup_c2w (V, 4, 4) same frame as c2w; sup_K (V, 3, 3); sup_is_seen (V,)

Latent cache (scripts/cache_latents.py): `wonderland.data.latent_cache` with the supervision group, one file
per stream sample `<cache_dir>/<index:08d>.safetensors` (frames dropped, latents added).

Generated clips (written by the camera-video pipeline, read here), one folder per clip:
  <root>/<clip>/latents.safetensors   tensor "latents" (16, T, h, w): scaled latents, as the sampler returns
  <root>/<clip>/cameras.json          {"height": H, "width": W, "c2w": [F][4][4] OpenCV camera-to-world,
                                       "K": [F][3][3] pixels of (H, W)}: the cameras it was generated with
  <root>/<clip>/frames/00000.png ...  the F decoded frames (lossless), or frames.mp4
Every view is "seen" (there is no video outside the generated clip); supervision views are drawn from it.

Determinism: sample i of the stream depends only on (seed, i), so the data position of a run is its step
count (resume = start the batch sampler at that step), and every process draws disjoint samples.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import Tensor
from torch.utils.data import Dataset

from wonderland.errors import InputError
from wonderland.geometry import Cameras, normalize_poses
from wonderland.training import MixedStream


class GeneratedClips(Dataset):
    """Clips from the camera-video pipeline (format above), resized to the supervision size."""

    def __init__(self, root: str | Path, num_views: int, sup_height: int, sup_width: int, seed: int = 0):
        self.clips = sorted(p.parent for p in Path(root).glob("*/latents.safetensors"))
        if not self.clips:
            raise InputError(root, "data.generated.root", "no generated clips (<clip>/latents.safetensors)")
        self.num_views, self.size, self.seed = num_views, (sup_height, sup_width), seed

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict:
        clip = self.clips[i]
        meta = json.loads((clip / "cameras.json").read_text())
        cams = Cameras(torch.tensor(meta["c2w"], dtype=torch.float64), torch.tensor(meta["K"], dtype=torch.float64),
                       meta["height"], meta["width"])
        latents = load_file(clip / "latents.safetensors")["latents"]  # (16, T, h, w)
        if (8 * latents.shape[-2], 8 * latents.shape[-1]) != (cams.height, cams.width):
            raise InputError(clip / "cameras.json", "height/width", f"{cams.height}x{cams.width} does not match "
                             f"latents {tuple(latents.shape)} (x8)")
        frames = read_frames(clip)  # (F, 3, H, W)
        if frames.shape[0] != len(cams):
            raise InputError(clip, "frames", f"{frames.shape[0]} frames for {len(cams)} cameras")
        c2w, _ = normalize_poses(cams.c2w)
        rng = random.Random(f"{self.seed}/generated/{i}")
        views = sorted(rng.sample(range(len(cams)), min(self.num_views, len(cams))))
        sup = cams[views].resize(*self.size)
        sup_frames = F.interpolate(frames[views], size=self.size, mode="area")
        return {"latents": latents, "c2w": c2w.float(), "K": cams.K.float(), "sup_frames": sup_frames,
                "sup_c2w": c2w[views].float(), "sup_K": sup.K.float(),
                "sup_is_seen": torch.ones(len(views), dtype=torch.bool), "key": clip.name}


def read_frames(clip: Path) -> Tensor:
    """<clip>/frames/*.png or <clip>/frames.mp4 -> (F, 3, H, W) float in [0, 1]."""
    import imageio.v3 as iio

    pngs = sorted((clip / "frames").glob("*.png"))
    arrays = [iio.imread(p) for p in pngs] if pngs else list(iio.imiter(clip / "frames.mp4"))
    return torch.stack([torch.from_numpy(a[..., :3]).permute(2, 0, 1) for a in arrays]).float() / 255


def build_stream(cfg, captured: bool | None = None) -> MixedStream:
    """The training stream of a `TrainConfig`: captured data (on-the-fly clips or the latent cache) mixed
    with generated clips at `data.generated.ratio`. `captured=True` forces the raw clips (cache writer)."""
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
        sources.append((GeneratedClips(gen.root, st.num_seen + st.num_unseen, st.sup_height, st.sup_width,
                                       cfg.trainer.seed), gen.ratio))
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
