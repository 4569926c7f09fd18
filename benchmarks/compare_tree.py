#!/usr/bin/python3
"""Side-by-side training speed of rnnkit's sst-treelstm and its PyTorch
reference (benchmarks/torch_tree.py) on SST's training trees: the same
model, sizes, batches of 25, Adagrad with weight decay and dropout.

    /usr/bin/python3 benchmarks/compare_tree.py [--batches 300] [--rounds 3] [--threads 2]

Runs rnnkit's BenchmarkSSTTreeLSTM (each iteration 100 batches after 10
warm-up ones, through the Trainer) and then PyTorch's script on as many
batches after as many warm-up ones, never at the same time (two cores), and
prints a Markdown table of training trees/s. With --rounds N it alternates
the two N times (rnnkit, PyTorch, rnnkit, …), so that other work on a
shared machine weighs on both alike, and prints each round, the load
average around it and the median ratio. Besides trees per second of wall
time it prints trees per CPU-second of the timed steps (all of a process's
threads, rnnkit's spinning workers included), which other work on the
machine bends less. Run it from the repository root.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile


def rnnkit(n, data, threads):
    env = dict(os.environ, RNNKIT_SST=os.path.abspath(data))
    go = subprocess.run(["go", "test", "./benchmarks", "-run", "^$", "-bench", "^BenchmarkSSTTreeLSTM$", "-benchtime", "%dx" % n,
                         "-cpu", str(threads)], capture_output=True, text=True, env=env)
    line = re.search(r"^BenchmarkSSTTreeLSTM(-\d+)?\s+\d+\s+\d+ ns/op.*$", go.stdout, re.M)
    wall = line and re.search(r"([\d.]+) trees/s\b", line.group(0))
    cpu = line and re.search(r"([\d.]+) trees/cpu-s\b", line.group(0))
    if go.returncode != 0 or not wall or not cpu:
        sys.exit("go test failed:\n" + go.stdout + go.stderr)
    return float(wall.group(1)), float(cpu.group(1))


def pytorch(n, data, threads):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(threads))
    py = subprocess.run(["/usr/bin/python3", os.path.join("benchmarks", "torch_tree.py"), "--data", data,
                         "--batches", str(100 * n), "--threads", str(threads), "--json", path], capture_output=True, text=True, env=env)
    if py.returncode != 0:
        sys.exit("torch_tree.py failed:\n" + py.stdout + py.stderr)
    with open(path) as f:
        res = json.load(f)
    os.unlink(path)
    e = res["epochs"][0]
    return e["trees_per_s"], e["trees_per_cpu_s"], res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=300, help="timed batches of each (a multiple of 100)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the two this many times")
    ap.add_argument("--threads", type=int, default=2, help="GOMAXPROCS for rnnkit, torch threads for PyTorch")
    ap.add_argument("--data", default=os.path.join("..", "shared", "data", "sst"))
    args = ap.parse_args()
    n = max(1, args.batches // 100)
    rows, res = [], None
    for r in range(args.rounds):
        before = os.getloadavg()[0]
        ours, ours_cpu = rnnkit(n, args.data, args.threads)
        theirs, theirs_cpu, res = pytorch(n, args.data, args.threads)
        rows.append((r + 1, ours, theirs, before, os.getloadavg()[0], ours_cpu, theirs_cpu))
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print("%s; %s; %s; rnnkit at git %s; PyTorch %s, %d threads, OMP_WAIT_POLICY=PASSIVE" % (
        datetime.date.today(), platform.platform(), subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip(),
        rev, res["torch"], res["threads"]))
    print()
    print("binary Tree-LSTM, E 300, H 150, batch 25, Adagrad 0.05 + weight decay 1e-4, dropout 0.5; %d batches timed each;"
          " %d thread(s) each" % (100 * n, args.threads))
    print()
    print("| round | rnnkit trees/s | PyTorch trees/s | ratio | rnnkit trees/CPU-s | PyTorch trees/CPU-s | ratio | load average before → after |")
    print("|---|---|---|---|---|---|---|---|")
    for r, ours, theirs, before, after, oc, tc in rows:
        print("| %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %.1f → %.1f |" % (r, ours, theirs, ours / theirs, oc, tc, oc / tc, before, after))
    if len(rows) > 1:
        med = statistics.median
        print()
        print("median: rnnkit %.0f trees/s, PyTorch %.0f trees/s, ratio %.2f; per CPU-second %.0f and %.0f, ratio %.2f" % (
            med(x[1] for x in rows), med(x[2] for x in rows), med(x[1] / x[2] for x in rows),
            med(x[5] for x in rows), med(x[6] for x in rows), med(x[5] / x[6] for x in rows)))


if __name__ == "__main__":
    main()
