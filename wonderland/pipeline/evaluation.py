"""The per-clip work of `wonderland-eval` that needs the models (SPEC section 4, paper Tables 1-3).

Every task gets the clip's ground-truth frames (F, 3, H, W) and cameras (F,) at the model resolution
(centre-cropped and resized together, so intrinsics match the pixels) and returns the clip's record
fields: `metrics` (scalars the summary averages + per-frame lists for the plots) and task extras.
  - video: the start frame + the clip's poses -> generated video; image metrics on the first 14
    frames, RotErr / TransErr from COLMAP on the first 16 (unregistered frames counted); Inception /
    I3D features for the set-level FID / FVD when those networks are loaded.
  - 3d: the full pipeline; the Gaussians rendered at the first 14 poses.
  - recon: the LaLRM on the VAE latents of the ground-truth clip; rendered at seen views (clip frames)
    and unseen views (frames of the same video outside the clip).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..data.eval_index import EvalEntry
from ..data.sampling import sample_supervision_views
from ..data.scene import Scene
from ..eval.config import TASKS
from ..eval.scoring import CAMERA_FRAMES, IMAGE_FRAMES, camera_scores, image_scores
from ..gaussians import Gaussians
from ..geometry import Cameras
from ..metrics import MetricNets, i3d_features, inception_features
from ..render import render
from ..vae import encode_video
from .pipeline import WonderlandPipeline


@dataclass
class TaskOptions:
    image_frames: int = IMAGE_FRAMES
    camera_frames: int = CAMERA_FRAMES
    unregistered: str = "exclude"  # camera_errors policy
    fid_frames: int | None = None  # generated frames per clip in the FID sets (None: all)
    fvd_frames: int = 16  # frames per clip in the FVD sets
    num_seen: int = 24  # recon: views inside the clip
    num_unseen: int = 24  # recon: views outside it (fewer when the video has fewer)
    background: float = 1.0  # render background, as in LaLRM training
    num_inference_steps: int | None = None  # None: the model family's defaults
    guidance_scale: float | None = None
    prompt: str | None = None
    seed: int = 0


@dataclass
class ClipResult:
    metrics: dict
    extras: dict = field(default_factory=dict)  # JSON-ready record fields besides the metrics
    features: dict[str, np.ndarray] = field(default_factory=dict)  # FID / FVD features of this clip


def load_clip(scene: Scene, entry: EvalEntry, height: int, width: int) -> tuple[Tensor, Cameras]:
    """The clip's frames (F, 3, H, W) in [0, 1] and cameras (F,) at (height, width)."""
    return scene.load_frames(entry.indices, height, width)


def render_views(gaussians: Gaussians, cameras: Cameras, background: float) -> Tensor:
    """Gaussians (G,) seen from cameras (V,) -> (V, 3, H, W) in [0, 1] on the CPU."""
    return render(gaussians, cameras.to(gaussians.means), background).rgb.clamp(0, 1).float().cpu()


def _image_metrics(pred: Tensor, target: Tensor, nets: MetricNets, suffix: str = "") -> dict:
    """Every key ends in its metric's name (psnr, per_frame_psnr, ...), so a suffix keeps them apart."""
    return {k + suffix: v for k, v in image_scores(pred, target, nets.lpips).items()}


def eval_video(pipe: WonderlandPipeline, frames: Tensor, cams: Cameras, nets: MetricNets, opt: TaskOptions
               ) -> ClipResult:
    video = pipe.generate_video(frames[0], cams, opt.prompt, opt.seed, opt.num_inference_steps, opt.guidance_scale)
    gen = video.frames  # (F, 3, H, W)
    n = opt.image_frames
    metrics = _image_metrics(gen[:n], frames[:n], nets)
    cam = camera_scores(gen, video.cameras.c2w.double(), video.cameras.K[0].double(), opt.camera_frames,
                        unregistered=opt.unregistered)
    metrics.update({k: cam[k] for k in ("rot_err", "trans_err", "num_unregistered", "per_frame_rot_err",
                                        "per_frame_trans_err")})
    extras = {"camera": {"registered": cam["registered"], "est_c2w": cam["est_c2w"],
                         "gt_c2w": video.cameras.c2w[:opt.camera_frames].double().tolist(),
                         "reference_frame": cam["reference_frame"], "policy": cam["policy"]}}
    features = {}
    if nets.inception is not None:
        m = opt.fid_frames or len(gen)
        features |= {"fid_fake": inception_features(nets.inception, gen[:m]),
                     "fid_real": inception_features(nets.inception, frames[:m])}
    if nets.i3d is not None:
        m = opt.fvd_frames
        features |= {"fvd_fake": i3d_features(nets.i3d, gen[None, :m]),  # (1, 400) per clip
                     "fvd_real": i3d_features(nets.i3d, frames[None, :m])}
    return ClipResult(metrics, extras, features)


def eval_3d(pipe: WonderlandPipeline, frames: Tensor, cams: Cameras, nets: MetricNets, opt: TaskOptions
            ) -> ClipResult:
    result = pipe(frames[0], cams, opt.prompt, opt.seed, opt.num_inference_steps, opt.guidance_scale)
    n = opt.image_frames
    rendered = render_views(result.gaussians, result.cameras[:n], opt.background)  # (n, 3, H, W)
    return ClipResult(_image_metrics(rendered, frames[:n], nets), {"num_gaussians": result.gaussians.num})


def eval_recon(pipe: WonderlandPipeline, scene: Scene, entry: EvalEntry, frames: Tensor, cams: Cameras,
               nets: MetricNets, opt: TaskOptions) -> ClipResult:
    vae = pipe.video_pipe.vae
    latents = encode_video(vae, frames[None].to(vae.device, vae.dtype))[0]  # (16, T, H/8, W/8)
    gaussians = pipe.reconstruct(latents, cams)
    rng = random.Random(f"{opt.seed}/{entry.key}/{entry.start}/{entry.stride}")
    clip = entry.indices
    seen, unseen = sample_supervision_views(scene.num_frames, clip, min(opt.num_seen, len(clip)), opt.num_unseen, rng)
    unseen = sorted(set(unseen) - set(clip))  # evaluation: every unseen frame once, none from the clip
    pos = {f: i for i, f in enumerate(clip)}
    sel = torch.tensor([pos[f] for f in seen])
    metrics = _image_metrics(render_views(gaussians, cams[sel], opt.background), frames[sel], nets)
    if unseen:
        gt, ucams = scene.load_frames(unseen, cams.height, cams.width)
        metrics |= _image_metrics(render_views(gaussians, ucams, opt.background), gt, nets, "_unseen")
    else:  # a clip of the whole video: nothing outside it
        metrics |= {"psnr_unseen": None, "ssim_unseen": None, "lpips_unseen": None}
    return ClipResult(metrics, {"seen": seen, "unseen": unseen})


def eval_clip(task: str, pipe: WonderlandPipeline, scene: Scene, entry: EvalEntry, nets: MetricNets,
              opt: TaskOptions) -> ClipResult:
    """One clip of `task`; the ground truth is read at the model resolution."""
    m = pipe.manifest
    frames, cams = load_clip(scene, entry, m.height, m.width)
    if task == "video":
        return eval_video(pipe, frames, cams, nets, opt)
    if task == "3d":
        return eval_3d(pipe, frames, cams, nets, opt)
    if task == "recon":
        return eval_recon(pipe, scene, entry, frames, cams, nets, opt)
    raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
