#!/usr/bin/python3
"""PyTorch's side of BenchmarkSeq2Seq and BenchmarkLM (benchmarks/models_test.go).

The same models at S1 (batch 32, 35 steps, embedding 128, LSTM 256,
vocabulary 10,000, float32): a training step is the forward pass and the
backward pass of the mean cross-entropy (gradients set to None before each,
no optimiser step). Two threads; run with OMP_WAIT_POLICY=PASSIVE.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 benchmarks/torch_models.py [--iters 10] [--json out.json]

Prints tokens/s (target tokens per second), the median of --iters steps
after 2 warm-up steps.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn

B, T, E, H, V = 32, 35, 128, 256, 10000


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H)
        self.fc = nn.Linear(H, V)

    def forward(self, x, y):
        h, _ = self.rnn(self.emb(x))
        return nn.functional.cross_entropy(self.fc(h).view(-1, V), y.view(-1))


class Seq2Seq(nn.Module):
    """LSTM encoder and decoder sharing one embedding; the encoder's final
    (h, c) starts the decoder; Luong dot attention, [h; context] into the
    output layer; teacher forcing."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.enc = nn.LSTM(E, H)
        self.dec = nn.LSTM(E, H)
        self.fc = nn.Linear(2 * H, V)

    def forward(self, src, tgt_in, tgt_out):
        mem, state = self.enc(self.emb(src))             # [Ts, B, H]
        dec, _ = self.dec(self.emb(tgt_in), state)       # [Tt, B, H]
        m, d = mem.transpose(0, 1), dec.transpose(0, 1)  # [B, T, H]
        alpha = torch.softmax(torch.bmm(d, m.transpose(1, 2)), dim=-1)
        ctx = torch.bmm(alpha, m)
        out = torch.cat([d, ctx], dim=-1)
        return nn.functional.cross_entropy(self.fc(out).reshape(-1, V), tgt_out.transpose(0, 1).reshape(-1))


def bench(model, args, iters):
    for _ in range(2):
        model.zero_grad(set_to_none=True)
        model(*args).backward()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        model(*args).backward()
        times.append(time.perf_counter() - t0)
    return B * T / statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    tok = lambda: torch.randint(4, V, (T, B))
    rows = {
        "Seq2Seq": bench(Seq2Seq(), (tok(), tok(), tok()), a.iters),
        "LM": bench(LM(), (tok(), tok()), a.iters),
    }
    for k, v in rows.items():
        print("%-8s train S1 %10.0f tokens/s" % (k, v))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "rows": rows}, f)


if __name__ == "__main__":
    main()
