#!/usr/bin/python3
"""Side-by-side speed of rnnkit and PyTorch's CPU recurrent layers.

Runs rnnkit's Go benchmarks (pure-Go build, and the OpenBLAS build when
-tags openblas links), then PyTorch's layers (benchmarks/torch_layers.py)
right after, never concurrently (two cores), and writes the ratio table with
the machine, the versions and the date into docs/performance.md.

    /usr/bin/python3 benchmarks/compare.py [--shapes S1] [--count 5] [--out docs/performance.md]

Run it from the repository root.
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

MODELS = [("RNN", "RNN_tanh"), ("LSTM", "LSTM"), ("GRU", "GRU"), ("BiLSTM", "BiLSTM")]
MODES = [("forward", "fwd"), ("train", "fwdbwd")]
MARKER = "<!-- end of the tables written by benchmarks/compare.py; what follows is kept -->"


# BENCHTIME is the -benchtime of each shape's Go benchmarks: S3's steps take
# about 0.1 ms, so five of them measured mostly the wake-up of the workers
# and the timer; 200 make each sample about 30 ms, as PyTorch's side takes
# the median of 20 calls.
BENCHTIME = {"S3": "200x"}


def go_bench(shapes, count, tags, models=False):
    """Medians of the layer benchmarks at shapes (or, with models, of the
    Seq2Seq and LM training steps at S1), each shape with its BENCHTIME."""
    if models:
        return go_bench_run("^Benchmark(Seq2Seq|LM)$/train/S1$", "3x", count, tags)
    runs, logs = {}, []
    for shape in shapes:
        pattern = "^Benchmark(%s)$/(forward|train)/(%s)$" % ("|".join(g for g, _ in MODELS), shape)
        got, log = go_bench_run(pattern, BENCHTIME.get(shape, "5x"), count, tags)
        if got is None:
            return None, log
        runs.update(got)
        logs.append(log)
    return runs, "".join(logs)


def go_bench_run(pattern, benchtime, count, tags):
    cmd = ["go", "test", "./benchmarks", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", str(count)]
    if tags:
        cmd[2:2] = ["-tags", tags]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stdout + out.stderr
    runs = {}
    for line in out.stdout.splitlines():
        m = re.match(r"Benchmark(\w+)/(\w+)/(\w+)-\d+\s+\d+\s+\d+ ns/op\s+([\d.e+]+) tokens/s", line)
        if m:
            runs.setdefault((m.group(1), m.group(2), m.group(3)), []).append(float(m.group(4)))
    return {k: statistics.median(v) for k, v in runs.items()}, out.stdout


def torch_bench(shapes):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_layers.py")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    out = subprocess.run(["/usr/bin/python3", script, "--shapes", ",".join(shapes), "--modes", "fwd,fwdbwd", "--json", path],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit("torch_layers.py failed:\n" + out.stdout + out.stderr)
    with open(path) as f:
        res = json.load(f)
    os.unlink(path)
    rows = {(r["model"], r["mode"], r["shape"]): r["tokens_per_s"] for r in res["rows"]}
    return rows, res


def torch_models():
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_models.py")
    out = subprocess.run(["/usr/bin/python3", script, "--json", path], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit("torch_models.py failed:\n" + out.stdout + out.stderr)
    with open(path) as f:
        res = json.load(f)
    os.unlink(path)
    return res["rows"]


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="S1,S2,S3")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--out", default="docs/performance.md")
    ap.add_argument("--no-models", action="store_true", help="skip the Seq2Seq and LM training steps")
    args = ap.parse_args()
    shapes = args.shapes.split(",")

    pure, log = go_bench(shapes, args.count, "")
    if pure is None:
        sys.exit("go test -bench failed:\n" + log)
    fast, log = go_bench(shapes, args.count, "openblas")
    torch, res = torch_bench(shapes)
    mpure, mfast, mtorch = None, None, None
    if not args.no_models:
        mpure, _ = go_bench(["S1"], args.count, "", models=True)
        mfast, _ = go_bench(["S1"], args.count, "openblas", models=True)
        mtorch = torch_models()

    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = [
        "# Performance",
        "",
        "Written by `/usr/bin/python3 benchmarks/compare.py --shapes %s --count %d` on %s." % (
            args.shapes, args.count, datetime.date.today().isoformat()),
        "",
        "- machine: %s, %d cores; %s" % (cpu, os.cpu_count(), platform.platform()),
        "- %s; rnnkit at git %s" % (version(["go", "version"]), version(["git", "rev-parse", "--short", "HEAD"])),
        "- PyTorch %s, %d threads, `OMP_WAIT_POLICY=PASSIVE`; sgemm 1024³ %.0f GFLOP/s" % (
            res["info"].get("torch", "?"), res["info"].get("threads", 0), res["sgemm_1024"]["gflops_median"]),
        "- rnnkit: `go test ./benchmarks -bench …` (median of %d), the pure-Go build and, where it links, "
        "the OpenBLAS build (`-tags openblas`); PyTorch: `benchmarks/torch_layers.py` run right after. "
        "rnnkit runs each layer as one fused node (`cells.Sequence`); the pure-Go build multiplies matrices with "
        "`internal/gemm` (AVX-512 or AVX2/FMA assembly, as the CPU has, no cgo)." % args.count,
        "",
        "Tokens/s (tokens = batch × steps); float32; `train` = forward and backward of the sum of all outputs.",
        "",
        "| layer | mode | shape | rnnkit pure Go | rnnkit OpenBLAS | PyTorch | pure Go / PyTorch | OpenBLAS / PyTorch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for go_name, torch_name in MODELS:
        for mode, tmode in MODES:
            for s in shapes:
                p = pure.get((go_name, mode, s))
                f = fast.get((go_name, mode, s)) if fast else None
                t = torch.get((torch_name, tmode, s))
                if p is None or t is None:
                    continue
                fs = "%.0f" % f if f else "—"
                fr = "%.2f" % (f / t) if f else "—"
                lines.append("| %s | %s | %s | %.0f | %s | %.0f | %.2f | %s |" % (go_name, mode, s, p, fs, t, p / t, fr))
    if mpure and mtorch:
        lines += ["", "Model training steps at S1 (embedding 128, LSTM 256, vocabulary 10,000; forward and backward of the "
                  "mean cross-entropy; tokens = target tokens): `BenchmarkSeq2Seq` (attention, teacher forcing) and "
                  "`BenchmarkLM` (median of %d), PyTorch: `benchmarks/torch_models.py` (the same models)." % args.count, "",
                  "| model | rnnkit pure Go | rnnkit OpenBLAS | PyTorch | pure Go / PyTorch | OpenBLAS / PyTorch |",
                  "|---|---|---|---|---|---|"]
        for name in ("Seq2Seq", "LM"):
            p, t = mpure.get((name, "train", "S1")), mtorch.get(name)
            f = mfast.get((name, "train", "S1")) if mfast else None
            if p is None or t is None:
                continue
            fs = "%.0f" % f if f else "—"
            fr = "%.2f" % (f / t) if f else "—"
            lines.append("| %s | %.0f | %s | %.0f | %.2f | %s |" % (name, p, fs, t, p / t, fr))
    # Everything after the marker in the existing file (the analysis written
    # by hand) is kept.
    tail = "\nWhere the time goes, what is done and what is next: README (Speed) and docs/architecture.md.\n"
    if os.path.exists(args.out):
        old = open(args.out).read()
        if MARKER in old:
            tail = old.split(MARKER, 1)[1]
    lines += ["", MARKER]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + tail)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
