"""`WonderlandPipeline`: one image + a camera trajectory -> video latents -> 3D Gaussians.

The only module (with `wonderland.cli`) that imports both subsystems. Stages can run alone:
`generate_video` (camera-guided CogVideoX), `reconstruct` (LaLRM on any latents + cameras), and
`__call__` runs both; `generate_long` follows a trajectory longer than one clip chunk by chunk
(`long_navigation.py`). Cameras go in and come out in the trajectory's own units: the models see
poses relative to frame 0 and scale-normalised, and the `PoseNormalization` maps results back.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from ..errors import InputError
from ..gaussians import Gaussians
from ..geometry import Cameras, PoseNormalization, normalize_cameras
from ..images import PreparedImage, fit_image
from ..trajectories import resample
from .hub import resolve_model_dir
from .manifest import Manifest, read_manifest

log = logging.getLogger(__name__)


@dataclass
class StageStats:
    seconds: float
    peak_memory_mb: float  # CUDA: max allocated on the device; CPU: process peak RSS so far


@dataclass
class VideoResult:
    frames: Tensor  # (F, 3, H, W) in [0, 1]
    latents: Tensor  # (16, T, H/8, W/8), scaled (the LaLRM's input)
    cameras: Cameras  # (F,) in the trajectory's units, at the model resolution
    normalization: PoseNormalization  # trajectory units <-> the normalised frame the models saw
    image: PreparedImage
    sampler: dict = field(default_factory=dict)  # scheduler, steps, transformer calls, steps the cache reused


@dataclass
class WonderlandResult:
    gaussians: Gaussians  # (G,) in the trajectory's units
    frames: Tensor  # (F, 3, H, W) generated video
    latents: Tensor  # (16, T, h, w)
    cameras: Cameras  # (F,) the cameras the Gaussians were reconstructed with, trajectory units
    normalization: PoseNormalization
    image: PreparedImage
    pose_source: str  # "trajectory", "colmap" or "generated" (`generate_auto`: the pose stream's path)
    stats: dict[str, StageStats] = field(default_factory=dict)
    sampler: dict = field(default_factory=dict)  # see VideoResult.sampler


class StageTimer:
    """Times a stage and records its peak memory."""

    def __init__(self, stats: dict, name: str, device: torch.device):
        self.stats, self.name, self.device = stats, name, device

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        if exc[0] is not None:
            return
        if self.device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stats[self.name] = StageStats(time.perf_counter() - self.t0, peak)


class WonderlandPipeline:
    def __init__(self, video_pipe, lalrm, manifest: Manifest, prompt_embeds: dict[str, Tensor] | None = None,
                 sampling=None):
        from camera_video.speed import SamplingOptions

        self.video_pipe, self.lalrm, self.manifest = video_pipe, lalrm, manifest
        self.prompt_embeds = prompt_embeds
        self.sampling = sampling or SamplingOptions()  # applied by from_pretrained (camera_video.speed)
        self.stats: dict[str, StageStats] = {}
        self.alignment: Path | None = None  # the alignment component applied (from_pretrained), if any

    @property
    def device(self) -> torch.device:
        return next(self.lalrm.parameters()).device

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, device: str | torch.device = "cpu",
                        dtype: torch.dtype = torch.float32, offload: str = "none", cache_dir: str | Path | None = None,
                        revision: str | None = None, sampling=None, alignment: bool = True) -> WonderlandPipeline:
        """Load a model family described by `<model_dir>/wonderland.json` (see `manifest.py`).

        `model_dir` is a local directory or a Hugging Face repo id ("owner/name", resolved through the
        cache first, see `hub.py`; `cache_dir` and `revision` as in diffusers). `sampling`: a
        `camera_video.speed.SamplingOptions` (another scheduler, a step cache, compiled blocks, dynamic CFG,
        the camera-LoRA fused, camera guidance). `alignment`: apply the family's alignment-LoRA (`wonderland.align`)
        when its manifest names one; False (`wonderland-generate --no-alignment`) samples the unaligned model."""
        import diffusers
        from safetensors.torch import load_file

        from camera_video.models import load_base, load_camera_transformer
        from camera_video.pipeline import CameraVideoPipeline
        from camera_video.speed import SamplingOptions, apply_sampling_options
        from lalrm.decoders import load_decoder

        from ..vae import load_vae

        manifest = read_manifest(resolve_model_dir(model_dir, cache_dir, revision))
        device = torch.device(device)
        stats: dict[str, StageStats] = {}
        with StageTimer(stats, "load", device):
            transformer = load_camera_transformer(load_base(manifest.base, dtype), manifest.camera)
            if alignment and manifest.alignment is not None:
                from ..align.lora import apply_alignment

                apply_alignment(transformer, manifest.alignment)
            if manifest.pose_stream is not None:
                from .pose import load_pose_stream

                transformer.attach_pose_stream(load_pose_stream(manifest.pose_stream, transformer.config))
            transformer.eval().requires_grad_(False)
            sched_cfg = json.loads((manifest.base / "scheduler" / "scheduler_config.json").read_text())
            scheduler = getattr(diffusers, sched_cfg["_class_name"]).from_pretrained(manifest.base,
                                                                                     subfolder="scheduler")
            text_encoder = tokenizer = None
            if manifest.has_text_encoder:
                from transformers import AutoTokenizer, T5EncoderModel

                tokenizer = AutoTokenizer.from_pretrained(manifest.base, subfolder="tokenizer")
                text_encoder = T5EncoderModel.from_pretrained(manifest.base, subfolder="text_encoder",
                                                              torch_dtype=dtype)
            video_pipe = CameraVideoPipeline(load_vae(manifest.vae, dtype), transformer, scheduler, text_encoder,
                                             tokenizer)
            sampling = sampling or SamplingOptions()
            apply_sampling_options(video_pipe, sampling)
            lalrm = load_decoder(manifest.lalrm)  # the LaLRM or a stitched decoder (its config's _class_name)
            if offload != "none" and device.type != "cuda":
                warnings.warn(f"--offload {offload} needs a CUDA device; running without offload", stacklevel=2)
                offload = "none"
            if offload == "model":
                video_pipe.enable_model_cpu_offload(device=device)
            elif offload == "sequential":
                video_pipe.enable_sequential_cpu_offload(device=device)
            else:
                video_pipe.to(device)
            lalrm.to(device)
            embeds = None
            if manifest.prompt_embeds is not None:
                embeds = {k: v.to(device, dtype) for k, v in load_file(str(manifest.prompt_embeds)).items()}
        pipe = cls(video_pipe, lalrm, manifest, embeds, sampling)
        pipe.alignment = manifest.alignment if alignment else None
        pipe.stats.update(stats)
        return pipe

    def set_progress_bar(self, enabled: bool) -> None:
        self.video_pipe.set_progress_bar_config(disable=not enabled)

    # ---- inputs ---------------------------------------------------------------------------------
    def fit_trajectory(self, trajectory: Cameras) -> Cameras:
        """Resample to the model's frame count (with a warning) and fit the intrinsics to its resolution."""
        m = self.manifest
        if not torch.isfinite(trajectory.c2w).all() or not torch.isfinite(trajectory.K).all():
            raise InputError(None, "trajectory", "poses or intrinsics contain NaN or inf")
        if len(trajectory) != m.num_frames:
            longer = " (generate_long follows a longer path in chunks)" if len(trajectory) > m.num_frames else ""
            warnings.warn(f"trajectory has {len(trajectory)} frames; resampled to the model's {m.num_frames}{longer}",
                          stacklevel=2)
            trajectory = resample(trajectory, m.num_frames)
        return trajectory.center_crop_resize(m.height, m.width)

    # ---- stages ---------------------------------------------------------------------------------
    def generate_video(self, image: Tensor, trajectory: Cameras, prompt: str | None = None, seed: int = 0,
                       num_inference_steps: int | None = None, guidance_scale: float | None = None) -> VideoResult:
        """image (3, H, W) in [0, 1], any size; trajectory (F,) -> the generated video and its latents."""
        from camera_video.speed import resolve_camera_guidance

        m, d = self.manifest, self.manifest.defaults
        prepared = fit_image(image, m.height, m.width)
        cams = self.fit_trajectory(trajectory).to(torch.float32)
        text = self._text(prompt)
        steps = num_inference_steps or d.get("num_inference_steps", 50)
        camera_guidance = resolve_camera_guidance(self.sampling, d)
        with StageTimer(self.stats, "video", self.device):
            out = self.video_pipe(prepared.image[None], cams, **text, num_inference_steps=steps,
                                  guidance_scale=guidance_scale if guidance_scale is not None
                                  else d.get("guidance_scale", 6.0), use_dynamic_cfg=self.sampling.dynamic_cfg,
                                  generator=torch.Generator().manual_seed(seed), camera_guidance=camera_guidance)
        norm = PoseNormalization(out.normalization.reference[0], out.normalization.scale[0])
        sampler = {"scheduler": type(self.video_pipe.scheduler).__name__, "steps": steps,
                   "camera_guidance": camera_guidance,
                   **{k: out.stats[k] for k in ("transformer_calls", "reused_steps", "guidance_scales")}}
        return VideoResult(out.frames[0].float().cpu(), out.latents[0].float(), cams, norm, prepared, sampler)

    def _text(self, prompt: str | None) -> dict:
        """The video pipeline's text arguments: the family's stored embeddings, or the prompt (default the family's)."""
        m = self.manifest
        if self.prompt_embeds is not None and not m.has_text_encoder:
            return {"prompt_embeds": self.prompt_embeds["prompt_embeds"],
                    "negative_prompt_embeds": self.prompt_embeds.get("negative_prompt_embeds")}
        return {"prompt": prompt if prompt is not None else m.defaults.get("prompt", "")}

    @property
    def has_pose_stream(self) -> bool:
        return getattr(self.video_pipe.transformer, "pose_stream", None) is not None

    def generate_auto(self, image: Tensor, prompt: str | None = None, seed: int = 0,
                      num_inference_steps: int | None = None, guidance_scale: float | None = None,
                      pose: str = "async", pose_delta: float = 0.2, pose_guidance: float = 1.0) -> WonderlandResult:
        """`--trajectory auto`: the video and its camera path generated together (pose-free joint sampling with the
        family's pose stream, `camera_video.pose_sampling`), then reconstructed with that path. The cameras are the
        normalised ones the stream generates (frame 0 = identity, farthest centre at 1), at the model resolution.
        pose: "async" (default) or "sync"; the report's sampler["pose"] has the ray-fit residuals."""
        if not self.has_pose_stream:
            raise InputError(None, "--trajectory", f"the model family '{self.manifest.name}' has no pose stream to "
                             "propose a camera path", value="auto")
        if pose not in ("async", "sync"):
            raise InputError(None, "pose", "a generated path is sampled 'async' or 'sync'", value=pose)
        m, d = self.manifest, self.manifest.defaults
        prepared = fit_image(image, m.height, m.width)
        steps = num_inference_steps or d.get("num_inference_steps", 50)
        with StageTimer(self.stats, "video", self.device):
            out = self.video_pipe(prepared.image[None], None, **self._text(prompt), num_inference_steps=steps,
                                  guidance_scale=guidance_scale if guidance_scale is not None
                                  else d.get("guidance_scale", 6.0), use_dynamic_cfg=self.sampling.dynamic_cfg,
                                  generator=torch.Generator().manual_seed(seed), pose=pose, pose_delta=pose_delta,
                                  pose_guidance=pose_guidance)
        cams = out.cameras[0].to(torch.float32)
        norm = PoseNormalization(out.normalization.reference[0], out.normalization.scale[0])
        residual = out.pose_residual[0].float()
        sampler = {"scheduler": type(self.video_pipe.scheduler).__name__, "steps": steps,
                   **{k: out.stats[k] for k in ("transformer_calls", "reused_steps", "guidance_scales")},
                   "pose": {"generated": True, "mode": pose, "delta": pose_delta if pose == "async" else 0.0,
                            "pose_guidance": pose_guidance, "ray_fit_residual_mean": float(residual.mean()),
                            "ray_fit_residual_max": float(residual.max()),
                            "ray_fit_residual": [round(float(r), 6) for r in residual]}}
        latents = out.latents[0].float()
        gaussians = self.reconstruct(latents, cams)
        return WonderlandResult(gaussians, out.frames[0].float().cpu(), latents.cpu(), cams, norm, prepared,
                                "generated", dict(self.stats), sampler)

    def reconstruct(self, latents: Tensor, cameras: Cameras) -> Gaussians:
        """latents (16, T, h, w) + cameras (F,) at (8h, 8w) in any units -> Gaussians (G,) in those units."""
        from lalrm.inference import reconstruct

        with StageTimer(self.stats, "reconstruct", self.device):
            g = reconstruct(self.lalrm, latents[None], cameras[None])
        return g[0]

    def estimate_cameras(self, video: VideoResult) -> Cameras | None:
        with StageTimer(self.stats, "colmap", self.device):
            return colmap_cameras(video.frames, video.cameras, video.normalization)

    def __call__(self, image: Tensor, trajectory: Cameras, prompt: str | None = None, seed: int = 0,
                 num_inference_steps: int | None = None, guidance_scale: float | None = None,
                 poses: str = "trajectory") -> WonderlandResult:
        if poses not in ("trajectory", "colmap"):
            raise InputError(None, "poses", f"expected 'trajectory' or 'colmap', got {poses!r}")
        video = self.generate_video(image, trajectory, prompt, seed, num_inference_steps, guidance_scale)
        cameras, source = video.cameras, "trajectory"
        if poses == "colmap":
            estimated = self.estimate_cameras(video)
            if estimated is not None:
                cameras, source = estimated, "colmap"
        gaussians = self.reconstruct(video.latents, cameras)
        return WonderlandResult(gaussians, video.frames, video.latents.cpu(), cameras, video.normalization,
                                video.image, source, dict(self.stats), video.sampler)

    def generate_long(self, image: Tensor, trajectory: Cameras, prompt: str | None = None, seed: int = 0,
                      num_inference_steps: int | None = None, guidance_scale: float | None = None,
                      overlap: int | None = None, merge: str = "previous", out_dir: str | Path | None = None,
                      resume: bool = False):
        """A trajectory longer than the model's clip, generated chunk by chunk into one scene
        -> `long_navigation.LongResult` (the merged scene, every frame once, and the chunks)."""
        from .long_navigation import generate_long

        return generate_long(self, image, trajectory, prompt, seed, num_inference_steps, guidance_scale, overlap,
                             merge, out_dir, resume)


def colmap_cameras(frames: Tensor, cameras: Cameras, normalization: PoseNormalization) -> Cameras | None:
    """COLMAP poses of frames (F, 3, H, W) with the intrinsics of `cameras` (F,), in the units that
    `normalization` maps to; None (with a warning) unless every frame registers."""
    from ..sfm import estimate_poses

    sfm = estimate_poses(frames, cameras.K[0].double())
    if not bool(sfm.registered.all()):
        warnings.warn(f"COLMAP registered {sfm.num_registered}/{len(frames)} generated frames; "
                      "using the conditioning poses", stacklevel=2)
        return None
    normed, _ = normalize_cameras(Cameras(sfm.c2w, cameras.K.double(), cameras.height, cameras.width))
    # SfM and the conditioning trajectory share the convention "frame 0 = identity, farthest centre at 1",
    # so the conditioning normaliser maps the estimate into the trajectory's units.
    c2w = normalization.invert(normed.c2w.to(normalization.reference))
    return Cameras(c2w.to(cameras.c2w.dtype), cameras.K, cameras.height, cameras.width)
