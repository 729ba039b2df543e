#!/usr/bin/env python3
"""Independent float64 reference generator for vatic (issue #4).

Computes, from the specification in ALGORITHMS.md (not from the Rust code), every quantity
the core computes -- forward pass, CE, gradients, FGSM, adversarial training, VAT (finite
difference power iteration and exact Hessian-vector power iteration), LDS, semi-supervised
objectives, entropy -- with JAX automatic differentiation in float64, cross-checks everything
against a second, independent route (plain-numpy manual backprop + central finite differences)
and writes the fixtures into tests/reference/fixtures/.

Usage:  pip install -r tests/reference/requirements.txt
        python3 tests/reference/generate.py            # writes fixtures, prints check tables

Deterministic: all randomness comes from numpy.random.default_rng(seed) with fixed seeds.
Parameters and inputs are rounded to float32 *before* anything is computed, so the float64
reference is the exact-arithmetic answer for the very numbers an f32 implementation sees.
"""

import json
import os
import platform
import sys

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
import jax.numpy as jnp  # noqa: E402
import jaxlib  # noqa: E402
import safetensors  # noqa: E402
import safetensors.numpy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
BASE_SEED = 20260404  # case i uses BASE_SEED + 1000*i (+1, +2, ... if a seed is rejected, see build())
OUT_SIG_DIGITS = 9  # significant digits kept for computed outputs (params/inputs are exact);
# 9 digits = relative rounding <= 5e-10, 200x below float32 unit roundoff: keeps fixtures small (~5 MB)

# name, sizes (any number of hidden layers), activation, batch, eps_vat.
# Append new cases at the end: the seed of a case depends on its index, so reordering or inserting
# would change the existing fixtures.
ARCHS = [
    ("relu_2_100_2", [2, 100, 2], "relu", 8, 0.5),
    ("tanh_2_100_2", [2, 100, 2], "tanh", 8, 0.5),
    ("tanh_4_16_12_3", [4, 16, 12, 3], "tanh", 6, 1.0),
    ("relu_64_128_10", [64, 128, 10], "relu", 8, 2.0),
    ("relu_100_100_2", [100, 100, 2], "relu", 8, 2.0),
    ("tanh_5_12_9_7_3", [5, 12, 9, 7, 3], "tanh", 6, 1.0),   # three hidden layers (issue #11)
    ("relu_13_40_40_3", [13, 40, 40, 3], "relu", 7, 1.0),    # odd widths and batch (issue #11)
]
XIS = [("xi1e-6", 1e-6), ("xi1e-3", 1e-3)]
HYPER = dict(eps_fgsm=0.1, alpha=0.5, power_iterations=1, lam=1.0)
EIG_ALL = True  # eig_top / eig_max for every case (cheap; the spec asks at least for 2-D and 100-D)

# tolerances of the internal cross-checks
RTOL_BACKPROP = 1e-6   # jax autodiff vs numpy manual backprop (both exact, float64)
RTOL_FD = 1e-5         # central finite differences vs autodiff
FD_H = 1e-6            # finite-difference step (float64)
FD_R = 1e-4            # step for the FD check of vat_g1 in r (the KL there is only O(xi^2))
MIN_KINK_MARGIN = 1e-5  # min |pre-activation| of a ReLU at every point evaluated (f32 safety)
MIN_SIGN_MARGIN = 1e-5  # min |input_grad_j| / max_j |input_grad_j| (FGSM sign stable in f32)


# ----------------------------------------------------------------------------------------------
# Route 1: JAX autodiff (float64)
# ----------------------------------------------------------------------------------------------

def j_relu(a):
    return jnp.where(a > 0, a, 0.0)  # derivative exactly 0 at 0


def j_act(name):
    return j_relu if name == "relu" else jnp.tanh


def j_mlp(params, x, act, n_layers):
    h = x
    for l in range(n_layers):
        h = params[f"{2 * l}.weight"] @ h + params[f"{2 * l}.bias"]
        if l < n_layers - 1:
            h = act(h)
    return h


def j_log_softmax(z):
    s = z - jax.lax.stop_gradient(jnp.max(z))
    return s - jnp.log(jnp.sum(jnp.exp(s)))


def j_kl_logits(zp, zq):
    lp = j_log_softmax(zp)
    return jnp.sum(jnp.exp(lp) * (lp - j_log_softmax(zq)))


def j_normalize(d):
    d = d / (1e-12 + jnp.max(jnp.abs(d), axis=-1, keepdims=True))
    return d / jnp.sqrt(1e-6 + jnp.sum(d * d, axis=-1, keepdims=True))


