#!/usr/bin/env python3
"""Test error against VAT's ε for the exact and the finite-difference direction, on UCI digits.

    nice -n 10 python3 bench/eps_guidance.py                       # the full grid, 3 seeds
    nice -n 10 python3 bench/eps_guidance.py --seeds 1,2,3,4,5,6,7,8,9,10   # ~2.5 min
    nice -n 10 python3 bench/eps_guidance.py path/to/vatic --seeds 1 --eps 0.3,2 --epochs 10

Why: the VAT paper's ε values were tuned on the authors' finite-difference direction (ξ = 1e-6),
which in f32 is largely rounding noise (README, "The VAT direction in f32"), while vatic's default
is the exact Hessian-vector direction, which issue 12 suspects is a stronger regulariser at the
same ε. This measures which ε to use with each direction.

Grid: direction in {exact, fd} x ε in {0.1, 0.3, 0.6, 1.0, 2.0, 4.0} x seed in {1, 2, 3}, each

    vatic train --data digits --method vat --direction D --eps E --seed S --quiet
                --out OUT --log LOG.json [--epochs N]

plus `--method supervised` once per seed, the baseline. Everything else is vatic's default VAT
setup for digits: 64-128-10 ReLU, 10 labels per class, 500 held-out test samples, Adam (lr 1e-3),
labelled batch 64, unlabelled batch 128, 300 epochs, K = 1, ξ = 1e-6 (fd only), α = 1. The seed
picks the labelled samples and the test split as well as the initialisation and the minibatches,
so the spread over seeds is data spread as much as training noise.

The full grid is not reduced: one run takes about 1.2 s wall on a shared 2-core VM (39 runs in
46 s), far below the ~45 minutes budgeted for one core. bench/EPS_GUIDANCE.md has the results.

Test accuracy is read from the JSON log's top-level "test_accuracy" (a fraction; the log's
"history" holds the per-epoch values) and checked against the stdout line
"test accuracy X % (error Y %) on N samples", which prints the same value to two decimals.

Output (stdout): a markdown table, rows ε, columns "exact" and "fd", each the mean test error in %
over the seeds with (min–max), the lowest mean of each column in bold, and a supervised row; then
the per-seed errors. Progress goes to stderr. Models and logs go to a temporary directory that is
deleted afterwards (--keep keeps it). The runs are sequential; run the script under `nice` on a
shared machine (the child processes inherit it).
"""

import argparse
import json
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIRECTIONS = ["exact", "fd"]
EPS = [0.1, 0.3, 0.6, 1.0, 2.0, 4.0]
SEEDS = [1, 2, 3]
STDOUT_RE = re.compile(r"test accuracy ([0-9.]+) % \(error ([0-9.]+) %\) on (\d+) samples")


def csv_list(kind):
    def parse(s):
        try:
            return [kind(v) for v in s.split(",") if v.strip()]
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from e
    return parse


def find_binary(arg):
    p = pathlib.Path(arg)
    if p.is_file():
        return p.resolve()
    if not p.is_absolute() and (ROOT / p).is_file():
        return (ROOT / p).resolve()
    sys.exit(f"no vatic binary at {arg} (build it: cargo build --release -p host)")


DATA = "digits"


