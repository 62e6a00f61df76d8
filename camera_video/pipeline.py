"""`CameraVideoPipeline`: image + camera trajectory (+ prompt) -> video latents, frames and their cameras.

The sampler is the base CogVideoX-5B-I2V one (diffusers' `CogVideoXImageToVideoPipeline.__call__`,
phase for phase): the image is VAE-encoded as latent frame 0 and zero-padded to T latent frames,
then concatenated to the noisy latents on channels (16 + 16 = the transformer's 32 inputs);
classifier-free guidance on text with the camera (Plücker map of the normalised trajectory) in both
halves, fixed or (`use_dynamic_cfg`) diffusers' cosine schedule. With a fresh (zero-initialised) camera model
the latents equal the stock pipeline's (tests/camera_video/test_stock_sampler.py). Speed options (another
scheduler, a step cache, compiled blocks): `camera_video.speed`. Returns scaled latents (B, 16, T, h, w) --
the LaLRM's input -- with the normalised cameras they follow and the `PoseNormalization` that maps them
back to the user's units.

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

    def _fit_inputs(self, image: Tensor, cameras: Cameras) -> tuple[Tensor, Cameras]:
        """Image (B, 3, h, w) / (3, h, w) in [0, 1] and cameras (F,) / (B, F) of that image size -> model size."""
        from wonderland.images import fit_image

        image = image[None] if image.ndim == 3 else image
        if image.ndim != 4 or image.shape[1] != 3:
            raise InputError(None, "image", f"expected (B, 3, H, W) in [0, 1], got {tuple(image.shape)}")
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
    def __call__(self, image: Tensor, cameras: Cameras, prompt: str | list[str] | None = None,
                 negative_prompt: str | list[str] | None = None, prompt_embeds: Tensor | None = None,
                 negative_prompt_embeds: Tensor | None = None, num_inference_steps: int = 50,
                 guidance_scale: float = 6.0, use_dynamic_cfg: bool = False,
                 generator: torch.Generator | None = None, seed: int | None = None, output_type: str = "pt",
                 return_dict: bool = True):
        """image (B, 3, H, W) in [0, 1]; cameras (F,) or (B, F) of that image size; -> `CameraVideoPipelineOutput`."""
        # 1. Inputs: check everything before any heavy work
        if output_type not in ("pt", "latent"):
            raise InputError(None, "output_type", f"expected 'pt' or 'latent', got {output_type!r}")
        image, cameras = self._fit_inputs(image, cameras)
        batch, device, cfg = image.shape[0], self._execution_device, guidance_scale > 1.0
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(seed)
        text = self._prompt_embeds(prompt, negative_prompt, prompt_embeds, negative_prompt_embeds, batch, cfg)
        dtype = self.transformer.dtype
        text = text.to(device, dtype)

        # 2. Cameras -> normalised -> Plücker (B, F, 6, H, W), the same in both guidance halves
        cams, norm = normalize_cameras(cameras)
        height, width = self.video_size
        plucker = plucker_embedding(cams.c2w, cams.K, height, width).to(device, dtype)

        # 3. Timesteps
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps

        # 4. Latents (B, T, 16, h, w) and the image condition: frame-0 latent, zero-padded to T frames
        _, t, h, w = latent_shape(cams.shape[-1], height, width)
        image_latents = encode_video(self.vae, image[:, None].to(device), sample=True, generator=generator)
        image_latents = image_latents.permute(0, 2, 1, 3, 4).to(dtype)  # (B, 1, 16, h, w)
        image_latents = torch.cat([image_latents, image_latents.new_zeros(batch, t - 1, LATENT_CHANNELS, h, w)], 1)
        latents = randn_tensor((batch, t, LATENT_CHANNELS, h, w), generator=generator, device=device, dtype=dtype)
        latents = latents * self.scheduler.init_noise_sigma

        # 5. RoPE and ofs as the base pipeline prepares them
        rope = rotary_embedding(self.transformer.config, t, h, w, device)
        ofs = latents.new_full((1,), 2.0) if self.transformer.config.ofs_embed_dim else None
        double = (lambda x: torch.cat([x, x])) if cfg else (lambda x: x)
        image_input = double(image_latents)
        # The camera encoders' output depends on the trajectory only: once per run, shared by both CFG halves.
        camera = tuple(None if x is None else double(x) for x in self.transformer.camera_tokens(plucker))

        # 6. Denoising loop (the base pipeline's, with the camera)
        from diffusers import CogVideoXDPMScheduler

        caching = getattr(self.transformer, "is_cache_enabled", False)
        if caching:
            self.transformer._reset_stateful_cache()  # a new run never compares against the last one
        step_kwargs = {"generator": generator} if "generator" in inspect.signature(self.scheduler.step).parameters \
            else {}
        stats = {"transformer_calls": 0, "reused_steps": 0, "guidance_scales": []}
        old_pred_original_sample = None
        with self.progress_bar(total=len(timesteps)) as progress:
            for i, step in enumerate(timesteps):
                self._current_timestep = step
                model_input = self.scheduler.scale_model_input(double(latents), step)
                model_input = torch.cat([model_input, image_input], dim=2)  # (B', T, 32, h, w)
                with self.transformer.cache_context("cond_uncond") if caching else contextlib.nullcontext():
                    pred = self.transformer(model_input, text, step.expand(model_input.shape[0]),
                                            camera_tokens=camera, ofs=ofs, image_rotary_emb=rope,
                                            return_dict=False)[0].float()
                    stats["reused_steps"] += int(caching and self.transformer._reuses_step())
                stats["transformer_calls"] += 1
                if cfg:
                    scale = dynamic_guidance(guidance_scale, step, num_inference_steps) if use_dynamic_cfg \
                        else guidance_scale
                    stats["guidance_scales"].append(scale)
                    uncond, cond = pred.chunk(2)
                    pred = uncond + scale * (cond - uncond)
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
        out = CameraVideoPipelineOutput(frames=frames, latents=latents, cameras=cams, normalization=norm, stats=stats)
        return out if return_dict else (frames, latents, cams, norm)


def dynamic_guidance(guidance_scale: float, timestep: Tensor, num_inference_steps: int) -> float:
    """diffusers' `CogVideoXImageToVideoPipeline` dynamic CFG, term for term:
    1 + w (1 - cos(pi ((n - t) / n)^5)) / 2 with t the *timestep* (0..999), not the step index, as diffusers
    (and the official CogVideoX demo that turns it on) computes it; kept identical so the samplers agree."""
    n = num_inference_steps
    return 1 + guidance_scale * ((1 - math.cos(math.pi * ((n - timestep.item()) / n) ** 5.0)) / 2)
