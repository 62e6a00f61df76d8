"""An exact, vectorised ray-caster for the synthetic scenes: one ray per pixel centre (the project's
`ray_bundle`, so images and `Cameras` agree by construction), analytic ray-primitive intersection,
procedural textures, Lambert + ambient shading from one point light. No shadows, no anti-aliasing.

Primitives live in a y-up world; every one has `intersect(o, d) -> t` ((F, P), inf on a miss) and
`surface(p) -> (normal, uv)` with uv in world units along the surface, so textures keep their scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from jaxtyping import Float
from torch import Tensor

from wonderland.geometry import Cameras, ray_bundle

EPS = 1e-4
TEXTURES = ("flat", "checker", "stripes", "noise", "gradient")


@dataclass
class Texture:
    kind: str
    color_a: tuple[float, float, float]
    color_b: tuple[float, float, float]
    freq: float = 1.0  # cycles per world unit
    angle: float = 0.0  # stripe / gradient direction in uv
    waves: tuple[tuple[float, float, float], ...] = ()  # noise: (fu, fv, phase) plane waves

    def __call__(self, uv: Float[Tensor, "n 2"]) -> Float[Tensor, "n 3"]:
        u, v = uv.unbind(-1)
        along = u * math.cos(self.angle) + v * math.sin(self.angle)
        if self.kind == "checker":
            t = (torch.floor(u * self.freq) + torch.floor(v * self.freq)) % 2
        elif self.kind == "stripes":
            t = (torch.frac(along * self.freq) < 0.5).to(uv.dtype)
        elif self.kind == "noise":
            t = sum(torch.sin(fu * u + fv * v + ph) for fu, fv, ph in self.waves) / len(self.waves) * 0.5 + 0.5
        elif self.kind == "gradient":
            t = 0.5 + 0.5 * torch.sin(along * self.freq * 2 * math.pi)
        else:
            t = torch.zeros_like(u)
        a, b = uv.new_tensor(self.color_a), uv.new_tensor(self.color_b)
        return a + t[:, None] * (b - a)


# Rays are passed as components (struct of arrays), which is what makes pure-torch ray casting fast:
# origins ox, oy, oz (F, 1) (one per camera) and unit directions dx, dy, dz (F, P), P pixels per frame.
Vec = tuple[Tensor, Tensor, Tensor]


def _dot(a: Vec, n: Tensor) -> Tensor:
    """a . n for a constant vector n (3,), skipping its zero components (walls are axis-aligned)."""
    return sum(a[k] * float(n[k]) for k in range(3) if float(n[k]) != 0.0)


def _valid(t: Tensor, ok: Tensor | None = None) -> Tensor:
    keep = t > EPS if ok is None else ok & (t > EPS)
    return torch.where(keep, t, math.inf)


@dataclass
class Plane:
    """Infinite plane through `point` with unit `normal`; `u_axis` spans its texture coordinates."""

    point: Tensor  # (3,)
    normal: Tensor  # (3,)
    u_axis: Tensor  # (3,), orthogonal to normal
    texture: Texture

    def intersect(self, o: Vec, d: Vec) -> Tensor:
        num = float(self.point @ self.normal) - _dot(o, self.normal)  # (F, 1)
        denom = _dot(d, self.normal)
        return _valid(num / torch.where(denom.abs() < 1e-9, 1e-9, denom))

    def surface(self, p: Tensor) -> tuple[Tensor, Tensor]:
        rel = p - self.point
        v_axis = torch.linalg.cross(self.normal, self.u_axis)
        return self.normal.expand_as(p), torch.stack([rel @ self.u_axis, rel @ v_axis], -1)

    def distance(self, x: Tensor) -> Tensor:
        return ((x - self.point) @ self.normal).abs()

    def bounds(self) -> None:  # unbounded: never culled
        return None


@dataclass
class Sphere:
    center: Tensor  # (3,)
    radius: float
    texture: Texture

    def intersect(self, o: Vec, d: Vec) -> Tensor:
        oc = [o[k] - float(self.center[k]) for k in range(3)]  # (F, 1) each
        b = oc[0] * d[0] + oc[1] * d[1] + oc[2] * d[2]  # d is unit
        disc = b * b - (oc[0] ** 2 + oc[1] ** 2 + oc[2] ** 2 - self.radius ** 2)
        sq = disc.clamp_min(0).sqrt()
        t0 = -b - sq
        return _valid(torch.where(t0 > EPS, t0, sq - b), disc >= 0)

    def surface(self, p: Tensor) -> tuple[Tensor, Tensor]:
        n = (p - self.center) / self.radius
        u = torch.atan2(n[:, 2], n[:, 0]) * self.radius
        v = torch.acos(n[:, 1].clamp(-1, 1)) * self.radius
        return n, torch.stack([u, v], -1)

    def distance(self, x: Tensor) -> Tensor:
        return (x - self.center).norm(dim=-1) - self.radius

    def bounds(self) -> tuple[Tensor, float]:
        return self.center, self.radius


@dataclass
class Box:
    """Box of half extents `half` centred at `center`, turned by `yaw` about the world's y (up) axis."""

    center: Tensor  # (3,)
    half: Tensor  # (3,)
    yaw: float
    texture: Texture

    def _R(self) -> Tensor:  # local -> world rotation
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return self.center.new_tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]])

    def _local(self, x: Tensor) -> Tensor:
        return (x - self.center) @ self._R()  # row vectors: x_local = R^T (x - c)

    def intersect(self, o: Vec, d: Vec) -> Tensor:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        rel = [o[k] - float(self.center[k]) for k in range(3)]
        ol = (c * rel[0] - s * rel[2], rel[1], s * rel[0] + c * rel[2])  # R^T (o - centre), (F, 1)
        dl = (c * d[0] - s * d[2], d[1], s * d[0] + c * d[2])
        t_near = t_far = None
        for k in range(3):  # slab test
            inv = 1 / torch.where(dl[k].abs() < 1e-9, 1e-9, dl[k])
            h = float(self.half[k])
            ta, tb = (-h - ol[k]) * inv, (h - ol[k]) * inv
            lo, hi = torch.minimum(ta, tb), torch.maximum(ta, tb)
            t_near = lo if t_near is None else torch.maximum(t_near, lo)
            t_far = hi if t_far is None else torch.minimum(t_far, hi)
        return _valid(torch.where(t_near > EPS, t_near, t_far), t_near <= t_far)

    def surface(self, p: Tensor) -> tuple[Tensor, Tensor]:
        q = self._local(p)
        face = (q.abs() / self.half).argmax(-1)  # (n,) axis of the face hit
        n_local = torch.nn.functional.one_hot(face, 3).to(p.dtype) * torch.sign(q)
        uv_axes = torch.tensor([[2, 1], [0, 2], [0, 1]], device=p.device)[face]  # the two in-face axes
        uv = torch.gather(q, 1, uv_axes)
        return n_local @ self._R().T, uv

    def distance(self, x: Tensor) -> Tensor:
        q = self._local(x).abs() - self.half
        return q.clamp_min(0).norm(dim=-1) + q.amax(-1).clamp_max(0)

    def bounds(self) -> tuple[Tensor, float]:
        return self.center, float(self.half.norm())


