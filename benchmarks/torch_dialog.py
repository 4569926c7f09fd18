#!/usr/bin/python3
"""PyTorch references of rnnkit's dialogue presets (models/hred): the flat
Seq2Seq baseline, HRED and VHRED, on a file in DailyDialog's format split
90/10 by dialogue as rnnkit's dialog.Split does (every tenth dialogue is
test), with the same vocabulary (words seen --min-count times in the
training split, most frequent first, then lexical), the same examples
(every reply with the last --max-context utterances before it, each cut to
--max-len tokens), the same model (one GRU layer each; the condition
initialises the decoder through tanh(Linear) and is joined to every
decoder input), the same loss (cross-entropy per reply token, + beta * KL /
tokens for VHRED, beta rising linearly over --kl-anneal steps, word
dropout on decoder inputs), Adam with a global-norm clip, batches of
--batch replies bucketed by size. It prints one JSON line per epoch: the
test perplexity, NLL and KL per sentence (as rnnkit's eval reports them),
and the epoch's training seconds.

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_dialog.py \
        --data ../shared/data/dailydialog/validation.txt --model hred --seed 1
"""
import argparse
import collections
import json
import math
import random
import sys
import time

import torch
import torch.nn as nn

PAD, BOS, EOS, UNK = 0, 1, 2, 3


def read_dialogues(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            parts = line.split("__eou__")
            assert parts[-1].strip() == "", "text after the last __eou__"
            d = [" ".join(p.split()) for p in parts[:-1]]
            assert all(d) and len(d) >= 2
            out.append(d)
    return out


def build_vocab(dialogues, min_count):
    counts = collections.Counter(w for d in dialogues for u in d for w in u.split())
    for s in ("<pad>", "<s>", "</s>", "<unk>"):
        counts.pop(s, None)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w.encode()))
    toks = ["<pad>", "<s>", "</s>", "<unk>"] + words
    return {t: i for i, t in enumerate(toks)}


def examples(dialogues, vocab, max_context, max_len):
    enc = lambda u: [vocab.get(w, UNK) for w in u.split()][: max_len or None]
    out = []
    for d in dialogues:
        for j in range(1, len(d)):
            ctx = d[max(0, j - max_context):j] if max_context else d[:j]
            out.append(([enc(u) for u in ctx], enc(d[j])))
    return out


def buckets(exs, kind, batch, width, rng):
    up = lambda n: (n + width - 1) // width * width
    keys = []
    for ctx, rep in exs:
        c = ctx[-1:] if kind == "seq2seq" else ctx
        n = 1 if kind == "seq2seq" else up(len(c))
        keys.append(n * 1000000 + max(up(max(len(u) for u in c)), up(len(rep) + 1)))
    perm = list(range(len(exs)))
    rng.shuffle(perm)
    perm.sort(key=lambda i: keys[i])
    out, s = [], 0
    while s < len(perm):
        e = s + 1
        while e < len(perm) and e - s < batch and keys[perm[e]] == keys[perm[s]]:
            e += 1
        out.append(perm[s:e])
        s = e
    rng.shuffle(out)
    return out


