"""Camera-only checkpoints over a base loaded with diffusers' `from_pretrained`."""

import dataclasses

import pytest
import torch
from safetensors import safe_open

from camera_video.models import build_camera_transformer, load_camera_weights, save_camera_weights
from wonderland.errors import InputError

from .conftest import TINY_CAMERA, perturb_zero_layers, plucker_of, tiny_stock


@pytest.fixture
def base_dir(tmp_path):
    """A CogVideoX model directory in the diffusers layout, with a tiny `transformer/`."""
    tiny_stock().save_pretrained(tmp_path / "model" / "transformer")
    return tmp_path / "model"


def test_camera_weights_round_trip_over_a_pretrained_base(tmp_path, base_dir, inputs):
    trained = build_camera_transformer(TINY_CAMERA, pretrained=base_dir).eval()
    torch.testing.assert_close(trained.base.patch_embed.proj.weight, tiny_stock().patch_embed.proj.weight)
    perturb_zero_layers(trained)
    save_camera_weights(trained, tmp_path / "cam")

    with safe_open(str(tmp_path / "cam" / "camera_weights.safetensors"), "pt") as f:
        keys = set(f.keys())
    assert keys == set(trained.camera_state_dict())
    assert not any(k.startswith("base.") and "lora_" not in k for k in keys)  # never the frozen base
    assert any("lora_B" in k for k in keys) and any(k.startswith("control.blocks.0.") for k in keys)

    fresh = build_camera_transformer(TINY_CAMERA, pretrained=base_dir).eval()
    pl = plucker_of("orbit").expand(2, -1, -1, -1, -1)
    with torch.no_grad():
        before = fresh(**inputs, plucker=pl).sample
        load_camera_weights(fresh, tmp_path / "cam")
        assert not torch.equal(before, fresh(**inputs, plucker=pl).sample)
        assert torch.equal(fresh(**inputs, plucker=pl).sample, trained(**inputs, plucker=pl).sample)


def test_loading_into_a_model_of_another_camera_config_is_refused(tmp_path, base_dir):
    save_camera_weights(build_camera_transformer(TINY_CAMERA, pretrained=base_dir), tmp_path / "cam")
    other = build_camera_transformer(dataclasses.replace(TINY_CAMERA, lora_rank=8), pretrained=base_dir)
    with pytest.raises(InputError, match="camera_config.json"):
        load_camera_weights(other, tmp_path / "cam")


def test_missing_base_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="transformer/config.json"):
        build_camera_transformer(TINY_CAMERA, pretrained=tmp_path)
