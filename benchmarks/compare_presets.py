#!/usr/bin/python3
"""Seconds per epoch of the date-attention and addition-reversed presets,
rnnkit beside PyTorch (benchmarks/torch_presets.py), in one run.

Builds rnnkit and the benchmarks' test binary, writes the presets' data with
TestPresetDataExport, then alternates --rounds times, per preset:
`rnnkit train -preset P -epochs 1 -data FILE`, then torch_presets.py on the
same file, never concurrently. rnnkit's training seconds are its last
progress line's (the epoch's last step), its evaluation seconds the rest of
metrics.jsonl's epoch_seconds; PyTorch times both itself. CPU-seconds are
each whole process's (getrusage of the child: start-up, data preparation
and, for rnnkit, its report and checkpoints included). Prints the medians
as a Markdown table.

    /usr/bin/python3 benchmarks/compare_presets.py [--rounds 2] [--presets date-attention,addition-reversed]

Run it from the repository root.
"""
import argparse
import datetime
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = {"date-attention": "date.txt", "addition-reversed": "addition.txt"}


def child(cmd, **kw):
    """Runs cmd; returns (stdout, wall seconds, CPU seconds of the child)."""
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit("%s failed:\n%s%s" % (" ".join(cmd), out.stdout, out.stderr))
    return out.stdout, wall, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--presets", default="date-attention,addition-reversed")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rnnkit-presets-")
    rnnkit, test = os.path.join(tmp, "rnnkit"), os.path.join(tmp, "bench.test")
    child(["go", "build", "-o", rnnkit, "./cmd/rnnkit"], cwd=ROOT)
    child(["go", "test", "-c", "-o", test, "./benchmarks"], cwd=ROOT)
    child([test, "-test.run", "^TestPresetDataExport$"], cwd=os.path.join(ROOT, "benchmarks"),
          env=dict(os.environ, RNNKIT_PRESET_DATA=tmp))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS="2")
    res = {}
    for r in range(a.rounds):
        for p in a.presets.split(","):
            data, run = os.path.join(tmp, FILES[p]), os.path.join(tmp, "run")
            shutil.rmtree(run, ignore_errors=True)
            out, _, cpu = child([rnnkit, "train", "-preset", p, "-epochs", "1", "-data", data, "-out", run, "-log-every", "100000"])
            with open(os.path.join(run, "metrics.jsonl")) as f:
                m = json.loads(f.readline())
            steps = re.findall(r"step (\d+)/(\d+)\s+loss \S+\s+([\d.]+)s", out)
            train = float(steps[-1][2])
            res.setdefault((p, "rnnkit"), []).append(
                {"train": train, "eval": m["epoch_seconds"] - train, "cpu": cpu, "loss": m["train_loss"]})
            js = os.path.join(tmp, "torch.json")
            _, _, cpu = child(["/usr/bin/python3", os.path.join(ROOT, "benchmarks", "torch_presets.py"),
                               "--preset", p, "--data", data, "--json", js], env=env)
            with open(js) as f:
                t = json.load(f)
            res.setdefault((p, "torch"), []).append(
                {"train": t["train_seconds"], "eval": t["eval_seconds"], "cpu": cpu, "loss": t["train_loss"]})
            print("round %d %s: rnnkit %s, torch %s" % (r + 1, p, res[(p, "rnnkit")][-1], res[(p, "torch")][-1]), file=sys.stderr)
    med = lambda p, who, k: statistics.median(x[k] for x in res[(p, who)])
    print("- %s UTC; %d rounds alternated; load average %s" % (
        datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), a.rounds, open("/proc/loadavg").read().split()[0]))
    print()
    print("| preset (1 epoch, batch 128) | rnnkit train s | PyTorch train s | rnnkit eval s | PyTorch eval s | rnnkit ÷ PyTorch (train+eval, wall) | rnnkit CPU-s | PyTorch CPU-s | rnnkit ÷ PyTorch (CPU) | train loss rnnkit / PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in a.presets.split(","):
        rt, pt, re_, pe = med(p, "rnnkit", "train"), med(p, "torch", "train"), med(p, "rnnkit", "eval"), med(p, "torch", "eval")
        rc, pc = med(p, "rnnkit", "cpu"), med(p, "torch", "cpu")
        print("| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.3f / %.3f |" % (
            p, rt, pt, re_, pe, (rt + re_) / (pt + pe), rc, pc, rc / pc, med(p, "rnnkit", "loss"), med(p, "torch", "loss")))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
