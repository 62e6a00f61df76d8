"""Training samples for the LaLRM: captured clips, a latent cache, generated clips; deterministic mixing.

Sample (a dict, one per scene):
  latents (16, T, h, w) scaled VAE latents        -- absent for captured clips encoded on the fly
  frames (F, 3, H, W) in [0, 1]                    -- only when latents are absent (H, W = 8h, 8w)
  c2w (F, 4, 4) relative to frame 0, scale-normalised; K (F, 3, 3) pixels of (H, W)
  sup_frames (V, 3, hs, ws); sup_c2w (V, 4, 4) same frame as c2w; sup_K (V, 3, 3); sup_is_seen (V,)

Latent cache (scripts/cache_latents.py): `<cache_dir>/<index:08d>.safetensors` holding those tensors
(frames dropped, latents added); safetensors metadata {"key", "height", "width", "format": "lalrm-cache/1"}.

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
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from wonderland.errors import InputError
from wonderland.geometry import Cameras, normalize_poses
from wonderland.io import atomic_path

CACHE_FORMAT = "lalrm-cache/1"
CACHE_KEYS = ("latents", "c2w", "K", "sup_frames", "sup_c2w", "sup_K", "sup_is_seen")


class LatentCache(Dataset):
    """Samples written by `write_cache_item`: (latents + cameras + supervision views), one file each."""

    def __init__(self, root: str | Path):
        self.files = sorted(Path(root).glob("*.safetensors"))
        if not self.files:
            raise InputError(root, "data.cache_dir", "no cached samples (*.safetensors); run scripts/cache_latents.py")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict:
        with safe_open(self.files[i], "pt") as f:
            meta = f.metadata() or {}
        if meta.get("format") != CACHE_FORMAT:
            raise InputError(self.files[i], "format", f"expected {CACHE_FORMAT}, got {meta.get('format')}")
        return load_file(self.files[i]) | {"key": meta["key"]}


def write_cache_item(path: str | Path, sample: dict, latents: Tensor) -> None:
    """One cache file: a dataset sample's cameras + supervision views with its latents (16, T, h, w)."""
    from safetensors.torch import save_file

    h, w = sample["frames"].shape[-2:]
    tensors = {k: sample[k].contiguous() for k in CACHE_KEYS if k != "latents"} | {"latents": latents.contiguous()}
    meta = {"format": CACHE_FORMAT, "key": str(sample["key"]), "height": str(h), "width": str(w)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


class GeneratedClips(Dataset):
    """Clips from the camera-video pipeline (format above), resized to the supervision size."""

    def __init__(self, root: str | Path, num_views: int, sup_height: int, sup_width: int, seed: int = 0):
        self.clips = sorted(p.parent for p in Path(root).glob("*/latents.safetensors"))
        if not self.clips:
            raise InputError(root, "stage.generated.root", "no generated clips (<clip>/latents.safetensors)")
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


class MixedStream(Dataset):
    """Sample i (any i >= 0) of a weighted mix of datasets; a function of (seed, i) only.

    Epoch-aware datasets (`set_epoch`, e.g. ReconstructionDataset) see epoch = i // total size, so a
    scene gives a different clip each pass.
    """

    def __init__(self, sources: Sequence[tuple[Dataset, float]], seed: int = 0):
        self.sources = [(ds, w) for ds, w in sources if w > 0]
        self.total = sum(len(ds) for ds, _ in self.sources)
        self.seed = seed

    def __len__(self) -> int:
        return self.total

    def locate(self, i: int) -> tuple[int, int]:
        """(source, item) that sample i is drawn from."""
        rng = random.Random(f"{self.seed}/mix/{i}")
        src = rng.choices(range(len(self.sources)), weights=[w for _, w in self.sources])[0]
        return src, rng.randrange(len(self.sources[src][0]))

    def __getitem__(self, i: int) -> dict:
        src, item = self.locate(i)
        ds = self.sources[src][0]
        if hasattr(ds, "set_epoch"):
            ds.set_epoch(i // self.total)
        return ds[item]


class StepBatchSampler(Sampler[list[int]]):
    """Batches of stream indices for steps [start, end): process `rank` of `world` gets its own slice of
    the global batch of step s, i.e. indices (s * world + rank) * b + j."""

    def __init__(self, start: int, end: int, per_process_batch: int, rank: int = 0, world: int = 1):
        self.start, self.end, self.b, self.rank, self.world = start, end, per_process_batch, rank, world

    def __len__(self) -> int:
        return max(0, self.end - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        for s in range(self.start, self.end):
            first = (s * self.world + self.rank) * self.b
            yield list(range(first, first + self.b))


def build_stream(cfg, captured: bool | None = None) -> MixedStream:
    """The training stream of a `TrainConfig`: captured data (on-the-fly clips or the latent cache) mixed
    with generated clips at `stage.generated.fraction`. `captured=True` forces the raw clips (cache writer)."""
    from wonderland.data import ReconstructionDataset, open_scenes

    st = cfg.stage
    if cfg.data.latents == "cache" and not captured:
        if cfg.data.cache_dir is None:
            raise InputError("config", "data.cache_dir", "latents=cache needs a cache_dir")
        sources = [(LatentCache(cfg.data.cache_dir), 1.0)]
    else:
        sources = [(ReconstructionDataset(open_scenes(s.kind, s.root), cfg.num_frames, st.height, st.width,
                                          s.strides, st.num_seen, st.num_unseen, st.sup_height, st.sup_width,
                                          seed=cfg.seed), s.weight) for s in cfg.data.sources.values()]
    gen = st.generated
    if gen is not None and gen.root is not None and not captured:
        total = sum(w for _, w in sources)
        sources = [(ds, w * (1 - gen.fraction) / total) for ds, w in sources]
        sources.append((GeneratedClips(gen.root, st.num_seen + st.num_unseen, st.sup_height, st.sup_width,
                                       cfg.seed), gen.fraction))
    return MixedStream(sources, cfg.seed)


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
