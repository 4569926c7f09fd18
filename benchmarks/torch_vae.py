#!/usr/bin/python3
"""PyTorch reference of rnnkit's sentence-vae and sentence-lm presets (the
sentence VAE of Bowman et al. 2016 and its baseline), with the same data,
sizes and settings as `rnnkit train -preset sentence-vae -data FILE`:

  data: one sentence a line, words split on white space; every 10th line
  (the 10th, 20th, ...) is the validation set; sentences of more than
  --max-len (12) words are dropped from both; the vocabulary is the 4
  special tokens (<pad> <s> </s> <unk>) and the training sentences' most
  frequent words (ties in byte order), --vocab-size (2000) tokens in all.
  model: N(0, 1) word vectors (64), a GRU encoder (128) whose last state
  gives mu and log sigma^2 (Linear, 16), z = mu + sigma * eps, the decoder
  GRU (128) starting from tanh(Linear(z)), reading <s> w1 .. wn (each word
  replaced by <unk> with probability --word-dropout, 0.4) and predicting
  w1 .. wn </s> through a Linear onto the vocabulary; PyTorch's default
  initialisation of every layer.
  loss: cross-entropy summed over each sentence's tokens, averaged over the
  batch, + beta * KL(q || N(0, I)) averaged over the batch; beta logistic,
  1 / (1 + exp(-k (step - x0))), x0 600, k 0.006 (--anneal none: beta 1).
  training: batches of 32 sentences of like length (lengths padded to a
  multiple of 4, shuffled buckets), Adam 1e-3, gradient norm clipped to 5,
  3 epochs, float32.
  evaluation: per validation sentence, k = 5 samples of z: the ELBO (mean
  reconstruction + KL), the importance-weighted bound, the KL, perplexity
  of the IW bound per token (</s> included) and the active units
  (Var over sentences of mu_j > 0.01).

  OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_vae.py --data brown.txt
  ... --anneal none --word-dropout 0          # the collapse
  ... --latent 0 --word-dropout 0             # sentence-lm
"""
import argparse
import collections
import json
import math
import os
import random
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]


def read(path, max_len, vocab_size):
    with open(path, encoding="utf-8") as f:
        sents = [l.split() for l in f]
    sents = [s for s in sents if s]
    train = [s for i, s in enumerate(sents) if i % 10 != 9]
    valid = [s for i, s in enumerate(sents) if i % 10 == 9]
    train = [s for s in train if len(s) <= max_len]
    valid = [s for s in valid if len(s) <= max_len]
    counts = collections.Counter(w for s in train for w in s)
    for t in SPECIALS:
        counts.pop(t, None)
    words = sorted(counts, key=lambda w: (-counts[w], w.encode()))
    itos = SPECIALS + words[: vocab_size - len(SPECIALS)]
    stoi = {w: i for i, w in enumerate(itos)}
    enc = lambda ss: [[stoi.get(w, UNK) for w in s] for s in ss]
    return enc(train), enc(valid), itos


