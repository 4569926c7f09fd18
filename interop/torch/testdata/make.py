#!/usr/bin/python3
"""Write the .pt test files of package interop/torch and expected.json.

Usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 make.py [OUTDIR]

Every file is written by torch.save, in the zip format (PyTorch >= 1.6) and,
where the name ends in _legacy, with _use_new_zipfile_serialization=False.
expected.json holds, for every case, the files that hold it and, for every
tensor in file order, its dtype, shape and values as the hex of their IEEE
bits, little-endian order of elements in row-major (C) order:
  "f64": the values as float64 (tensor.double()),
  "f32": the values as float32 (tensor.float()), for float32, float16 and
         bfloat16 tensors, so that the half types are checked exactly as
         PyTorch converts them.
Non-float tensors are listed under "skipped" (name, dtype, shape).

The values are seeded (torch.manual_seed), so they are the same on every run;
the legacy files' storage keys are memory addresses and change from run to
run.
"""
import collections
import io
import json
import os
import sys

import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
FLOATS = {torch.float32, torch.float64, torch.float16, torch.bfloat16}
NAMES = {
    torch.float32: "float32", torch.float64: "float64",
    torch.float16: "float16", torch.bfloat16: "bfloat16",
    torch.int64: "int64", torch.int32: "int32", torch.int16: "int16",
    torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool",
}


def describe(sd):
    keys, tensors, skipped = [], {}, []
    for name, t in sd.items():
        if t.dtype not in FLOATS:
            skipped.append({"name": name, "dtype": NAMES[t.dtype], "shape": list(t.shape)})
            continue
        keys.append(name)
        d = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
             "f64": [format(int(b), "016x") for b in t.detach().double().contiguous().numpy().reshape(-1).view(np.uint64)]}
        if t.dtype != torch.float64:
            d["f32"] = [format(int(b), "08x") for b in t.detach().float().contiguous().numpy().reshape(-1).view(np.uint32)]
        tensors[name] = d
    return {"keys": keys, "tensors": tensors, "skipped": skipped}


def save(sd, name, legacy=False, protocol=2, through_buffer=False):
    path = os.path.join(OUT, name)
    kw = {"pickle_protocol": protocol}
    if legacy:
        kw["_use_new_zipfile_serialization"] = False
    if through_buffer:
        # A file object: the folder inside the zip is "archive", not the
        # file's stem.
        buf = io.BytesIO()
        torch.save(sd, buf, **kw)
        with open(path, "wb") as f:
            f.write(buf.getvalue())
    else:
        torch.save(sd, path, **kw)
    # The file must load back in PyTorch as the same state_dict.
    back = torch.load(path)
    assert list(back.keys()) == list(sd.keys()), name
    return name


def lstm():
    torch.manual_seed(1)
    return torch.nn.LSTM(input_size=3, hidden_size=4, num_layers=2).state_dict()


def gru():
    torch.manual_seed(2)
    return torch.nn.GRU(input_size=3, hidden_size=2, bidirectional=True).state_dict()


def dtypes():
    torch.manual_seed(3)
    special = [0.0, -0.0, 1.0, -2.5, 0.1, 1.0 / 3.0, float("inf"), float("-inf"), float("nan")]
    sd = collections.OrderedDict()
    sd["f64"] = torch.randn(2, 3, dtype=torch.float64)
    sd["f64_special"] = torch.tensor(special + [1e-310, 1.7976931348623157e308], dtype=torch.float64)
    sd["f32"] = torch.randn(3, 2)
    sd["f32_special"] = torch.tensor(special + [1e-40, 3.4028234663852886e38], dtype=torch.float32)
    # float16: largest finite, smallest normal, subnormals, values that round.
    sd["f16"] = torch.randn(2, 2, 2).half()
    sd["f16_special"] = torch.tensor(special + [65504.0, 6.103515625e-05, 5.960464477539063e-08,
                                                3.0e-06, -1.2e-07, 1e-9, 70000.0], dtype=torch.float16)
    sd["bf16"] = torch.randn(5).bfloat16()
    sd["bf16_special"] = torch.tensor(special + [3.3e38, 1e-39, -9.2e-41, 1e-45, 123.456], dtype=torch.bfloat16)
    # NaNs by their bits: signaling, negative quiet, with a payload.
    sd["f16_nan_bits"] = torch.tensor([0x7c01, -512, 0x7fff, -1], dtype=torch.int16).view(torch.float16)
    sd["bf16_nan_bits"] = torch.tensor([0x7f81, -64, 0x7fff], dtype=torch.int16).view(torch.bfloat16)
    sd["f32_nan_bits"] = torch.tensor([0x7f800001, -4194304, 0x7fffffff], dtype=torch.int32).view(torch.float32)
    return sd


