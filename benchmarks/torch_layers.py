#!/usr/bin/python3
"""PyTorch's side of BenchmarkRNN, BenchmarkLSTM, BenchmarkGRU and
BenchmarkBiLSTM (benchmarks/bench_test.go).

The same layers (RNN tanh, LSTM, GRU, bidirectional LSTM; one layer,
time-major input [T, B, I], float32) at the same shapes:

    S1: batch 32, 35 steps, input 128, hidden 256
    S2: batch 64, 35 steps, input 256, hidden 512
    S3: batch 1,  35 steps, input 32,  hidden 32

fwd is the forward pass under torch.no_grad(); fwdbwd is the forward pass
and the backward pass of the sum of all outputs (gradients set to None
before each, no optimiser step). Each row is the median of --iters timed
runs after --warmup untimed ones, as tokens/s (tokens = batch x steps).
Two threads, with OMP_WAIT_POLICY=PASSIVE (set here unless the caller
set it). Also measures torch.mm on 1024x1024 float32 matrices (GFLOP/s),
the ceiling for the layers' matrix products.

    /usr/bin/python3 benchmarks/torch_layers.py [--shapes S1,S2,S3] [--models LSTM] [--modes fwd,fwdbwd] [--iters 20] [--json out.json]

Run it with Debian's python3-torch; benchmarks/compare.py runs it after
rnnkit's benchmarks, never at the same time (the machine has two cores).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch starts its threads

import argparse
import json
import platform
import statistics
import time

import torch
import torch.nn as nn

SHAPES = {  # name: batch, steps, input, hidden (as in bench_test.go)
    "S1": (32, 35, 128, 256),
    "S2": (64, 35, 256, 512),
    "S3": (1, 35, 32, 32),
}

LAYERS = {
    "RNN_tanh": lambda i, h: nn.RNN(i, h, nonlinearity="tanh"),
    "LSTM": lambda i, h: nn.LSTM(i, h),
    "GRU": lambda i, h: nn.GRU(i, h),
    "BiLSTM": lambda i, h: nn.LSTM(i, h, bidirectional=True),
}


def median_seconds(fn, warmup, iters):
    """The median wall time of iters calls of fn, after warmup calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sgemm_gflops(warmup, iters, n=1024):
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    return 2.0 * n ** 3 / median_seconds(lambda: torch.mm(a, b, out=c), warmup, iters) / 1e9


def layer_fns(layer, x):
    def fwd():
        with torch.no_grad():
            layer(x)

    def fwdbwd():
        for p in layer.parameters():
            p.grad = None
        out, _ = layer(x)
        out.sum().backward()

    return {"fwd": fwd, "fwdbwd": fwdbwd}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", default="S1,S2,S3")
    ap.add_argument("--models", default=",".join(LAYERS))
    ap.add_argument("--modes", default="fwd,fwdbwd")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    shapes, models, modes = args.shapes.split(","), args.models.split(","), args.modes.split(",")
    for name, known in ((shapes, SHAPES), (models, LAYERS), (modes, ("fwd", "fwdbwd"))):
        bad = [n for n in name if n not in known]
        if bad:
            ap.error("unknown %s (known: %s)" % (", ".join(bad), ", ".join(known)))

    torch.set_num_threads(args.threads)
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }
    gflops = sgemm_gflops(args.warmup + 2, max(args.iters, 50))
    print("# PyTorch %s, %d threads, OMP_WAIT_POLICY=%s; sgemm 1024^3 %.1f GFLOP/s" % (
        info["torch"], info["threads"], info["omp_wait_policy"], gflops))
    rows = []
    for s in shapes:
        b, t, i, h = SHAPES[s]
        for m in models:
            torch.manual_seed(1)
            layer = LAYERS[m](i, h).float()
            x = torch.randn(t, b, i)
            fns = layer_fns(layer, x)
            for mode in modes:
                med = median_seconds(fns[mode], args.warmup, args.iters)
                row = {"model": m, "mode": mode, "shape": s, "B": b, "T": t, "I": i, "H": h,
                       "median_ms": med * 1e3, "tokens_per_s": b * t / med, "iters": args.iters}
                rows.append(row)
                print("%-8s %-6s %s %10.0f tokens/s (median %.3f ms of %d)" % (
                    m, mode, s, row["tokens_per_s"], row["median_ms"], args.iters), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "sgemm_1024": {"gflops_median": gflops}, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
