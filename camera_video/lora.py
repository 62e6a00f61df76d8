"""The camera-LoRA on the frozen main blocks (peft), and loading its saved weights.

Injected through diffusers' own `PeftAdapterMixin.add_adapter`, so the LoRA layers are ordinary peft
`LoraLayer`s that diffusers' `scale_lora_layers`, `save_lora_adapter` and peft's utilities understand.
peft initialises lora_B to zero: a fresh LoRA leaves the base's output unchanged.
"""

from __future__ import annotations

from torch import Tensor, nn

ADAPTER_NAME = "camera"
LORA_WEIGHTS = "camera_lora.safetensors"  # in a camera folder, written by `save_lora_adapter`


def add_camera_lora(transformer, rank: int, alpha: float | None, targets: tuple[str, ...]) -> None:
    """Add the camera-LoRA to the attention projections `targets` of the main `transformer_blocks` only."""
    from peft import LoraConfig

    names = "|".join(t.replace(".", r"\.") for t in targets)
    config = LoraConfig(r=rank, lora_alpha=alpha if alpha is not None else rank, init_lora_weights=True,
                        target_modules=rf"transformer_blocks\.\d+\.attn1\.({names})")
    transformer.add_adapter(config, adapter_name=ADAPTER_NAME)


def lora_state_dict(transformer: nn.Module) -> dict[str, Tensor]:
    """The camera-LoRA weights, keys without the adapter name (the layout `save_lora_adapter` writes)."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(transformer, adapter_name=ADAPTER_NAME)


def load_lora_state_dict(transformer: nn.Module, state: dict[str, Tensor], source=None) -> None:
    """Set the camera-LoRA weights; every saved key must be one of the model's LoRA weights and vice versa."""
    from peft import set_peft_model_state_dict

    from wonderland.errors import InputError

    expected = set(lora_state_dict(transformer))
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise InputError(source, None, f"camera-LoRA weights do not fit the model: missing {missing[:3]}, "
                         f"unexpected {extra[:3]}")
    set_peft_model_state_dict(transformer, state, adapter_name=ADAPTER_NAME)
