#!/usr/bin/python3
"""PyTorch's side of BenchmarkQuantizedLM (benchmarks/quantize_test.go) and
of docs/compression.md's int8 table.

The language model of the issue: vocabulary 10,000, embedding 128, two LSTM
layers of 256, forward (logits) of batch 32 x 35 tokens and of one stream of
35 tokens; float32 against torch.quantization.quantize_dynamic of its LSTM
and Linear (qint8 weights per tensor, activations quantized at run time; the
embedding stays float32), with each quantized engine this build supports
(onednn, x86, fbgemm, qnnpack). Two
threads; run with OMP_WAIT_POLICY=PASSIVE.

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_quantize.py [--iters 10] [--json out.json]

Prints tokens/s (the median of --iters forwards after 2 warm-up ones) and
tokens per CPU-second (--threads 1 with GOMAXPROCS=1 on the Go side is the
comparison that a shared machine does not distort), the size of each model's saved state_dict, and the largest logit change of
int8 against float32.

With --checkpoint F (a trained rnnkit language model, loaded by
scripts/rnnkit_to_torch.py) the same is measured on that model's weights,
and with --data TEXT also the perplexity of float32 and of each int8 engine
on TEXT, computed as rnnkit eval computes it (32 streams, full windows of
35 tokens, the state carried from window to window), so the float32 figure
checks the loading against rnnkit's own:

    /usr/bin/python3 benchmarks/torch_quantize.py --checkpoint best.safetensors --data test.txt
"""
import argparse
import copy
import io
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

T, E, H, V = 35, 128, 256, 10000


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, num_layers=2)
        self.fc = nn.Linear(H, V)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.fc(h)


def tokens_per_s(model, x, iters):
    """Tokens per second (the median forward) and per CPU-second of the
    process (all threads; on a shared machine it measures the work where
    wall-clock time measures the load)."""
    times, cpu = [], 0.0
    with torch.no_grad():
        for i in range(iters + 2):
            t0, c0 = time.perf_counter(), time.process_time()
            model(x)
            if i >= 2:
                times.append(time.perf_counter() - t0)
                cpu += time.process_time() - c0
    return {"tokens_per_s": x.numel() / statistics.median(times), "tokens_per_cpu_s": x.numel() * iters / cpu}


def size(model):
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def logits(model, x):
    """The logits of either LM class (rnnkit_to_torch's returns a pair)."""
    y = model(x)
    return y[0] if isinstance(y, tuple) else y


def perplexity(model, ids, batch=32, steps=T):
    """exp of the mean cross-entropy over the full windows of `steps` tokens
    of `batch` streams, the state carried (rnnkit's data.Chunks and
    training.LM.Evaluate)."""
    n = len(ids) // batch
    streams = torch.tensor(ids[: n * batch]).view(batch, n).t()  # [n, batch]
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, n - 1, steps):
            if start + steps + 1 > n:
                break
            x, y = streams[start:start + steps], streams[start + 1:start + steps + 1]
            z, state = model(x, state)
            total += nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    return math.exp(total / count)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint", help="a trained rnnkit language model (default: random weights)")
    ap.add_argument("--data", help="with --checkpoint: a text to measure perplexity on")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    ids = None
    if args.checkpoint:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
        import rnnkit_to_torch as rk
        fp32, info = rk.load(args.checkpoint)
        vocab = fp32.fc.out_features
        if args.data:
            index = {t: i for i, t in enumerate(info["vocab"])}
            with open(args.data, encoding="utf-8") as f:
                ids = [index.get(ch, 3) for ch in f.read()]  # 3: <unk>
    else:
        if args.data:
            sys.exit("--data needs --checkpoint")
        fp32, vocab = LM().eval(), V
    xb = torch.randint(0, vocab, (T, 32))
    x1 = torch.randint(0, vocab, (T, 1))
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__,
           "fp32": {"bytes": size(fp32), "b32": tokens_per_s(fp32, xb, args.iters),
                    "b1": tokens_per_s(fp32, x1, args.iters)}}
    if ids is not None:
        out["fp32"]["perplexity"] = perplexity(fp32, ids)
    with torch.no_grad():
        ref = logits(fp32, xb)
    for engine in torch.backends.quantized.supported_engines:
        if engine == "none":
            continue
        torch.backends.quantized.engine = engine
        q = torch.quantization.quantize_dynamic(copy.deepcopy(fp32), {nn.LSTM, nn.Linear}, dtype=torch.qint8)
        with torch.no_grad():
            d = (logits(q, xb) - ref).abs().max().item()
        out["int8_" + engine] = {"bytes": size(q), "b32": tokens_per_s(q, xb, args.iters),
                                 "b1": tokens_per_s(q, x1, args.iters), "max_logit_change": d}
        if ids is not None:
            out["int8_" + engine]["perplexity"] = perplexity(q, ids)
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
