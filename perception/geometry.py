"""Small geometry helpers shared by every package above perception: angle wrapping and the overlap
of rotated boxes in the bird's-eye view."""
from __future__ import annotations

import numpy as np


def wrap_angle(angle_rad):
    """Angle(s) wrapped to [-pi, pi) [rad]; a float for a scalar, an array for an array."""
    wrapped = (np.asarray(angle_rad, dtype=float) + np.pi) % (2.0 * np.pi) - np.pi
    return float(wrapped) if wrapped.ndim == 0 else wrapped


def _next(p: np.ndarray) -> np.ndarray:
    """Each polygon's vertices (P, K, ...) shifted by one: vertex k+1 at k (np.roll's result, cheaper)."""
    return np.concatenate([p[:, 1:], p[:, :1]], 1)


def _polygon_area(p: np.ndarray) -> np.ndarray:
    """Areas (P,) of polygons (P, K, 2) with vertices in order (shoelace formula)."""
    nxt = _next(p)
    return 0.5 * np.abs(np.sum(p[..., 0] * nxt[..., 1] - p[..., 1] * nxt[..., 0], 1))


def convex_quad_intersection(a: np.ndarray, b: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Intersection areas (P,) of convex quadrilaterals ``a``, ``b`` (P, 4, 2), vertices in order.

    The intersection polygon's vertices are the corners of each inside the other plus the edge crossings;
    sorted by angle about their centroid they give the area by the shoelace formula.
    """
    a_in_b, b_in_a = _inside(a, b, eps), _inside(b, a, eps)
    cross_pts, cross_ok = _edge_crossings(a, b)
    pts = np.concatenate([a, b, cross_pts], 1)
    ok = np.concatenate([a_in_b, b_in_a, cross_ok], 1)
    count = ok.sum(1)
    centre = np.einsum("pk,pkd->pd", ok, pts) / np.maximum(count, 1)[:, None]
    rel = pts - centre[:, None]
    angle = np.where(ok, np.arctan2(rel[..., 1], rel[..., 0]), np.inf)
    order = np.argsort(angle, 1)
    rel = np.take_along_axis(rel, order[..., None], 1)
    ok = np.take_along_axis(ok, order, 1)
    rel = np.where(ok[..., None], rel, rel[:, :1])  # unused slots repeat the first vertex: zero area
    return np.where(count >= 3, _polygon_area(rel), 0.0)


def _inside(points: np.ndarray, poly: np.ndarray, eps: float) -> np.ndarray:
    """(P, K) whether each of ``points`` (P, K, 2) lies in the convex polygon ``poly`` (P, 4, 2)."""
    edge = _next(poly) - poly
    rel = points[:, :, None] - poly[:, None]
    cross = edge[:, None, :, 0] * rel[..., 1] - edge[:, None, :, 1] * rel[..., 0]
    scale = np.max(np.abs(edge), axis=(1, 2))[:, None, None] ** 2
    orient = np.sign(np.sum(edge[..., 0] * _next(edge)[..., 1]
                            - edge[..., 1] * _next(edge)[..., 0], 1))[:, None, None]
    return np.all(orient * cross >= -eps * scale, axis=2)


def _edge_crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crossing points (P, 16, 2) of every edge of ``a`` with every edge of ``b`` and whether they exist."""
    p, r = a[:, :, None], (_next(a) - a)[:, :, None]
    q, s = b[:, None], (_next(b) - b)[:, None]
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    safe = np.where(np.abs(denom) > 1e-12, denom, 1.0)
    t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / safe
    u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / safe
    ok = (np.abs(denom) > 1e-12) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    pts = p + t[..., None] * r
    return pts.reshape(len(a), 16, 2), ok.reshape(len(a), 16)
