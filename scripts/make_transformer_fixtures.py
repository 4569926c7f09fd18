#!/usr/bin/python3
"""Generate Transformer fixtures in the schema of ../shared/fixtures/SCHEMA.md
(cases transformer_encoder_layer, transformer_decoder_layer,
transformer_seq2seq) for the shapes and options the public ones leave out:
pre-norm, GELU, one step, batch 1, 1 to 4 heads, several layers, padding
masks, no masks at all, and (beyond the shared schema) PyTorch's float
src_mask and memory_mask.

Run with Debian's PyTorch (/usr/bin/python3, package python3-torch):

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/make_transformer_fixtures.py testdata/generated

Each model is PyTorch's own module (nn.TransformerEncoderLayer,
nn.TransformerDecoderLayer, nn.Transformer) in float64, training mode with
dropout 0 (no fast path), sequence-first; every parameter is redrawn
(biases and LayerNorm weights too, which PyTorch starts at 0 and 1), so each
one's gradient is tested.
"""
import json
import math
import sys

import torch
from torch import nn

torch.set_default_dtype(torch.float64)

ENC_DOC = """torch.nn.TransformerEncoderLayer(d_model=E, nhead, dim_feedforward=F, dropout=0.0, activation, norm_first,
layer_norm_eps=1e-5, batch_first=False), run in training mode (no fast path). Sequence-first: src [T,B,E].
src_key_padding_mask [B,T] (1 = padding key, ignored by attention). Post-norm (norm_first=false):
  x = norm1(x + SA(x));  x = norm2(x + FF(x))
Pre-norm (norm_first=true):
  x = x + SA(norm1(x));  x = x + FF(norm2(x))
Loss = sum(output * R); R is 0 at padded positions. grads: src and every parameter (PyTorch names)."""

DEC_DOC = """torch.nn.TransformerDecoderLayer(d_model=E, nhead, dim_feedforward=F, dropout=0.0, activation, norm_first,
layer_norm_eps=1e-5, batch_first=False), training mode. tgt [Tt,B,E], memory [Ts,B,E]; tgt_mask [Tt,Tt] causal
(float: 0 on and below the diagonal, -inf above, written -1e300); tgt_key_padding_mask [B,Tt];
memory_key_padding_mask [B,Ts] (1 = padding); a mask absent from inputs was not given.
Loss = sum(output * R); R is 0 at padded tgt positions. grads: tgt, memory and every parameter (PyTorch names)."""

S2S_DOC = """A small Transformer Seq2Seq as in PyTorch's translation tutorial, sequence-first:
  emb(ids) = embedding.weight[ids] * sqrt(E) + PE[pos]   (one embedding shared by source and target)
  PE[pos, 2i] = sin(pos * exp(-2i ln(10000)/E)),  PE[pos, 2i+1] = cos(pos * exp(-2i ln(10000)/E))
  transformer = torch.nn.Transformer(d_model=E, nhead, num_encoder_layers=Le, num_decoder_layers=Ld,
                dim_feedforward=F, dropout=0.0, activation, norm_first)   (with its final encoder.norm and decoder.norm)
  memory = transformer.encoder(emb(src));  dec = transformer.decoder(emb(dec_in), memory, tgt_mask=causal)
  logits = dec @ fc.weight^T + fc.bias
inputs: src [Ts,B], tgt [Tt+1,B] with tgt[0] = 0 (start), dec_in = tgt[:-1], labels = tgt[1:]; no padding.
Loss = mean cross-entropy over the Tt*B positions. grads: every parameter."""


