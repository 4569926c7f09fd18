#!/usr/bin/python3
"""Load an rnnkit checkpoint into the matching torch.nn module.

Needs numpy and torch only (Debian: python3-numpy, python3-torch; no
safetensors package). The checkpoint's metadata says which model it holds
(x.kind, and the model's settings in "model"); this script builds the
PyTorch module that computes the same function with the same parameter
names, and loads the parameters with the strict load_state_dict:

  * a language model (rnnkit train -preset charlm): LM, embedding ->
    nn.LSTM / nn.GRU / nn.RNN (num_layers) -> fc;
  * a Seq2Seq model (addition, date-attention, ...): Seq2Seq, one embedding
    shared by an encoder (optionally bidirectional, with the linear bridge)
    and a decoder (plain, peeky or attention with dot, general or additive
    scores), teacher-forced forward() and greedy();
  * a tree model (models/tree: rnn, binary-lstm, childsum-lstm): Tree, over
    trees flattened in post-order.

As a command:

    /usr/bin/python3 scripts/rnnkit_to_torch.py best.safetensors [--out model.pt] [--vocab vocab.json]

prints the module, checks the checksum, and writes its state_dict with
torch.save (which rnnkit import reads back) and the vocabulary as a JSON
list. As a module:

    import rnnkit_to_torch as rk
    model, info = rk.load("best.safetensors")   # eval mode; info["vocab"] is the token list

rnnkit's peephole LSTM has no torch.nn counterpart and is refused.
"""
import argparse
import hashlib
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

DTYPES = {"F32": "<f4", "F64": "<f8"}
STATE_PREFIX = "state/"


def read_safetensors(path):
    """Returns ({name: array} in file order, {key: value} metadata)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header, data = json.loads(f.read(n)), f.read()
    meta = header.pop("__metadata__")
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]])
        tensors[name] = a.reshape(e["shape"])
    return tensors, meta


def verify(path):
    """Reports whether the checkpoint's checksum holds (training/checkpoint/doc.go)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header, data = json.loads(f.read(n)), f.read()
    meta = header.pop("__metadata__")
    u = lambda i: struct.pack("<Q", i)
    s = lambda x: u(len(x.encode())) + x.encode()
    h = hashlib.sha256(u(len(header)))
    for name, e in header.items():
        h.update(s(name) + s(e["dtype"]) + u(len(e["shape"])) + b"".join(map(u, e["shape"])))
        h.update(u(e["data_offsets"][0]) + u(e["data_offsets"][1]))
    rest = sorted((k.encode(), v.encode()) for k, v in meta.items() if k != "checksum")
    h.update(u(len(rest)) + b"".join(u(len(k)) + k + u(len(v)) + v for k, v in rest))
    h.update(data)
    return h.hexdigest() == meta.get("checksum")


def recurrent(cell, input_size, hidden, layers=1, bidirectional=False):
    """The torch.nn layer of an rnnkit cell kind, parameters named as rnnkit's."""
    kw = dict(num_layers=layers, bidirectional=bidirectional)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden, **kw)
    if cell == "gru":
        return nn.GRU(input_size, hidden, **kw)
    if cell in ("rnn_tanh", "rnn_relu"):
        return nn.RNN(input_size, hidden, nonlinearity=cell[4:], **kw)
    raise ValueError("cell kind %r has no torch.nn counterpart" % cell)


def states(cell):
    """The state tensors of a cell kind's layer, in rnnkit's order."""
    return ["h", "c"] if cell == "lstm" else ["h"]


class LM(nn.Module):
    """rnnkit's language model (models/lm): logits = fc(rnn(embedding(x)))."""

    def __init__(self, vocab, embed, hidden, cell="lstm", layers=1, tied=False):
        super().__init__()
        self.cell, self.tied = cell, tied
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = recurrent(cell, embed, hidden, max(layers, 1))
        self.fc = nn.Linear(hidden, vocab)
        if tied:
            self.fc.weight = self.embedding.weight

    def forward(self, x, state=None):
        """x: [T, B] token ids. Returns the logits [T, B, V] and the final state."""
        out, state = self.rnn(self.embedding(x), state)
        return self.fc(out), state


