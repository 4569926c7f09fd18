#!/usr/bin/python3
"""PyTorch reference of rnnkit's sst-treelstm: the level-batched binary
Tree-LSTM (Tai et al. 2015, section 3.2, in DGL's layout) trained on the
Stanford Sentiment Treebank with the same data, sizes and settings:

  random N(0, 1) 300-d word vectors (vocabulary of train, unknown words to
  <unk>), H 150, 5 classes, batches of 25 trees shuffled each epoch,
  Adagrad lr 0.05 with weight decay 1e-4, dropout 0.5 before the linear
  classifier on every node, loss = cross-entropy summed over every node of
  the batch / trees in the batch, float32, 2 threads.

Level batching: all leaves of a batch go through one product with W_iou,
then every node of height 1 through one product with U_iou and one with
U_f over its children's [h_L; h_R], and so on up, as DGL and rnnkit's
models/tree BuildLevelGraph do.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 benchmarks/torch_tree.py --data ../shared/data/sst --epochs 3
  /usr/bin/python3 benchmarks/torch_tree.py --data DIR --batches 100 --json out.json   # speed only

It prints, per epoch, the training trees/s (training steps only), the
epoch's seconds (training and the dev evaluation) and the dev root fine and
binary accuracies (binary: non-neutral roots, positive when p3 + p4 > p0 + p1).
"""
import argparse
import json
import os
import random
import re
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def parse_tree(line):
    """Reads one PTB bracket tree: (label word) or (label child child).
    Tokens are separated by ASCII white space only, as rnnkit's reader
    separates them: SST has words with a no-break space in them."""
    toks = [t for t in re.split(r"[ \t\r\n]+", line.replace("(", " ( ").replace(")", " ) ")) if t]
    pos = 0

    def node():
        nonlocal pos
        assert toks[pos] == "("
        label = int(toks[pos + 1])
        pos += 2
        if toks[pos] != "(":
            word = toks[pos]
            pos += 2  # the word and ")"
            return (label, word, [])
        kids = []
        while toks[pos] == "(":
            kids.append(node())
        pos += 1
        return (label, None, kids)

    return node()


def read_trees(path):
    with open(path, encoding="utf-8") as f:
        return [parse_tree(line) for line in f if line.strip()]


def leaves(t):
    out, stack = [], [t]
    while stack:
        n = stack.pop()
        if n[1] is not None:
            out.append(n[1])
        stack.extend(reversed(n[2]))
    return out


class Batch:
    """A batch of trees flattened in post-order, with the nodes of each
    height as index tensors."""

    def __init__(self, trees, vocab):
        words, labels, left, right, height, roots = [], [], [], [], [], []

        def visit(t):  # iterative post-order
            stack, out = [(t, False)], None
            results = {}
            while stack:
                n, done = stack.pop()
                if not done:
                    stack.append((n, True))
                    for k in reversed(n[2]):
                        stack.append((k, False))
                    continue
                i = len(labels)
                labels.append(n[0])
                if n[1] is not None:
                    words.append(vocab.get(n[1], 0))
                    left.append(-1), right.append(-1), height.append(0)
                else:
                    a, b = results[id(n[2][0])], results[id(n[2][1])]
                    words.append(-1)
                    left.append(a), right.append(b), height.append(1 + max(height[a], height[b]))
                results[id(n)] = i
                out = i
            return out

        for t in trees:
            roots.append(visit(t))
        self.n = len(labels)
        self.labels = torch.tensor(labels)
        self.roots = torch.tensor(roots)
        words_t = torch.tensor(words)
        left_t, right_t, height_t = torch.tensor(left), torch.tensor(right), torch.tensor(height)
        self.leaf_idx = (height_t == 0).nonzero().squeeze(1)
        self.leaf_words = words_t[self.leaf_idx]
        self.levels = []
        for h in range(1, int(height_t.max()) + 1):
            idx = (height_t == h).nonzero().squeeze(1)
            self.levels.append((idx, left_t[idx], right_t[idx]))
        self.trees = len(trees)


