#!/usr/bin/python3
"""PyTorch references of the date-attention and addition-reversed presets.

One epoch of training and one evaluation on the same data file as
`rnnkit train -preset P -data FILE -epochs 1` (TestPresetDataExport writes
the presets' generated data): the first 90% of the pairs train, the rest
test, characters as tokens; the model of scripts/rnnkit_to_torch.py
(embedding 16, LSTM 128; dot attention for date-attention, the plain decoder
and the question reversed for addition-reversed), Adam at 1e-3, gradients
clipped to global norm 5, batch 128 (shuffled, each batch padded to its
longest question and answer, the encoder packed, the loss the mean
cross-entropy per real target token). The evaluation, as rnnkit's, takes
the test set in batches of 128: teacher-forced loss, then greedy decoding
for the exact match. Two threads; run with OMP_WAIT_POLICY=PASSIVE.

    /usr/bin/python3 benchmarks/torch_presets.py --preset date-attention --data date.txt [--json out.json]
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import rnnkit_to_torch as rk  # noqa: E402

PRESETS = {"date-attention": ("attention", False), "addition-reversed": ("plain", True)}
PAD, BOS, EOS = 0, 1, 2


def read_pairs(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line:
                q, a = line.split("_", 1)
                pairs.append((q.rstrip(" "), a.rstrip(" ")))
    return pairs


def batch(pairs, vocab, reverse):
    """(src [Ts, B], lengths, tgt_in [Tt, B], tgt_out [Tt, B] with PAD past EOS)."""
    qs = [[vocab[c] for c in (q[::-1] if reverse else q)] for q, _ in pairs]
    ans = [[vocab[c] for c in a] for _, a in pairs]
    ts, tt = max(map(len, qs)), max(map(len, ans)) + 1
    src = torch.full((ts, len(pairs)), PAD, dtype=torch.long)
    tin = torch.full((tt, len(pairs)), EOS, dtype=torch.long)
    tout = torch.full((tt, len(pairs)), PAD, dtype=torch.long)
    for i, (q, a) in enumerate(zip(qs, ans)):
        src[:len(q), i] = torch.tensor(q)
        tin[:len(a) + 1, i] = torch.tensor([BOS] + a)
        tout[:len(a) + 1, i] = torch.tensor(a + [EOS])
    return src, torch.tensor([len(q) for q in qs]), tin, tout


def greedy(model, src, lengths, max_len):
    memory, state, mask = model.encode(src, lengths)
    n = src.shape[1]
    tok = torch.full((1, n), BOS, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    out = []
    for _ in range(max_len):
        logits, state = model.decode(memory, mask, tok, state)
        tok = logits.argmax(-1).masked_fill(done[None], EOS)
        out.append(tok[0])
        done |= tok[0] == EOS
        if bool(done.all()):
            break
    rows = torch.stack(out, 1).tolist()
    return [r[:r.index(EOS)] if EOS in r else r for r in rows]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    random.seed(1)
    decoder, reverse = PRESETS[a.preset]
    pairs = read_pairs(a.data)
    k = round(0.9 * len(pairs))
    train, test = pairs[:k], pairs[k:]
    chars = sorted({c for q, ans in pairs for c in q + ans})
    vocab = {c: i + 3 for i, c in enumerate(chars)}
    model = rk.Seq2Seq(len(vocab) + 3, 16, 128, "lstm", 1, decoder, "dot")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss(ignore_index=PAD)
    V = len(vocab) + 3

    model.train()
    order = list(range(len(train)))
    random.shuffle(order)
    t0, c0 = time.perf_counter(), time.process_time()
    total, steps = 0.0, 0
    for s in range(0, len(order), a.batch):
        src, lengths, tin, tout = batch([train[i] for i in order[s:s + a.batch]], vocab, reverse)
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(src, tin, lengths).reshape(-1, V), tout.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5)
        opt.step()
        total += float(loss)
        steps += 1
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0

    model.eval()
    t0, c0 = time.perf_counter(), time.process_time()
    exact, tloss, n = 0, 0.0, 0
    max_len = max(len(ans) for _, ans in test) + 1
    with torch.inference_mode():
        for s in range(0, len(test), a.batch):
            chunk = test[s:s + a.batch]
            src, lengths, tin, tout = batch(chunk, vocab, reverse)
            tloss += float(lossf(model(src, tin, lengths).reshape(-1, V), tout.reshape(-1))) * len(chunk)
            for got, (_, ans) in zip(greedy(model, src, lengths, max_len), chunk):
                exact += got == [vocab[c] for c in ans]
            n += len(chunk)
    eval_s, eval_cpu = time.perf_counter() - t0, time.process_time() - c0
    res = {"preset": a.preset, "train_pairs": len(train), "test_pairs": len(test), "steps": steps,
           "train_loss": total / steps, "test_loss": tloss / n, "test_exact_match": exact / n,
           "train_seconds": train_s, "train_cpu_seconds": train_cpu,
           "eval_seconds": eval_s, "eval_cpu_seconds": eval_cpu, "torch": torch.__version__}
    print(json.dumps(res))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f)


if __name__ == "__main__":
    main()