class Dialog(nn.Module):
    def __init__(self, kind, V, E, H, C, Z):
        super().__init__()
        self.kind, self.Z = kind, Z
        D = {"seq2seq": H, "hred": C, "vhred": C + Z}[kind]
        self.emb = nn.Embedding(V, E)
        self.enc = nn.GRU(E, H)
        if kind != "seq2seq":
            self.ctx = nn.GRU(H, C)
        self.init = nn.Linear(D, H)
        self.dec = nn.GRU(E + D, H)
        self.fc = nn.Linear(H, V)
        if kind == "vhred":
            self.prior = nn.ModuleList([nn.Linear(C, C), nn.Linear(C, Z), nn.Linear(C, Z)])
            self.post = nn.ModuleList([nn.Linear(C + H, C), nn.Linear(C, Z), nn.Linear(C, Z)])

    def encode(self, seqs):
        """Final GRU h of each non-empty token list, [n, H]."""
        lens = torch.tensor([len(s) for s in seqs])
        x = torch.zeros(int(lens.max()), len(seqs), dtype=torch.long)
        for i, s in enumerate(seqs):
            x[: len(s), i] = torch.tensor(s)
        packed = nn.utils.rnn.pack_padded_sequence(self.emb(x), lens, enforce_sorted=False)
        return self.enc(packed)[1][0]

    @staticmethod
    def gauss(net, x):
        h = torch.tanh(net[0](x))
        return net[1](h), net[2](h)

    def forward(self, batch, beta, word_dropout, training, eps=None, drop=None):
        """Returns (NLL sum, KL sum, reply tokens, loss) of a batch of
        (context, reply) examples; eps, when given, is VHRED's noise [B, Z]
        (default: drawn from torch's generator); drop, when given, lists
        per example the reply positions word dropout replaces by <unk>
        (default: drawn from the global random with word_dropout)."""
        cond = self.context(batch)
        kl = torch.zeros(())
        if self.kind == "vhred":
            r = self.encode([rep + [EOS] for _, rep in batch])
            mq, lq = self.gauss(self.post, torch.cat([cond, r], 1))
            mp, lp = self.gauss(self.prior, cond)
            z = mq + torch.exp(0.5 * lq) * (torch.randn_like(mq) if eps is None else eps)
            kl = (0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp() - 1)).sum()
            cond = torch.cat([cond, z], 1)
        tin, tout = self.replies(batch, word_dropout if training else 0, drop if training else None)
        nll = self.token_nll(cond, tin, tout).sum()
        tokens = int((tout != -100).sum())
        return nll, kl, tokens, (nll + beta * kl) / tokens

    def context(self, batch):
        """The condition of each example from its context, [B, C] (the
        last utterance's encoding, [B, H], for seq2seq)."""
        B = len(batch)
        ctxs = [ctx[-1:] if self.kind == "seq2seq" else ctx for ctx, _ in batch]
        flat = [u for c in ctxs for u in c]
        u = self.encode(flat)
        if self.kind == "seq2seq":
            return u
        N = max(len(c) for c in ctxs)
        grid = u.new_zeros(N, B, u.shape[1])
        k = 0
        for b, c in enumerate(ctxs):
            grid[: len(c), b] = u[k:k + len(c)]
            k += len(c)
        packed = nn.utils.rnn.pack_padded_sequence(grid, torch.tensor([len(c) for c in ctxs]), enforce_sorted=False)
        return self.ctx(packed)[1][0]

    @staticmethod
    def replies(batch, word_dropout=0, drop=None):
        """The decoder's inputs and targets, [T, B] each (targets -100 at
        padding); word dropout from drop, else drawn with word_dropout."""
        B = len(batch)
        T = max(len(rep) for _, rep in batch) + 1
        tin = torch.full((T, B), PAD, dtype=torch.long)
        tout = torch.full((T, B), -100, dtype=torch.long)
        for b, (_, rep) in enumerate(batch):
            ins = [BOS] + rep
            if drop is not None:
                ins = [BOS] + [UNK if s in drop[b] else w for s, w in enumerate(rep)]
            elif word_dropout > 0:
                ins = [BOS] + [UNK if random.random() < word_dropout else w for w in rep]
            tin[: len(ins), b] = torch.tensor(ins)
            tout[: len(rep) + 1, b] = torch.tensor(rep + [EOS])
        return tin, tout

    def token_nll(self, cond, tin, tout):
        """Each reply token's cross-entropy given the condition, [T, B]
        (0 at padding)."""
        T, B = tin.shape
        h0 = torch.tanh(self.init(cond)).unsqueeze(0)
        x = torch.cat([self.emb(tin), cond.unsqueeze(0).expand(T, B, cond.shape[1])], 2)
        logits = self.fc(self.dec(x, h0)[0])
        return nn.functional.cross_entropy(logits.view(T * B, -1), tout.view(-1), reduction="none").view(T, B)

    def iw_log_weights(self, batch, K, generator=None):
        """VHRED's K importance samples per example, [B, K]: log p(x | z, c)
        + log p(z | c) - log q(z | x, c) with z drawn from q (ε from
        generator, default torch's)."""
        ctx = self.context(batch)
        r = self.encode([rep + [EOS] for _, rep in batch])
        mq, lq = self.gauss(self.post, torch.cat([ctx, r], 1))
        mp, lp = self.gauss(self.prior, ctx)
        tin, tout = self.replies(batch)
        log2pi = math.log(2 * math.pi)
        out = []
        for _ in range(K):
            eps = torch.randn(mq.shape, generator=generator, dtype=mq.dtype)
            z = mq + torch.exp(0.5 * lq) * eps
            rec = self.token_nll(torch.cat([ctx, z], 1), tin, tout).sum(0)
            log_p = -0.5 * (log2pi + lp + (z - mp) ** 2 / lp.exp()).sum(1)
            log_q = -0.5 * (log2pi + lq + eps ** 2).sum(1)
            out.append(-rec + log_p - log_q)
        return torch.stack(out, 1)


def train_step(m, opt, batch, beta, word_dropout, clip, eps=None, drop=None):
    """One optimiser step on batch: the loss, Adam, the global-norm clip.
    Returns (loss, gradient norm before clipping or None)."""
    _, _, _, loss = m(batch, beta, word_dropout, True, eps, drop)
    opt.zero_grad()
    loss.backward()
    norm = None
    if clip > 0:
        norm = float(nn.utils.clip_grad_norm_(m.parameters(), clip))
    opt.step()
    return float(loss), norm


def evaluate(m, te, batch, eps=None):
    """The NLL and KL sums and reply tokens of te, in batches of batch in
    order; eps, when given, is VHRED's ε for every batch (its first rows
    for a shorter last batch), else drawn anew."""
    nll = kl = 0.0
    tokens = 0
    with torch.no_grad():
        for s in range(0, len(te), batch):
            part = te[s:s + batch]
            e = None if eps is None else eps[:len(part)]
            b_nll, b_kl, b_tok, _ = m(part, 1.0, 0, False, e)
            nll += float(b_nll)
            kl += float(b_kl)
            tokens += b_tok
    return nll, kl, tokens