class JaxModel:
    def __init__(self, act, n_layers):
        a = j_act(act)
        L = n_layers
        f = lambda p, x: j_mlp(p, x, a, L)  # noqa: E731
        self.f1 = f
        self.fB = jax.jit(jax.vmap(f, in_axes=(None, 0)))

        def ce1(p, x, y):
            return -j_log_softmax(f(p, x))[y]

        self.ceB = jax.vmap(ce1, in_axes=(None, 0, 0))
        self.ce_mean = lambda p, X, Y: jnp.mean(self.ceB(p, X, Y))  # noqa: E731
        self.grad_ce_mean = jax.jit(jax.grad(self.ce_mean))
        self.input_grad = jax.jit(jax.vmap(jax.grad(ce1, argnums=1), in_axes=(None, 0, 0)))

        def kl_r(p, x, z, r):  # KL(softmax(z) || softmax(f(x + r))), z constant
            return j_kl_logits(jax.lax.stop_gradient(z), f(p, x + r))

        self.klB = jax.jit(jax.vmap(kl_r, in_axes=(None, 0, 0, 0)))
        # per-sample gradient in r (NOT divided by the batch size)
        self.grad_r = jax.jit(jax.vmap(jax.grad(kl_r, argnums=3), in_axes=(None, 0, 0, 0)))

        def hvp1(p, x, z, v):
            g = lambda r: jax.grad(kl_r, argnums=3)(p, x, z, r)  # noqa: E731
            return jax.jvp(g, (jnp.zeros_like(x),), (v,))[1]

        self.hvp = jax.jit(jax.vmap(hvp1, in_axes=(None, 0, 0, 0)))

        def hess1(p, x, z):
            return jax.hessian(lambda r: kl_r(p, x, z, r))(jnp.zeros_like(x))

        self.hess = jax.jit(jax.vmap(hess1, in_axes=(None, 0, 0)))

        def lds_mean(p, X, Z, R):
            return jnp.mean(jax.vmap(kl_r, in_axes=(None, 0, 0, 0))(p, X, Z, R))

        self.lds_mean = lds_mean
        self.grad_lds_mean = jax.jit(jax.grad(lds_mean))

        def entropy1(p, x):
            lp = j_log_softmax(f(p, x))
            return -jnp.sum(jnp.exp(lp) * lp)

        self.entropyB = jax.jit(jax.vmap(entropy1, in_axes=(None, 0)))

        def at_loss(p, X, Y, Xadv, alpha):
            return alpha * self.ce_mean(p, X, Y) + (1 - alpha) * self.ce_mean(p, Xadv, Y)

        self.at_loss = at_loss
        self.grad_at = jax.jit(jax.grad(at_loss))

        def semi(p, X, Y, Z, R, lam):
            return self.ce_mean(p, X, Y) + lam * lds_mean(p, X, Z, R)

        def semi_ent(p, X, Y, Z, R, lam):
            return semi(p, X, Y, Z, R, lam) + jnp.mean(jax.vmap(entropy1, in_axes=(None, 0))(p, X))

        self.semi, self.semi_ent = semi, semi_ent
        self.grad_semi = jax.jit(jax.grad(semi))
        self.grad_semi_ent = jax.jit(jax.grad(semi_ent))


def jax_case(P, X, Y, D0, xi, eps_vat, eps_fgsm, alpha, K, lam, act, n_layers):
    m = JaxModel(act, n_layers)
    p = {k: jnp.asarray(v) for k, v in P.items()}
    X, D0 = jnp.asarray(X), jnp.asarray(D0)
    Y = jnp.asarray(Y)
    o = {}
    Z = m.fB(p, X)
    o["logits"] = Z
    o["log_softmax"] = jax.vmap(j_log_softmax)(Z)
    o["softmax"] = jnp.exp(o["log_softmax"])
    o["ce"] = m.ceB(p, X, Y)
    o["ce_mean"] = m.ce_mean(p, X, Y)
    o["grad"] = m.grad_ce_mean(p, X, Y)
    g = m.input_grad(p, X, Y)
    o["input_grad"] = g
    o["fgsm_linf"] = X + eps_fgsm * jnp.sign(g)  # jnp.sign(0) == 0
    o["fgsm_linf_loss"] = m.ce_mean(p, o["fgsm_linf"], Y)
    o["fgsm_l2"] = X + eps_fgsm * j_normalize(g)
    o["fgsm_l2_loss"] = m.ce_mean(p, o["fgsm_l2"], Y)
    o["at_loss"] = m.at_loss(p, X, Y, o["fgsm_linf"], alpha)
    o["at_grad"] = m.grad_at(p, X, Y, o["fgsm_linf"], alpha)
    # VAT, finite-difference power iteration
    d = j_normalize(D0)
    o["vat_d0_normalized"] = d
    points = [X, o["fgsm_linf"], o["fgsm_l2"]]
    for k in range(1, 4):
        points.append(X + xi * d)
        gk = m.grad_r(p, X, Z, xi * d)
        if k == 1:
            o["vat_g1"] = gk
        d = j_normalize(gk)
        if k == 1:
            o["vat_d_k1"] = d
        if k == K:
            dK = d
        if k == 3:
            o["vat_d_k3"] = d
    R = eps_vat * dK
    o["r_vadv"] = R
    o["lds"] = m.klB(p, X, Z, R)
    o["lds_mean"] = jnp.mean(o["lds"])
    o["lds_grad"] = m.grad_lds_mean(p, X, Z, R)
    # exact Hessian-vector power iteration
    d = j_normalize(D0)
    for k in range(1, 4):
        d = j_normalize(m.hvp(p, X, Z, d))
        if k == 1:
            o["hvp_d_k1"] = d
        if k == K:
            dK = d
        if k == 3:
            o["hvp_d_k3"] = d
    Rx = eps_vat * dK
    o["r_vadv_exact"] = Rx
    o["lds_exact"] = m.klB(p, X, Z, Rx)
    o["lds_exact_mean"] = jnp.mean(o["lds_exact"])
    o["lds_exact_grad"] = m.grad_lds_mean(p, X, Z, Rx)  # extra: LDS gradient at the exact r (well-conditioned)
    points += [X + R, X + Rx]
    # entropy and semi-supervised objectives (labelled batch = unlabelled batch = x)
    o["entropy"] = m.entropyB(p, X)
    o["entropy_mean"] = jnp.mean(o["entropy"])
    o["semi_total"] = m.semi(p, X, Y, Z, R, lam)
    o["semi_grad"] = m.grad_semi(p, X, Y, Z, R, lam)
    o["semi_ent_total"] = m.semi_ent(p, X, Y, Z, R, lam)
    o["semi_ent_grad"] = m.grad_semi_ent(p, X, Y, Z, R, lam)
    # explicit Hessian and its top eigenpair
    H = np.asarray(m.hess(p, X, Z))
    H = 0.5 * (H + np.transpose(H, (0, 2, 1)))
    w, V = np.linalg.eigh(H)
    top = V[:, :, -1]
    idx = np.argmax(np.abs(top), axis=1)
    top = top * np.sign(top[np.arange(len(top)), idx])[:, None]  # largest |component| positive
    o["eig_top"] = top
    o["eig_max"] = w[:, -1]
    o = jax.tree_util.tree_map(np.asarray, o)
    return o, H, [np.asarray(q) for q in points], m, p