def run_one(vatic, tmp, method, seed, epochs, direction=None, eps=None):
    tag = f"{method}-s{seed}" if direction is None else f"{direction}-e{eps}-s{seed}"
    out, log = tmp / f"{tag}.safetensors", tmp / f"{tag}.json"
    cmd = [str(vatic), "train", "--data", DATA, "--method", method]
    if direction is not None:
        cmd += ["--direction", direction, "--eps", str(eps)]
    cmd += ["--seed", str(seed), "--quiet", "--out", str(out), "--log", str(log)]
    if epochs is not None:
        cmd += ["--epochs", str(epochs)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {shlex.join(cmd)}\n{p.stderr}")
    acc = json.loads(log.read_text())["test_accuracy"]
    if acc is None:
        sys.exit(f"no test accuracy in {log}")
    m = STDOUT_RE.search(p.stdout)
    if m is None or abs(float(m.group(1)) - 100.0 * acc) > 0.006:
        sys.exit(f"stdout and log disagree for {tag}: {p.stdout!r} vs {acc}")
    err = 100.0 * (1.0 - acc)
    print(f"  {tag:<18} error {err:6.2f} %  ({wall:.1f} s)", file=sys.stderr, flush=True)
    return err, wall


def cell(errs, bold=False):
    mean = sum(errs) / len(errs)
    s = f"{mean:.1f}"
    if bold:
        s = f"**{s}**"
    return f"{s} ({min(errs):.1f}–{max(errs):.1f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vatic", nargs="?", default="target/release/vatic",
                    help="the vatic binary (default: target/release/vatic, from the current "
                         "directory or the repository root)")
    ap.add_argument("--seeds", type=csv_list(int), default=SEEDS, help="e.g. 1,2 (default 1,2,3)")
    ap.add_argument("--data", default="digits",
                    help="any --data of vatic train (default digits; moons and circles run the "
                         "VAT authors' protocol, only the direction and ε varied)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="override the epochs (default: vatic's, 300 for digits)")
    ap.add_argument("--eps", type=csv_list(float), default=EPS,
                    help="comma-separated ε values (default 0.1,0.3,0.6,1.0,2.0,4.0)")
    ap.add_argument("--json", type=pathlib.Path, help="also write every run's error here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    global DATA
    DATA = a.data
    if not a.seeds or not a.eps:
        sys.exit("--seeds and --eps need at least one value")
    vatic = find_binary(a.vatic)

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="vatic-eps-"))
    print(f"{vatic}; outputs in {tmp}", file=sys.stderr)
    runs = len(a.seeds) * (1 + len(DIRECTIONS) * len(a.eps))
    t_start = time.perf_counter()
    sup, vat, walls = {}, {}, []
    try:
        for s in a.seeds:
            err, w = run_one(vatic, tmp, "supervised", s, a.epochs)
            sup[s] = err
            walls.append(w)
        for d in DIRECTIONS:
            for e in a.eps:
                for s in a.seeds:
                    err, w = run_one(vatic, tmp, "vat", s, a.epochs, d, e)
                    vat[(d, e, s)] = err
                    walls.append(w)
                    done = len(walls)
                    if done == 1 + len(a.seeds):
                        est = sum(walls) / done * runs
                        print(f"  (estimate for {runs} runs: {est / 60:.1f} min)", file=sys.stderr)
    finally:
        if not a.keep:
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    total = time.perf_counter() - t_start

    seeds = ",".join(map(str, a.seeds))
    if DATA == "digits":
        epochs = a.epochs if a.epochs is not None else 300
        print(f"UCI digits, 64-128-10 ReLU, 10 labels per class, 500 test samples, Adam, "
              f"{epochs} epochs, K = 1, ξ = 1e-6 (fd); seeds {seeds}; {runs} runs in {total:.0f} s")
    else:
        print(f"--data {DATA}, vatic train's defaults for it (for moons/circles the VAT authors' "
              f"protocol); seeds {seeds}; {runs} runs in {total:.0f} s")
    print("test error (%), mean over seeds (min–max); bold: the lowest mean per direction\n")
    means = {d: {e: sum(vat[(d, e, s)] for s in a.seeds) / len(a.seeds) for e in a.eps}
             for d in DIRECTIONS}
    best = {d: min(a.eps, key=lambda e: means[d][e]) for d in DIRECTIONS}
    print("| ε | exact | fd |")
    print("|---|---|---|")
    for e in a.eps:
        cells = [cell([vat[(d, e, s)] for s in a.seeds], e == best[d]) for d in DIRECTIONS]
        print(f"| {e:g} | {cells[0]} | {cells[1]} |")
    sup_cell = cell(list(sup.values()))
    print(f"| supervised | {sup_cell} | {sup_cell} |")

    print(f"\nper seed ({seeds}):\n")
    print("| ε | exact | fd |")
    print("|---|---|---|")
    for e in a.eps:
        cells = [" / ".join(f"{vat[(d, e, s)]:.1f}" for s in a.seeds) for d in DIRECTIONS]
        print(f"| {e:g} | {cells[0]} | {cells[1]} |")
    sup_seeds = " / ".join(f"{sup[s]:.1f}" for s in a.seeds)
    print(f"| supervised | {sup_seeds} | {sup_seeds} |")

    if a.json:
        a.json.write_text(json.dumps({
            "epochs": epochs, "seeds": a.seeds, "eps": a.eps, "wall_s": total,
            "supervised": {str(s): v for s, v in sup.items()},
            "vat": [{"direction": d, "eps": e, "seed": s, "error": v}
                    for (d, e, s), v in vat.items()],
        }, indent=1))


if __name__ == "__main__":
    main()
