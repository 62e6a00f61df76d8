"""The LaLRM network: tokenizers -> transformer -> Gaussian head."""

from .head import GaussianHead, resample_head_kernel
from .lalrm import LaLRM
from .tokenizer import Tokenizer
from .transformer import Transformer

__all__ = ["GaussianHead", "LaLRM", "Tokenizer", "Transformer", "resample_head_kernel"]
