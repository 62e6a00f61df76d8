"""Streaming ridge regression of every candidate layer's activations on the latents (VIST3A's closed form).

For rows b_i (receptive fields of the latents, d numbers) and targets a_i (a layer's activation there, c
numbers), accumulated over any number of clips in float64:
    G = B^T B (d x d, shared by every layer), sum_b, n;  per layer: B^T A (d x c), sum_a, sum |a|^2.
Then, with the means m_b = sum_b / n, m_a = sum_a / n and the centred sums G_c = G - n m_b m_b^T,
X_c = B^T A - n m_b m_a^T:
    S = (G_c + ridge I)^-1 X_c,   bias = mean residual = m_a - m_b S,
and the residual energy follows from the same sums, without a second pass over the data:
    SSE = sum|a|^2 - 2 <S, B^T A> + <S, G S> - n |bias|^2,   MSE = SSE / (n c),
    relative MSE = SSE / (sum|a|^2 - n |m_a|^2)  (the fraction of the layer's variance left unexplained).
Centring (ours): VIST3A's code solves S = (G + ridge I)^-1 B^T A without an intercept and then sets the bias to the
mean residual; the constant part of the activations then has to be explained by the latents inside the solve,
which pulls S off the best affine map, so even an exactly affine layer is not recovered (shown in
tests/lalrm/stitching/test_search.py). Same sums, same bias rule, the least-squares affine map.
Memory is O(d^2 + d c) per layer whatever the number of clips; one clip's rows are held while its activations
stream in. The ridge is absolute (1e-4 as VIST3A's code).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class LinearFit:
    weight: Tensor  # (d, c) float64: rows @ weight + bias approximates the activations
    bias: Tensor  # (c,)
    mse: float  # mean squared residual per activation value
    relative_mse: float  # residual / variance of the activations (1 - R^2)
    variance: float  # mean variance of the activations per channel
    rows: int


class RidgeAccumulator:
    """Sums of one search; a layer's sums are allocated when its first activations arrive."""

    def __init__(self, in_features: int, device: torch.device | str = "cpu"):
        f64 = dict(dtype=torch.float64, device=device)
        self.gram, self.sum_b, self.n = torch.zeros(in_features, in_features, **f64), torch.zeros(in_features, **f64), 0
        self.cross: dict[str, Tensor] = {}
        self.sum_a: dict[str, Tensor] = {}
        self.sq_a: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        self._current: Tensor | None = None

    def add_inputs(self, rows: Tensor) -> None:
        """rows (N, d): the receptive fields of one batch; the targets of this batch follow with `add_targets`."""
        b = rows.detach().reshape(-1, self.gram.shape[0]).to(self.gram)
        self.gram += b.T @ b
        self.sum_b += b.sum(0)
        self.n += b.shape[0]
        self._current = b

    def add_targets(self, name: str, targets: Tensor) -> None:
        """targets (N, c): layer `name`'s activations at the rows of the last `add_inputs`, in the same order."""
        b = self._current
        a = targets.detach().reshape(-1, targets.shape[-1]).to(self.gram)
        if name not in self.cross:
            self.cross[name] = self.gram.new_zeros(self.gram.shape[0], a.shape[1])
            self.sum_a[name], self.sq_a[name], self.rows[name] = self.gram.new_zeros(a.shape[1]), 0.0, 0
        if b is None or a.shape[0] != b.shape[0]:
            raise ValueError(f"layer {name}: {a.shape[0]} activation rows for {0 if b is None else b.shape[0]} "
                             "latent rows (the layer's grid does not match the stitching conv's output)")
        self.cross[name] += b.T @ a
        self.sum_a[name] += a.sum(0)
        self.sq_a[name] += float((a * a).sum())
        self.rows[name] += a.shape[0]

    def solve(self, name: str, ridge: float, centred: bool = True) -> LinearFit:
        if self.rows.get(name, 0) != self.n or self.n == 0:
            raise ValueError(f"layer {name}: activations for {self.rows.get(name, 0)} of {self.n} latent rows (did the "
                             "layer run for every batch?)")
        g, cross, n = self.gram, self.cross[name], self.n
        mean_b, mean_a = self.sum_b / n, self.sum_a[name] / n
        eye = torch.eye(g.shape[0], dtype=g.dtype, device=g.device)
        if centred:
            weight = torch.linalg.solve(g - n * torch.outer(mean_b, mean_b) + ridge * eye,
                                        cross - n * torch.outer(mean_b, mean_a))  # (d, c)
        else:  # VIST3A's code: no intercept in the solve
            weight = torch.linalg.solve(g + ridge * eye, cross)
        bias = mean_a - mean_b @ weight
        sse = self.sq_a[name] - 2 * float((weight * cross).sum()) + float((weight * (g @ weight)).sum()) \
            - n * float(bias @ bias)
        c = cross.shape[1]
        total = self.sq_a[name] - float(self.sum_a[name] @ self.sum_a[name]) / n  # sum of squared deviations
        sse = max(sse, 0.0)  # rounding can leave -1e-12 for an exact fit
        return LinearFit(weight, bias, sse / (n * c), sse / total if total > 0 else 0.0, total / (n * c), n)
