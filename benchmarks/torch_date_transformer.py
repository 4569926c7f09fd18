#!/usr/bin/python3
"""PyTorch reference of rnnkit's date-transformer preset, on the same
examples (written by `go run ./benchmarks/datesfile -out DIR`), with the same
recipe: the translation tutorial's Seq2Seq Transformer (one character
embedding shared by source and target, scaled by sqrt(E), plus the
sinusoidal code; nn.Transformer with pre-norm layers; a Linear generator),
Glorot-uniform matrices, E 64, 4 heads, feed-forward 256, 2 + 2 layers,
dropout 0.1, Adam 1e-3, global-norm clip 5, batches of 128 shuffled each
epoch, padding masked; greedy decoding (the decoder re-run over the prefix)
and exact match on the test file after every epoch.

    go run ./benchmarks/datesfile -task date -n 50000 -seed 1 -out /tmp/dates
    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_date_transformer.py /tmp/dates --epochs 10

Prints one line per epoch: training loss, test exact match, training and
evaluation seconds.
"""
import argparse
import math
import random
import time

import torch
from torch import nn

PAD, BOS, EOS = 0, 1, 2


def read_pairs(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            q, a = line.rstrip("\n").split("_", 1)
            out.append((q.rstrip(" "), a.rstrip(" ")))
    return out


class Seq2Seq(nn.Module):
    def __init__(self, V, E, heads, F, L, dropout):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.transformer = nn.Transformer(E, heads, L, L, F, dropout=dropout, norm_first=True)
        self.fc = nn.Linear(E, V)
        self.drop = nn.Dropout(dropout)
        self.E = E
        pos = torch.arange(0, 256).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, E, 2).float() * (-math.log(10000.0) / E))
        pe = torch.zeros(256, E)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(1))
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def emb(self, ids):
        return self.drop(self.embedding(ids) * math.sqrt(self.E) + self.pe[: ids.shape[0]])

    def encode(self, src):
        return self.transformer.encoder(self.emb(src), src_key_padding_mask=(src == PAD).t())

    def decode(self, tgt, mem, src):
        mask = self.transformer.generate_square_subsequent_mask(tgt.shape[0])
        out = self.transformer.decoder(self.emb(tgt), mem, tgt_mask=mask, tgt_key_padding_mask=(tgt == PAD).t(),
                                       memory_key_padding_mask=(src == PAD).t())
        return self.fc(out)


def pad(seqs):
    T = max(len(s) for s in seqs)
    return torch.tensor([s + [PAD] * (T - len(s)) for s in seqs]).t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training pairs (0: all)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    random.seed(1)
    train, test = read_pairs(args.dir + "/train.txt"), read_pairs(args.dir + "/test.txt")
    if args.limit:
        train = train[: args.limit]
    chars = sorted({c for q, a in train + test for c in q + a})
    ids = {c: i + 4 for i, c in enumerate(chars)}  # 0..3: PAD, BOS, EOS, UNK as rnnkit
    V = len(chars) + 4
    enc = lambda s: [ids[c] for c in s]
    tr = [(enc(q), [BOS] + enc(a), enc(a) + [EOS]) for q, a in train]
    te = [(enc(q), enc(a)) for q, a in test]
    m = Seq2Seq(V, 64, 4, 256, 2, 0.1)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss(ignore_index=PAD)
    for epoch in range(1, args.epochs + 1):
        m.train()
        random.shuffle(tr)
        t0, total, n = time.perf_counter(), 0.0, 0
        for i in range(0, len(tr), args.batch):
            b = tr[i : i + args.batch]
            src, tin, tout = pad([x[0] for x in b]), pad([x[1] for x in b]), pad([x[2] for x in b])
            logits = m.decode(tin, m.encode(src), src)
            loss = lossf(logits.reshape(-1, V), tout.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(m.parameters(), 5.0)
            opt.step()
            total += loss.item()
            n += 1
        t_train = time.perf_counter() - t0
        m.eval()
        t0, right = time.perf_counter(), 0
        with torch.no_grad():
            for i in range(0, len(te), 500):
                b = te[i : i + 500]
                src = pad([x[0] for x in b])
                mem = m.encode(src)
                ys = torch.full((1, len(b)), BOS, dtype=torch.long)
                L = max(len(x[1]) for x in b) + 1
                for _ in range(L):
                    nxt = m.decode(ys, mem, src)[-1].argmax(-1)
                    ys = torch.cat([ys, nxt.unsqueeze(0)], 0)
                for k, x in enumerate(b):
                    out = []
                    for t in ys[1:, k].tolist():
                        if t == EOS:
                            break
                        out.append(t)
                    right += out == x[1]
        print("epoch %d: train loss %.4f, test exact match %.2f%%, train %.1f s, eval %.1f s"
              % (epoch, total / n, 100 * right / len(te), t_train, time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