def views():
    torch.manual_seed(4)
    w = torch.randn(3, 5)
    base = torch.arange(24, dtype=torch.float32) * 0.25 - 1.0
    sd = collections.OrderedDict()
    sd["w"] = w
    sd["w_t"] = w.t()                     # transposed: strides (1, 5), shares w's storage
    sd["w_col"] = w[:, 1]                 # offset 1, stride 5
    sd["w_block"] = w[1:, 2:4]            # offset 7, strides (5, 1)
    sd["a"] = base[2:8].view(2, 3)        # offset 2 into base
    sd["b"] = base[10:14]                 # offset 10 into the same storage
    sd["every_third"] = base[1::3]        # stride 3
    sd["expanded"] = torch.tensor([1.5, -2.0]).expand(3, 2)  # stride (0, 1)
    sd["scalar"] = torch.tensor(3.25)     # 0-dim
    sd["empty"] = torch.zeros(0, 4)
    sd["h_t"] = torch.randn(4, 3, dtype=torch.float64).half().t()  # float16 view
    for k in ("w_t", "w_col", "every_third", "expanded", "h_t"):
        assert not sd[k].is_contiguous(), k
    return sd


def buffers():
    torch.manual_seed(5)
    m = torch.nn.Module()
    m.lin = torch.nn.Linear(2, 3)
    m.bn = torch.nn.BatchNorm1d(3)
    m.bn(torch.randn(4, 3))  # one training step: running stats move, num_batches_tracked = 1
    m.register_buffer("mask", torch.tensor([True, False, True]))
    m.register_buffer("ids", torch.tensor([[1, 2], [3, 4]], dtype=torch.int32))
    m.register_buffer("scale", torch.tensor([0.5], dtype=torch.float64))
    return m.state_dict()


def nested():
    torch.manual_seed(6)
    net = torch.nn.Sequential(collections.OrderedDict([
        ("encoder", torch.nn.Sequential(torch.nn.Embedding(5, 3), torch.nn.LSTM(3, 2, batch_first=True))),
        ("decoder", torch.nn.Sequential(collections.OrderedDict([("proj", torch.nn.Linear(2, 5))]))),
    ]))
    # DataParallel without GPUs keeps the module as it is; its state_dict
    # prefixes every key with "module.".
    return torch.nn.DataParallel(net).state_dict()


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = collections.OrderedDict()

    def case(name, sd, files):
        d = describe(sd)
        d["files"] = files
        cases[name] = d

    sd = lstm()
    case("lstm", sd, [save(sd, "lstm.pt"), save(sd, "lstm_legacy.pt", legacy=True)])
    sd = gru()
    case("gru", sd, [save(sd, "gru.pt", through_buffer=True), save(sd, "gru_legacy.pt", legacy=True)])
    sd = dtypes()
    case("dtypes", sd, [save(sd, "dtypes.pt"), save(sd, "dtypes_legacy.pt", legacy=True)])
    sd = views()
    case("views", sd, [save(sd, "views.pt"), save(sd, "views_legacy.pt", legacy=True)])
    sd = buffers()
    case("buffers", sd, [save(sd, "buffers.pt"), save(sd, "buffers_legacy.pt", legacy=True)])
    sd = nested()
    case("nested", sd, [save(sd, "nested.pt"), save(sd, "nested_p4.pt", protocol=4),
                        save(sd, "nested_p4_legacy.pt", legacy=True, protocol=4)])

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
