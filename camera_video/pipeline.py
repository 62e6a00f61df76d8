"""`CameraVideoPipeline`: image + camera trajectory (+ prompt) -> video latents, frames and their cameras.

The sampler is the base CogVideoX-5B-I2V one (diffusers' `CogVideoXImageToVideoPipeline.__call__`,
phase for phase): the image is VAE-encoded as latent frame 0 and zero-padded to T latent frames,
then concatenated to the noisy latents on channels (16 + 16 = the transformer's 32 inputs);
classifier-free guidance on text with the camera (Plücker map of the normalised trajectory) in both
halves, fixed or (`use_dynamic_cfg`) diffusers' cosine schedule. Camera guidance (`camera_guidance` s != 1)
adds the same model without the camera (exactly the base model: every camera path is zero-initialised) as
the unconditional of a second guidance, v = v_base + s (v_camera - v_base) (`camera_guided` gives the formula
under text guidance). With a fresh (zero-initialised) camera model
the latents equal the stock pipeline's (tests/camera_video/test_stock_sampler.py). Speed options (another
scheduler, a step cache, compiled blocks): `camera_video.speed`. Returns scaled latents (B, 16, T, h, w) --
the LaLRM's input -- with the normalised cameras they follow and the `PoseNormalization` that maps them
back to the user's units.

With a pose stream (VideoRFSplat, `camera_video.pose_sampling`): `pose="async"|"sync"` and no cameras generates
the path with the video (pose-free; the cameras come back fitted from the final ray maps, with the residuals),
`pose="conditioned"` runs the stream on the user's cameras (t_R = 0). `pose=None` (default) never runs it: with
user cameras the sampler is today's exactly.

Memory (the 5B base in bf16 at 49 x 480 x 720): `enable_model_cpu_offload()` (diffusers) keeps one
component on the GPU at a time; `enable_vae_tiling()` / `enable_vae_slicing()` bound the decoder's
peak. Peak memory of the whole product per offload option: `scripts/gpu_check.py` (run on a GPU; README).
"""

from __future__ import annotations

import contextlib
import inspect
import math
from dataclasses import dataclass

import torch
from diffusers import DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor
from torch import Tensor

from wonderland.errors import InputError
from wonderland.geometry import Cameras, PoseNormalization, normalize_cameras, plucker_embedding
from wonderland.latents import LATENT_CHANNELS, SPATIAL_COMPRESSION, latent_shape
from wonderland.vae import decode_latents, encode_video

from .models.rotary import rotary_embedding


@dataclass
class CameraVideoPipelineOutput(BaseOutput):
    frames: Tensor | None  # (B, F, 3, H, W) in [0, 1]; None for output_type="latent"
    latents: Tensor  # (B, 16, T, H/8, W/8), scaled by the VAE factor
    cameras: Cameras  # (B, F) normalised: frame 0 = identity, farthest centre at distance 1
    normalization: PoseNormalization  # maps the normalised cameras back to the input's units
    stats: dict | None = None  # transformer_calls, reused_steps (first-block cache), guidance scales per step
    pose_rays: Tensor | None = None  # (B, T, 6, h, w) final ray maps of the pose stream (pose= given), else None
    pose_residual: Tensor | None = None  # (B, T) ray-fit RMS residual of each latent frame (generated paths)


class CameraVideoPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "text_encoder->transformer->vae"
    _optional_components = ["text_encoder", "tokenizer"]

    def __init__(self, vae, transformer, scheduler, text_encoder=None, tokenizer=None):
        super().__init__()
        self.register_modules(vae=vae, transformer=transformer, scheduler=scheduler, text_encoder=text_encoder,
                              tokenizer=tokenizer)
        self._current_timestep = None

    @property
    def current_timestep(self):
        """The timestep being denoised (None outside sampling): what pyramid attention broadcast reads."""
        return self._current_timestep

    def enable_vae_tiling(self) -> None:
        self.vae.enable_tiling()

    def enable_vae_slicing(self) -> None:
        self.vae.enable_slicing()

    @property
    def video_size(self) -> tuple[int, int]:
        """(H, W) the transformer was built for (its learned positional embedding fixes it)."""
        c = self.transformer.config
        return c.sample_height * SPATIAL_COMPRESSION, c.sample_width * SPATIAL_COMPRESSION

    # ---- inputs -------------------------------------------------------------------------------
    def encode_text(self, prompts: list[str]) -> Tensor:
        """T5 embeddings (B, L, 4096) as the CogVideoX pipelines compute them."""
        if self.text_encoder is None or self.tokenizer is None:
            raise InputError(None, "prompt", "this pipeline has no text encoder: pass prompt_embeds instead")
        ids = self.tokenizer(prompts, padding="max_length", max_length=self.transformer.config.max_text_seq_length,
                             truncation=True, add_special_tokens=True, return_tensors="pt").input_ids
        return self.text_encoder(ids.to(self._execution_device))[0]

    def _prompt_embeds(self, prompt, negative_prompt, prompt_embeds, negative_prompt_embeds, batch: int,
                       cfg: bool) -> Tensor:
        """(B, L, D), or (2B, L, D) as [negative; positive] under guidance."""
        if prompt_embeds is None:
            if prompt is None:
                raise InputError(None, "prompt", "give a prompt or prompt_embeds")
            prompt_embeds = self.encode_text([prompt] * batch if isinstance(prompt, str) else list(prompt))
        if not cfg:
            return prompt_embeds
        if negative_prompt_embeds is None:
            neg = negative_prompt or ""
            negative_prompt_embeds = self.encode_text([neg] * batch if isinstance(neg, str) else list(neg))
        if negative_prompt_embeds.shape != prompt_embeds.shape:
            raise InputError(None, "negative_prompt_embeds", f"shape {tuple(negative_prompt_embeds.shape)} != "
                             f"prompt_embeds {tuple(prompt_embeds.shape)}")
        return torch.cat([negative_prompt_embeds, prompt_embeds])

    def _fit_inputs(self, image: Tensor, cameras: Cameras | None) -> tuple[Tensor, Cameras | None]:
        """Image (B, 3, h, w) / (3, h, w) in [0, 1] and cameras (F,) / (B, F) of that image size (or None: a
        generated path) -> model size."""
        from wonderland.images import fit_image

        image = image[None] if image.ndim == 3 else image
        if image.ndim != 4 or image.shape[1] != 3:
            raise InputError(None, "image", f"expected (B, 3, H, W) in [0, 1], got {tuple(image.shape)}")
        if cameras is None:
            height, width = self.video_size
            if (image.shape[-2], image.shape[-1]) != (height, width):
                image = torch.stack([fit_image(im, height, width).image for im in image])
            return image, None
        if (cameras.height, cameras.width) != tuple(image.shape[-2:]):
            raise InputError(None, "cameras", f"describe {cameras.height}x{cameras.width} images but the image is "
                             f"{image.shape[-2]}x{image.shape[-1]}")
        num_frames = self.transformer.config.sample_frames
        if cameras.shape[-1] != num_frames:
            raise InputError(None, "cameras", f"need {num_frames} frames, got {cameras.shape[-1]}")
        cameras = cameras if len(cameras.shape) == 2 else cameras[None]
        if cameras.shape[0] not in (1, image.shape[0]):
            raise InputError(None, "cameras", f"batch {cameras.shape[0]} != image batch {image.shape[0]}")
        height, width = self.video_size
        if (image.shape[-2], image.shape[-1]) != (height, width):
            image = torch.stack([fit_image(im, height, width).image for im in image])
            cameras = cameras.center_crop_resize(height, width)
        c2w = cameras.c2w.expand(image.shape[0], -1, -1, -1)
        return image, Cameras(c2w, cameras.K.expand(image.shape[0], -1, -1, -1), height, width)

    # ---- sampling -----------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(self, image: Tensor, cameras: Cameras | None, prompt: str | list[str] | None = None,
                 negative_prompt: str | list[str] | None = None, prompt_embeds: Tensor | None = None,
                 negative_prompt_embeds: Tensor | None = None, num_inference_steps: int = 50,
                 guidance_scale: float = 6.0, use_dynamic_cfg: bool = False,
                 generator: torch.Generator | None = None, seed: int | None = None, output_type: str = "pt",
                 return_dict: bool = True, camera_guidance: float = 1.0, pose: str | None = None,
                 pose_delta: float = 0.2, pose_guidance: float = 1.0):
        """image (B, 3, H, W) in [0, 1]; cameras (F,) or (B, F) of that image size (None with pose="async"/"sync":
        the path is generated); -> `CameraVideoPipelineOutput`.

        `camera_guidance` s: see `camera_guided` (1 = no camera guidance, today's sampler exactly). `pose`, `pose_delta`
        (t_R = max(t_I - delta, 0)) and `pose_guidance`: `camera_video.pose_sampling`."""
        # 1. Inputs: check everything before any heavy work
        if output_type not in ("pt", "latent"):
            raise InputError(None, "output_type", f"expected 'pt' or 'latent', got {output_type!r}")
        camera_guidance = check_camera_guidance(camera_guidance, self.transformer)
        generated = check_pose_inputs(pose, cameras, pose_delta, pose_guidance, camera_guidance, self.transformer)
        image, cameras = self._fit_inputs(image, cameras)
        batch, device, cfg = image.shape[0], self._execution_device, guidance_scale > 1.0
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(seed)
        text = self._prompt_embeds(prompt, negative_prompt, prompt_embeds, negative_prompt_embeds, batch, cfg)
        dtype = self.transformer.dtype
        text = text.to(device, dtype)

        # 2. Cameras -> normalised -> Plücker (B, F, 6, H, W), the same in both guidance halves
        height, width = self.video_size
        if not generated:
            cams, norm = normalize_cameras(cameras)
            plucker = plucker_embedding(cams.c2w, cams.K, height, width).to(device, dtype)

        # 3. Timesteps
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps

        # 4. Latents (B, T, 16, h, w) and the image condition: frame-0 latent, zero-padded to T frames
        num_frames = self.transformer.config.sample_frames
        _, t, h, w = latent_shape(num_frames, height, width)
        image_latents = encode_video(self.vae, image[:, None].to(device), sample=True, generator=generator)
        image_latents = image_latents.permute(0, 2, 1, 3, 4).to(dtype)  # (B, 1, 16, h, w)
        image_latents = torch.cat([image_latents, image_latents.new_zeros(batch, t - 1, LATENT_CHANNELS, h, w)], 1)
        latents = randn_tensor((batch, t, LATENT_CHANNELS, h, w), generator=generator, device=device, dtype=dtype)
        latents = latents * self.scheduler.init_noise_sigma

        # 4b. Pose stream: the ray maps and the two time grids (pose_schedule.pose_grid)
        rays = t_pose = None
        if pose is not None:
            from .pose_loss import pose_targets
            from .pose_sampling import pose_noise
            from .pose_schedule import pose_grid, scheduler_times

            _, t_pose = pose_grid(scheduler_times(timesteps, self.scheduler.config.num_train_timesteps), pose_delta,
                                  pose)
            rays = pose_noise(batch, t, h, w, generator, device) if generated else \
                pose_targets(cams.c2w.float(), cams.K.float(), height, width, t).to(device)

        # 5. RoPE and ofs as the base pipeline prepares them
        rope = rotary_embedding(self.transformer.config, t, h, w, device)
        ofs = latents.new_full((1,), 2.0) if self.transformer.config.ofs_embed_dim else None
        double = (lambda x: torch.cat([x, x])) if cfg else (lambda x: x)
        image_input = double(image_latents)
        # The camera encoders' output depends on the trajectory only: once per run, shared by both CFG halves.
        camera = None if generated else \
            tuple(None if x is None else double(x) for x in self.transformer.camera_tokens(plucker))
        # Camera guidance's extra prediction: the same model without the camera (= the base model), on the
        # text-unconditional half under text guidance, else on the conditional text. For a generated path the
        # same slot holds the pose guidance's unconditional: the video model without the pose stream.
        guide = pose_guidance if generated else camera_guidance
        no_camera_text = text[:batch] if guide != 1.0 else None

        # 6. Denoising loop (the base pipeline's, with the camera)
        from diffusers import CogVideoXDPMScheduler

        caching = getattr(self.transformer, "is_cache_enabled", False)
        if caching:
            self.transformer._reset_stateful_cache()  # a new run never compares against the last one
        step_kwargs = {"generator": generator} if "generator" in inspect.signature(self.scheduler.step).parameters \
            else {}
        stats = {"transformer_calls": 0, "reused_steps": 0, "guidance_scales": []}
        if pose is not None:
            stats["pose_times"] = []  # t_R fed to the pose stream at each step
        old_pred_original_sample = None
        with self.progress_bar(total=len(timesteps)) as progress:
            for i, step in enumerate(timesteps):
                self._current_timestep = step
                model_input = self.scheduler.scale_model_input(double(latents), step)
                model_input = torch.cat([model_input, image_input], dim=2)  # (B', T, 32, h, w)
                pose_kwargs = {}
                if pose is not None:
                    stats["pose_times"].append(float(t_pose[i]))
                    pose_kwargs = {"pose_rays": double(rays).to(dtype),
                                   "pose_time": t_pose[i].to(device, dtype).expand(model_input.shape[0])}
                with self.transformer.cache_context("cond_uncond") if caching else contextlib.nullcontext():
                    out = self.transformer(model_input, text, step.expand(model_input.shape[0]),
                                           camera_tokens=camera, ofs=ofs, image_rotary_emb=rope,
                                           return_dict=False, **pose_kwargs)
                    pred = out[0].float()
                    stats["reused_steps"] += int(caching and self.transformer._reuses_step())
                stats["transformer_calls"] += 1
                base_pred = None
                if no_camera_text is not None:
                    base_input = torch.cat([self.scheduler.scale_model_input(latents, step), image_latents], dim=2)
                    with self.transformer.cache_context("no_camera") if caching else contextlib.nullcontext():
                        base_pred = self.transformer(base_input, no_camera_text, step.expand(batch), ofs=ofs,
                                                     image_rotary_emb=rope, return_dict=False)[0].float()
                    stats["transformer_calls"] += 1
                scale = 1.0
                if cfg:
                    scale = dynamic_guidance(guidance_scale, step, num_inference_steps) if use_dynamic_cfg \
                        else guidance_scale
                    stats["guidance_scales"].append(scale)
                pred = camera_guided(pred, base_pred, scale if cfg else None, guide)
                if pose is not None:  # the conditional text half's velocity (pose_sampling: why)
                    from .pose_sampling import euler_step

                    rays = euler_step(rays, out[1][-batch:], float(t_pose[i]), float(t_pose[i + 1]))
                if isinstance(self.scheduler, CogVideoXDPMScheduler):
                    latents, old_pred_original_sample = self.scheduler.step(
                        pred, old_pred_original_sample, step, timesteps[i - 1] if i > 0 else None, latents,
                        generator=generator, return_dict=False)
                else:
                    latents = self.scheduler.step(pred, step, latents, **step_kwargs, return_dict=False)[0]
                latents = latents.to(dtype)
                progress.update()
        self._current_timestep = None

        # 7. Decode; latents in the contract layout (B, 16, T, h, w)
        latents = latents.permute(0, 2, 1, 3, 4)
        frames = decode_latents(self.vae, latents) if output_type == "pt" else None
        self.maybe_free_model_hooks()
        residual = None
        if generated:  # 8. The path: cameras fitted to the final ray maps
            from .pose_sampling import rays_to_cameras

            cams, residual = rays_to_cameras(rays.cpu(), height, width, num_frames)
            norm = normalize_cameras(cams)[1]  # identity: the fitted path is already normalised
        out = CameraVideoPipelineOutput(frames=frames, latents=latents, cameras=cams, normalization=norm, stats=stats,
                                        pose_rays=rays, pose_residual=residual)
        return out if return_dict else (frames, latents, cams, norm)


