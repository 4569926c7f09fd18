#!/usr/bin/env python3
"""Side-by-side Word2Vec: the original C tool, gensim and rnnkit on one corpus.

Builds the C tool from the npm package word2vec@1.1.5 (its word2vec.c and
compute-accuracy.c, with gcc and the package's makefile flags), builds
rnnkit, and trains each of the three on the same corpus with the same
settings (the C tool's: -size 100 -window 5 -negative 5 -hs 0 -sample 1e-3
-iter 5 -min-count 5, -alpha 0.025 for skip-gram and 0.05 for CBOW, and
-threads 2), skip-gram and CBOW, for several seeds (the C tool has no seed:
its runs differ by how its threads interleave). Every output is evaluated by
the same code, rnnkit's analogy (compute-accuracy's semantics, restrict
30000) and similarity (Spearman's rho on SimLex-999 and WordSim-353); the C
tool's own compute-accuracy is run on its first vectors as a cross-check.

First, a check that rnnkit makes the C tool's random draws in its order: both
train on the corpus's first 30,000 lines with one thread (rnnkit with -seed
0, the C tool's own streams), and their text vectors are compared; only float
rounding should separate them.

Speed is reported two ways: corpus words per second of wall clock (iter x the
corpus's words, counted as the C tool counts them, "</s>" included, over the
whole run: reading, training, writing), and per CPU-second (the same words
over user + system time), which stays meaningful on a machine shared with
other work; the load average at each run's start is recorded.

gensim is /usr/bin/python3's (Debian python3-gensim); without it, or with
--tools, fewer tools run.

usage: benchmarks/w2v_compare.py --corpus FILE [--seeds 3] [--iter 5]
       [--threads 2] [--archs sg,cbow] [--tools c,gensim,rnnkit]
       [--work DIR] [--out results.json] [--markdown table.md]
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tarfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
CFLAGS = ["-lm", "-pthread", "-O3", "-march=native", "-Wall", "-funroll-loops", "-Wno-unused-result",
          "-fno-stack-protector"]

GENSIM = r"""
import sys, gensim
from gensim.models import Word2Vec
corpus, out, sg, alpha, it, threads, seed = sys.argv[1:8]
alpha = float(alpha)
m = Word2Vec(corpus_file=corpus, vector_size=100, window=5, negative=5, hs=0, sample=1e-3, min_count=5,
             sg=int(sg), alpha=alpha, min_alpha=alpha * 1e-4, epochs=int(it), workers=int(threads),
             seed=int(seed), cbow_mean=1)