@dataclass
class World:
    primitives: list
    light: Tensor  # (3,) point light position
    light_range: float  # distance at which the light has fallen to half
    ambient: float
    sky_horizon: tuple[float, float, float]
    sky_zenith: tuple[float, float, float]


def _in_view(cameras: Cameras, center: Tensor, radius: float) -> Tensor:
    """(f,) bool: can any pixel ray of camera i hit the sphere (center, radius)? Conservative: the frustum
    is replaced by the cone around the optical axis through the image corners."""
    K, c2w = cameras.K.float(), cameras.c2w.float()
    corners = torch.tensor([[0.0, 0.0], [cameras.width, cameras.height]])
    x = (corners[None, :, 0] - K[:, None, 0, 2]) / K[:, None, 0, 0]  # (f, 2) extreme normalised coordinates
    y = (corners[None, :, 1] - K[:, None, 1, 2]) / K[:, None, 1, 1]
    half_angle = torch.atan((x.abs().amax(-1) ** 2 + y.abs().amax(-1) ** 2).sqrt())  # (f,)
    rel = center - c2w[:, :3, 3]
    dist = rel.norm(dim=-1)
    angle = torch.acos(((rel * c2w[:, :3, 2]).sum(-1) / dist.clamp_min(1e-9)).clamp(-1, 1))
    return (dist <= radius * 1.01) | (angle <= half_angle + torch.asin((radius / dist.clamp_min(1e-9)).clamp(max=1)))


