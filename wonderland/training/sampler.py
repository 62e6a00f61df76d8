"""Deterministic, resumable data order: a run's data position is its step count.

A training *stream* is a map-style dataset indexed by any sample number i >= 0 whose item depends only on
(seed, i): `Shuffled` (epoch-wise permutations of one dataset) or `MixedStream` (a weighted mix of several).
`StepBatchSampler` hands micro-step m of optimizer step s, on process `rank` of `world`, the sample numbers
((s * accum + m) * world + rank) * b + j, j < b: the processes split each global batch, and a run resumed
at step s reads exactly what an uninterrupted run would have read. Randomness inside a step (noise,
timesteps, view choice) comes from `seeded(seed, step, micro, rank)`, never from a global RNG.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler


def seeded(*keys: int) -> torch.Generator:
    """A CPU generator whose seed mixes the integer keys (numpy SeedSequence), e.g. (seed, step, rank)."""
    return torch.Generator().manual_seed(int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0]))


class StepBatchSampler(Sampler[list[int]]):
    """Sample numbers of micro-steps [start * accum, stop * accum) for one process (see the module docstring)."""

    def __init__(self, start: int, stop: int, per_process_batch: int, rank: int = 0, world: int = 1,
                 accum: int = 1):
        self.start, self.stop, self.b = start, stop, per_process_batch
        self.rank, self.world, self.accum = rank, world, accum

    def __len__(self) -> int:
        return max(0, self.stop - self.start) * self.accum

    def __iter__(self) -> Iterator[list[int]]:
        for micro in range(self.start * self.accum, self.stop * self.accum):
            first = (micro * self.world + self.rank) * self.b
            yield list(range(first, first + self.b))


def _set_epoch(dataset, epoch: int) -> None:
    """Epoch-aware datasets (e.g. `wonderland.data.VideoClipDataset`) draw a different clip each pass."""
    for ds in getattr(dataset, "datasets", [dataset]):
        if hasattr(ds, "set_epoch"):
            ds.set_epoch(epoch)


class Shuffled(Dataset):
    """Sample i of an endless stream over `dataset`: pass i // n in the order randperm(n) seeded by (seed, pass)."""

    def __init__(self, dataset: Dataset, seed: int = 0):
        self.dataset, self.seed, self.n = dataset, seed, len(dataset)
        if self.n == 0:
            raise ValueError("Shuffled: the dataset is empty")

    def __len__(self) -> int:
        return self.n

    def locate(self, i: int) -> tuple[int, int]:
        """(pass, item) of sample i."""
        epoch, pos = divmod(i, self.n)
        return epoch, int(torch.randperm(self.n, generator=seeded(self.seed, epoch))[pos])

    def __getitem__(self, i: int):
        epoch, item = self.locate(i)
        _set_epoch(self.dataset, epoch)
        return self.dataset[item]


class MixedStream(Dataset):
    """Sample i of a weighted mix of datasets: source by weight, then an item, both a function of (seed, i).

    `set_epoch(i // total)` on epoch-aware sources, so a scene gives a different clip each pass.
    """

    def __init__(self, sources: Sequence[tuple[Dataset, float]], seed: int = 0):
        self.sources = [(ds, float(w)) for ds, w in sources if w > 0]
        if not self.sources:
            raise ValueError("MixedStream: no source with a positive weight")
        self.total = sum(len(ds) for ds, _ in self.sources)
        self.seed = seed

    def __len__(self) -> int:
        return self.total

    def locate(self, i: int) -> tuple[int, int]:
        """(source, item) that sample i is drawn from."""
        rng = random.Random(f"{self.seed}/mix/{i}")
        src = rng.choices(range(len(self.sources)), weights=[w for _, w in self.sources])[0]
        return src, rng.randrange(len(self.sources[src][0]))

    def __getitem__(self, i: int):
        src, item = self.locate(i)
        ds = self.sources[src][0]
        _set_epoch(ds, i // self.total)
        return ds[item]
