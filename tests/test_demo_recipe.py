"""The demo recipe's VAE colour augmentation (wonderland/demo/vae_stage.py): a permutation of the RGB channels
followed by an increasing affine map per channel that stays inside [0, 1], and none of it at recolour_p=0 (the
committed family's recipe draws the same crops as before the option existed); the recipe's options are checked
before any scene is rendered."""

from pathlib import Path

import pytest
import torch

from wonderland.demo.common import Clips
from wonderland.demo.recipe import parse_train_args as parse_args
from wonderland.demo.vae_stage import random_crops, recolour


@pytest.mark.parametrize("seed", range(8))
def test_recolour_is_a_channel_permutation_with_an_increasing_affine_map_per_channel(seed):
    x = torch.rand(9, 3, 16, 24, generator=torch.Generator().manual_seed(100 + seed))  # channels independent
    y = recolour(x, torch.Generator().manual_seed(seed))
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    sources = []
    for c in range(3):
        # the one input channel this output channel is an exact increasing affine function of
        fits = []
        for j in range(3):
            a = torch.stack([x[:, j].flatten(), torch.ones(x[:, j].numel())], 1)
            sol = torch.linalg.lstsq(a, y[:, c].flatten()[:, None]).solution[:, 0]
            fits.append((float((a @ sol - y[:, c].flatten()).abs().max()), float(sol[0]), j))
        exact = [(gain, j) for err, gain, j in fits if err < 1e-5]
        assert len(exact) == 1 and 0.5 - 1e-6 <= exact[0][0] <= 1 + 1e-6
        sources.append(exact[0][1])
    assert sorted(sources) == [0, 1, 2]


def test_recolouring_only_when_asked():
    gen = torch.Generator().manual_seed(0)
    frames = torch.rand(2, 49, 3, 32, 48, generator=gen)
    clips = Clips(frames, torch.eye(4).expand(2, 49, 4, 4), torch.eye(3).expand(2, 49, 3, 3), ["a", "b"])
    plain = random_crops(clips, 6, torch.Generator().manual_seed(1), recolour_p=0.0)  # (6, 3, 9, 16, 24)
    again = random_crops(clips, 6, torch.Generator().manual_seed(1))
    torch.testing.assert_close(plain, again, rtol=0, atol=0)
    # every plain crop is a (possibly mirrored) window of a clip: its pixel values all occur in the data
    values = set((frames * 2 - 1).flatten().tolist())
    assert set(plain.flatten().tolist()) <= values
    coloured = random_crops(clips, 6, torch.Generator().manual_seed(1), recolour_p=1.0)
    assert not set(coloured.flatten().tolist()) <= values
    assert coloured.min() >= -1 and coloured.max() <= 1


@pytest.mark.parametrize("argv, message", [(["--vae-recolour", "1.5"],
                                            "--vae-recolour 1.5: expected a finite number in [0, 1]"),
                                           (["--vae-from", "no/such/family"], "not a family with a VAE"),
                                           (["--vae-steps", "0"], "--vae-steps 0: expected an integer >= 1")])
def test_recipe_rejects_bad_options_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_recipe_accepts_the_committed_family_as_vae_source():
    family = Path(__file__).resolve().parents[1] / "models" / "wonderland-demo"
    assert parse_args(["--vae-from", str(family)]).vae_from == family


def test_recipe_device_reaches_every_stage_trainer(monkeypatch, capsys):
    """`--device` is each stage's `trainer.device` (VAE, video stages, LaLRM), and cuda is refused up front where
    torch sees no GPU, so the recipe that trains the family on CPU retrains it on CUDA unchanged."""
    import inspect

    from wonderland.demo import lalrm_stage, recipe, vae_stage, video_stage
    from wonderland.hydra_entry import compose

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for parse in (parse_args, recipe.parse_finetune_args):
        with pytest.raises(SystemExit) as exc:
            parse(["--device", "cuda"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "--device cuda: torch sees no CUDA device" in err
    assert parse_args(["--device", "cpu"]).device == "cpu"
    video = compose(video_stage.CONFIG_DIR, video_stage.video_overrides("camera", Path("c"), Path("o"), 2,
                                                                          device="cpu"))
    lalrm = compose(lalrm_stage.CONFIG_DIR, lalrm_stage.lalrm_overrides(Path("d"), Path("v"), Path("o"), 2,
                                                                         device="cpu"))
    assert video.trainer.device == "cpu" and lalrm.trainer.device == "cpu"
    for fn in (vae_stage.train_vae, vae_stage.train_decoder, video_stage.train_stage, lalrm_stage.train_lalrm):
        assert inspect.signature(fn).parameters["device"].default == "auto"
