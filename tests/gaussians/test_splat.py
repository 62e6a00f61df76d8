"""antimatter15 .splat: byte layout and round trip within the format's quantisation."""

import pytest
import torch

from wonderland.errors import InputError
from wonderland.gaussians import Gaussians, load_splat, save_splat


def test_byte_layout_of_one_gaussian(tmp_path):
    g = Gaussians(torch.tensor([[1.0, -2.0, 3.0]]), torch.tensor([[2.0, 0.0, 0.0, 0.0]]),
                  torch.tensor([[0.1, 0.2, 0.3]]), torch.tensor([0.5]), torch.tensor([[1.0, 0.0, 0.25]]))
    save_splat(tmp_path / "one.splat", g)
    raw = (tmp_path / "one.splat").read_bytes()
    assert len(raw) == 32
    assert torch.frombuffer(bytearray(raw[:24]), dtype=torch.float32).tolist() == pytest.approx(
        [1.0, -2.0, 3.0, 0.1, 0.2, 0.3])
    assert list(raw[24:28]) == [255, 0, 64, 128]  # RGBA, A = opacity
    assert list(raw[28:32]) == [255, 128, 128, 128]  # unit (w, x, y, z) * 128 + 128, clipped


def test_round_trip_within_quantisation(tmp_path):
    gen = torch.Generator().manual_seed(0)
    n = 200
    q = torch.randn(n, 4, generator=gen)
    g = Gaussians(torch.randn(n, 3, generator=gen), q, torch.rand(n, 3, generator=gen) + 0.01,
                  torch.rand(n, generator=gen), torch.rand(n, 3, generator=gen),
                  sh_rest=torch.randn(n, 3, 3, generator=gen))
    save_splat(tmp_path / "s.splat", g)
    assert (tmp_path / "s.splat").stat().st_size == 32 * n
    back = load_splat(tmp_path / "s.splat")
    assert back.sh_rest is None  # the format has no higher SH degrees
    torch.testing.assert_close(back.means, g.means, rtol=0, atol=0)
    torch.testing.assert_close(back.scales, g.scales, rtol=0, atol=0)
    assert (back.colors - g.colors).abs().max() <= 0.5 / 255 + 1e-6
    assert (back.opacities - g.opacities).abs().max() <= 0.5 / 255 + 1e-6
    # Each component to 1/256 (before renormalising): the rotation barely moves.
    unit = q / q.norm(dim=-1, keepdim=True)
    cos = (unit * back.quats).sum(-1).abs()
    assert cos.min() > 1 - 1e-3


def test_bad_splat_files(tmp_path):
    (tmp_path / "short.splat").write_bytes(b"\0" * 33)
    with pytest.raises(InputError, match=r"short\.splat.*multiple of 32"):
        load_splat(tmp_path / "short.splat")
    g = Gaussians(torch.tensor([[float("nan"), 0, 0]]), torch.ones(1, 4), torch.ones(1, 3), torch.ones(1),
                  torch.ones(1, 3))
    save_splat(tmp_path / "nan.splat", g)
    with pytest.raises(InputError, match=r"nan\.splat: field 'position'"):
        load_splat(tmp_path / "nan.splat")
