"""A toy trainer on the shared loop: y = 2x + noise with one linear layer (tests of wonderland.training).

`main(argv)` is an entry point like the real trainers' (so a child process can run it and be killed)."""

from __future__ import annotations

import sys

import torch
from torch import nn
from torch.utils.data import Dataset

from wonderland.training import OptimConfig, Task, TrainerConfig, check_optim, fit, make_accelerator


class Points(Dataset):
    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([float(i) / 10])


def loss(model, items, gen):
    x = torch.stack(items)
    return {"loss": (model(x) - 2 * x - 0.1 * torch.randn(x.shape, generator=gen)).square().mean()}


def train(out: str, max_steps: int = 4, **trainer):
    from wonderland.training import Shuffled

    t = TrainerConfig(output_dir=out, max_steps=max_steps, batch_size=2, mixed_precision="no", checkpoint_every=1,
                      keep_last=2, log_every=1, progress=False, **trainer)
    o = OptimConfig(lr=0.1, warmup_steps=0, schedule="cosine", min_lr=0.01)
    acc = make_accelerator(t, log_with=None)
    check_optim(o)
    torch.manual_seed(0)
    task = Task("toy", nn.Linear(1, 1), Shuffled(Points(), seed=0), loss,
                save_model=lambda m, d: torch.save(m.state_dict(), d / "weights.pt"))
    return fit(acc, task, t, o)


def main(argv: list[str]) -> int:
    train(argv[0], int(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
