#!/usr/bin/python3
"""PyTorch's side of package interop's round-trip tests (roundtrip_test.go).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 roundtrip.py torch DIR
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 roundtrip.py rnnkit DIR

DIR/cases.json lists the cases: {"name", "family" (lm, seq2seq, bench or
tree), "dtype" (float32 or float64), "config" (the rnnkit model's settings),
"inputs"}.

torch:  builds each case's PyTorch model (scripts/rnnkit_to_torch.py's
        modules; for "bench" the Seq2Seq of benchmarks/torch_models.py, whose
        modules are named emb, enc, dec, fc; for "tree" DGL's names, the cell's
        parameters under "cell."), trains it for a few Adam steps on seeded
        random data, writes DIR/<name>.pt (torch.save of its state_dict) and
        DIR/<name>.out.json, its outputs on the case's inputs.
rnnkit: loads DIR/<name>.safetensors with scripts/rnnkit_to_torch.py and
        writes DIR/<name>.out.json, its outputs on the case's inputs.

Outputs are flat lists of float64 (exact for float32 values), row-major:
lm, seq2seq and bench "logits" [T, B, V]; tree "h", "c" [N, H] and "logits"
[N, C].
"""
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import rnnkit_to_torch as rk  # noqa: E402

STEPS, LR = 5, 0.05


def flat(t):
    return [float(v) for v in t.detach().double().reshape(-1).tolist()]


def dtype_of(case):
    return torch.float64 if case["dtype"] == "float64" else torch.float32


def lm_logits(model, inputs):
    x = torch.tensor(inputs["x"], dtype=torch.long)  # [T, B]
    logits, _ = model(x)
    return {"logits": flat(logits)}


def s2s_batch(inputs):
    """The padded source [Ts, B], its lengths and the decoder input [Tt, B]."""
    src = inputs["src"]
    lengths = [len(s) for s in src]
    Ts = max(lengths)
    padded = torch.zeros(Ts, len(src), dtype=torch.long)
    for b, s in enumerate(src):
        padded[:len(s), b] = torch.tensor(s)
    tgt = torch.tensor(inputs["tgt_in"], dtype=torch.long).t().contiguous()
    return padded, torch.tensor(lengths), tgt


def s2s_logits(model, inputs):
    src, lengths, tgt = s2s_batch(inputs)
    return {"logits": flat(model(src, tgt, lengths))}


def tree_outputs(model, inputs):
    h, c, logits = model(inputs["children"], inputs["words"])
    out = {"h": flat(h), "logits": flat(logits)}
    if c is not None:
        out["c"] = flat(c)
    return out


def bench_module(cfg):
    """benchmarks/torch_models.py's Seq2Seq at the case's sizes."""
    import torch_models as tm
    tm.V, tm.E, tm.H = cfg["vocab"], cfg["embed"], cfg["hidden"]
    return tm.Seq2Seq()


def bench_as_rk(bench, cfg):
    """The same weights in rnnkit_to_torch's Seq2Seq (dot attention)."""
    m = rk.Seq2Seq(cfg["vocab"], cfg["embed"], cfg["hidden"], "lstm", 1, "attention", "dot").to(next(bench.parameters()).dtype)
    names = {"emb.": "embedding.", "enc.": "encoder.", "dec.": "decoder."}
    sd = {}
    for k, v in bench.state_dict().items():
        for old, new in names.items():
            if k.startswith(old):
                k = new + k[len(old):]
        sd[k] = v
    m.load_state_dict(sd)
    return m


def train_torch(case, gen):
    """The case's PyTorch model after STEPS Adam steps on random data, and the
    module that computes its outputs."""
    cfg, fam, dt = case["config"], case["family"], dtype_of(case)
    V = cfg["vocab"]
    rand = lambda *shape: torch.randint(4, V, shape, generator=gen)
    if fam == "lm":
        m = rk.build("lm", cfg).to(dt)
        loss_fn = lambda: nn.functional.cross_entropy(m(x[:-1])[0].reshape(-1, V), x[1:].reshape(-1))
        x = rand(7, 3)
    elif fam == "seq2seq":
        m = rk.build("seq2seq", cfg).to(dt)
        src, tgt = rand(6, 4), rand(5, 4)
        lengths = torch.tensor([6, 3, 5, 1])
        loss_fn = lambda: nn.functional.cross_entropy(m(src, tgt[:-1], lengths).reshape(-1, V), tgt[1:].reshape(-1))
    elif fam == "bench":
        m = bench_module(cfg).to(dt)
        src, tgt = rand(6, 4), rand(5, 4)
        loss_fn = lambda: m(src, tgt[:-1], tgt[1:])
    else:
        m = rk.build("", cfg).to(dt)
        kids, words = case["inputs"]["children"], case["inputs"]["words"]
        labels = torch.randint(0, cfg["classes"], (len(words),), generator=gen)
        loss_fn = lambda: nn.functional.cross_entropy(m(kids, words)[2], labels)
    opt = torch.optim.Adam(m.parameters(), lr=LR)
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    m.eval()
    return m, (bench_as_rk(m, cfg) if fam == "bench" else m)


def outputs(case, model):
    fam = case["family"]
    with torch.no_grad():
        if fam == "lm":
            return lm_logits(model, case["inputs"])
        if fam in ("seq2seq", "bench"):
            return s2s_logits(model, case["inputs"])
        return tree_outputs(model, case["inputs"])


def torch_side(d, cases):
    for i, case in enumerate(cases):
        gen = torch.Generator().manual_seed(1000 + i)
        torch.manual_seed(2000 + i)
        saved, model = train_torch(case, gen)
        sd = saved.state_dict()
        if case["family"] == "tree":  # DGL's layout: the cell's parameters under "cell."
            sd = {("cell." + k if k not in ("embedding.weight", "linear.weight", "linear.bias") else k): v for k, v in sd.items()}
        torch.save(sd, os.path.join(d, case["name"] + ".pt"))
        write(d, case, outputs(case, model))


def rnnkit_side(d, cases):
    for case in cases:
        model, info = rk.load(os.path.join(d, case["name"] + ".safetensors"))
        if next(model.parameters()).dtype != dtype_of(case):
            sys.exit("%s: the checkpoint's parameters are not %s" % (case["name"], case["dtype"]))
        write(d, case, outputs(case, model))


def write(d, case, out):
    with open(os.path.join(d, case["name"] + ".out.json"), "w") as f:
        json.dump(out, f)


def main():
    mode, d = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    with open(os.path.join(d, "cases.json")) as f:
        cases = json.load(f)
    {"torch": torch_side, "rnnkit": rnnkit_side}[mode](d, cases)
    print("torch", torch.__version__, len(cases), "cases")


if __name__ == "__main__":
    main()