# ----------------------------------------------------------------------------------------------
# Route 2: plain numpy manual backprop (dtype-generic: used in float64 for the cross-check and
# in float32 to emulate an f32 implementation of the finite-difference power iteration)
# ----------------------------------------------------------------------------------------------

def n_forward(W, b, X, act):
    hs, pre = [X], []
    h = X
    for l in range(len(W)):
        a = h @ W[l].T + b[l]
        pre.append(a)
        h = a if l == len(W) - 1 else (np.maximum(a, 0) if act == "relu" else np.tanh(a))
        hs.append(h)
    return h, (hs, pre)


def n_backward(W, cache, act, dZ):
    """dZ [B,C] = dLoss/dlogits per sample. Returns (dW list, db list) summed over the batch
    and dX [B,D] per sample."""
    hs, pre = cache
    dW, db = [None] * len(W), [None] * len(W)
    dh = dZ
    for l in reversed(range(len(W))):
        dW[l] = dh.T @ hs[l]
        db[l] = dh.sum(axis=0)
        dh = dh @ W[l]
        if l > 0:
            a = pre[l - 1]
            dh = dh * ((a > 0).astype(a.dtype) if act == "relu" else 1 - np.tanh(a) ** 2)
    return dW, db, dh


def n_log_softmax(Z):
    s = Z - Z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def n_normalize(d):
    d = d / (1e-12 + np.abs(d).max(axis=1, keepdims=True))
    return d / np.sqrt(1e-6 + (d * d).sum(axis=1, keepdims=True))


def n_kl(Zp, Zq):
    lp = n_log_softmax(Zp)
    return (np.exp(lp) * (lp - n_log_softmax(Zq))).sum(axis=1)


def n_grad_r(W, b, X, Z, R, act):
    """Per-sample ∇_r KL(softmax(Z) || softmax(f(X + R))) = backprop of softmax(f(X+R)) − softmax(Z)."""
    Zq, cache = n_forward(W, b, X + R, act)
    return n_backward(W, cache, act, np.exp(n_log_softmax(Zq)) - np.exp(n_log_softmax(Z)))[2]


def n_jacobian(W, b, X, act):
    Z, cache = n_forward(W, b, X, act)
    C = Z.shape[1]
    J = np.stack([n_backward(W, cache, act, np.tile(np.eye(C, dtype=Z.dtype)[c], (len(X), 1)))[2] for c in range(C)], 1)
    return J  # [B, C, D]


