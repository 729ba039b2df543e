#!/usr/bin/env python3
"""PyTorch-eager and plain-numpy peers of vatic's criterion benchmark (core/benches/steps.rs).

Same rows, same nets, same batches, f32, one thread each. Per-step time in microseconds.

    python3 bench/peers.py                     # both peers, JSON on stdout
    python3 bench/peers.py --out peers.json    # JSON to a file (a summary table goes to stderr)
    python3 bench/peers.py --peers numpy       # one peer only
    python3 bench/peers.py --check             # numerics: torch and numpy agree on the same weights

Rows (keys match criterion's ids "step/<row>/<IN>-<H>-<OUT>/b<B>" without the "step/" prefix):

* forward   -- logits of the batch (torch: under torch.no_grad()).
* ce        -- zero grad, mean cross-entropy, backward, momentum SGD step (lr 1e-3, momentum 0.9).
* fgsm_at   -- x_adv = x + 0.1 * sign(grad_x CE) from a separate input-only backward, then
               loss 0.5 CE(x) + 0.5 CE(x_adv) (x_adv a constant), backward, SGD step. The clean
               forward is shared by the attack and the loss, as vatic's adversarial_grad does.
* vat_fd    -- semi-supervised VAT step with the batch as both the labelled and the unlabelled
               batch (as steps.rs does): CE(x, y) + mean_i LDS(x_i); K = 1 power iteration,
               d ~ N(0, I) drawn each step, finite difference xi = 1e-6, eps = 1.0, per-sample
               normalisation of ALGORITHMS.md section 4, KL(p || q) with the clean side
               detached, SGD step. The labelled forward (for CE) and the unlabelled clean forward
               (for p) are separate passes, as in vatic's semi_supervised_grad.
* vat_exact -- the same, but the power-iteration direction is the exact Hessian-vector product
               H d with H = J^T (diag p - p p^T) J at the clean x (torch: J d by the
               double-backward jvp trick, then a vjp, on one clean forward; numpy: a forward-mode tangent pass and a backprop to the input).

Threads: OPENBLAS/OMP/MKL_NUM_THREADS=1 are set here before numpy (or torch) is imported, and
torch.set_num_threads(1), torch.set_num_interop_threads(1).

OPENBLAS_CORETYPE: on some hosts of this workplace the environment sets OPENBLAS_CORETYPE (and
OPENBLAS_L2_SIZE) because old OpenBLAS builds misbehave on those CPUs. It can slow a current numpy.
This script leaves both as they are; it records them in "meta" and, when threadpoolctl is
installed (`pip install threadpoolctl`), the BLAS library and the kernel ("architecture") that
numpy actually runs, so a reader can tell which kernel the numpy column measured.

Timing: time.perf_counter; warm-up first, then several runs of n steps each (n calibrated so one
run lasts about --target-ms), the median over the runs of the per-step mean. The 784-1200-10 rows
use fewer runs/steps to keep the whole script within a few minutes on 2 shared cores.
"""

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import warnings  # noqa: E402

import numpy as np  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)  # torch.func's torch.jit notice

# (IN, H, OUT, B) as in core/benches/steps.rs
SHAPES = [
    (2, 100, 2, 32),
    (2, 100, 2, 128),
    (100, 100, 2, 16),
    (64, 128, 10, 128),
    (784, 1200, 10, 128),
]
ROWS = ["forward", "ce", "fgsm_at", "vat_fd", "vat_exact"]
LR, MOMENTUM = 1e-3, 0.9
FGSM_EPS = 0.1
VAT_EPS, VAT_XI = 1.0, 1e-6


def key(row, shape):
    i, h, o, b = shape
    return f"{row}/{i}-{h}-{o}/b{b}"


def init_params(shape, seed=1):
    """W ~ N(0, 1/fan_in), b = 0 (ALGORITHMS.md section 1); inputs x ~ N(0, 1), y = i % OUT."""
    i, h, o, b = shape
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((h, i)) / np.sqrt(i)).astype(np.float32)
    w2 = (rng.standard_normal((o, h)) / np.sqrt(h)).astype(np.float32)
    b1 = np.zeros(h, np.float32)
    b2 = np.zeros(o, np.float32)
    x = rng.standard_normal((b, i)).astype(np.float32)
    y = np.arange(b) % o
    return [w1, b1, w2, b2], x, y