class Seq2Seq(nn.Module):
    """rnnkit's encoder-decoder (models/seq2seq), one embedding for both sides.

    The encoder's final state starts the decoder (through the bridge
    W [forward; backward] + b per decoder layer and state tensor when the
    encoder is bidirectional). A peeky decoder also reads the encoder's
    summary (the top layer's initial h) beside each input and beside its
    output; an attention decoder scores its h_t against every encoder
    output e_j (dot h.e, general h.(W e), additive v.tanh(W_enc e + W_dec h)),
    softmax over the real source positions, and feeds [h_t; context] to fc.
    """

    def __init__(self, vocab, embed, hidden, cell="lstm", layers=1, decoder="plain", score="dot", bidirectional=False):
        super().__init__()
        layers = max(layers, 1)
        self.cell, self.layers, self.hidden = cell, layers, hidden
        self.kind, self.score, self.bidirectional = decoder or "plain", score or "dot", bidirectional
        self.embedding = nn.Embedding(vocab, embed)
        self.encoder = recurrent(cell, embed, hidden, layers, bidirectional)
        dec_in = embed + hidden if self.kind == "peeky" else embed
        self.decoder = recurrent(cell, dec_in, hidden, layers)
        if bidirectional:
            self.bridge = nn.ParameterDict()
            for k in range(layers):
                for s in states(cell):
                    self.bridge["weight_l%d_%s" % (k, s)] = nn.Parameter(torch.zeros(hidden, 2 * hidden))
                    self.bridge["bias_l%d_%s" % (k, s)] = nn.Parameter(torch.zeros(hidden))
            if self.kind == "attention":
                self.memory = nn.Linear(2 * hidden, hidden, bias=False)
        self.fc = nn.Linear(hidden if self.kind == "plain" else 2 * hidden, vocab)
        if self.kind == "attention" and self.score == "general":
            self.attn = nn.Linear(hidden, hidden, bias=False)
        elif self.kind == "attention" and self.score == "additive":
            self.attn = nn.ParameterDict({
                "W_enc": nn.Parameter(torch.zeros(hidden, hidden)),
                "W_dec": nn.Parameter(torch.zeros(hidden, hidden)),
                "v": nn.Parameter(torch.zeros(1, hidden)),
            })

    def encode(self, src, lengths=None):
        """src: [Ts, B] ids, lengths: [B] (default: all Ts). Returns the memory
        [Ts, B, H] (zero at padding), the decoder's initial state and the
        source mask [B, Ts] (True on real positions)."""
        Ts, B = src.shape
        if lengths is None:
            lengths = torch.full((B,), Ts, dtype=torch.long)
        lengths = torch.as_tensor(lengths, dtype=torch.long)
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(src), lengths, enforce_sorted=False)
        out, state = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=Ts)
        mask = torch.arange(Ts)[None, :] < lengths[:, None]
        tensors = list(state) if isinstance(state, tuple) else [state]
        if self.bidirectional:
            bridged = []
            for s, t in zip(states(self.cell), tensors):
                rows = []
                for k in range(self.layers):
                    cat = torch.cat([t[2 * k], t[2 * k + 1]], dim=-1)
                    rows.append(cat @ self.bridge["weight_l%d_%s" % (k, s)].t() + self.bridge["bias_l%d_%s" % (k, s)])
                bridged.append(torch.stack(rows))
            tensors = bridged
            if self.kind == "attention":
                out = self.memory(out)
        init = tuple(tensors) if self.cell == "lstm" else tensors[0]
        return out, init, mask

    def decode(self, memory, mask, tgt_in, state):
        """Runs the decoder over tgt_in [Tt, B]; returns the logits [Tt, B, V] and the state."""
        x = self.embedding(tgt_in)
        summary = (state[0] if self.cell == "lstm" else state)[-1]  # [B, H]
        if self.kind == "peeky":
            x = torch.cat([x, summary.expand(x.shape[0], -1, -1)], dim=-1)
        out, state = self.decoder(x, state)
        if self.kind == "peeky":
            out = torch.cat([out, summary.expand(out.shape[0], -1, -1)], dim=-1)
        elif self.kind == "attention":
            d, m = out.transpose(0, 1), memory.transpose(0, 1)  # [B, Tt, H], [B, Ts, H]
            if self.score == "dot":
                scores = torch.bmm(d, m.transpose(1, 2))
            elif self.score == "general":
                scores = torch.bmm(d, self.attn(m).transpose(1, 2))
            else:
                keys = m @ self.attn["W_enc"].t()                 # [B, Ts, H]
                q = d @ self.attn["W_dec"].t()                    # [B, Tt, H]
                u = torch.tanh(keys[:, None, :, :] + q[:, :, None, :])
                scores = (u @ self.attn["v"].t()).squeeze(-1)     # [B, Tt, Ts]
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
            alpha = torch.softmax(scores, dim=-1)
            ctx = torch.bmm(alpha, m)
            out = torch.cat([d, ctx], dim=-1).transpose(0, 1)
        return self.fc(out), state

    def forward(self, src, tgt_in, lengths=None):
        """Teacher forcing: the logits [Tt, B, V] of every target step."""
        memory, state, mask = self.encode(src, lengths)
        logits, _ = self.decode(memory, mask, tgt_in, state)
        return logits

    @torch.no_grad()
    def greedy(self, src, lengths=None, max_len=20, bos=1, eos=2):
        """Greedy decoding, as rnnkit's: each answer's ids without EOS."""
        memory, state, mask = self.encode(src, lengths)
        B = src.shape[1]
        tok = torch.full((1, B), bos, dtype=torch.long)
        out, done = [[] for _ in range(B)], [False] * B
        for _ in range(max_len):
            logits, state = self.decode(memory, mask, tok, state)
            tok = logits.argmax(-1)
            for b in range(B):
                t = int(tok[0, b])
                if not done[b]:
                    if t == eos:
                        done[b] = True
                    else:
                        out[b].append(t)
            if all(done):
                break
        return out