def n_case(W, b, X, Y, D0, xi, eps_vat, eps_fgsm, alpha, K, lam, act, R_given=None):
    B = len(X)
    o = {}
    Z, cache = n_forward(W, b, X, act)
    ls = n_log_softmax(Z)
    P = np.exp(ls)
    onehot = np.eye(Z.shape[1], dtype=Z.dtype)[Y]
    o["logits"], o["log_softmax"], o["softmax"] = Z, ls, P
    o["ce"] = -ls[np.arange(B), Y]
    o["ce_mean"] = o["ce"].mean()

    def pgrad(dZ, X_):
        _, c = n_forward(W, b, X_, act)
        dW, db, _ = n_backward(W, c, act, dZ)
        return dW, db

    def ce_grad(X_):
        Zx, _ = n_forward(W, b, X_, act)
        return pgrad((np.exp(n_log_softmax(Zx)) - onehot) / B, X_)

    o["grad"] = ce_grad(X)
    g = n_backward(W, cache, act, P - onehot)[2]
    o["input_grad"] = g
    o["fgsm_linf"] = X + eps_fgsm * np.sign(g)
    o["fgsm_l2"] = X + eps_fgsm * n_normalize(g)
    for k in ["fgsm_linf", "fgsm_l2"]:
        Zk, _ = n_forward(W, b, o[k], act)
        o[k + "_loss"] = -n_log_softmax(Zk)[np.arange(B), Y].mean()
    o["at_loss"] = alpha * o["ce_mean"] + (1 - alpha) * o["fgsm_linf_loss"]
    g1, g2 = ce_grad(X), ce_grad(o["fgsm_linf"])
    o["at_grad"] = tuple([alpha * u + (1 - alpha) * v for u, v in zip(g1[i], g2[i])] for i in range(2))
    d = n_normalize(D0)
    o["vat_d0_normalized"] = d
    for k in range(1, 4):
        gk = n_grad_r(W, b, X, Z, xi * d, act)
        if k == 1:
            o["vat_g1"] = gk
        d = n_normalize(gk)
        o[f"vat_d_k{k}"] = d
    R = eps_vat * o[f"vat_d_k{K}"]
    o["r_vadv"] = R
    if R_given is not None:  # evaluate LDS and everything downstream at a given r_vadv
        R = R_given
    o["lds"] = n_kl(Z, n_forward(W, b, X + R, act)[0])
    o["lds_mean"] = o["lds"].mean()
    Zr, _ = n_forward(W, b, X + R, act)
    lds_g = pgrad((np.exp(n_log_softmax(Zr)) - P) / B, X + R)
    o["lds_grad"] = lds_g
    # exact HVP through the explicit Jacobian: H = Jᵀ (diag p − p pᵀ) J
    J = n_jacobian(W, b, X, act)
    A = np.einsum("bc,ce->bce", P, np.eye(P.shape[1], dtype=P.dtype)) - np.einsum("bc,be->bce", P, P)
    H = np.einsum("bci,bce,bej->bij", J, A, J)
    d = n_normalize(D0)
    for k in range(1, 4):
        d = n_normalize(np.einsum("bij,bj->bi", H, d))
        o[f"hvp_d_k{k}"] = d
    Rx = eps_vat * o[f"hvp_d_k{K}"]
    o["r_vadv_exact"] = Rx
    o["lds_exact"] = n_kl(Z, n_forward(W, b, X + Rx, act)[0])
    o["lds_exact_mean"] = o["lds_exact"].mean()
    Zx, _ = n_forward(W, b, X + Rx, act)
    le = pgrad((np.exp(n_log_softmax(Zx)) - P) / B, X + Rx)
    o["lds_exact_grad"] = le
    o["entropy"] = -(P * ls).sum(axis=1)
    o["entropy_mean"] = o["entropy"].mean()
    o["semi_total"] = o["ce_mean"] + lam * o["lds_mean"]
    cg = o["grad"]
    o["semi_grad"] = tuple([u + lam * v for u, v in zip(cg[i], lds_g[i])] for i in range(2))
    o["semi_ent_total"] = o["semi_total"] + o["entropy_mean"]
    # ∂H/∂z_k = −p_k (log p_k + H)
    dent = -P * (ls + o["entropy"][:, None]) / B
    eg = pgrad(dent, X)
    o["semi_ent_grad"] = tuple([u + v for u, v in zip(o["semi_grad"][i], eg[i])] for i in range(2))
    o["_H"] = H
    return o


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def split(P, n_layers):
    W = [np.asarray(P[f"{2 * l}.weight"]) for l in range(n_layers)]
    b = [np.asarray(P[f"{2 * l}.bias"]) for l in range(n_layers)]
    return W, b


def as_dict(gWb, n_layers):
    out = {}
    for l in range(n_layers):
        out[f"{2 * l}.weight"] = gWb[0][l]
        out[f"{2 * l}.bias"] = gWb[1][l]
    return out