# --------------------------------------------------------------------------------------------
# numpy peer: manual forward/backward with batched GEMMs (what a numpy user writes).
# Weights in PyTorch's layout: W1 (H, IN), W2 (OUT, H); a batch is (B, IN).


def np_normalize(d):
    """vat_tf get_normalized_vector, per sample (row)."""
    d = d / (np.float32(1e-12) + np.abs(d).max(axis=1, keepdims=True))
    return d / np.sqrt(np.float32(1e-6) + (d * d).sum(axis=1, keepdims=True))


def np_log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


class NumpyPeer:
    def __init__(self, params, x, y, seed=2):
        self.w1, self.b1, self.w2, self.b2 = [p.copy() for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.x, self.y = x, y
        self.rows = np.arange(len(y))
        self.rng = np.random.default_rng(seed)
        self.grads = None

    def params(self):
        return [self.w1, self.b1, self.w2, self.b2]

    def fwd(self, x):
        a = x @ self.w1.T
        a += self.b1
        h = np.maximum(a, np.float32(0))
        z = h @ self.w2.T
        z += self.b2
        return a, h, z

    def back_params(self, x, a, h, dz):
        """Parameter gradients for the logits gradient dz (already scaled)."""
        gw2 = dz.T @ h
        gb2 = dz.sum(axis=0)
        da = dz @ self.w2
        da *= a > 0
        gw1 = da.T @ x
        gb1 = da.sum(axis=0)
        return [gw1, gb1, gw2, gb2]

    def back_input(self, a, dz):
        da = dz @ self.w2
        da *= a > 0
        return da @ self.w1

    def ce_dz(self, z, y):
        """Mean CE and its logits gradient (scaled by 1/B)."""
        logp = np_log_softmax(z)
        ce = -logp[self.rows, y].mean()
        dz = np.exp(logp)
        dz[self.rows, y] -= 1
        dz /= np.float32(len(y))
        return ce, dz

    def sgd(self, grads):
        self.grads = grads
        for p, g, v in zip(self.params(), grads, self.v):
            v *= np.float32(MOMENTUM)
            v += g
            p -= np.float32(LR) * v

    @staticmethod
    def add(gs, hs):
        for g, h in zip(gs, hs):
            g += h
        return gs

    # rows ---------------------------------------------------------------------------------
    def forward(self):
        return self.fwd(self.x)[2]

    def ce(self):
        a, h, z = self.fwd(self.x)
        loss, dz = self.ce_dz(z, self.y)
        self.sgd(self.back_params(self.x, a, h, dz))
        return loss

    def fgsm_at(self):
        x, y = self.x, self.y
        a, h, z = self.fwd(x)
        ce, dz = self.ce_dz(z, y)
        gx = self.back_input(a, dz)  # the sign is all we need: the 1/B scale is harmless
        x_adv = x + np.float32(FGSM_EPS) * np.sign(gx)
        a2, h2, z2 = self.fwd(x_adv)
        ce2, dz2 = self.ce_dz(z2, y)
        dz *= np.float32(0.5)
        dz2 *= np.float32(0.5)
        g = self.add(self.back_params(x, a, h, dz), self.back_params(x_adv, a2, h2, dz2))
        self.sgd(g)
        return 0.5 * ce + 0.5 * ce2

    def _vat(self, exact, d0=None, xi=VAT_XI):
        x, y = self.x, self.y
        # labelled part: CE(x, y)
        a, h, z = self.fwd(x)
        ce, dz = self.ce_dz(z, y)
        g = self.back_params(x, a, h, dz)
        # unlabelled part: clean forward, p treated as a constant
        ac, _, zc = self.fwd(x)
        logp = np_log_softmax(zc)
        p = np.exp(logp)
        d = self.rng.standard_normal(x.shape, dtype=np.float32) if d0 is None else d0
        d = np_normalize(d)
        if exact:
            # tangent pass: J d, then (diag p - p p^T) J d, then J^T (...) by backprop
            ta = d @ self.w1.T
            ta *= ac > 0
            tz = ta @ self.w2.T
            u = p * tz
            u -= p * u.sum(axis=1, keepdims=True)
            gd = self.back_input(ac, u)
        else:
            # grad_r KL(p || q(x + r)) at r = xi d: backprop q - p from the logits
            xr = x + np.float32(xi) * d
            ar, _, zr = self.fwd(xr)
            q = np.exp(np_log_softmax(zr))
            gd = self.back_input(ar, q - p)
        d = np_normalize(gd)
        xa = x + np.float32(VAT_EPS) * d
        aa, ha, za = self.fwd(xa)
        logq = np_log_softmax(za)
        lds = (p * (logp - logq)).sum(axis=1).mean()
        dza = (np.exp(logq) - p) / np.float32(len(y))
        self.add(g, self.back_params(xa, aa, ha, dza))
        self.sgd(g)
        self.direction = d
        return ce + lds

    def vat_fd(self, d0=None, xi=VAT_XI):
        return self._vat(False, d0, xi)

    def vat_exact(self, d0=None):
        return self._vat(True, d0)


# --------------------------------------------------------------------------------------------
# PyTorch eager peer: nn.Sequential(Linear, ReLU, Linear), torch.optim.SGD, autograd.


def make_torch_peer(torch, params, x, y, seed=2):
    nn = torch.nn
    F = torch.nn.functional

    def t_normalize(d):
        d = d / (1e-12 + d.abs().amax(dim=1, keepdim=True))
        return d / torch.sqrt(1e-6 + (d * d).sum(dim=1, keepdim=True))

    def kl(logp, zq):
        """KL(p || q) per batch mean, p = exp(logp) constant."""
        return (logp.exp() * (logp - F.log_softmax(zq, dim=1))).sum(dim=1).mean()

    class TorchPeer:
        def __init__(self):
            i, h, o = params[0].shape[1], params[0].shape[0], params[2].shape[0]
            self.model = nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))
            if params[0].dtype == np.float64:  # the numerics check runs some rows in f64
                self.model.double()
            with torch.no_grad():
                for p, v in zip(self.model.parameters(), params):
                    p.copy_(torch.from_numpy(v))
            self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
            self.x = torch.from_numpy(x.copy())
            self.y = torch.from_numpy(y.astype(np.int64))
            self.gen = torch.Generator().manual_seed(seed)

        def params(self):
            return [p.detach().numpy() for p in self.model.parameters()]

        def grads(self):
            return [p.grad.detach().numpy() for p in self.model.parameters()]

        def forward(self):
            with torch.no_grad():
                return self.model(self.x)

        def ce(self):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(self.x), self.y)
            loss.backward()
            self.opt.step()
            return loss

        def fgsm_at(self):
            self.opt.zero_grad()
            x = self.x.clone().requires_grad_()
            ce = F.cross_entropy(self.model(x), self.y)
            (gx,) = torch.autograd.grad(ce, x, retain_graph=True)
            x_adv = (self.x + FGSM_EPS * gx.sign()).detach()
            loss = 0.5 * ce + 0.5 * F.cross_entropy(self.model(x_adv), self.y)
            loss.backward()
            self.opt.step()
            return loss

        def _d0(self, d0):
            if d0 is None:
                return torch.randn(self.x.shape, generator=self.gen)
            return torch.from_numpy(d0)

        def vat_fd(self, d0=None, xi=VAT_XI):
            self.opt.zero_grad()
            x = self.x
            ce = F.cross_entropy(self.model(x), self.y)
            with torch.no_grad():
                logp = F.log_softmax(self.model(x), dim=1)
            d = t_normalize(self._d0(d0))
            r = (xi * d).requires_grad_()
            (g,) = torch.autograd.grad(kl(logp, self.model(x + r)), r)
            d = t_normalize(g)
            lds = kl(logp, self.model(x + VAT_EPS * d))
            loss = ce + lds
            loss.backward()
            self.opt.step()
            self.direction = d
            return loss

        def vat_exact(self, d0=None):
            self.opt.zero_grad()
            x = self.x
            ce = F.cross_entropy(self.model(x), self.y)
            d = t_normalize(self._d0(d0))
            # One clean forward with a graph to the input serves both products: J d by the
            # double-backward trick (what torch.autograd.functional.jvp does), then
            # J^T (diag p - p p^T) J d by a vjp. On 2 cores this was 1.5-4x faster than
            # torch.func.vjp + torch.func.jvp (functorch's per-call overhead, and jvp repeats
            # the primal forward) and than the double backward of KL at r = 0.
            xr = x.detach().requires_grad_()
            z = self.model(xr)
            v = torch.zeros_like(z, requires_grad=True)
            (jtv,) = torch.autograd.grad(z, xr, grad_outputs=v, create_graph=True)
            (tz,) = torch.autograd.grad(jtv, v, grad_outputs=d)
            logp = F.log_softmax(z.detach(), dim=1)
            p = logp.exp()
            u = p * tz
            u = u - p * u.sum(dim=1, keepdim=True)
            (g,) = torch.autograd.grad(z, xr, grad_outputs=u)
            d = t_normalize(g)
            lds = kl(logp, self.model(x + VAT_EPS * d))
            loss = ce + lds
            loss.backward()
            self.opt.step()
            self.direction = d
            return loss

    return TorchPeer()