def tensor(x):
    x = x.detach().contiguous()
    if x.dtype == torch.bool:
        x = x.to(torch.int64)
    if x.dtype in (torch.int64, torch.int32):
        return {"shape": list(x.shape), "data": [int(v) for v in x.reshape(-1).tolist()]}
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def redraw(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight") or name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.4 * torch.randn_like(p))


def padding(lengths, T):
    return torch.tensor([[t >= n for t in range(T)] for n in lengths])


def params_of(module):
    return {k: tensor(v) for k, v in module.named_parameters()}


def grads_of(module):
    return {k: tensor(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in module.named_parameters()}


def head(name, case, seed, doc, dims):
    return {"name": name, "case": case, "set": "generated", "seed": seed, "torch_version": torch.__version__,
            "dtype": "float64", "doc": doc, "dims": dims}


def neg_inf_mask(rows, cols, seed):
    """A float attention mask of 0 and -inf (written -1e300) that leaves every row a key."""
    g = torch.Generator().manual_seed(seed)
    m = torch.where(torch.rand(rows, cols, generator=g) < 0.3, float("-inf"), 0.0)
    m[:, 0] = 0.0
    return m, torch.where(torch.isinf(m), torch.full_like(m, -1e300), m)


def encoder(name, seed, T, B, E, nhead, F, act, norm_first, lengths, attn=False):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(E, nhead, F, dropout=0.0, activation=act, norm_first=norm_first)
    redraw(layer)
    layer.train()
    src = torch.randn(T, B, E, requires_grad=True)
    kw = {}
    inputs = {"src": tensor(src)}
    R = torch.randn(T, B, E)
    if attn:
        kw["src_mask"], inputs["src_mask"] = neg_inf_mask(T, T, seed)
        inputs["src_mask"] = tensor(inputs["src_mask"])
    if lengths is not None:
        pad = padding(lengths, T)
        kw["src_key_padding_mask"] = pad
        inputs["src_key_padding_mask"] = tensor(pad)
        inputs["lengths"] = list(lengths)
        R = R * (~pad).t().unsqueeze(-1)
    out = layer(src, **kw)
    loss = (out * R).sum()
    loss.backward()
    f = head(name, "transformer_encoder_layer", seed, ENC_DOC,
             {"T": T, "B": B, "E": E, "nhead": nhead, "F": F, "activation": act, "norm_first": norm_first})
    f.update({"params": params_of(layer), "inputs": inputs, "outputs": {"output": tensor(out)},
              "loss": {"definition": "sum(output * R)", "R": tensor(R), "value": loss.item()},
              "grads": {"src": tensor(src.grad), "params": grads_of(layer)}})
    return f


def decoder(name, seed, Tt, Ts, B, E, nhead, F, act, norm_first, causal, tgt_lengths, mem_lengths, mem_attn=False):
    torch.manual_seed(seed)
    layer = nn.TransformerDecoderLayer(E, nhead, F, dropout=0.0, activation=act, norm_first=norm_first)
    redraw(layer)
    layer.train()
    tgt = torch.randn(Tt, B, E, requires_grad=True)
    memory = torch.randn(Ts, B, E, requires_grad=True)
    inputs = {"tgt": tensor(tgt), "memory": tensor(memory)}
    kw = {}
    R = torch.randn(Tt, B, E)
    if causal:
        m = torch.triu(torch.full((Tt, Tt), float("-inf")), diagonal=1)
        kw["tgt_mask"] = m
        inputs["tgt_mask"] = tensor(torch.where(torch.isinf(m), torch.full_like(m, -1e300), m))
    if tgt_lengths is not None:
        pad = padding(tgt_lengths, Tt)
        kw["tgt_key_padding_mask"] = pad
        inputs["tgt_key_padding_mask"] = tensor(pad)
        inputs["tgt_lengths"] = list(tgt_lengths)
        R = R * (~pad).t().unsqueeze(-1)
    if mem_attn:
        kw["memory_mask"], m = neg_inf_mask(Tt, Ts, seed)
        inputs["memory_mask"] = tensor(m)
    if mem_lengths is not None:
        pad = padding(mem_lengths, Ts)
        kw["memory_key_padding_mask"] = pad
        inputs["memory_key_padding_mask"] = tensor(pad)
        inputs["memory_lengths"] = list(mem_lengths)
    out = layer(tgt, memory, **kw)
    loss = (out * R).sum()
    loss.backward()
    f = head(name, "transformer_decoder_layer", seed, DEC_DOC,
             {"Tt": Tt, "Ts": Ts, "B": B, "E": E, "nhead": nhead, "F": F, "activation": act, "norm_first": norm_first})
    f.update({"params": params_of(layer), "inputs": inputs, "outputs": {"output": tensor(out)},
              "loss": {"definition": "sum(output * R)", "R": tensor(R), "value": loss.item()},
              "grads": {"tgt": tensor(tgt.grad), "memory": tensor(memory.grad), "params": grads_of(layer)}})
    return f


class Seq2Seq(nn.Module):
    def __init__(self, V, E, nhead, F, Le, Ld, act, norm_first):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.transformer = nn.Transformer(d_model=E, nhead=nhead, num_encoder_layers=Le, num_decoder_layers=Ld,
                                          dim_feedforward=F, dropout=0.0, activation=act, norm_first=norm_first)
        self.fc = nn.Linear(E, V)
        self.E = E

    def emb(self, ids):
        T = ids.shape[0]
        pos = torch.arange(0, T).unsqueeze(1).to(torch.float64)
        div = torch.exp(torch.arange(0, self.E, 2).to(torch.float64) * (-math.log(10000.0) / self.E))
        pe = torch.zeros(T, self.E)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return self.embedding(ids) * math.sqrt(self.E) + pe.unsqueeze(1)


def seq2seq(name, seed, Ts, Tt, B, V, E, nhead, F, Le, Ld, act, norm_first):
    torch.manual_seed(seed)
    m = Seq2Seq(V, E, nhead, F, Le, Ld, act, norm_first)
    redraw(m)
    m.train()
    src = torch.randint(1, V, (Ts, B))
    tgt = torch.randint(1, V, (Tt + 1, B))
    tgt[0] = 0
    dec_in, labels = tgt[:-1], tgt[1:]
    causal = m.transformer.generate_square_subsequent_mask(Tt)
    memory = m.transformer.encoder(m.emb(src))
    dec = m.transformer.decoder(m.emb(dec_in), memory, tgt_mask=causal)
    logits = m.fc(dec)
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), labels.reshape(-1))
    loss.backward()
    f = head(name, "transformer_seq2seq", seed, S2S_DOC,
             {"Ts": Ts, "Tt": Tt, "B": B, "V": V, "E": E, "nhead": nhead, "F": F, "num_encoder_layers": Le,
              "num_decoder_layers": Ld, "activation": act, "norm_first": norm_first})
    f.update({"params": params_of(m), "inputs": {"src": tensor(src), "tgt": tensor(tgt)},
              "outputs": {"memory": tensor(memory), "dec_out": tensor(dec), "logits": tensor(logits)},
              "loss": {"definition": "mean cross-entropy over Tt*B positions", "value": loss.item()},
              "grads": {"params": grads_of(m)}})
    return f


