#!/usr/bin/python3
"""Greedy and beam-5 decoding, rnnkit beside PyTorch, in one run.

Builds the benchmarks' test binary once, writes BenchmarkDecode's model,
sources and answers with TestDecodeExport, then alternates --rounds times:
rnnkit's BenchmarkDecode (-benchtime --iters x), then
benchmarks/torch_decode.py on the same checkpoint (--iters runs), never
concurrently. Prints the medians over the rounds of sequences/s (wall) and
sequences per CPU-second, the ratios rnnkit ÷ PyTorch, and how many of
PyTorch's 128 answers equal rnnkit's, as a Markdown table.

    /usr/bin/python3 benchmarks/compare_decode.py [--rounds 3] [--iters 3]

Run it from the repository root. On a shared machine the wall-clock rates
follow the load; the per-CPU-second rates are the ones to compare.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit("%s failed:\n%s%s" % (" ".join(cmd), out.stdout, out.stderr))
    return out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rnnkit-decode-")
    binary, ckpt, js = (os.path.join(tmp, n) for n in ("bench.test", "decode.safetensors", "torch.json"))
    run(["go", "test", "-c", "-o", binary, "./benchmarks"], cwd=ROOT)
    bdir = os.path.join(ROOT, "benchmarks")
    run([binary, "-test.run", "^TestDecodeExport$"], cwd=bdir, env=dict(os.environ, RNNKIT_DECODE_EXPORT=ckpt))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS="2")
    go, pt, same = {}, {}, {}
    for r in range(a.rounds):
        out = run([binary, "-test.run", "^$", "-test.bench", "^BenchmarkDecode$", "-test.benchtime", "%dx" % a.iters], cwd=bdir)
        for line in out.splitlines():
            m = re.match(r"BenchmarkDecode/(\w+)-\d+\s+\d+\s+\d+ ns/op\s+([\d.e+]+) seqs/cpu-s\s+([\d.e+]+) seqs/s", line)
            if m:
                go.setdefault(m.group(1), []).append((float(m.group(3)), float(m.group(2))))
        run(["/usr/bin/python3", os.path.join(bdir, "torch_decode.py"), "--checkpoint", ckpt,
             "--iters", str(a.iters), "--json", js], cwd=ROOT, env=env)
        with open(js) as f:
            res = json.load(f)
        for k, v in res["rows"].items():
            pt.setdefault(k, []).append((v["seqs_per_s"], v["seqs_per_cpu_s"]))
            same[k] = v.get("same_as_rnnkit")
        print("round %d done" % (r + 1), file=sys.stderr)
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print("- %s UTC; %d rounds alternated, each the median of %d runs; load average %s; torch %s" % (
        datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), a.rounds, a.iters,
        open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?", res["torch"]))
    print()
    print("| decoding (batch 128) | rnnkit seqs/s | PyTorch seqs/s | ratio (wall) | rnnkit seqs/CPU-s | PyTorch seqs/CPU-s | ratio (CPU) | answers equal |")
    print("|---|---|---|---|---|---|---|---|")
    for k in ("greedy", "beam5"):
        if k not in go or k not in pt:
            continue
        gw, gc, pw, pc = med(go[k], 0), med(go[k], 1), med(pt[k], 0), med(pt[k], 1)
        print("| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %s/128 |" % (k, gw, pw, gw / pw, gc, pc, gc / pc, same.get(k)))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