# --------------------------------------------------------------------------------------------
# timing


def time_step(fn, target_s, runs, max_reps):
    """Per-step time in us: (median over runs, fastest run, median CPU time, steps per run).

    Wall time (time.perf_counter) is what criterion measures and is the figure to compare. The
    process's CPU time (time.process_time) is recorded as well: on a shared machine a loaded CPU
    inflates the wall time of every side, while one thread's CPU time is much less affected.
    """
    for _ in range(2):
        fn()  # warm-up (allocator, autograd caches, BLAS buffers)
    one = float("inf")
    for _ in range(3):  # calibration, after the warm-up: the fastest of 3 steps
        t0 = time.perf_counter()
        fn()
        one = min(one, time.perf_counter() - t0)
    reps = max(1, min(max_reps, int(target_s / max(one, 1e-9))))
    per, cpu = [], []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        per.append((time.perf_counter() - t0) / reps)
        cpu.append((time.process_time() - c0) / reps)
    return (statistics.median(per) * 1e6, min(per) * 1e6, statistics.median(cpu) * 1e6, reps)


def meta(torch):
    m = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu": None,
        "threads": {v: os.environ.get(v) for v in
                    ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "env": {v: os.environ.get(v) for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "timing": "time.perf_counter, median over runs of the per-step mean, after warm-up;"
                  " rows_min: the fastest run; rows_cpu: median process CPU time (time.process_time)",
    }
    try:
        m["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    m["nproc"] = os.cpu_count()
    try:
        import threadpoolctl

        m["threadpoolctl"] = [
            {k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                    "threading_layer", "filepath")}
            for i in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        m["threadpoolctl"] = "not installed (pip install threadpoolctl)"
    if torch is not None:
        m["torch"] = torch.__version__
        m["torch_threads"] = torch.get_num_threads()
        m["torch_interop_threads"] = torch.get_num_interop_threads()
        try:
            m["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        except AttributeError:
            pass
    return m


def import_torch():
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    return torch


# --------------------------------------------------------------------------------------------
# numerics check: same weights, inputs and start directions -> same losses and gradients


def check(torch, shapes, tol=1e-4):
    ok = True

    def rel(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))

    def cos(a, b):
        a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-300))

    for shape in shapes:
        params, x, y = init_params(shape)
        d0 = np.random.default_rng(7).standard_normal(x.shape).astype(np.float32)
        cases = [
            ("forward", lambda p: p.forward(), False),
            ("ce", lambda p: p.ce(), True),
            ("fgsm_at", lambda p: p.fgsm_at(), True),
            ("vat_fd", lambda p: p.vat_fd(d0=d0), True),
            ("vat_fd(f64)", lambda p: p.vat_fd(d0=d0), True),
            ("vat_exact", lambda p: p.vat_exact(d0=d0), True),
        ]
        for name, f, has_grad in cases:
            if name.endswith("(f64)"):
                p64 = [p.astype(np.float64) for p in params]
                x64, dd = x.astype(np.float64), d0.astype(np.float64)
                tp = make_torch_peer(torch, p64, x64, y)
                npp = NumpyPeer(p64, x64, y)
                lt, ln = tp.vat_fd(d0=dd).detach().numpy(), npp.vat_fd(d0=dd)
            else:
                tp = make_torch_peer(torch, params, x, y)
                npp = NumpyPeer(params, x, y)
                lt, ln = f(tp).detach().numpy(), f(npp)
            msg = f"{key(name, shape):32s}"
            if has_grad:
                dl = abs(float(lt) - float(ln))
                gr = max(rel(gn, gt) for gn, gt in zip(npp.grads, tp.grads()))
                pr = max(rel(pn, pt) for pn, pt in zip(npp.params(), tp.params()))
                msg += f" loss torch {float(lt):.7f} numpy {float(ln):.7f} |diff| {dl:.1e}"
                msg += f"  grad rel {gr:.1e}  params-after-step rel {pr:.1e}"
                bad = dl > tol * max(1.0, abs(float(lt))) or pr > tol
                if name.startswith("vat"):
                    c = cos(tp.direction.detach().numpy(), npp.direction)
                    msg += f"  direction cos {c:.6f}"
                # xi = 1e-6 in f32: q - p at x + xi d is mostly rounding noise of each library's
                # own summation order, so the two directions (and LDS) differ: info only. The
                # same step in f64 (where the finite difference is meaningful) must agree.
                if name == "vat_fd":
                    bad, msg = False, msg + "  (info only: f32 finite difference at xi=1e-6)"
            else:
                dl = float(np.abs(lt - ln).max())
                msg += f" logits max |diff| {dl:.1e}"
                bad = dl > tol * max(1.0, float(np.abs(lt).max()))
            ok &= not bad
            print(("FAIL " if bad else "ok   ") + msg, file=sys.stderr)
    return ok


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", default="torch,numpy", help="comma list: torch,numpy")
    ap.add_argument("--rows", default=",".join(ROWS), help="comma list of rows")
    ap.add_argument("--shapes", default=None,
                    help="comma list of IN-H-OUT/bB, e.g. 2-100-2/b32 (default: all five)")
    ap.add_argument("--out", default=None, help="write the JSON here instead of stdout")
    ap.add_argument("--target-ms", type=float, default=60.0, help="length of one timed run")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per row (median)")
    ap.add_argument("--big-runs", type=int, default=3, help="timed runs per 784-1200-10 row")
    ap.add_argument("--big-max-reps", type=int, default=4, help="steps per run, 784-1200-10")
    ap.add_argument("--check", action="store_true", help="numerics check only, no timing")
    a = ap.parse_args()

    peers = [p for p in a.peers.split(",") if p]
    rows = [r for r in a.rows.split(",") if r]
    shapes = SHAPES
    if a.shapes:
        want = set(a.shapes.split(","))
        shapes = [s for s in SHAPES if key("", s)[1:] in want]
    torch = import_torch() if ("torch" in peers or a.check) else None

    if a.check:
        sys.exit(0 if check(torch, shapes) else 1)

    out = {"meta": meta(torch), "rows": {}, "rows_min": {}, "rows_cpu": {}}
    for peer in peers:
        res = out["rows"].setdefault(peer, {})
        res_min = out["rows_min"].setdefault(peer, {})
        res_cpu = out["rows_cpu"].setdefault(peer, {})
        for shape in shapes:
            params, x, y = init_params(shape)
            obj = (make_torch_peer(torch, params, x, y) if peer == "torch"
                   else NumpyPeer(params, x, y))
            big = shape[0] * shape[1] > 100_000
            for row in rows:
                us, us_min, us_cpu, reps = time_step(getattr(obj, row), a.target_ms / 1e3,
                                     a.big_runs if big else a.runs,
                                     a.big_max_reps if big else 1_000_000)
                res[key(row, shape)] = round(us, 2)
                res_min[key(row, shape)] = round(us_min, 2)
                res_cpu[key(row, shape)] = round(us_cpu, 2)
                print(f"{peer:6s} {key(row, shape):26s} {us:12.1f} us  (min {us_min:.1f}, "
                      f"cpu {us_cpu:.1f}, {reps} steps/run)",
                      file=sys.stderr, flush=True)
    try:
        out["meta"]["loadavg_at_end"] = os.getloadavg()
    except OSError:
        pass
    text = json.dumps(out, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