def fixtures():
    yield encoder("transformer_enc_prenorm_gelu", 500, 6, 3, 8, 2, 12, "gelu", True, [6, 2, 4])
    yield encoder("transformer_enc_T1_B1_h1", 501, 1, 1, 6, 1, 10, "relu", False, None)
    yield encoder("transformer_enc_h4_E12_pad", 502, 7, 2, 12, 4, 16, "relu", False, [7, 3])
    yield encoder("transformer_enc_h3_prenorm_nomask", 503, 4, 2, 9, 3, 5, "relu", True, None)
    yield decoder("transformer_dec_prenorm_gelu", 510, 5, 4, 3, 8, 2, 12, "gelu", True, True, [5, 2, 3], [4, 1, 3])
    yield decoder("transformer_dec_Tt1_B1", 511, 1, 3, 1, 6, 3, 7, "relu", False, True, None, None)
    yield decoder("transformer_dec_h4_nomask", 512, 3, 6, 2, 12, 4, 10, "relu", False, False, None, None)
    yield decoder("transformer_dec_h1_causal_only", 513, 4, 2, 2, 5, 1, 8, "gelu", False, True, None, [2, 1])
    yield encoder("transformer_enc_src_mask", 504, 5, 2, 8, 2, 12, "gelu", False, [5, 4], attn=True)
    yield decoder("transformer_dec_memory_mask", 514, 4, 5, 2, 8, 2, 12, "relu", True, True, [4, 3], [5, 4], mem_attn=True)
    yield seq2seq("transformer_s2s_2x2_h4_prenorm_gelu", 520, 6, 5, 3, 13, 12, 4, 20, 2, 2, "gelu", True)
    yield seq2seq("transformer_s2s_Ts1_Tt1_B1", 521, 1, 1, 1, 7, 6, 2, 8, 1, 1, "relu", False)
    yield seq2seq("transformer_s2s_3x1_h1", 522, 4, 3, 2, 9, 4, 1, 6, 3, 1, "relu", False)


def main():
    outdir = sys.argv[1]
    for f in fixtures():
        with open("%s/%s.json" % (outdir, f["name"]), "w") as out:
            json.dump(f, out)
        print(f["name"], "loss", f["loss"]["value"])


if __name__ == "__main__":
    main()
