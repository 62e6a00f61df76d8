"""Tile-based, depth-sorted, front-to-back alpha compositing in pure PyTorch (the reference renderer).

Per pixel p and Gaussian i (sorted front to back), as gsplat:
  alpha_i = min(0.99, o_i exp(-σ_i)),  σ_i = ½ dᵀ Σ2d⁻¹ d,  d = p - μ_i,
  dropped where alpha_i < 1/255 or outside the 3-sigma ellipse (σ_i > 4.5),
  C = Σ_i alpha_i T_i c_i + T_final · background,  T_i = Π_{j<i} (1 - alpha_j).
The 3-sigma cut makes the image independent of the tile size. Without gradients (rendering a scene, not
training one) a tile stops once every one of its pixels has T < 1e-4, as gsplat stops each pixel: what it skips
changes a colour by less than 1e-4 (depth by less than 1e-4 z). With gradients every Gaussian is composited.

Work is cut into "items": one 8x8 pixel tile x one chunk of up to `chunk` Gaussians that overlap
the tile, in depth order. Items are composited independently (all in parallel, batched) into a
partial colour and a partial log-transmittance; partials of one tile are then chained with an
exclusive cumulative sum of log-transmittance (in float64) over the tile's items.

The stop works on items taken front to back across all tiles at once (rank r of every tile before
rank r + 1): after each batch, the tiles that are already opaque drop out. On the demo's 75k-Gaussian scenes about
two thirds of the items lie behind opaque tiles.

Memory bound: one batch holds at most `pairs_per_batch` (pixel, Gaussian) pairs, about 16 floats each
(≈ 64 MiB in float32 at the default 2^20); when gradients are needed each batch runs under
activation checkpointing, so backward recomputes it and keeps only its inputs and its (items, 64, 5)
outputs. Beyond that: O(g) for projection and O(intersections) for the (tile, Gaussian) lists.
8x8 tiles evaluate about half the pairs that 16x16 tiles do for Gaussians of a few pixels.
"""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from .project import Projected

MAX_ALPHA = 0.99
MIN_ALPHA = 1.0 / 255.0
MAX_SIGMA = 0.5 * 3.0**2  # the 3-sigma ellipse
STOP_TRANSMITTANCE = 1e-4  # a tile whose every pixel is below this is done (no-grad rendering only)