def check_camera_guidance(camera_guidance: float, transformer) -> float:
    """A finite s >= 0 that this transformer can apply (the no-camera pass needs an unfused camera-LoRA)."""
    s = float(camera_guidance)
    if not math.isfinite(s) or s < 0:
        raise InputError(None, "camera_guidance", "expected a finite number >= 0", value=camera_guidance)
    if s != 1.0 and getattr(transformer, "lora_fused", False):
        raise InputError(None, "camera_guidance", "needs the model without its camera, which a fused camera-LoRA "
                         "removes: do not fuse the LoRA (--fuse-lora) or use camera guidance 1", value=camera_guidance)
    return s


def check_pose_inputs(pose: str | None, cameras: Cameras | None, delta: float, pose_guidance: float,
                      camera_guidance: float, transformer) -> bool:
    """Check the pose-stream options together -> whether the path is generated (pose "async"/"sync")."""
    from .pose_schedule import MODES

    if pose is None:
        if cameras is None:
            raise InputError(None, "cameras", "missing: give a trajectory, or pose='async'|'sync' to generate one")
        if pose_guidance != 1.0:
            raise InputError(None, "pose_guidance", "applies to a generated path (pose='async'|'sync')",
                             value=pose_guidance)
        return False
    if pose not in MODES:
        raise InputError(None, "pose", f"expected one of {', '.join(MODES)}", value=pose)
    if getattr(transformer, "pose_stream", None) is None:
        raise InputError(None, "pose", "this model has no pose stream (attach or load one: pose_stream component)",
                         value=pose)
    if not (math.isfinite(float(delta)) and 0 <= delta <= 1):
        raise InputError(None, "pose_delta", "expected a number in [0, 1]", value=delta)
    s = float(pose_guidance)
    if not math.isfinite(s) or s < 0:
        raise InputError(None, "pose_guidance", "expected a finite number >= 0", value=pose_guidance)
    generated = pose != "conditioned"
    if generated and cameras is not None:
        raise InputError(None, "cameras", f"pose={pose!r} generates the path: give no cameras (or "
                         "pose='conditioned' to run the pose stream on them)")
    if not generated:
        if cameras is None:
            raise InputError(None, "cameras", "missing: pose='conditioned' runs on the user's cameras")
        if s != 1.0:
            raise InputError(None, "pose_guidance", "applies to a generated path (pose='async'|'sync')", value=s)
    elif camera_guidance != 1.0:
        raise InputError(None, "camera_guidance", "a generated path has no camera input to guide",
                         value=camera_guidance)
    elif getattr(transformer, "lora_fused", False):
        raise InputError(None, "pose", "pose-free generation needs the model without its camera, which a fused "
                         "camera-LoRA removes: do not fuse the LoRA", value=pose)
    return generated


