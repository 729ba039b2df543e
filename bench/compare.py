#!/usr/bin/env python3
"""vatic (criterion) next to its PyTorch and numpy peers, in one run on one machine.

    python3 bench/compare.py                                   # cargo bench + peers + table
    python3 bench/compare.py -- --warm-up-time 1 --measurement-time 3   # args after -- go to criterion
    python3 bench/compare.py --no-cargo                        # reuse target/criterion's last results
    python3 bench/compare.py --no-peers                        # vatic only
    python3 bench/compare.py --peers-json peers.json           # reuse a saved peers.py output
    python3 bench/compare.py --peers-stat min                  # peers' fastest run (loaded box)
    python3 bench/compare.py --portable                        # vatic without run-time dispatch
    python3 bench/compare.py --native                          # vatic built for this CPU (AVX)

Steps: `cargo bench -p vatic --features dispatch --bench steps [-- ARGS]`, then
`python3 bench/peers.py --out FILE`,
then a markdown table on stdout: row, net/batch, vatic us, torch us, numpy us, and the ratios
torch/vatic and numpy/vatic (> 1: vatic is faster), plus the GFLOP/s of each side on 784-1200-10.

vatic is benchmarked as the `host` package builds it, with core's `dispatch` feature: the batch
kernels pick their instruction set at run time (AVX2 on an x86-64 CPU that has it, as PyTorch
and numpy pick theirs; VATIC_DISPATCH=portable in the environment turns it off). --portable builds without it (SSE2 on
x86-64, what a `no_std` user of core gets); --native builds with RUSTFLAGS="-C target-cpu=native"
into target/native (so the other build is left alone) and reads its results from there. Every
build computes the same bits (vatic never fuses multiply-adds and fixes its summation order);
only the instructions change.

Criterion's results: criterion writes BenchmarkId("ce", "2-100-2/b32") of the group "step" to
target/criterion/step/ce/2-100-2_b32/new/ ('/' in the parameter becomes '_' in the directory
name). This script does not rely on that: it reads every */new/benchmark.json under
target/criterion/step and takes the id from its "full_id" ("step/ce/2-100-2/b32"), and the time
from estimates.json's median point estimate (ns). CARGO_TARGET_DIR is honoured.

Multiply-add count of one step (analytic, dense layers only), for a net IN-H-OUT and batch B,
with P = IN*H + H*OUT the multiply-adds of one forward pass of one sample:
* forward    B * P
* ce         B * (2P + H*OUT)        forward P; dW1, dW2 outer products P; dh = W2^T dz H*OUT
                                     (the input gradient W1^T da is not needed)
* fgsm_at    B * (5P + H*OUT)        clean forward P; input backprop P (dh H*OUT + dx IN*H);
                                     clean dW P; forward of x_adv P; its dh H*OUT and dW P
* vat_fd     B * (7P + 2*H*OUT)      CE part 2P + H*OUT; VAT: clean forward P, forward at
                                     x + xi d P, backprop to the input P, forward at
                                     x + eps d P, its dh H*OUT and dW P
* vat_exact  B * (7P + 2*H*OUT)      as vat_fd with the forward at x + xi d replaced by the
                                     tangent pass J d (P)
plus 2 * (P + H + OUT) for the momentum-SGD update (v = m v + g; w -= lr v) in every training
row. Biases, ReLU, softmax, the normalisation and the RNG are O(B*(H + IN + OUT)) and not counted.
GFLOP/s = 2 * multiply-adds / time. The same count is used for every side: it is the work of the
algorithm, not what a library happens to execute (torch's jvp, for one, repeats the primal
forward, which is not counted).

Peak: --peak-gflops, or an estimate printed from /proc/cpuinfo's MHz. vatic never fuses, so the
peak that bounds it is the FMA-free one: vector multiplies and adds issued as separate
instructions, lanes x (FP multiply/add ports) per cycle. AVX2 (8 lanes): Intel Golden Cove
(Sapphire/Emerald Rapids, Alder Lake P) has three 256-bit ports that take them (p0, p1 multiply,
p1, p5 add) -> 24 flop/cycle; AMD Zen 2-5 two multiply and two add pipes -> 32 flop/cycle (with
FMA both would be 32). With AVX-512 the core's peak is 16 lanes x 2 ports = 32 flop/cycle on
both (Intel fuses p0+p1 for 512-bit work and adds p5; Zen 4 double-pumps), and that is the peak
the estimate takes when /proc/cpuinfo lists avx512f, even though vatic dispatches 256-bit lanes
(AVX-512 measured no faster for its tiles): the bar is the core's, not vatic's chosen width.
Otherwise 24 on GenuineIntel, 32 elsewhere, times the reported clock; that clock is the nominal
one under a hypervisor, so the estimate is rough.

Targets (issue #14), in the "target" column of the main table: 2-100-2 (b32, b128) training rows
>= 20x PyTorch and >= 5x numpy, `forward` >= 5x numpy; 100-100-2 b16, 64-128-10 b128 and
784-1200-10 b128 rows >= 50 % of the peak, and 64-128-10 training rows faster than numpy.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHAPES = [(2, 100, 2, 32), (2, 100, 2, 128), (100, 100, 2, 16), (64, 128, 10, 128),
          (784, 1200, 10, 128)]
ROWS = ["forward", "ce", "fgsm_at", "vat_fd", "vat_exact"]


def key(row, s):
    return f"{row}/{s[0]}-{s[1]}-{s[2]}/b{s[3]}"


def macs(row, s):
    i, h, o, b = s
    p = i * h + h * o
    per_sample = {"forward": p, "ce": 2 * p + h * o, "fgsm_at": 5 * p + h * o,
                  "vat_fd": 7 * p + 2 * h * o, "vat_exact": 7 * p + 2 * h * o}[row]
    sgd = 0 if row == "forward" else 2 * (p + h + o)
    return b * per_sample + sgd


def criterion_results(target):
    out = {}
    base = target / "criterion" / "step"
    for bj in base.glob("*/*/new/benchmark.json"):
        meta = json.loads(bj.read_text())
        full = meta.get("full_id", "")
        if not full.startswith("step/"):
            continue
        est = json.loads((bj.parent / "estimates.json").read_text())
        out[full[len("step/"):]] = est["median"]["point_estimate"] / 1e3  # ns -> us
    return out


def fmt_us(v):
    if v is None:
        return "—"
    return f"{v:,.1f}" if v < 10_000 else f"{v:,.0f}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def cpu_info():
    """Model name, reported MHz, vendor, and the FMA-free f32 flop per cycle (the docstring)."""
    name, mhz, vendor, avx512 = None, None, None, False
    try:
        for line in open("/proc/cpuinfo"):
            if name is None and line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            if mhz is None and line.startswith("cpu MHz"):
                mhz = float(line.split(":", 1)[1])
            if vendor is None and line.startswith("vendor_id"):
                vendor = line.split(":", 1)[1].strip()
            if line.startswith("flags") and " avx512f" in line:
                avx512 = True
    except OSError:
        pass
    fpc = 32 if avx512 or vendor != "GenuineIntel" else 24
    return name, mhz, vendor, fpc


def verdict(row, s, v, t, n, pct):
    """Whether the row meets its issue #14 target (see the docstring): "met", "missed (...)"."""
    if not v:
        return "—"
    if s[:3] == (2, 100, 2):
        want = [("numpy", n, 5.0)] + ([] if row == "forward" else [("torch", t, 20.0)])
        miss = [f"{who} {p / v:.1f}× < {x:.0f}×" for who, p, x in want if p and p / v < x]
    else:
        miss = [] if pct is None or pct >= 50 else [f"{pct:.0f} % < 50 %"]
        if s[:3] == (64, 128, 10) and row != "forward" and n and n < v:
            miss.append("slower than numpy")
    return "met" if not miss else "missed: " + ", ".join(miss)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        k = argv.index("--")
        argv, extra = argv[:k], argv[k + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="Arguments after -- are passed to criterion.")
    ap.add_argument("--no-cargo", action="store_true", help="don't run cargo bench; use the "
                    "results already in target/criterion")
    ap.add_argument("--no-peers", action="store_true", help="don't run the peers")
    ap.add_argument("--peers-json", default=None, help="use this peers.py output instead of "
                    "running peers.py")
    ap.add_argument("--peers-args", default="", help="extra args for peers.py (one string)")
    ap.add_argument("--save-peers", default=None, help="keep peers.py's JSON here")
    ap.add_argument("--peers-stat", choices=["median", "min", "cpu"], default="median",
                    help="which peers.py figure to show: median wall time per step (default, "
                    "like criterion's median), the fastest run, or the median CPU time")
    ap.add_argument("--portable", action="store_true", help="build vatic without run-time "
                    "dispatch (core's default features)")
    ap.add_argument("--native", action="store_true", help="build vatic with -C target-cpu=native "
                    "into target/native")
    ap.add_argument("--peak-gflops", type=float, default=None,
                    help="the core's f32 peak, for the %% of peak column")
    a = ap.parse_args(argv)

    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    env = dict(os.environ)
    if a.native:
        target = target / "native"
        env["CARGO_TARGET_DIR"] = str(target)
        env["RUSTFLAGS"] = (env.get("RUSTFLAGS", "") + " -C target-cpu=native").strip()
    if not a.no_cargo:
        cmd = ["cargo", "bench", "-p", "vatic", "--bench", "steps"]
        if not a.portable:
            cmd[4:4] = ["--features", "dispatch"]
        if extra:
            cmd += ["--"] + extra
        print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=sys.stderr, env=env)
    vatic = criterion_results(target)
    if not vatic:
        print(f"note: no criterion results under {target}/criterion/step", file=sys.stderr)

    peers = {}
    if a.peers_json:
        peers = json.loads(pathlib.Path(a.peers_json).read_text())
    elif not a.no_peers:
        out = a.save_peers or str(target / "peers.json")
        pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(ROOT / "bench" / "peers.py"), "--out", out]
        cmd += a.peers_args.split()
        print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        peers = json.loads(pathlib.Path(out).read_text())
    table = {"median": "rows", "min": "rows_min", "cpu": "rows_cpu"}[a.peers_stat]
    torch = peers.get(table, {}).get("torch", {})
    numpy = peers.get(table, {}).get("numpy", {})
    if peers and a.peers_stat != "median":
        print(f"(peers: {table} of peers.py)\n")

    name, mhz, vendor, fpc = cpu_info()
    peak = a.peak_gflops or (fpc * mhz / 1e3 if mhz else None)
    print("| row | net / batch | vatic µs | torch µs | numpy µs | torch / vatic | numpy / vatic "
          "| vatic GFLOP/s | % of peak | target |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in SHAPES:
        for row in ROWS:
            k = key(row, s)
            v, t, n = vatic.get(k), torch.get(k), numpy.get(k)
            gfs = 2 * macs(row, s) / (v * 1e-6) / 1e9 if v else None
            pct = 100 * gfs / peak if gfs and peak else None
            print(f"| {row} | {s[0]}-{s[1]}-{s[2]} / b{s[3]} | {fmt_us(v)} | {fmt_us(t)} | "
                  f"{fmt_us(n)} | {fmt_ratio(t, v)} | {fmt_ratio(n, v)} | "
                  f"{'—' if gfs is None else f'{gfs:.1f}'} | "
                  f"{'—' if pct is None else f'{pct:.0f} %'} | {verdict(row, s, v, t, n, pct)} |")

    print()
    big = SHAPES[-1]
    print(f"GFLOP/s on {big[0]}-{big[1]}-{big[2]} / b{big[3]} "
          "(2 × analytic multiply-adds / time; see the docstring for the count):")
    print()
    head = "| row | MFLOP / step | vatic GFLOP/s | torch GFLOP/s | numpy GFLOP/s |"
    sep = "|---|---:|---:|---:|---:|"
    if peak:
        head += " vatic % of peak |"
        sep += "---:|"
    print(head)
    print(sep)
    for row in ROWS:
        k = key(row, big)
        flop = 2 * macs(row, big)

        def gf(us):
            return "—" if not us else f"{flop / (us * 1e-6) / 1e9:.2f}"

        line = (f"| {row} | {flop / 1e6:.1f} | {gf(vatic.get(k))} | {gf(torch.get(k))} | "
                f"{gf(numpy.get(k))} |")
        if peak:
            v = vatic.get(k)
            line += " — |" if not v else f" {100 * flop / (v * 1e-6) / 1e9 / peak:.1f} % |"
        print(line)
    print()
    if a.peak_gflops:
        print(f"Peak used: {peak} GFLOP/s (given).")
    elif mhz:
        print(f"CPU: {name}, {mhz:.0f} MHz reported; the % column uses a rough single-core "
              f"FMA-free f32 peak of {fpc} flop/cycle (see the docstring), {peak:.1f} GFLOP/s "
              "(--peak-gflops overrides it).")
    m = peers.get("meta")
    if m:
        print(f"Peers: torch {m.get('torch')}, numpy {m.get('numpy')}, python {m.get('python')}, "
              f"torch threads {m.get('torch_threads')}/{m.get('torch_interop_threads')}, "
              f"BLAS threads {m.get('threads')}, OPENBLAS_CORETYPE "
              f"{m.get('env', {}).get('OPENBLAS_CORETYPE')}, load average "
              f"{m.get('loadavg_at_start')} -> {m.get('loadavg_at_end')}.")
        tp = m.get("threadpoolctl")
        if isinstance(tp, list):
            for i in tp:
                print(f"  {i.get('internal_api')} {i.get('version')} kernel "
                      f"{i.get('architecture')}, {i.get('num_threads')} thread(s)")


if __name__ == "__main__":
    main()
