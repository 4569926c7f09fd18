#!/usr/bin/python3
"""Write the PyTorch files of rnnkit import's tests (cmd/rnnkit/import_test.go).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 make.py [OUTDIR]

s2s.pt       a Seq2Seq for the addition preset at -hidden 4 -embed 4 (plain
             LSTM decoder, vocabulary vocab.json), its modules named as in
             benchmarks/torch_models.py: emb, enc, dec, fc
lm.pt        a language model for the charlm preset at -hidden 4 -embed 4
             (LSTM, vocabulary lm_vocab.json), named as PyTorch's
             word_language_model example: encoder, rnn, decoder
int.pt       s2s.pt with fc.bias an int64 tensor
truncated.pt the first half of s2s.pt
corrupt.pt   s2s.pt with a byte of a tensor's record changed (its CRC-32 fails)
hostile.pt   a zip whose data.pkl names os.system (never run: the reader refuses it)
The weights are seeded, so each run writes the same values.
"""
import io
import json
import os
import pickle
import sys
import zipfile

import torch
import torch.nn as nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
VOCAB = SPECIALS + list("+0123456789")
LM_VOCAB = SPECIALS + list(" .benort")


def s2s():
    torch.manual_seed(1)
    V, E, H = len(VOCAB), 4, 4
    m = nn.Module()
    m.emb, m.enc, m.dec, m.fc = nn.Embedding(V, E), nn.LSTM(E, H), nn.LSTM(E, H), nn.Linear(H, V)
    return m.state_dict()


def lm():
    torch.manual_seed(2)
    V, E, H = len(LM_VOCAB), 4, 4
    m = nn.Module()
    m.encoder, m.rnn, m.decoder = nn.Embedding(V, E), nn.LSTM(E, H), nn.Linear(H, V)
    return m.state_dict()


class System:
    def __reduce__(self):
        return (os.system, ("echo hostile",))


def main():
    path = lambda n: os.path.join(OUT, n)
    with open(path("vocab.json"), "w") as f:
        json.dump(VOCAB, f)
    with open(path("lm_vocab.json"), "w") as f:
        json.dump({"tokens": LM_VOCAB}, f)
    sd = s2s()
    torch.save(sd, path("s2s.pt"))
    torch.save(lm(), path("lm.pt"))
    bad = dict(sd)
    bad["fc.bias"] = torch.arange(len(VOCAB), dtype=torch.int64)
    torch.save(bad, path("int.pt"))
    b = open(path("s2s.pt"), "rb").read()
    open(path("truncated.pt"), "wb").write(b[:len(b) // 2])
    i = b.index(b"s2s/data/0") + 200  # inside the first storage's record
    open(path("corrupt.pt"), "wb").write(b[:i] + bytes([b[i] ^ 0xFF]) + b[i + 1:])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hostile/data.pkl", pickle.dumps(System(), protocol=2))
    open(path("hostile.pt"), "wb").write(buf.getvalue())


if __name__ == "__main__":
    main()