m.wv.save_word2vec_format(out, binary=True)
print("gensim", gensim.__version__, "words", m.corpus_total_words)
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_timed(cmd, **kw):
    """Run cmd; return (stdout, wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace", **kw)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.stdout, wall, cpu


def build_c(work):
    src = os.path.join(work, "package", "src")
    tgz = os.path.join(work, "word2vec-1.1.5.tgz")
    if not os.path.exists(tgz):
        subprocess.run(["npm", "pack", "word2vec@1.1.5"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(src, "word2vec.c")):
        with tarfile.open(tgz) as tf:
            tf.extractall(work)
    for prog in ("word2vec", "compute-accuracy"):
        subprocess.run(["gcc", os.path.join(src, prog + ".c"), "-o", os.path.join(work, "c-" + prog)] + CFLAGS,
                       check=True, stderr=subprocess.DEVNULL)
    return os.path.join(work, "c-word2vec"), os.path.join(work, "c-compute-accuracy")


def build_rnnkit(work):
    exe = os.path.join(work, "rnnkit")
    subprocess.run(["go", "build", "-o", exe, "./cmd/rnnkit"], cwd=REPO, check=True)
    return exe


def same_check(c_w2v, rnnkit, corpus, work, lines=30000):
    """Train the C tool and rnnkit -seed 0 with one thread on the corpus's
    first lines and compare the text vectors: they make the same random
    draws in the same order, so only float rounding separates them."""
    small = os.path.join(work, "same-check.txt")
    with open(corpus) as f, open(small, "w") as out:
        for i, line in enumerate(f):
            if i == lines:
                break
            out.write(line)
    res = {}
    for arch, cbow in (("sg", "0"), ("cbow", "1")):
        vecs = []
        for name, cmd in (("c", [c_w2v]), ("rnnkit", [rnnkit, "word2vec", "-seed", "0"])):
            path = os.path.join(work, "same-%s-%s.txt" % (name, arch))
            subprocess.run(cmd + ["-train", small, "-output", path, "-cbow", cbow, "-size", "50", "-iter", "1",
                                  "-threads", "1", "-min-count", "5", "-binary", "0"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(path) as f:
                f.readline()
                vecs.append([(l.split()[0], [float(x) for x in l.split()[1:]]) for l in f if l.strip()])
        same_words = [w for w, _ in vecs[0]] == [w for w, _ in vecs[1]]
        diffs = [abs(x - y) for (_, a), (_, b) in zip(*vecs) for x, y in zip(a, b)]
        res[arch] = {"lines": lines, "same_vocabulary": same_words, "max_abs_diff": max(diffs),
                     "mean_abs_value": statistics.mean(abs(x) for _, a in vecs[0] for x in a)}
        log("same-draws check, %s: vocabulary equal %s, largest difference %.2g (mean |value| %.3f)" % (
            arch, same_words, max(diffs), res[arch]["mean_abs_value"]))
    return res


def evaluate(rnnkit, vectors, wordeval):
    out = {}
    a = subprocess.run([rnnkit, "analogy", "-vectors", vectors, "-questions",
                        os.path.join(wordeval, "questions-words.txt"), "-restrict", "30000", "-json"],
                       check=True, stdout=subprocess.PIPE, text=True)
    r = json.loads(a.stdout)
    out.update(analogy=r["accuracy"], semantic=r["semantic"], syntactic=r["syntactic"], seen=r["seen"],
               total=r["total"])
    for name, f in (("simlex", "simlex999.txt"), ("ws353", "wordsim353.tsv")):
        s = subprocess.run([rnnkit, "similarity", "-vectors", vectors, "-pairs", os.path.join(wordeval, f), "-json"],
                           check=True, stdout=subprocess.PIPE, text=True)
        out[name] = json.loads(s.stdout)["spearman"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--iter", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--archs", default="sg,cbow")
    ap.add_argument("--tools", default="c,gensim,rnnkit")
    ap.add_argument("--work", default="w2v_compare_work")
    ap.add_argument("--wordeval", default=os.path.join(REPO, "..", "shared", "data", "wordeval"))
    ap.add_argument("--out", default="w2v_compare.json")
    ap.add_argument("--markdown", default="")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    work = os.path.abspath(a.work)
    corpus = os.path.abspath(a.corpus)
    tools = a.tools.split(",")
    if "gensim" in tools and subprocess.run([PYTHON, "-c", "import gensim"], stderr=subprocess.DEVNULL).returncode:
        log("no gensim for %s: skipped (apt-get install python3-gensim)" % PYTHON)
        tools.remove("gensim")
    c_w2v, c_acc = build_c(work)
    rnnkit = build_rnnkit(work)
    check = same_check(c_w2v, rnnkit, corpus, work)
    json.dump(check, open(os.path.splitext(a.out)[0] + "-same-check.json", "w"), indent=1)
    results = json.load(open(a.out)) if os.path.exists(a.out) else []
    done = {(r["tool"], r["arch"], r["seed"]) for r in results}
    words = None
    for seed in range(1, a.seeds + 1):
        for arch in a.archs.split(","):
            cbow = 1 if arch == "cbow" else 0
            alpha = "0.05" if cbow else "0.025"
            for tool in tools:
                if (tool, arch, seed) in done:
                    continue
                vec = os.path.join(work, "%s-%s-%d.bin" % (tool, arch, seed))
                common = ["-train", corpus, "-output", vec, "-cbow", str(cbow), "-size", "100", "-window", "5",
                          "-negative", "5", "-hs", "0", "-sample", "1e-3", "-iter", str(a.iter), "-min-count", "5",
                          "-threads", str(a.threads), "-alpha", alpha, "-binary", "1"]
                if tool == "c":
                    cmd = [c_w2v] + common
                elif tool == "rnnkit":
                    cmd = [rnnkit, "word2vec"] + common + ["-seed", str(seed)]
                else:
                    cmd = [PYTHON, "-c", GENSIM, corpus, vec, str(1 - cbow), alpha, str(a.iter), str(a.threads),
                           str(seed)]
                load = os.getloadavg()[0]
                log("%s %s seed %d (load %.1f) ..." % (tool, arch, seed, load))
                out, wall, cpu = run_timed(cmd)
                m = re.search(r"Words in train file: (\d+)", out)
                if m:
                    words = int(m.group(1))
                r = {"tool": tool, "arch": arch, "seed": seed, "wall": wall, "cpu": cpu, "load": load,
                     "iter": a.iter, "threads": a.threads}
                r.update(evaluate(rnnkit, vec, a.wordeval))
                if tool == "c" and seed == 1:
                    p = subprocess.run([c_acc, vec, "30000"], stdin=open(os.path.join(a.wordeval, "questions-words.txt")),
                                       stdout=subprocess.PIPE, text=True)
                    m = re.findall(r"Total accuracy: ([\d.]+) %", p.stdout)
                    r["compute_accuracy"] = float(m[-1]) / 100 if m else None
                os.remove(vec)
                results.append(r)
                json.dump(results, open(a.out, "w"), indent=1)
                log("  wall %.1fs cpu %.1fs analogy %.4f simlex %.4f ws353 %.4f" % (wall, cpu, r["analogy"], r["simlex"],
                                                                                     r["ws353"]))
    if words is None:
        words = next((r.get("corpus_words") for r in results if r.get("corpus_words")), None)
    for r in results:
        if words and "corpus_words" not in r:
            r["corpus_words"] = words
    json.dump(results, open(a.out, "w"), indent=1)
    table = markdown(results)
    print(table)
    if a.markdown:
        open(a.markdown, "w").write(table)


def markdown(results):
    def ms(xs, fmt):
        if len(xs) == 1:
            return fmt % xs[0]
        return (fmt + " ± " + fmt) % (statistics.mean(xs), statistics.stdev(xs))

    rows = ["| arch | tool | runs | words/s (wall) | words per CPU-s | analogy (restrict 30k) | SimLex-999 ρ | WordSim-353 ρ |",
            "|---|---|---|---|---|---|---|---|"]
    for arch in ("sg", "cbow"):
        for tool in ("c", "gensim", "rnnkit"):
            rs = [r for r in results if r["tool"] == tool and r["arch"] == arch]
            if not rs:
                continue
            w = [r["iter"] * r["corpus_words"] / r["wall"] for r in rs]
            c = [r["iter"] * r["corpus_words"] / r["cpu"] for r in rs]
            rows.append("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                {"sg": "skip-gram", "cbow": "CBOW"}[arch], {"c": "C tool", "gensim": "gensim", "rnnkit": "rnnkit"}[tool],
                len(rs), ms([x / 1000 for x in w], "%.0fk"), ms([x / 1000 for x in c], "%.0fk"),
                ms([100 * r["analogy"] for r in rs], "%.2f%%"), ms([r["simlex"] for r in rs], "%.3f"),
                ms([r["ws353"] for r in rs], "%.3f")))
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
