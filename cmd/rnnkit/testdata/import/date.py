#!/usr/bin/python3
"""A PyTorch-trained date model for rnnkit import (cmd/rnnkit/import_date_test.go).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 date.py DIR [--hidden 64] [--embed 16] [--epochs 3]

Trains the Seq2Seq of benchmarks/torch_models.py (LSTM encoder and decoder
sharing one embedding, Luong dot attention; modules emb, enc, dec, fc) on the
question_answer lines of DIR/train.txt, characters numbered by DIR/vocab.json
(a JSON list of tokens, <pad> <s> </s> <unk> first): the question feeds the
encoder, <s> + answer the decoder, answer + </s> are the labels. Batches hold
questions of one length, so nothing is padded. Then it answers the questions
of DIR/test.txt greedily, one at a time (start from <s>, the most likely
token each step, stop at </s> or after as many tokens as the longest answer
plus one, as rnnkit eval does), and writes DIR/date.pt (torch.save of the
state_dict) and DIR/date.json: {"exact_match": fraction, "predictions":
[answer, ...]}.
"""
import argparse
import json
import os
import random
import sys

import torch
import torch.nn as nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import torch_models as tm  # noqa: E402

PAD, BOS, EOS, UNK = 0, 1, 2, 3


def read_pairs(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line:
                q, a = line.split("_", 1)
                pairs.append((q.rstrip(" "), a.rstrip(" ")))
    return pairs


@torch.no_grad()
def greedy(m, src, max_len):
    """One question's answer ids, as rnnkit's decode.Greedy: argmax (the
    lowest id among equals), stop at EOS (not kept) or after max_len tokens."""
    mem, state = m.enc(m.emb(src))
    tok, out = torch.tensor([[BOS]]), []
    for _ in range(max_len):
        dec, state = m.dec(m.emb(tok), state)
        alpha = torch.softmax(torch.bmm(dec.transpose(0, 1), mem.transpose(0, 1).transpose(1, 2)), dim=-1)
        ctx = torch.bmm(alpha, mem.transpose(0, 1)).transpose(0, 1)
        t = int(m.fc(torch.cat([dec, ctx], dim=-1)).argmax(-1))
        if t == EOS:
            break
        out.append(t)
        tok = torch.tensor([[t]])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--embed", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    rng = random.Random(1)
    with open(os.path.join(a.dir, "vocab.json")) as f:
        itos = json.load(f)
    stoi = {t: i for i, t in enumerate(itos)}
    enc = lambda s: [stoi.get(c, UNK) for c in s]
    tm.V, tm.E, tm.H = len(itos), a.embed, a.hidden
    m = tm.Seq2Seq()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    train = read_pairs(os.path.join(a.dir, "train.txt"))
    by_len = {}
    for q, ans in train:
        by_len.setdefault((len(q), len(ans)), []).append((enc(q), [BOS] + enc(ans), enc(ans) + [EOS]))
    for _ in range(a.epochs):
        batches = []
        for rows in by_len.values():
            rng.shuffle(rows)
            batches += [rows[i:i + a.batch] for i in range(0, len(rows), a.batch)]
        rng.shuffle(batches)
        for rows in batches:
            src, tin, tout = (torch.tensor(list(col)).t() for col in zip(*rows))
            opt.zero_grad()
            m(src, tin, tout).backward()
            nn.utils.clip_grad_norm_(m.parameters(), 5)
            opt.step()
    m.eval()
    test = read_pairs(os.path.join(a.dir, "test.txt"))
    max_len = max(len(ans) for _, ans in test) + 1
    preds = ["".join(itos[i] for i in greedy(m, torch.tensor([enc(q)]).t(), max_len)) for q, _ in test]
    em = sum(p == ans for p, (_, ans) in zip(preds, test)) / len(test)
    torch.save(m.state_dict(), os.path.join(a.dir, "date.pt"))
    with open(os.path.join(a.dir, "date.json"), "w") as f:
        json.dump({"exact_match": em, "predictions": preds}, f)
    print("torch %s: exact match %.4f on %d test questions" % (torch.__version__, em, len(test)))


if __name__ == "__main__":
    main()
