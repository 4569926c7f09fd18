#!/usr/bin/python3
"""PyTorch side of the Transformer speed comparison (models/transformer's
BenchmarkS1Step, BenchmarkDateStep and BenchmarkGreedy).

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_transformer.py [threads [step,date,greedy1,greedy32]]

The same model as rnnkit's Seq2Seq Transformer (the translation tutorial's:
one embedding scaled by sqrt(E) plus the sinusoidal code, nn.Transformer
with pre-norm layers, a Linear generator), float32, training mode with
dropout 0.1:
  step:   forward + backward of the mean cross-entropy (no optimiser step),
          target tokens per second, at the S1-like size (batch 32, 35 + 35
          tokens, E 256, 4 heads, feed-forward 1024, 2 + 2 layers, vocabulary
          10,000) and at the date preset's (batch 128, 12 + 12, E 64, 4 heads,
          feed-forward 256, 2 + 2, vocabulary 64);
  greedy: the tutorial's greedy loop (the decoder re-run over the whole
          prefix each step, no cache), eval mode, tokens per second.
"""
import math
import sys
import time

import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, V, E, heads, F, L):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.transformer = nn.Transformer(E, heads, L, L, F, dropout=0.1, norm_first=True)
        self.fc = nn.Linear(E, V)
        self.E = E
        pos = torch.arange(0, 512).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, E, 2).float() * (-math.log(10000.0) / E))
        pe = torch.zeros(512, E)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(1))

    def emb(self, ids):
        return self.embedding(ids) * math.sqrt(self.E) + self.pe[: ids.shape[0]]

    def forward(self, src, tgt):
        T = tgt.shape[0]
        mask = self.transformer.generate_square_subsequent_mask(T)
        return self.fc(self.transformer(self.emb(src), self.emb(tgt), tgt_mask=mask))


def step(B, Ts, Tt, E, heads, F, L, V, reps):
    torch.manual_seed(0)
    m = Seq2Seq(V, E, heads, F, L)
    m.train()
    src = torch.randint(0, V, (Ts, B))
    tgt = torch.randint(0, V, (Tt, B))
    lab = torch.randint(0, V, (Tt, B))
    for _ in range(2):
        loss = nn.functional.cross_entropy(m(src, tgt).reshape(-1, V), lab.reshape(-1))
        loss.backward()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        m.zero_grad()
        loss = nn.functional.cross_entropy(m(src, tgt).reshape(-1, V), lab.reshape(-1))
        loss.backward()
    dt = (time.perf_counter() - t0) / reps
    cpu = (time.process_time() - c0) / reps
    return B * Tt / dt, dt, B * Tt / cpu


def greedy(B, Ts, steps, E, heads, F, L, V, reps):
    torch.manual_seed(0)
    m = Seq2Seq(V, E, heads, F, L)
    m.eval()
    src = torch.randint(0, V, (Ts, B))
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for _ in range(reps):
            mem = m.transformer.encoder(m.emb(src))
            ys = torch.zeros(1, B, dtype=torch.long)
            for _ in range(steps):
                mask = m.transformer.generate_square_subsequent_mask(ys.shape[0])
                out = m.transformer.decoder(m.emb(ys), mem, tgt_mask=mask)
                nxt = m.fc(out[-1]).argmax(-1)
                ys = torch.cat([ys, nxt.unsqueeze(0)], 0)
    dt = (time.perf_counter() - t0) / reps
    cpu = (time.process_time() - c0) / reps
    return B * steps / dt, dt, B * steps / cpu


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    which = sys.argv[2].split(",") if len(sys.argv) > 2 else ["step", "date", "greedy1", "greedy32"]
    if "step" in which:
        tps, dt, cps = step(32, 35, 35, 256, 4, 1024, 2, 10000, 5)
        print("step S1:   %.0f tokens/s (%.1f ms), %.0f tokens/CPU-s" % (tps, dt * 1e3, cps))
    if "date" in which:
        tps, dt, cps = step(128, 12, 12, 64, 4, 256, 2, 64, 10)
        print("step date: %.0f tokens/s (%.1f ms), %.0f tokens/CPU-s" % (tps, dt * 1e3, cps))
    if "greedy1" in which:
        tps, dt, cps = greedy(1, 35, 35, 256, 4, 1024, 2, 10000, 3)
        print("greedy S1 batch 1, 35 tokens:  %.0f tokens/s (%.1f ms), %.0f tokens/CPU-s" % (tps, dt * 1e3, cps))
    if "greedy32" in which:
        tps, dt, cps = greedy(32, 35, 35, 256, 4, 1024, 2, 10000, 1)
        print("greedy S1 batch 32, 35 tokens: %.0f tokens/s (%.1f ms), %.0f tokens/CPU-s" % (tps, dt * 1e3, cps))


if __name__ == "__main__":
    main()