class TreeLSTM(nn.Module):
    def __init__(self, vocab, E, H, C, dropout):
        super().__init__()
        self.H = H
        self.embedding = nn.Embedding(vocab, E)
        self.W_iou = nn.Linear(E, 3 * H, bias=False)
        self.U_iou = nn.Linear(2 * H, 3 * H, bias=False)
        self.b_iou = nn.Parameter(torch.zeros(1, 3 * H))
        self.U_f = nn.Linear(2 * H, 2 * H)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(H, C)

    def cell(self, iou, cs):
        i, o, u = torch.chunk(iou + self.b_iou, 3, 1)
        i, o, u = torch.sigmoid(i), torch.sigmoid(o), torch.tanh(u)
        c = i * u if cs is None else i * u + cs
        return o * torch.tanh(c), c

    def forward(self, b):
        H = self.H
        h = torch.zeros(b.n, H)
        c = torch.zeros(b.n, H)
        x = self.embedding(b.leaf_words)
        hl, cl = self.cell(self.W_iou(x), None)
        h = h.index_copy(0, b.leaf_idx, hl)
        c = c.index_copy(0, b.leaf_idx, cl)
        for idx, left, right in b.levels:
            a = torch.cat([h[left], h[right]], 1)
            f = torch.sigmoid(self.U_f(a))
            fc = f[:, :H] * c[left] + f[:, H:] * c[right]
            hn, cn = self.cell(self.U_iou(a), fc)
            h = h.index_copy(0, idx, hn)
            c = c.index_copy(0, idx, cn)
        return self.linear(self.dropout(h))


def evaluate(model, batches):
    model.eval()
    fine = binary = bin_n = n = 0
    with torch.no_grad():
        for b in batches:
            p = F.softmax(model(b), 1)[b.roots]
            y = b.labels[b.roots]
            fine += int((p.argmax(1) == y).sum())
            n += len(y)
            keep = y != 2
            pos = (p[:, 3] + p[:, 4]) > (p[:, 0] + p[:, 1])
            binary += int((pos[keep] == (y[keep] > 2)).sum())
            bin_n += int(keep.sum())
    model.train()
    return fine / n, binary / bin_n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "sst"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batches", type=int, default=0, help="train only this many batches (speed only), then stop")
    ap.add_argument("--warmup", type=int, default=10, help="with --batches: batches trained first and not timed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    train = read_trees(os.path.join(args.data, "train.txt"))
    dev = read_trees(os.path.join(args.data, "dev.txt"))
    counts = {}
    for t in train:
        for w in leaves(t):
            counts[w] = counts.get(w, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))
    vocab = {"<unk>": 0}
    for w in words:
        vocab.setdefault(w, len(vocab))
    model = TreeLSTM(len(vocab), 300, 150, 5, 0.5)
    opt = torch.optim.Adagrad(model.parameters(), lr=0.05, weight_decay=1e-4)
    dev_batches = [Batch(dev[i:i + 100], vocab) for i in range(0, len(dev), 100)]
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": []}
    print("PyTorch %s, %d threads, vocabulary %d, %d train / %d dev trees" % (
        torch.__version__, torch.get_num_threads(), len(vocab), len(train), len(dev)), flush=True)
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = list(range(len(train)))
        random.shuffle(order)
        train_s, cpu_s, trees, total = 0.0, 0.0, 0, 0.0
        for k in range(0, len(order), 25):
            if args.batches and k // 25 >= args.batches + args.warmup:
                break
            b = Batch([train[i] for i in order[k:k + 25]], vocab)
            t0, c0 = time.perf_counter(), time.process_time()
            logits = model(b)
            loss = F.cross_entropy(logits, b.labels, reduction="sum") / b.trees
            opt.zero_grad()
            loss.backward()
            opt.step()
            if args.batches and k // 25 < args.warmup:
                continue  # not timed
            train_s += time.perf_counter() - t0
            cpu_s += time.process_time() - c0  # every thread's CPU time
            trees += b.trees
            total += float(loss)
        rec = {"epoch": epoch, "trees": trees, "train_seconds": train_s, "trees_per_s": trees / train_s,
               "trees_per_cpu_s": trees / cpu_s if cpu_s > 0 else None,
               "train_loss": total / max(1, (trees + 24) // 25)}
        if not args.batches:
            rec["dev_fine"], rec["dev_binary"] = evaluate(model, dev_batches)
        rec["epoch_seconds"] = time.perf_counter() - start
        out["epochs"].append(rec)
        print(json.dumps(rec), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