def evaluate_iw(m, te, batch, K, seed=0):
    """VHRED's importance-weighted bound on the NLL of te's replies with K
    samples of z each, summed over replies (ε from a generator of its own,
    so that training's draws do not depend on it)."""
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for s in range(0, len(te), batch):
            lw = m.iw_log_weights(te[s:s + batch], K, g)
            total -= float((torch.logsumexp(lw, 1) - math.log(K)).sum())
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", choices=["seq2seq", "hred", "vhred"], required=True)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--bucket", type=int, default=4)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--latent", type=int, default=32)
    ap.add_argument("--max-context", type=int, default=4)
    ap.add_argument("--max-len", type=int, default=25)
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--clip", type=float, default=5)
    ap.add_argument("--word-dropout", type=float, default=None, help="default: 0.1 for vhred (the preset's), else 0")
    ap.add_argument("--kl-anneal", type=int, default=None, help="default: 600 for vhred, else 0")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iw-samples", type=int, default=0,
                    help="vhred: also report the importance-weighted bound with this many samples of z per reply (0: no)")
    ap.add_argument("--rnnkit-run", help="JSON from rnnkit's TestDialogExportRun: start from its initial parameters "
                    "and train on its batches (the examples' indices per epoch), with its word-dropout choices "
                    "and VHRED's ε in training and evaluation, instead of this run's own draws "
                    "(each alone when the file lacks the others: keys params, order, noise, eval_eps)")
    a = ap.parse_args()
    wd = a.word_dropout if a.word_dropout is not None else (0.1 if a.model == "vhred" else 0)
    anneal = a.kl_anneal if a.kl_anneal is not None else (600 if a.model == "vhred" else 0)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    rng = random.Random(a.seed)
    ds = read_dialogues(a.data)
    train = [d for i, d in enumerate(ds) if i % 10 != 9]
    test = [d for i, d in enumerate(ds) if i % 10 == 9]
    vocab = build_vocab(train, a.min_count)
    tr = examples(train, vocab, a.max_context, a.max_len)
    te = examples(test, vocab, a.max_context, a.max_len)
    m = Dialog(a.model, len(vocab), a.embed, a.hidden, a.context, a.latent)
    order = noise = eval_eps = None
    if a.rnnkit_run:
        with open(a.rnnkit_run) as f:
            run = json.load(f)
        if "params" in run:
            m.load_state_dict({n: torch.tensor(p["data"]).reshape(p["shape"]) for n, p in run["params"].items()}, strict=True)
        order = run.get("order")
        if order is not None and (len(order) < a.epochs or
                                  any(sorted(i for b in ep for i in b) != list(range(len(tr))) for ep in order)):
            sys.exit("--rnnkit-run %s: its batches are not %d epochs of this data's %d training replies"
                     % (a.rnnkit_run, a.epochs, len(tr)))
        noise = run.get("noise")
        if noise is not None and (order is None or len(noise) < sum(len(ep) for ep in order[:a.epochs])):
            sys.exit("--rnnkit-run %s: its noise does not cover %d epochs of its batches" % (a.rnnkit_run, a.epochs))
        if run.get("eval_eps") is not None:
            eval_eps = torch.tensor(run["eval_eps"])
    opt = torch.optim.Adam(m.parameters(), lr=a.lr)
    step = 0
    for epoch in range(1, a.epochs + 1):
        m.train()
        t0 = time.time()
        loss_sum, n = 0.0, 0
        for idx in (order[epoch - 1] if order else buckets(tr, a.model, a.batch, a.bucket, rng)):
            beta = min(1.0, (step + 1) / anneal) if anneal else 1.0
            eps = drop = None
            if noise is not None:
                eps = torch.tensor(noise[step]["eps"]) if noise[step].get("eps") else None
                drop = [set(p) for p in noise[step]["drop"]] if "drop" in noise[step] else [set() for _ in idx]
            loss, _ = train_step(m, opt, [tr[i] for i in idx], beta, wd, a.clip, eps, drop)
            loss_sum += loss
            n += 1
            step += 1
        secs = time.time() - t0
        m.eval()
        nll, kl, tokens = evaluate(m, te, a.batch, eval_eps)
        rec = {"model": a.model, "epoch": epoch, "train_loss": loss_sum / n, "test_perplexity": math.exp((nll + kl) / tokens),
               "test_nll_per_sentence": (nll + kl) / len(te), "epoch_seconds": secs, "vocab": len(vocab),
               "train_replies": len(tr), "test_replies": len(te)}
        if a.model == "vhred":
            rec["test_kl_per_sentence"] = kl / len(te)
            if a.iw_samples > 0:
                iw = evaluate_iw(m, te, a.batch, a.iw_samples)
                rec["test_iw_nll_per_sentence"] = iw / len(te)
                rec["test_iw_perplexity"] = math.exp(iw / tokens)
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