class Tree(nn.Module):
    """rnnkit's tree models (models/tree) in DGL's layout, over trees
    flattened in post-order: children[i] lists node i's children (before i),
    words[i] is a leaf's word id (-1 for an internal node)."""

    def __init__(self, kind, vocab, embed, hidden, classes):
        super().__init__()
        self.kind, self.hidden = kind, hidden
        embed = embed or hidden
        self.embedding = nn.Embedding(vocab, embed)
        if kind == "rnn":
            self.W = nn.Linear(2 * hidden, hidden)
        else:
            k = 2 if kind == "binary-lstm" else 1
            self.W_iou = nn.Linear(embed, 3 * hidden, bias=False)
            self.U_iou = nn.Linear(k * hidden, 3 * hidden, bias=False)
            self.b_iou = nn.Parameter(torch.zeros(1, 3 * hidden))
            self.U_f = nn.Linear(k * hidden, k * hidden)
        self.linear = nn.Linear(hidden, classes)

    def forward(self, children, words):
        """Returns h [N, H], c [N, H] (None for the recursive net), logits [N, C]."""
        H = self.hidden
        hs, cs = [], []
        for kids, w in zip(children, words):
            if self.kind == "rnn":
                if not kids:
                    h = self.embedding.weight[w]
                else:
                    h = torch.tanh(self.W(torch.cat([hs[kids[0]], hs[kids[1]]])))
                hs.append(h)
                continue
            if not kids:
                iou = self.W_iou(self.embedding.weight[w]) + self.b_iou[0]
                c_kids = []
            elif self.kind == "binary-lstm":
                cat = torch.cat([hs[kids[0]], hs[kids[1]]])
                iou = self.U_iou(cat) + self.b_iou[0]
                f = torch.sigmoid(self.U_f(cat))
                c_kids = [f[:H] * cs[kids[0]], f[H:] * cs[kids[1]]]
            else:
                iou = self.U_iou(sum(hs[k] for k in kids)) + self.b_iou[0]
                c_kids = [torch.sigmoid(self.U_f(hs[k])) * cs[k] for k in kids]
            i, o, u = torch.sigmoid(iou[:H]), torch.sigmoid(iou[H:2 * H]), torch.tanh(iou[2 * H:])
            c = i * u
            for ck in c_kids:
                c = c + ck
            hs.append(o * torch.tanh(c))
            cs.append(c)
        h = torch.stack(hs)
        c = torch.stack(cs) if cs else None
        return h, c, self.linear(h)


def model_config(meta):
    """The model's settings from the checkpoint's metadata: (kind, config)."""
    rc = json.loads(meta["model"])
    cfg = rc.get("model", rc)
    kind = meta.get("x.kind", "")
    inner = cfg.get("model", cfg)
    return kind, inner


def build(kind, cfg):
    """The torch.nn module of an rnnkit model kind and its settings."""
    if cfg.get("kind") in ("rnn", "binary-lstm", "childsum-lstm") and "classes" in cfg:
        return Tree(cfg["kind"], cfg["vocab"], cfg.get("embed", 0), cfg["hidden"], cfg["classes"])
    if kind == "lm":
        return LM(cfg["vocab"], cfg["embed"], cfg["hidden"], cfg["cell"], cfg.get("layers", 1), cfg.get("tied", False))
    if kind == "seq2seq":
        return Seq2Seq(cfg["vocab"], cfg["embed"], cfg["hidden"], cfg["cell"], cfg.get("layers", 1),
                       cfg.get("decoder", "plain"), cfg.get("score", "dot"), cfg.get("bidirectional", False))
    raise ValueError("no torch.nn module for an rnnkit model of kind %r" % kind)


def load(path, check=True):
    """Reads an rnnkit checkpoint and returns (module in eval mode, info):
    info holds "kind", "config", "vocab" (the token list, or None), "meta"."""
    if check and not verify(path):
        raise ValueError("%s: checksum mismatch (a damaged or edited checkpoint)" % path)
    tensors, meta = read_safetensors(path)
    kind, cfg = model_config(meta)
    model = build(kind, cfg)
    dtype = torch.float64 if meta.get("params_dtype") == "F64" else torch.float32
    model = model.to(dtype)
    params = {k: torch.from_numpy(v.copy()) for k, v in tensors.items() if not k.startswith(STATE_PREFIX)}
    if isinstance(model, LM) and model.tied:
        params["fc.weight"] = params["embedding.weight"]
    model.load_state_dict(params, strict=True)
    model.eval()
    vocab = json.loads(meta["vocab"])["tokens"] if "vocab" in meta else None
    return model, {"kind": kind, "config": cfg, "vocab": vocab, "meta": meta}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", help="write the module's state_dict here (torch.save)")
    ap.add_argument("--vocab", help="write the vocabulary here, a JSON list of tokens in id order")
    a = ap.parse_args()
    try:
        model, info = load(a.checkpoint)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        sys.exit("rnnkit_to_torch: %s" % e)
    print(model)
    if a.out:
        torch.save(model.state_dict(), a.out)
    if a.vocab and info["vocab"] is not None:
        with open(a.vocab, "w") as f:
            json.dump(info["vocab"], f)


if __name__ == "__main__":
    main()
