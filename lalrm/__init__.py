"""LaLRM: the latent large reconstruction model (SPEC.md section 3).

Video latents + cameras -> pixel-aligned 3D Gaussians. Imports only the `wonderland` core.
"""

from .model import LaLRM

__all__ = ["LaLRM"]
