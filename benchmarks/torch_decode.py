#!/usr/bin/python3
"""PyTorch's side of BenchmarkDecode (benchmarks/decode_test.go).

Greedy and beam-5 decoding of a batch of 128 sources with the small
attention Seq2Seq model of the date-attention preset (embedding 16, LSTM 128,
dot attention), encoder included, as batched tensor loops: one decoder step
for every row at a time, no Python loop over rows. With --checkpoint (the
file TestDecodeExport writes) it loads rnnkit's very weights and sources
through scripts/rnnkit_to_torch.py and counts the rows whose answers match
rnnkit's; without it, random weights of the same sizes (EOS's output bias
at -1e4 as in the Go benchmark, so every row runs all 11 steps).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 benchmarks/torch_decode.py \\
        [--checkpoint decode.safetensors] [--iters 5] [--json out.json]

Prints sequences/s (wall) and sequences per CPU-second of the process, the
median of --iters runs after one warm-up run. Two threads.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import rnnkit_to_torch as rk  # noqa: E402

B, TS, V, E, H = 128, 20, 60, 16, 128


def encode(model, src):
    """src [Ts, B], every source full length: the memory [B, Ts, H] and the state."""
    out, state = model.encoder(model.embedding(src))
    return out.transpose(0, 1), state


def step(model, memory, tok, state):
    """One decoder step for every row: tok [N] -> logits [N, V], state."""
    out, state = model.decoder(model.embedding(tok)[None], state)  # [1, N, H]
    d = out[0]                                                    # [N, H]
    scores = torch.bmm(memory, d[:, :, None]).squeeze(-1)        # [N, Ts]
    alpha = torch.softmax(scores, dim=-1)
    ctx = torch.bmm(alpha[:, None, :], memory).squeeze(1)         # [N, H]
    return model.fc(torch.cat([d, ctx], dim=-1)), state


def greedy(model, src, bos, eos, max_len):
    memory, state = encode(model, src)
    n = src.shape[1]
    tok = torch.full((n,), bos, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    out = []
    for _ in range(max_len):
        logits, state = step(model, memory, tok, state)
        tok = logits.argmax(-1).masked_fill(done, eos)
        out.append(tok)
        done |= tok == eos
        if bool(done.all()):
            break
    toks = torch.stack(out, 1).tolist()
    return [row[:row.index(eos)] if eos in row else row for row in toks]


def beam(model, src, bos, eos, max_len, width):
    """Batched beam search: the best hypothesis per source by the sum of
    log-probabilities (no length penalty); a hypothesis that emitted EOS
    keeps its score and is extended by EOS only."""
    memory, state = encode(model, src)
    n = src.shape[1]
    memory = memory.repeat_interleave(width, 0)
    state = tuple(s.repeat_interleave(width, 1) for s in state)
    cum = torch.full((n, width), float("-inf"))
    cum[:, 0] = 0
    tok = torch.full((n * width,), bos, dtype=torch.long)
    done = torch.zeros(n * width, dtype=torch.bool)
    hist = torch.zeros((n * width, 0), dtype=torch.long)
    base = (torch.arange(n) * width)[:, None]
    for _ in range(max_len):
        logits, state = step(model, memory, tok, state)
        lp = torch.log_softmax(logits, -1)
        if bool(done.any()):
            lp[done] = float("-inf")
            lp[done, eos] = 0
        total = (cum.reshape(-1, 1) + lp).reshape(n, width * V)
        cum, idx = total.topk(width, dim=1)
        rows = (base + torch.div(idx, V, rounding_mode="floor")).reshape(-1)
        tok = (idx % V).reshape(-1)
        state = tuple(s.index_select(1, rows) for s in state)
        hist = torch.cat([hist.index_select(0, rows), tok[:, None]], 1)
        done = done.index_select(0, rows) | (tok == eos)
        if bool(done.all()):
            break
    best = hist.reshape(n, width, -1)[:, 0].tolist()
    return [row[:row.index(eos)] if eos in row else row for row in best]


def timed(fn, iters):
    fn()
    walls, cpus = [], []
    for _ in range(iters):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    bos, eos, max_len = 0, 1, 11
    want = {}
    if a.checkpoint:
        model, info = rk.load(a.checkpoint)
        meta = info["meta"]
        src = torch.tensor(json.loads(meta["x.sources"]), dtype=torch.long).t().contiguous()
        bos, eos, max_len = (json.loads(meta["x." + k]) for k in ("bos", "eos", "max_len"))
        want = {"greedy": json.loads(meta["x.greedy"]), "beam5": json.loads(meta["x.beam5"])}
    else:
        model = rk.Seq2Seq(V, E, H, "lstm", 1, "attention", "dot").eval()
        with torch.no_grad():
            model.fc.bias[eos] = -1e4
        src = torch.randint(2, V, (TS, B))
    n = src.shape[1]
    rows = {}
    with torch.inference_mode():
        runs = {"greedy": lambda: greedy(model, src, bos, eos, max_len),
                "beam5": lambda: beam(model, src, bos, eos, max_len, 5)}
        for name, fn in runs.items():
            wall, cpu = timed(fn, a.iters)
            row = {"seqs_per_s": n / wall, "seqs_per_cpu_s": n / cpu}
            if name in want:
                got = fn()
                row["same_as_rnnkit"] = sum(g == w for g, w in zip(got, want[name]))
            rows[name] = row
            print("%-7s %9.0f seqs/s %9.0f seqs/cpu-s%s" % (
                name, row["seqs_per_s"], row["seqs_per_cpu_s"],
                "  %d/%d answers as rnnkit's" % (row["same_as_rnnkit"], n) if "same_as_rnnkit" in row else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "rows": rows}, f)


if __name__ == "__main__":
    main()