def max_rel_err(a, b):
    """max |a−b| / max(|b|_∞, tiny) (relative to the tensor's scale) and elementwise relative."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(np.max(np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


class Checks:
    def __init__(self):
        self.rows = []
        self.failed = []

    def add(self, case, what, err, tol, note=""):
        ok = bool(err <= tol)
        self.rows.append((case, what, err, tol, ok, note))
        if not ok:
            self.failed.append((case, what, err, tol, note))

    def print(self):
        print(f"\n{'case':<26} {'check':<44} {'max err':>10} {'tol':>8}  ok")
        for case, what, err, tol, ok, note in self.rows:
            print(f"{case:<26} {what:<44} {err:10.2e} {tol:8.0e}  {'ok' if ok else 'FAIL'} {note}")


def sig_round(a, digits=OUT_SIG_DIGITS):
    a = np.asarray(a, np.float64)
    if a.ndim == 0:
        return float(f"{float(a):.{digits}g}")
    return np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[np.float64])(a).tolist()


def exact_list(a):
    # values are float32-representable; repr of the float64 round-trips them exactly
    return np.asarray(a, np.float64).tolist()


# ----------------------------------------------------------------------------------------------
# case construction
# ----------------------------------------------------------------------------------------------

def make_case(sizes, batch, seed):
    rng = np.random.default_rng(seed)
    n_layers = len(sizes) - 1
    P = {}
    for l in range(n_layers):
        fan_in, fan_out = sizes[l], sizes[l + 1]
        W = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_out, fan_in))
        # small random nonzero biases (the training init uses b = 0; nonzero here so that bias
        # gradients and shifted kinks are exercised)
        b = rng.uniform(-0.1, 0.1, size=fan_out)
        P[f"{2 * l}.weight"] = W.astype(np.float32).astype(np.float64)
        P[f"{2 * l}.bias"] = b.astype(np.float32).astype(np.float64)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32).astype(np.float64)
    Y = rng.integers(0, sizes[-1], size=batch)
    D0 = rng.normal(size=(batch, sizes[0])).astype(np.float32).astype(np.float64)
    return P, X, Y, D0


def kink_margin(W, b, points, act):
    if act != "relu":
        return float("inf")
    m = np.inf
    for q in points:
        _, (hs, pre) = n_forward(W, b, q, act)
        for a in pre[:-1]:
            m = min(m, float(np.min(np.abs(a))))
    return m


def sign_margin(g):
    return float(np.min(np.abs(g) / np.max(np.abs(g), axis=1, keepdims=True)))


def fd_checks(checks, name, P, X, Y, D0, o, hp, act, n_layers, rng):
    """Central finite differences (float64, numpy forward only) on a few coordinates."""
    W, b = split(P, n_layers)
    B = len(X)
    Z = n_forward(W, b, X, act)[0]
    R = o["r_vadv"]
    xadv = o["fgsm_linf"]

    def ce_mean(Wl, bl, X_):
        return -n_log_softmax(n_forward(Wl, bl, X_, act)[0])[np.arange(B), Y].mean()

    def lds_mean(Wl, bl, R=R):
        return n_kl(Z, n_forward(Wl, bl, X + R, act)[0]).mean()

    def ent_mean(Wl, bl):
        ls = n_log_softmax(n_forward(Wl, bl, X, act)[0])
        return (-(np.exp(ls) * ls).sum(axis=1)).mean()

    losses = {
        "grad": lambda Wl, bl: ce_mean(Wl, bl, X),
        "lds_grad": lds_mean,
        "lds_exact_grad": lambda Wl, bl: lds_mean(Wl, bl, o["r_vadv_exact"]),
        "at_grad": lambda Wl, bl: hp["alpha"] * ce_mean(Wl, bl, X) + (1 - hp["alpha"]) * ce_mean(Wl, bl, xadv),
        "semi_grad": lambda Wl, bl: ce_mean(Wl, bl, X) + hp["lam"] * lds_mean(Wl, bl),
        "semi_ent_grad": lambda Wl, bl: ce_mean(Wl, bl, X) + hp["lam"] * lds_mean(Wl, bl) + ent_mean(Wl, bl),
    }
    for key, L in losses.items():
        worst = 0.0
        for l in range(n_layers):
            for kind in ("weight", "bias"):
                tname = f"{2 * l}.{kind}"
                G = np.asarray(o[key][tname])
                gscale = np.max(np.abs(G))
                coords = [np.unravel_index(np.argmax(np.abs(G)), G.shape)]
                coords += [tuple(rng.integers(0, s) for s in G.shape) for _ in range(3)]
                for c in coords:
                    vals = []
                    for s in (+1, -1):
                        Wl, bl = [w.copy() for w in W], [v.copy() for v in b]
                        (Wl if kind == "weight" else bl)[l][c] += s * FD_H
                        vals.append(L(Wl, bl))
                    fd = (vals[0] - vals[1]) / (2 * FD_H)
                    err = abs(fd - G[c]) / max(abs(G[c]), 1e-2 * gscale, 1e-300)
                    worst = max(worst, err)
        checks.add(name, f"FD vs autodiff: {key} (param coords)", worst, RTOL_FD)
    # input gradient of CE (per sample)
    g = o["input_grad"]
    worst = 0.0
    for i in range(B):
        for j in rng.choice(X.shape[1], size=min(4, X.shape[1]), replace=False):
            vals = []
            for s in (+1, -1):
                Xp = X.copy()
                Xp[i, j] += s * FD_H
                vals.append(-n_log_softmax(n_forward(W, b, Xp[i:i + 1], act)[0])[0, Y[i]])
            fd = (vals[0] - vals[1]) / (2 * FD_H)
            worst = max(worst, abs(fd - g[i, j]) / max(abs(g[i, j]), 1e-2 * np.max(np.abs(g[i])), 1e-300))
    checks.add(name, "FD vs autodiff: input_grad", worst, RTOL_FD)
    # vat_g1 = ∇_r KL at r = xi d0n: FD in r on a few coordinates
    g = o["vat_g1"]
    r0 = hp["xi"] * o["vat_d0_normalized"]
    worst = 0.0
    for i in range(B):
        for j in rng.choice(X.shape[1], size=min(4, X.shape[1]), replace=False):
            vals = []
            for s in (+1, -1, +2, -2):
                r = r0[i:i + 1].copy()
                r[0, j] += s * FD_R
                vals.append(n_kl(Z[i:i + 1], n_forward(W, b, X[i:i + 1] + r, act)[0])[0])
            # 4-point stencil (error O(h^4)): the step must be large against roundoff of an O(xi^2)
            # KL yet the third derivative matters on the scale of xi
            fd = (8 * (vals[0] - vals[1]) - (vals[2] - vals[3])) / (12 * FD_R)
            # relative to the sample's ‖g‖∞: the KL here is O(xi^2) so its FD has roundoff
            # ~1e-16/(2 h xi λ); small coordinates cannot be resolved better than that
            scale = np.max(np.abs(g[i]))
            worst = max(worst, abs(fd - g[i, j]) / max(scale, 1e-300))
    # the KL at r = xi d is O(xi^2): an FD of it is only meaningful for the larger xi
    # (at xi = 1e-6 vat_g1 is still checked against the numpy backprop route)
    if hp["xi"] >= 1e-3:
        checks.add(name, "FD vs autodiff: vat_g1 (r coords)", worst, RTOL_FD)
    # Hessian-vector product: central difference of the (numpy) r-gradient along v at r = 0
    v = o["vat_d0_normalized"]
    Jv = np.einsum("bij,bj->bi", o["_H_jax"], v)
    h = FD_H
    fd = (n_grad_r(W, b, X, Z, h * v, act) - n_grad_r(W, b, X, Z, -h * v, act)) / (2 * h)
    err = max(max_rel_err(fd[i], Jv[i]) for i in range(B))
    checks.add(name, "FD vs jax.hessian: H·d0n", err, RTOL_FD)
    hv = np.asarray(o["_hvp_jvp"])
    checks.add(name, "jvp-of-grad vs jax.hessian: H·d0n", max(max_rel_err(hv[i], Jv[i]) for i in range(B)),
               RTOL_BACKPROP)


def build(arch_index, name, sizes, act, batch, eps_vat):
    n_layers = len(sizes) - 1
    seed = BASE_SEED + 1000 * arch_index
    while True:
        P, X, Y, D0 = make_case(sizes, batch, seed)
        W, b = split(P, n_layers)
        res = {}
        ok = True
        for suffix, xi in XIS:
            hp = dict(HYPER, xi=xi, eps_vat=eps_vat)
            o, H, points, m, pj = jax_case(P, X, Y, D0, xi, eps_vat, hp["eps_fgsm"], hp["alpha"],
                                          hp["power_iterations"], hp["lam"], act, n_layers)
            km = kink_margin(W, b, points, act)
            sm = sign_margin(o["input_grad"])
            if km < MIN_KINK_MARGIN or sm < MIN_SIGN_MARGIN:
                print(f"  {name}: seed {seed} rejected (kink margin {km:.1e}, sign margin {sm:.1e})")
                ok = False
                break
            res[suffix] = (hp, o, H, m, pj, km, sm)
        if ok:
            return seed, P, X, Y, D0, res
        seed += 1


def write_case(case, sizes, act, seed, P, X, Y, D0, hp, outputs, checks_info):
    inputs = {
        "x": exact_list(X), "y": [int(v) for v in Y], "d0": exact_list(D0),
        "eps_fgsm": hp["eps_fgsm"], "alpha": hp["alpha"], "xi": hp["xi"], "eps_vat": hp["eps_vat"],
        "power_iterations": hp["power_iterations"], "lambda": hp["lam"],
    }
    out = {}
    for k, v in outputs.items():
        if k.startswith("_"):
            continue
        if isinstance(v, dict):
            out[k] = {n: sig_round(t) for n, t in v.items()}
        else:
            out[k] = sig_round(v)
    doc = {
        "case": case,
        "sizes": sizes,
        "activation": act,
        "params": {k: exact_list(v) for k, v in P.items()},
        "inputs": inputs,
        "outputs": out,
        "checks": checks_info,
        "generator": {
            "script": "tests/reference/generate.py",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "safetensors": safetensors.__version__,
            "seed": seed,
            "dtype": "float64 from float32-rounded params and inputs",
            "output_significant_digits": OUT_SIG_DIGITS,
        },
    }
    with open(os.path.join(FIXTURES, case + ".json"), "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    with open(os.path.join(FIXTURES, case + ".input.json"), "w") as fh:
        json.dump(inputs, fh, separators=(",", ":"))
        fh.write("\n")
    safetensors.numpy.save_file({k: np.ascontiguousarray(v.astype(np.float32)) for k, v in P.items()},
                                os.path.join(FIXTURES, case + ".safetensors"), metadata={"activation": act})


# ----------------------------------------------------------------------------------------------
# f32 conditioning study of the finite-difference power iteration
# ----------------------------------------------------------------------------------------------

def f32_fd_dirs(W, b, X, D0, xi, act, K=3):
    """float32 emulation of the FD power iteration: directions after k = 1..K."""
    W32, b32 = [w.astype(np.float32) for w in W], [v.astype(np.float32) for v in b]
    X32, d = X.astype(np.float32), n_normalize(D0.astype(np.float32))
    Z32 = n_forward(W32, b32, X32, act)[0]
    out = []
    for _ in range(K):
        d = n_normalize(n_grad_r(W32, b32, X32, Z32, np.float32(xi) * d, act))
        assert d.dtype == np.float32
        out.append(d.astype(np.float64))
    return out


def cosine(u, v):
    nu, nv = np.linalg.norm(u, axis=1), np.linalg.norm(v, axis=1)
    return np.sum(u * v, 1) / np.maximum(nu * nv, 1e-300)


def f32_fd_cos(W, b, X, D0, xi, act, d1, d3):
    e1, _, e3 = f32_fd_dirs(W, b, X, D0, xi, act)
    return {"cos_vat_d_k1_f32_emulated": cosine(e1, d1).tolist(),
            "cos_vat_d_k3_f32_emulated": cosine(e3, d3).tolist()}


def err_metric(a, e):
    """The comparison metric proposed in README.md: scalars |a−e|/|e|; per-sample arrays
    max_i max_j |a_ij − e_ij| / max_j |e_ij| (scale of the sample's row); parameter-gradient
    dicts max |a − e| / max |e| over the whole gradient (all tensors: a batch-mean gradient
    entry can be a cancellation of larger per-sample terms, e.g. the output bias)."""
    if isinstance(e, dict):
        scale = max(np.max(np.abs(np.asarray(v, np.float64))) for v in e.values())
        return max(float(np.max(np.abs(np.asarray(a[k], np.float64) - np.asarray(e[k], np.float64)))) / scale
                   for k in e)
    a, e = np.asarray(a, np.float64), np.asarray(e, np.float64)
    if e.ndim == 0:
        return float(abs(a - e) / max(abs(e), 1e-300))
    if e.ndim == 1:  # per-sample scalars (ce, lds, entropy, eig_max): elementwise relative
        return float(np.max(np.abs(a - e) / np.maximum(np.abs(e), 1e-300)))
    return float(np.max(np.max(np.abs(a - e), axis=1) / np.maximum(np.max(np.abs(e), axis=1), 1e-300)))


def f32_emulation_errors(W, b, X, Y, D0, hp, act, o, n_layers):
    """Run the numpy route entirely in float32 (what an f32 implementation does) and measure
    its error against the float64 reference, per quantity, with err_metric."""
    W32, b32 = [w.astype(np.float32) for w in W], [v.astype(np.float32) for v in b]
    n32 = n_case(W32, b32, X.astype(np.float32), Y, D0.astype(np.float32), hp["xi"], hp["eps_vat"],
                 hp["eps_fgsm"], hp["alpha"], hp["power_iterations"], hp["lam"], act)
    assert n32["logits"].dtype == np.float32 and n32["semi_ent_grad"][0][0].dtype == np.float32
    errs = {}
    for k, v in n32.items():
        if k.startswith("_") or k not in o:
            continue
        if isinstance(v, tuple):
            v = as_dict(v, n_layers)
        errs[k] = err_metric(v, o[k])
    # the same, but with LDS and its gradients evaluated at the reference r_vadv (rounded to f32):
    # isolates the error of the LDS stage from the (ill-conditioned) FD direction
    n32r = n_case(W32, b32, X.astype(np.float32), Y, D0.astype(np.float32), hp["xi"], hp["eps_vat"],
                  hp["eps_fgsm"], hp["alpha"], hp["power_iterations"], hp["lam"], act,
                  R_given=np.asarray(o["r_vadv"]).astype(np.float32))
    for k in ["lds", "lds_mean", "lds_grad", "semi_total", "semi_grad", "semi_ent_total", "semi_ent_grad"]:
        v = n32r[k]
        errs[k + "@ref_r"] = err_metric(as_dict(v, n_layers) if isinstance(v, tuple) else v, o[k])
    return errs


def f32_fd_study(name, sizes, act, P, n_samples=256, seed=7, xis=(1e-6, 1e-4, 1e-3, 1e-2)):
    n_layers = len(sizes) - 1
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, sizes[0])).astype(np.float32).astype(np.float64)
    D0 = rng.normal(size=(n_samples, sizes[0])).astype(np.float32).astype(np.float64)
    W, b = split(P, n_layers)
    Z = n_forward(W, b, X, act)[0]
    J = n_jacobian(W, b, X, act)
    Pr = np.exp(n_log_softmax(Z))
    A = np.einsum("bc,ce->bce", Pr, np.eye(Pr.shape[1])) - np.einsum("bc,be->bce", Pr, Pr)
    H = np.einsum("bci,bce,bej->bij", J, A, J)
    exact = n_normalize(np.einsum("bij,bj->bi", H, n_normalize(D0)))
    rows = []
    cos = cosine
    for xi in xis:
        d64 = n_normalize(n_grad_r(W, b, X, Z, xi * n_normalize(D0), act))
        d32 = f32_fd_dirs(W, b, X, D0, xi, act, K=1)[0]
        c = cos(d32, d64)
        ce = cos(d64, exact)
        c3 = cos(d32, exact)
        rows.append(dict(xi=xi, n=n_samples,
                         cos_f32_f64_min=float(c.min()), cos_f32_f64_p10=float(np.percentile(c, 10)),
                         cos_f32_f64_median=float(np.median(c)), cos_f32_f64_mean=float(c.mean()),
                         frac_f32_f64_ge_0_99=float(np.mean(c >= 0.99)),
                         frac_f32_zero_direction=float(np.mean(np.all(d32 == 0, axis=1))),
                         cos_f64_exact_min=float(ce.min()), cos_f64_exact_median=float(np.median(ce)),
                         cos_f32_exact_min=float(c3.min()), cos_f32_exact_median=float(np.median(c3))))
    return rows


# ----------------------------------------------------------------------------------------------

def main():
    os.makedirs(FIXTURES, exist_ok=True)
    checks = Checks()
    study = {}
    emu = {}
    for ai, (name, sizes, act, batch, eps_vat) in enumerate(ARCHS):
        n_layers = len(sizes) - 1
        seed, P, X, Y, D0, res = build(ai, name, sizes, act, batch, eps_vat)
        W, b = split(P, n_layers)
        crng = np.random.default_rng(seed + 1)
        for suffix, xi in XIS:
            case = f"{name}_{suffix}"
            hp, o, H, m, pj, km, sm = res[suffix]
            no = n_case(W, b, X, Y, D0, xi, eps_vat, hp["eps_fgsm"], hp["alpha"], hp["power_iterations"],
                        hp["lam"], act)
            worst_key, worst = None, 0.0
            for k, v in no.items():
                if k == "_H" or k not in o:
                    continue
                if isinstance(v, tuple):
                    v = as_dict(v, n_layers)
                    errs = [max_rel_err(v[t], o[k][t]) for t in v]
                    e = max(errs)
                else:
                    # per-sample relative error for [B][..] arrays, global for scalars
                    a, r = np.asarray(v), np.asarray(o[k])
                    if a.ndim == 2:
                        e = max(max_rel_err(a[i], r[i]) for i in range(len(a)))
                    else:
                        e = max_rel_err(a, r)
                if e > RTOL_BACKPROP:
                    checks.add(case, f"numpy backprop vs jax: {k}", e, RTOL_BACKPROP)
                if e >= worst:
                    worst_key, worst = k, e
            checks.add(case, f"numpy vs jax: all {sum(k in o for k in no)} quantities", worst, RTOL_BACKPROP,
                       f"(worst: {worst_key})")
            checks.add(case, "numpy Jᵀ(diag p−ppᵀ)J vs jax.hessian",
                       max(max_rel_err(no["_H"][i], H[i]) for i in range(len(X))), RTOL_BACKPROP)
            # top eigenvector is a fixed point of the exact power iteration
            v = o["eig_top"]
            Hv = np.einsum("bij,bj->bi", H, v)
            checks.add(case, "H·eig_top = eig_max·eig_top",
                       max(max_rel_err(Hv[i], o["eig_max"][i] * v[i]) for i in range(len(X))), 1e-9)
            o["_H_jax"] = H
            o["_hvp_jvp"] = m.hvp(pj, jnp.asarray(X), jnp.asarray(o["logits"]), jnp.asarray(o["vat_d0_normalized"]))
            fd_checks(checks, case, P, X, Y, D0, o, hp, act, n_layers, crng)
            # sanity: LDS ≥ 0, lds_exact ≈ ½ ε² λ_max for small ε (only reported)
            assert np.all(o["lds"] >= 0) and np.all(o["lds_exact"] >= 0), case
            info = {
                "min_abs_relu_preactivation": km if np.isfinite(km) else None,
                "min_rel_abs_input_grad": sm,
                "cos_vat_d_k1_vs_hvp_d_k1_min": float(np.min(np.sum(o["vat_d_k1"] * o["hvp_d_k1"], 1) / (
                    np.linalg.norm(o["vat_d_k1"], axis=1) * np.linalg.norm(o["hvp_d_k1"], axis=1)))),
                "abs_cos_hvp_d_k3_vs_eig_top_min": float(np.min(np.abs(np.sum(o["hvp_d_k3"] * o["eig_top"], 1)) / (
                    np.linalg.norm(o["hvp_d_k3"], axis=1)))),
                "numpy_vs_jax_max_rel_err": worst,
            }
            c32 = f32_fd_cos(W, b, X, D0, xi, act, o["vat_d_k1"], o["vat_d_k3"])
            info.update(c32)
            info["min_one_minus_max_softmax"] = float(np.min(1 - np.max(o["softmax"], axis=1)))
            info["f32_emulation_err"] = f32_emulation_errors(W, b, X, Y, D0, hp, act, o, n_layers)
            emu[case] = info["f32_emulation_err"]
            # lds_exact_grad is computed and cross-checked (and reported by the f32 emulation) but not
            # written: it would add ~0.6 MB and lds_grad evaluated at the reference r_vadv covers that path
            out = {k: v for k, v in o.items() if not k.startswith("_") and k != "lds_exact_grad"}
            if not EIG_ALL and sizes[0] not in (2, 100):
                out.pop("eig_top"), out.pop("eig_max")
            write_case(case, sizes, act, seed, P, X, Y, D0, hp, out, info)
            # relative eigengap (λ1 − λ2)/λ1 of H per sample (printed only): the exact power iteration
            # the Rust test runs to convergence for eig_top needs it bounded away from 0
            ev = np.linalg.eigvalsh(H)
            gap = float(np.min((ev[:, -1] - ev[:, -2]) / ev[:, -1]))
            print(f"wrote {case}: seed {seed}, kink margin {km:.2e}, sign margin {sm:.2e}, "
                  f"cos(FD,exact) min {info['cos_vat_d_k1_vs_hvp_d_k1_min']:.9f}, rel. eigengap min {gap:.3f}")
        study[name] = f32_fd_study(name, sizes, act, P)
    checks.print()
    print("\nf32-emulated vs f64 finite-difference VAT direction (K=1), 256 fresh samples per model:")
    print(f"{'model':<16} {'xi':>7} | {'cos(f32,f64): min':>17} {'p10':>10} {'median':>10} {'>=0.99':>7} "
          f"{'g==0':>6} | {'cos(f64,exact): min':>19} {'median':>12} | {'cos(f32,exact): median':>22}")
    for name, rows in study.items():
        for r in rows:
            print(f"{name:<16} {r['xi']:7.0e} | {r['cos_f32_f64_min']:17.6f} {r['cos_f32_f64_p10']:10.6f} "
                  f"{r['cos_f32_f64_median']:10.7f} {r['frac_f32_f64_ge_0_99']:7.3f} "
                  f"{r['frac_f32_zero_direction']:6.3f} | {r['cos_f64_exact_min']:19.9f} "
                  f"{r['cos_f64_exact_median']:12.9f} | {r['cos_f32_exact_median']:22.7f}")
    print("\nfloat32 emulation (numpy route in float32) vs the float64 reference, err_metric per quantity:")
    cases = list(emu)
    short = [c.replace('_xi', ' ').replace('relu_', 'r').replace('tanh_', 't') for c in cases]
    w = max(15, 1 + max(len(c) for c in short))
    print(f"{'quantity':<18}" + "".join(f"{c:>{w}}" for c in short))
    for k in emu[cases[0]]:
        print(f"{k:<18}" + "".join(f"{emu[c][k]:{w}.1e}" for c in cases))
    with open(os.path.join(FIXTURES, "fd_conditioning.json"), "w") as fh:
        json.dump(study, fh, indent=1)
        fh.write("\n")
    total = sum(os.path.getsize(os.path.join(FIXTURES, f)) for f in os.listdir(FIXTURES))
    print(f"\nfixtures total size: {total / 1e6:.2f} MB")
    if checks.failed:
        print("\nCROSS-CHECK FAILURES:")
        for f in checks.failed:
            print("  ", f)
        sys.exit(1)
    print("all cross-checks passed")


if __name__ == "__main__":
    main()