def batches(sents, idx, size, pad):
    buckets = collections.defaultdict(list)
    for i in idx:
        buckets[(len(sents[i]) + pad - 1) // pad * pad].append(i)
    out = []
    for T in sorted(buckets):
        ids = buckets[T]
        for s in range(0, len(ids), size):
            out.append((T, [sents[i] for i in ids[s:s + size]]))
    return out


def tensors(batch, drop, gen):
    T, ss = batch
    B = len(ss)
    src = torch.zeros(B, T, dtype=torch.long)
    din = torch.zeros(B, T + 1, dtype=torch.long)
    tgt = torch.zeros(B, T + 1, dtype=torch.long)
    lens = torch.tensor([len(s) for s in ss])
    for b, s in enumerate(ss):
        n = len(s)
        src[b, :n] = torch.tensor(s)
        din[b, 0] = BOS
        d = torch.tensor(s)
        if drop > 0:
            d = torch.where(torch.rand(n, generator=gen) < drop, torch.full_like(d, UNK), d)
        din[b, 1:n + 1] = d
        tgt[b, :n] = torch.tensor(s)
        tgt[b, n] = EOS
    return src, din, tgt, lens


class SentenceVAE(nn.Module):
    def __init__(self, V, E, H, Z):
        super().__init__()
        self.Z = Z
        self.emb = nn.Embedding(V, E, padding_idx=PAD)
        if Z > 0:
            self.enc = nn.GRU(E, H, batch_first=True)
            self.mu = nn.Linear(H, Z)
            self.logvar = nn.Linear(H, Z)
            self.l2h = nn.Linear(Z, H)
        self.dec = nn.GRU(E, H, batch_first=True)
        self.fc = nn.Linear(H, V)

    def posterior(self, src, lens):
        packed = nn.utils.rnn.pack_padded_sequence(self.emb(src), lens, batch_first=True, enforce_sorted=False)
        _, h = self.enc(packed)
        return self.mu(h[0]), self.logvar(h[0])

    def recon(self, z, din, tgt, lens):
        """Per-sentence cross-entropy summed over its tokens."""
        h0 = torch.tanh(self.l2h(z)).unsqueeze(0) if z is not None else None
        out, _ = self.dec(self.emb(din), h0)
        ce = F.cross_entropy(self.fc(out).transpose(1, 2), tgt, reduction="none")
        mask = torch.arange(din.shape[1]).unsqueeze(0) <= lens.unsqueeze(1)
        return (ce * mask).sum(1)


def kl_of(mu, lv):
    return 0.5 * (mu.pow(2) + lv.exp() - 1 - lv).sum(1)


def evaluate(model, valid, size, pad, K):
    model.eval()
    gen = torch.Generator().manual_seed(12345)
    elbo = iw = kls = recs = 0.0
    tokens = 0
    mus = []
    with torch.no_grad():
        for batch in batches(valid, range(len(valid)), size, pad):
            src, din, tgt, lens = tensors(batch, 0, gen)
            tokens += int((lens + 1).sum())
            if model.Z == 0:
                r = model.recon(None, din, tgt, lens)
                elbo += r.sum().item(); iw += r.sum().item(); recs += r.sum().item()
                continue
            mu, lv = model.posterior(src, lens)
            mus.append(mu)
            kl = kl_of(mu, lv)
            logw, rs = [], []
            for _ in range(K):
                e = torch.randn(mu.shape, generator=gen)
                z = mu + (lv / 2).exp() * e
                r = model.recon(z, din, tgt, lens)
                rs.append(r)
                logp = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)
                logq = -0.5 * (e.pow(2) + lv + math.log(2 * math.pi)).sum(1)
                logw.append(-r + logp - logq)
            r = torch.stack(rs).mean(0)
            elbo += (r + kl).sum().item(); recs += r.sum().item(); kls += kl.sum().item()
            iw += -(torch.logsumexp(torch.stack(logw), 0) - math.log(K)).sum().item()
    N = len(valid)
    au = 0
    if mus:
        m = torch.cat(mus)
        au = int((m.var(0, unbiased=False) > 0.01).sum())
    model.train()
    return {"nll_per_sentence": elbo / N, "iw_nll_per_sentence": iw / N, "kl_per_sentence": kls / N,
            "recon_per_sentence": recs / N, "perplexity": math.exp(iw / tokens), "active_units": au}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--max-len", type=int, default=12)
    ap.add_argument("--vocab-size", type=int, default=2000)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--latent", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--pad", type=int, default=4)
    ap.add_argument("--word-dropout", type=float, default=0.4)
    ap.add_argument("--anneal", default="logistic", choices=["logistic", "none"])
    ap.add_argument("--anneal-steps", type=int, default=600)
    ap.add_argument("--anneal-k", type=float, default=0.006)
    ap.add_argument("--iw-samples", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the per-epoch results here")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    train, valid, itos = read(a.data, a.max_len, a.vocab_size)
    print("%d train / %d validation sentences, vocabulary %d" % (len(train), len(valid), len(itos)), flush=True)
    model = SentenceVAE(len(itos), a.embed, a.hidden, a.latent)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    step, results = 0, []
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        idx = list(range(len(train)))
        random.shuffle(idx)
        bs = batches(train, idx, a.batch, a.pad)
        random.shuffle(bs)
        total = 0.0
        for batch in bs:
            beta = 1.0 if a.anneal == "none" else 1 / (1 + math.exp(-a.anneal_k * (step - a.anneal_steps)))
            src, din, tgt, lens = tensors(batch, a.word_dropout, gen)
            if a.latent > 0:
                mu, lv = model.posterior(src, lens)
                z = mu + (lv / 2).exp() * torch.randn(mu.shape, generator=gen)
                loss = model.recon(z, din, tgt, lens).mean() + beta * kl_of(mu, lv).mean()
            else:
                loss = model.recon(None, din, tgt, lens).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item()
            step += 1
        train_s = time.time() - t0
        ms = evaluate(model, valid, a.batch, a.pad, a.iw_samples)
        ms.update(epoch=epoch, train_loss=total / len(bs), train_seconds=train_s, epoch_seconds=time.time() - t0)
        results.append(ms)
        print("epoch %d: " % epoch + ", ".join("%s %.4g" % (k, v) for k, v in ms.items() if k != "epoch"), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "epochs": results}, f, indent=1)


if __name__ == "__main__":
    main()