def render(world: World, cameras: Cameras) -> Float[Tensor, "f 3 h w"]:
    """Render every camera of `cameras` (f,) at its (height, width). Float32 in [0, 1]."""
    f, h, w = len(cameras), cameras.height, cameras.width
    origins, dirs = ray_bundle(cameras.c2w.float(), cameras.K.float(), h, w)  # (f, h, w, 3)
    d = dirs.reshape(f, h * w, 3)
    o_vec = tuple(origins[:, 0, 0, k:k + 1].contiguous() for k in range(3))  # (f, 1) each
    d_vec = tuple(d[..., k].contiguous() for k in range(3))  # (f, P) each
    t_best = torch.full((f, h * w), math.inf)
    hit = torch.full((f, h * w), -1, dtype=torch.long)
    for k, prim in enumerate(world.primitives):
        frames = None if prim.bounds() is None else _in_view(cameras, *prim.bounds()).nonzero()[:, 0]
        if frames is None or len(frames) == f:
            t = prim.intersect(o_vec, d_vec)
            hit = torch.where(t < t_best, k, hit)
            t_best = torch.minimum(t, t_best)
        elif len(frames):  # only the frames that can see it: most objects are out of view most of the time
            t = prim.intersect(tuple(x[frames] for x in o_vec), tuple(x[frames] for x in d_vec))
            hit[frames] = torch.where(t < t_best[frames], k, hit[frames])
            t_best[frames] = torch.minimum(t, t_best[frames])
    eyes, d, t_best, hit = origins[:, 0, 0], d.reshape(-1, 3), t_best.reshape(-1), hit.reshape(-1)
    horizon, zenith = torch.tensor(world.sky_horizon), torch.tensor(world.sky_zenith)
    color = horizon + d[:, 1:2].clamp(0, 1) * (zenith - horizon)
    order = torch.argsort(hit, stable=True)  # pixels grouped by the primitive they see (-1 = sky first)
    counts = torch.bincount(hit + 1, minlength=len(world.primitives) + 1).tolist()
    for k, idx in enumerate(torch.split(order, counts)[1:]):
        if not len(idx):
            continue
        prim, dk = world.primitives[k], d[idx]
        p = eyes[idx // (h * w)] + t_best[idx, None] * dk
        n, uv = prim.surface(p)
        n = n * -torch.sign((n * dk).sum(-1, keepdim=True))  # face the viewer (room walls seen from inside)
        to_light = world.light - p
        dist = to_light.norm(dim=-1, keepdim=True)
        lambert = ((n * to_light).sum(-1, keepdim=True) / dist).clamp_min(0)
        falloff = 1 / (1 + (dist / world.light_range) ** 2)
        color[idx] = prim.texture(uv) * (world.ambient + (1 - world.ambient) * 1.6 * lambert * falloff)
    return color.clamp(0, 1).reshape(f, h, w, 3).permute(0, 3, 1, 2).contiguous()
