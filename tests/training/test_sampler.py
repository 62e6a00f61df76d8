"""The data order of the shared loop: a function of (seed, step), split exactly across processes."""

import torch

from wonderland.training import MixedStream, Shuffled, StepBatchSampler, seeded


def test_processes_and_accumulation_split_exactly_the_single_process_batches():
    one = list(StepBatchSampler(3, 5, 4))  # steps 3, 4; global batch 4
    for world, accum in ((2, 1), (4, 1), (2, 2)):
        per = 4 // (world * accum)
        parts = [list(StepBatchSampler(3, 5, per, rank=r, world=world, accum=accum)) for r in range(world)]
        for s in range(2):  # the micro-batches of step s over every process = the one-process batch of step s
            got = sorted(i for r in range(world) for m in range(accum) for i in parts[r][s * accum + m])
            assert got == one[s]
    resumed = list(StepBatchSampler(4, 5, 4))
    assert resumed == one[1:]  # a run resumed at step 4 reads what the uninterrupted run read there


def test_shuffled_is_a_fresh_permutation_each_pass_and_tells_the_dataset():
    class Items(torch.utils.data.Dataset):
        epoch = None

        def __len__(self):
            return 5

        def set_epoch(self, e):
            self.epoch = e

        def __getitem__(self, i):
            return (self.epoch, i)

    stream = Shuffled(Items(), seed=1)
    first, second = [stream[i] for i in range(5)], [stream[i] for i in range(5, 10)]
    assert sorted(i for _, i in first) == sorted(i for _, i in second) == list(range(5))  # every item once per pass
    assert {e for e, _ in first} == {0} and {e for e, _ in second} == {1}
    assert [i for _, i in first] != [i for _, i in second]  # seed 1: the passes are ordered differently
    assert [Shuffled(Items(), seed=1)[i] for i in range(10)] == first + second  # a function of (seed, i)


def test_mixed_stream_is_deterministic_and_honours_weights():
    a = [{"key": "a", "i": i} for i in range(5)]
    b = [{"key": "b", "i": i} for i in range(7)]
    stream = MixedStream([(a, 0.2), (b, 0.8)], seed=3)
    keys = [stream[i]["key"] for i in range(3000)]
    assert abs(keys.count("a") / 3000 - 0.2) < 0.03
    assert [stream[i] for i in range(20)] == [MixedStream([(a, 0.2), (b, 0.8)], seed=3)[i] for i in range(20)]
    assert [stream[i] for i in range(20)] != [MixedStream([(a, 0.2), (b, 0.8)], seed=4)[i] for i in range(20)]


def test_seeded_generators_depend_on_every_key():
    draws = {keys: torch.randn(3, generator=seeded(*keys)) for keys in ((0, 1, 0), (0, 1, 1), (0, 2, 0), (1, 1, 0))}
    values = list(draws.values())
    assert all(not torch.equal(values[i], values[j]) for i in range(4) for j in range(i + 1, 4))
    assert torch.equal(torch.randn(3, generator=seeded(0, 1, 0)), draws[(0, 1, 0)])
