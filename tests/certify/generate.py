#!/usr/bin/env python3
"""Independent float64 reference of vatic's certificates (IBP and CROWN), written from the
definitions in `vatic::certify`'s module docs, in plain numpy, exact arithmetic (no rounding
terms): the bounds of the real-valued network. vatic's bounds hold for the network as it runs
in f32 and include outward rounding margins, so they must be at most these and within a small
tolerance of them (`host/tests/certify_reference.rs`).

    python3 tests/certify/generate.py        # writes tests/certify/fixtures/certify.json

Deterministic (numpy's PCG64 from fixed seeds); the parameters are f32 values.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def act(name, z):
    return np.maximum(z, 0.0) if name == "relu" else np.tanh(z)


def ibp_layer(W, b, lo, hi):
    c, r = (lo + hi) / 2, (hi - lo) / 2
    z = W @ c + b
    rad = np.abs(W) @ r
    return z - rad, z + rad


def relaxation(name, l, u):
    """Lines a_L z + b_L <= sigma(z) <= a_U z + b_U on [l, u], per neuron."""
    if name == "relu":
        aL = np.where(l >= 0, 1.0, np.where(u <= 0, 0.0, np.where(u > -l, 1.0, 0.0)))
        bL = np.zeros_like(l)
        cross = (l < 0) & (u > 0)
        slope = np.where(cross, u / np.where(cross, u - l, 1.0), 0.0)
        aU = np.where(l >= 0, 1.0, np.where(u <= 0, 0.0, slope))
        bU = np.where(cross, -slope * l, 0.0)
        return aL, bL, aU, bU
    s = np.minimum(1 - np.tanh(l) ** 2, 1 - np.tanh(u) ** 2)
    return s, np.tanh(l) - s * l, s, np.tanh(u) - s * u


def crown_lower(layers, name, m, C, relax, x, eps, norm, a, b):
    """min over the region of C z_m (rows of C), by the backward linear relaxation."""
    W, bias = layers[m]
    lam = C @ W
    const = C @ bias
    for k in range(m - 1, -1, -1):
        aL, bL, aU, bU = relax[k]
        pos = lam >= 0
        alpha = np.where(pos, aL, aU)
        beta = np.where(pos, bL, bU)
        const = const + (lam * beta).sum(axis=1)
        lam = lam * alpha
        Wk, bk = layers[k]
        const = const + lam @ bk
        lam = lam @ Wk
    box = np.where(lam >= 0, lam * a, lam * b).sum(axis=1)
    if norm == "l2":
        ball = lam @ x - eps * np.linalg.norm(lam, axis=1)
        box = np.maximum(box, ball)
    return box + const


def margins(layers, name, x, y, eps, norm, clip, bound):
    a, b = x - eps, x + eps
    if clip is not None:
        a, b = np.maximum(a, clip[0]), np.minimum(b, clip[1])
    L = len(layers)
    lo_post, hi_post = a, b
    pre, relax = [], []
    for l in range(L - 1):
        W, bias = layers[l]
        lo, hi = ibp_layer(W, bias, lo_post, hi_post)
        if l == 0 and norm == "l2":
            z = W @ x + bias
            rad = eps * np.linalg.norm(W, axis=1)
            lo, hi = np.maximum(lo, z - rad), np.minimum(hi, z + rad)
        if bound == "crown" and l > 0:
            n = W.shape[0]
            I = np.eye(n)
            lo = np.maximum(lo, crown_lower(layers, name, l, I, relax, x, eps, norm, a, b))
            hi = np.minimum(hi, -crown_lower(layers, name, l, -I, relax, x, eps, norm, a, b))
        pre.append((lo, hi))
        relax.append(relaxation(name, lo, hi))
        lo_post, hi_post = act(name, lo), act(name, hi)
    W, bias = layers[-1]
    zlo, zhi = ibp_layer(W, bias, lo_post, hi_post)
    if L == 1 and norm == "l2":
        z = W @ x + bias
        rad = eps * np.linalg.norm(W, axis=1)
        zlo, zhi = np.maximum(zlo, z - rad), np.minimum(zhi, z + rad)
    classes = W.shape[0]
    out = []
    for j in range(classes):
        if j == y:
            out.append(None)
            continue
        m = zlo[y] - zhi[j]
        if bound == "crown":
            C = np.zeros((1, classes))
            C[0, y], C[0, j] = 1.0, -1.0
            m = max(m, crown_lower(layers, name, L - 1, C, relax, x, eps, norm, a, b)[0])
        out.append(float(m))
    return out


def main():
    cases = []
    rng = np.random.default_rng(20261202)
    for name in ["relu", "tanh"]:
        for widths in [[2, 8, 2], [3, 10, 6, 3], [4, 7, 6, 5, 3]]:
            layers = []
            for i, o in zip(widths[:-1], widths[1:]):
                W = f32(rng.normal(0, 1 / np.sqrt(i), (o, i)))
                bias = f32(rng.normal(0, 0.1, o))
                layers.append((W, bias))
            params = []
            for W, bias in layers:
                params += W.ravel().tolist() + bias.ravel().tolist()
            samples = []
            for _ in range(4):
                x = f32(rng.uniform(-1, 1, widths[0]))
                z = x
                for l, (W, bias) in enumerate(layers):
                    z = W @ z + bias
                    if l < len(layers) - 1:
                        z = act(name, z)
                y = int(np.argmax(z))
                for norm in ["linf", "l2"]:
                    for clip in [None, [-1.0, 1.0]]:
                        for eps in [0.0, 0.02, 0.1, 0.3]:
                            entry = {"x": x.tolist(), "y": y, "eps": eps, "norm": norm, "clip": clip}
                            for bound in ["ibp", "crown"]:
                                entry[bound] = margins(layers, name, x, y, eps, norm, clip, bound)
                            samples.append(entry)
            cases.append({"widths": widths, "activation": name, "params": params, "samples": samples})
    os.makedirs(os.path.join(HERE, "fixtures"), exist_ok=True)
    path = os.path.join(HERE, "fixtures", "certify.json")
    with open(path, "w") as f:
        json.dump({"generator": f"tests/certify/generate.py, numpy {np.__version__}", "cases": cases}, f)
    print(f"wrote {path}: {len(cases)} networks, {sum(len(c['samples']) for c in cases)} regions")


if __name__ == "__main__":
    main()
