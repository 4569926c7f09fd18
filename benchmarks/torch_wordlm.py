#!/usr/bin/python3
"""PyTorch reference of rnnkit's wordlm preset: a word-level LSTM language
model of a text file, on the same data as `rnnkit train -preset wordlm`
(the first 90% of the lines train, at least one; the vocabulary is the
training lines' words seen --min-count times, most frequent first, ties in
byte order, cut to --max-vocab, after the four special tokens <pad> <s>
</s> <unk>; each line's words are followed by </s>, blank lines skipped),
the same batching (the token stream cut into --batch parallel streams,
walked in windows of --bptt tokens, the state carried from window to window
and detached, only full windows kept, the same windows in order every
epoch), the same model (embedding, --layers LSTM layers with dropout
between them, a linear output layer; PyTorch's default initialisation,
which rnnkit's matches) and loss (mean cross-entropy per token), Adam with
a global-norm clip. It prints one JSON line per epoch: the test loss,
perplexity and bits per word (as rnnkit's eval reports them), and the
epoch's training seconds.

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_wordlm.py --data lines.txt
"""
import argparse
import collections
import json
import math
import sys
import time

import torch
import torch.nn as nn

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]


def build_vocab(train_lines, min_count, max_vocab):
    counts = collections.Counter(w for l in train_lines for w in l.split())
    for s in SPECIALS:
        counts.pop(s, None)
    words = [w for w, c in counts.items() if c >= min_count]
    words.sort(key=lambda w: (-counts[w], w.encode("utf-8")))
    if max_vocab > 0:
        words = words[:max_vocab]
    return {w: i for i, w in enumerate(SPECIALS + words)}


def encode(lines, vocab):
    ids = []
    for l in lines:
        ws = l.split()
        if not ws:
            continue
        for w in ws:
            i = vocab.get(w, UNK)
            ids.append(UNK if i in (PAD, BOS) else i)
        ids.append(EOS)
    return ids


def windows(ids, batch, steps):
    """The full windows of rnnkit's data.Chunks: [steps + 1, batch] each."""
    n = len(ids) // batch
    if n < 2:
        sys.exit("%d tokens in %d streams: fewer than 2 per stream" % (len(ids), batch))
    streams = torch.tensor(ids[: n * batch]).view(batch, n).t()  # [n, batch]
    out = []
    for start in range(0, n - 1, steps):
        if start + steps + 1 <= n:
            out.append(streams[start:start + steps + 1])
    return out


class WordLM(nn.Module):
    def __init__(self, V, E, H, layers, dropout):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, layers, dropout=dropout if layers > 1 else 0)
        self.fc = nn.Linear(H, V)

    def forward(self, x, state):
        out, state = self.rnn(self.emb(x), state)
        return self.fc(out), state


def run_windows(m, ws, opt=None, clip=0):
    """Mean loss over the windows, the state carried; trains when opt."""
    state, total = None, 0.0
    for w in ws:
        x, y = w[:-1], w[1:]
        logits, state = m(x, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        if opt is not None:
            opt.zero_grad()
            loss.backward()
            if clip > 0:
                nn.utils.clip_grad_norm_(m.parameters(), clip)
            opt.step()
        state = tuple(s.detach() for s in state)
        total += float(loss)
    return total / len(ws)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--bptt", type=int, default=35)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--max-vocab", type=int, default=9996)
    ap.add_argument("--min-count", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clip", type=float, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    with open(a.data, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")  # as Go's strings.Lines: "\n" ends a line
    if lines[-1] == "":
        lines.pop()
    cut = max(1, len(lines) * 9 // 10)
    vocab = build_vocab(lines[:cut], a.min_count, a.max_vocab)
    train, test = encode(lines[:cut], vocab), encode(lines[cut:], vocab)
    tw, vw = windows(train, a.batch, a.bptt), windows(test, a.batch, a.bptt)
    m = WordLM(len(vocab), a.embed, a.hidden, a.layers, a.dropout)
    opt = torch.optim.Adam(m.parameters(), lr=a.lr)
    for epoch in range(1, a.epochs + 1):
        m.train()
        t0 = time.time()
        train_loss = run_windows(m, tw, opt, a.clip)
        secs = time.time() - t0
        m.eval()
        with torch.no_grad():
            loss = run_windows(m, vw)
        print(json.dumps({"epoch": epoch, "train_loss": train_loss, "test_loss": loss, "test_perplexity": math.exp(loss),
                          "test_bits_per_word": loss / math.log(2), "epoch_seconds": secs, "vocab": len(vocab),
                          "train_tokens": len(train), "test_tokens": len(test)}), flush=True)


if __name__ == "__main__":
    main()