def camera_guided(pred: Tensor, base: Tensor | None, text_scale: float | None, camera_scale: float) -> Tensor:
    """Combine one step's predictions (float32 (B', T, C, h, w); B' = 2B under text guidance).

    pred = the camera model's predictions, [uncond; cond] text halves under text guidance (text_scale not None);
    base = the no-camera model's prediction (B, ...) on the uncond text (under text guidance) or the cond text,
    None when camera_scale == 1. With u = uncond text, c = cond text, ∅ = no camera, K = camera:

      no text guidance:  v = v(c,∅) + s [v(c,K) - v(c,∅)]
      text guidance g:   v = v(u,∅) + s [v(u,K) - v(u,∅)] + g [v(c,K) - v(u,K)]

    the second being InstructPix2Pix's two-condition guidance (camera, then text on top: one extra batch
    element per sample instead of two for guiding the text-guided prediction as a whole). s = 1 is the
    sampler without camera guidance, and takes its exact path (no extra pass, bit-identical output).
    """
    if text_scale is not None:
        uncond, cond = pred.chunk(2)
        text_term = text_scale * (cond - uncond)
        if base is None:
            return uncond + text_term
        return base + camera_scale * (uncond - base) + text_term
    return pred if base is None else base + camera_scale * (pred - base)


def dynamic_guidance(guidance_scale: float, timestep: Tensor, num_inference_steps: int) -> float:
    """diffusers' `CogVideoXImageToVideoPipeline` dynamic CFG, term for term:
    1 + w (1 - cos(pi ((n - t) / n)^5)) / 2 with t the *timestep* (0..999), not the step index, as diffusers
    (and the official CogVideoX demo that turns it on) computes it; kept identical so the samplers agree."""
    n = num_inference_steps
    return 1 + guidance_scale * ((1 - math.cos(math.pi * ((n - timestep.item()) / n) ** 5.0)) / 2)