def _tile_lists(p: Projected, tile: int, tiles_x: int, tiles_y: int, chunk: int) -> tuple[Tensor, Tensor]:
    """-> table (items, chunk) of indices into `p` (n = padding), item_tile (items,) tile index."""
    n = p.means2d.shape[0]
    lo = torch.floor((p.means2d - p.extents) / tile).long()
    hi = torch.floor((p.means2d + p.extents) / tile).long() + 1  # exclusive
    limit = lo.new_tensor([tiles_x, tiles_y])
    lo, hi = lo.clamp(min=0), torch.minimum(hi, limit)
    span = (hi - lo).clamp(min=0)  # (n, 2)
    counts = span.prod(-1)
    gid = torch.repeat_interleave(torch.arange(n, device=counts.device), counts)  # front-to-back order
    k = torch.arange(gid.numel(), device=gid.device) - torch.repeat_interleave(counts.cumsum(0) - counts, counts)
    lo_g, span_x = lo.index_select(0, gid), span[:, 0].index_select(0, gid)
    tx = lo_g[:, 0] + k % span_x
    ty = lo_g[:, 1] + k // span_x
    tile_id, order = torch.sort(ty * tiles_x + tx, stable=True)  # stable: depth order within each tile
    gid = gid[order]

    per_tile = torch.bincount(tile_id, minlength=tiles_x * tiles_y)
    items_per_tile = (per_tile + chunk - 1) // chunk
    first_item = items_per_tile.cumsum(0) - items_per_tile
    first_isect = per_tile.cumsum(0) - per_tile
    pos = torch.arange(tile_id.numel(), device=gid.device) - first_isect[tile_id]
    table = torch.full((int(items_per_tile.sum()), chunk), n, dtype=torch.long, device=gid.device)
    table[first_item[tile_id] + pos // chunk, pos % chunk] = gid
    item_tile = torch.repeat_interleave(torch.arange(tiles_x * tiles_y, device=gid.device), items_per_tile)
    return table, item_tile


def _composite_items(pix: Tensor, origin: Tensor, means2d: Tensor, conics: Tensor, log_opacities: Tensor,
                     feats: Tensor, table: Tensor) -> tuple[Tensor, Tensor]:
    """Composite a batch of b items; table (b, c) indexes the padded per-Gaussian tensors.

    pix (P, 6) holds [u², uv, v², u, v, 1] of the tile's pixel centres relative to the tile origin,
    origin (b, 2) each item's tile origin. -> partial features Σ alpha T_local f (b, P, F) and the
    chunk's log-transmittance (b, P).
    """
    flat = table.reshape(-1)
    gather = lambda t: t.index_select(0, flat).view(*table.shape, *t.shape[1:])  # noqa: E731 (much faster than t[table])
    m = gather(means2d) - origin[:, None]  # (b, c, 2) tile-local, keeps the quadratic form well conditioned
    mx, my = m.unbind(-1)
    ha, b, hc = (gather(conics) * conics.new_tensor([0.5, 1.0, 0.5])).unbind(-1)
    log_o = gather(log_opacities)
    # log(o) - σ as a quadratic polynomial in (u, v): one batched matmul instead of ~10 pixel-wise ops.
    coef = torch.stack([-ha, -b, -hc, 2 * ha * mx + b * my, b * mx + 2 * hc * my,
                        log_o - (ha * mx * mx + b * mx * my + hc * my * my)], 1)  # (b, 6, c)
    power = pix @ coef  # (b, P, c)
    # alpha >= 1/255 and σ <= 4.5 are both thresholds on the power, one per Gaussian.
    floor = torch.clamp(log_o - MAX_SIGMA, min=math.log(MIN_ALPHA))  # (b, c)
    power = power.masked_fill(power < floor[:, None], -math.inf)
    alpha = torch.exp(power.clamp(max=math.log(MAX_ALPHA)))
    log_t = torch.log1p(-alpha)
    incl = log_t.cumsum(-1)
    weights = alpha * torch.exp(incl - log_t)  # alpha_i Π_{j<i in chunk} (1 - alpha_j)
    return weights @ gather(feats), incl[..., -1]


def rasterize(p: Projected, opacities: Float[Tensor, " n"], feats: Float[Tensor, "n f"], height: int, width: int,
              tile: int = 8, chunk: int = 32, pairs_per_batch: int = 2**20,
              stop_transmittance: float = STOP_TRANSMITTANCE
              ) -> tuple[Float[Tensor, "f h w"], Float[Tensor, "h w"]]:
    """Composite per-Gaussian features (sorted as `p`) -> (Σ_i w_i f_i (f, h, w), T_final (h, w)).

    Without gradients, tiles whose pixels all have T < `stop_transmittance` stop early (0: never)."""
    tiles_x, tiles_y = -(-width // tile), -(-height // tile)
    n_tiles, n_feat = tiles_x * tiles_y, feats.shape[-1]
    with torch.no_grad():
        table, item_tile = _tile_lists(p, tile, tiles_x, tiles_y, chunk)
    # Padding row (index n): log-opacity -1e4 makes alpha 0, a no-op; the clamp keeps opacity 0 finite.
    pad = lambda t, value=0.0: torch.cat([t, t.new_full((1, *t.shape[1:]), value)])  # noqa: E731
    log_opacities = pad(torch.log(opacities.clamp_min(1e-20)), -1e4)
    tensors = (pad(p.means2d), pad(p.conics), log_opacities, pad(feats))

    dev, dt = feats.device, feats.dtype
    centres = torch.arange(tile, device=dev, dtype=dt) + 0.5
    u, v = torch.meshgrid(centres, centres, indexing="xy")
    u, v = u.reshape(-1), v.reshape(-1)
    pix = torch.stack([u * u, u * v, v * v, u, v, torch.ones_like(u)], -1)  # (P, 6), row-major pixels of a tile
    origin = torch.stack([torch.arange(n_tiles, device=dev) % tiles_x,
                          torch.arange(n_tiles, device=dev) // tiles_x], -1).to(dt) * tile
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
    step = max(1, pairs_per_batch // (tile * tile * chunk))
    if not grad and stop_transmittance > 0:
        out, log_t = _composite_front_to_back(pix, origin, tensors, table, item_tile, n_tiles, n_feat, step,
                                              math.log(stop_transmittance))
        return _untile(out, tiles_x, tiles_y, tile, height, width), \
            _untile(torch.exp(log_t).to(dt)[..., None], tiles_x, tiles_y, tile, height, width)[0]
    parts, logts = [], []
    for s in range(0, table.shape[0], step):
        args = (pix, origin.index_select(0, item_tile[s:s + step]), *tensors, table[s:s + step])
        part, logt = checkpoint(_composite_items, *args, use_reentrant=False) if grad else _composite_items(*args)
        parts.append(part)
        logts.append(logt)
    # Nothing visible: empty slices of the inputs keep the outputs in the graph (zero gradients, no error).
    part = torch.cat(parts) if parts else feats[:0, None].expand(0, tile * tile, n_feat)
    logt = torch.cat(logts) if logts else opacities[:0, None].expand(0, tile * tile)

    # Chain the items of each tile: T before an item = exp(Σ log T of the tile's earlier items).
    t_before = torch.exp(_log_t_before(logt, item_tile)).to(dt)
    out = feats.new_zeros(n_tiles, tile * tile, n_feat).index_add(0, item_tile, t_before[..., None] * part)
    t_final = torch.exp(feats.new_zeros(n_tiles, tile * tile).index_add(0, item_tile, logt))
    return (_untile(out, tiles_x, tiles_y, tile, height, width),
            _untile(t_final[..., None], tiles_x, tiles_y, tile, height, width)[0])


def _log_t_before(logt: Tensor, item_tile: Tensor) -> Tensor:
    """Items grouped by tile (sorted `item_tile`), front to back in each: logt (items, P) -> the log transmittance
    in front of each item from its tile's earlier items (items, P), in float64."""
    excl = logt.double().cumsum(0) - logt.double()
    first = torch.searchsorted(item_tile, item_tile)  # first item of the same tile
    return excl - excl[first]


def _untile(x: Tensor, tiles_x: int, tiles_y: int, tile: int, height: int, width: int) -> Tensor:
    """(tiles, P, c) -> (c, h, w)"""
    x = x.reshape(tiles_y, tiles_x, tile, tile, -1).permute(4, 0, 2, 1, 3)
    return x.reshape(-1, tiles_y * tile, tiles_x * tile)[:, :height, :width]


def _composite_front_to_back(pix: Tensor, origin: Tensor, tensors: tuple, table: Tensor, item_tile: Tensor,
                             n_tiles: int, n_feat: int, step: int, log_stop: float) -> tuple[Tensor, Tensor]:
    """No-grad compositing in batches of `step` items taken rank by rank across tiles, skipping the items of tiles
    that are already opaque (every pixel log T < `log_stop`). -> features (tiles, P, f), log T_final (tiles, P)."""
    feats = tensors[-1]
    first_item = torch.searchsorted(item_tile, torch.arange(n_tiles, device=item_tile.device))
    rank = torch.arange(item_tile.numel(), device=item_tile.device) - first_item[item_tile]
    order = torch.argsort(rank * n_tiles + item_tile)  # rank-major: the front item of every tile first
    out = feats.new_zeros(n_tiles, pix.shape[0], n_feat)
    log_t = torch.zeros(n_tiles, pix.shape[0], dtype=torch.float64, device=feats.device)  # per pixel, so far
    for s in range(0, order.numel(), step):
        open_tiles = log_t.amax(-1) >= log_stop  # (tiles,)
        if not bool(open_tiles.any()):
            break
        idx = order[s:s + step]
        idx = idx[open_tiles[item_tile[idx]]]
        if idx.numel() == 0:
            continue
        idx = idx[torch.argsort(item_tile[idx], stable=True)]  # tile-major, front to back within a tile
        tiles = item_tile[idx]
        part, logt = _composite_items(pix, origin.index_select(0, tiles), *tensors, table[idx])
        t_before = torch.exp(log_t[tiles] + _log_t_before(logt, tiles)).to(feats.dtype)
        out.index_add_(0, tiles, t_before[..., None] * part)
        log_t.index_add_(0, tiles, logt.double())
    return out, log_t
