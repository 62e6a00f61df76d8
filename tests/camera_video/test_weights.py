"""Camera folders (diffusers `CameraControlModel` + camera-LoRA) over a base loaded with `from_pretrained`,
and the camera folders of wonderland 0.1."""

import dataclasses
import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from camera_video.models import (
    CameraControlModel,
    build_camera_transformer,
    load_base,
    load_camera_into,
    load_camera_transformer,
)
from wonderland.errors import InputError

from .conftest import TINY_CAMERA, perturb_zero_layers, plucker_of, tiny_stock


@pytest.fixture
def base_dir(tmp_path):
    """A CogVideoX model directory in the diffusers layout, with a tiny `transformer/`."""
    tiny_stock().save_pretrained(tmp_path / "model" / "transformer")
    return tmp_path / "model"


@pytest.fixture
def trained(base_dir):
    model = build_camera_transformer(TINY_CAMERA, pretrained=base_dir).eval()
    torch.testing.assert_close(model.base.patch_embed.proj.weight, tiny_stock().patch_embed.proj.weight)
    perturb_zero_layers(model)
    return model


def outputs(model, inputs):
    with torch.no_grad():
        return model(**inputs, plucker=plucker_of("orbit").expand(2, -1, -1, -1, -1)).sample


def test_camera_folder_round_trips_over_a_pretrained_base(tmp_path, base_dir, trained, inputs):
    trained.save_camera(tmp_path / "cam")
    assert sorted(p.name for p in (tmp_path / "cam").iterdir()) == [
        "camera_lora.safetensors", "config.json", "diffusion_pytorch_model.safetensors"]
    config = json.loads((tmp_path / "cam" / "config.json").read_text())
    assert config["_class_name"] == "CameraControlModel" and config["num_control_blocks"] == 1
    with safe_open(str(tmp_path / "cam" / "diffusion_pytorch_model.safetensors"), "pt") as f:
        parts = set(f.keys())
    with safe_open(str(tmp_path / "cam" / "camera_lora.safetensors"), "pt") as f:
        lora = set(f.keys())
    assert {f"camera.{k}" for k in parts} | {f"base.{k}".replace(".weight", ".camera.weight") for k in lora} == set(
        trained.camera_state_dict())  # exactly the camera parts; never the frozen base
    assert any(k.startswith("control.blocks.0.") for k in parts) and all("lora_" in k for k in lora)

    loaded = load_camera_transformer(load_base(base_dir), tmp_path / "cam").eval()
    fresh = build_camera_transformer(TINY_CAMERA, pretrained=base_dir).eval()
    assert not torch.equal(outputs(fresh, inputs), outputs(trained, inputs))
    assert torch.equal(outputs(loaded, inputs), outputs(trained, inputs))
    load_camera_into(fresh, tmp_path / "cam")  # training's model.init_camera_weights path
    assert torch.equal(outputs(fresh, inputs), outputs(trained, inputs))


def test_a_camera_folder_of_wonderland_0_1_still_loads(tmp_path, base_dir, trained, inputs):
    """The 0.1 layout: camera_config.json (fields + version) and camera_weights.safetensors with the module's
    own keys (control.*, ctrl_encoder.*, fuse.*, lora_encoder.*, base.*lora*)."""
    old = tmp_path / "old"
    old.mkdir()
    state = {k.removeprefix("camera."): v.contiguous() for k, v in trained.camera_state_dict().items()}
    save_file(state, str(old / "camera_weights.safetensors"), metadata={"format": "camera_video", "version": "1"})
    (old / "camera_config.json").write_text(json.dumps({**TINY_CAMERA.to_dict(), "version": 1}))
    assert torch.equal(outputs(load_camera_transformer(load_base(base_dir), old).eval(), inputs),
                       outputs(trained, inputs))
    (old / "camera_config.json").write_text(json.dumps({**TINY_CAMERA.to_dict(), "version": 7}))
    with pytest.raises(InputError, match="version"):
        load_camera_transformer(load_base(base_dir), old)


def test_loading_into_a_model_of_another_camera_config_is_refused(tmp_path, base_dir, trained):
    trained.save_camera(tmp_path / "cam")
    other = build_camera_transformer(dataclasses.replace(TINY_CAMERA, lora_rank=8), pretrained=base_dir)
    with pytest.raises(InputError, match="does not match"):
        load_camera_into(other, tmp_path / "cam")


def test_camera_parts_of_another_base_geometry_are_refused(tmp_path, trained):
    trained.save_camera(tmp_path / "cam")
    from diffusers import CogVideoXTransformer3DModel

    from camera_video.models import BASE_TINY

    wider = CogVideoXTransformer3DModel(**{**BASE_TINY, "num_attention_heads": 2})
    with pytest.raises(InputError, match="num_attention_heads"):
        load_camera_transformer(wider, tmp_path / "cam")
    assert CameraControlModel.from_pretrained(tmp_path / "cam").camera_config == TINY_CAMERA


def test_missing_base_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="transformer/config.json"):
        build_camera_transformer(TINY_CAMERA, pretrained=tmp_path)
