// Package checkpoint saves and loads training checkpoints — model
// parameters, optimiser state and metadata — as safetensors files that
// PyTorch and numpy read as they are.
//
// [Save] writes a [Checkpoint] atomically (temporary file, fsync, rename,
// fsync of the directory); [Load] reads one back and verifies everything,
// the checksum included, with allocations bounded by the file's size. The
// parameters come back bit for bit, in float32 and float64, with their names
// and their order. A [Manager] keeps a directory of step-numbered
// checkpoints and a best one.
//
// # File format, version 1
//
// A checkpoint is a [safetensors] file:
//
//   - 8 bytes: N, the header length, an unsigned little-endian 64-bit
//     integer. Load refuses N above [MaxHeader] (16 MiB) before reading on.
//   - N bytes: the header, a UTF-8 JSON object, padded with spaces so that
//     8 + N is a multiple of 8. Its first member is "__metadata__", an
//     object of string values; then one member per tensor, in the order of
//     the data: {"dtype": "F32" | "F64", "shape": [d0, d1, ...],
//     "data_offsets": [begin, end]}.
//   - The data: each tensor's elements in row-major order, little-endian
//     IEEE 754, from byte begin to byte end counted from the end of the
//     header. The tensors tile the data with no gap and no overlap, in
//     header order, and the last one ends at the end of the file.
//
// The tensors are the parameters first, in [graph.Params] order, under
// their own names, then the optimiser state in ascending byte order of
// name, each under the name "state/" + its key ([StatePrefix]). Every
// dimension is at least 1 and a shape has at most 32 dimensions; a state
// tensor may be a scalar (shape []).
//
// The metadata keys:
//
//	format_version  "1"
//	params_dtype    "F32" or "F64": the dtype of the Params (of all its tensors)
//	model           the model config, JSON text (required)
//	vocab           the vocabulary, JSON text (absent when there is none)
//	step, epoch     decimal integers
//	seed            decimal unsigned 64-bit integer
//	rng             the random-source state, standard base64 with padding (absent when none)
//	x.<key>         Meta.Extra[<key>], any string
//	checksum        64 lowercase hex digits: the SHA-256 described below
//
// No other key is allowed. The checksum is the SHA-256 of these bytes, in
// which u(i) is i as 8 little-endian bytes and s(x) is u(len(x)) followed
// by the UTF-8 bytes of x:
//
//	u(number of tensors)
//	for each tensor, in header order:
//	    s(name) s(dtype) u(number of dimensions) u(d0) u(d1) ... u(begin) u(end)
//	u(number of metadata keys other than "checksum")
//	for each such key, in ascending byte order: s(key) s(value)
//	all the bytes after the header
//
// So it covers the tensor table, every other metadata entry and all the
// data; a checkpoint whose header or data changed in any way that matters
// fails to load.
//
// # Compatibility
//
// A file's format_version says which rules it follows. Every later version
// of this package reads version 1 files and gives back the same Checkpoint;
// a change to any rule above comes with a new format_version, and this
// version refuses files of any other version with [ErrVersion] rather than
// misreading them. Within version 1, keys may be added only under "x.".
// Files are byte-for-byte reproducible: the same Checkpoint always gives the
// same file.
//
// # Reading a checkpoint from Python
//
// With the safetensors package, in PyTorch:
//
//	from safetensors.torch import load_file
//	from safetensors import safe_open
//	path = "ckpt-00001000.safetensors"
//	tensors = load_file(path)  # {name: torch.Tensor}
//	with safe_open(path, framework="pt") as f:
//	    meta = f.metadata()    # {key: str}, as in the table above
//	model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("state/")})
//
// load_file's dict does not keep the parameters' order (their data_offsets
// do). With numpy alone, the order is kept (Python's dicts keep the JSON
// text's order):
//
//	import json, struct
//	import numpy as np
//	def load(path):
//	    """Returns ({name: array} in file order, {key: value} metadata)."""
//	    with open(path, "rb") as f:
//	        n = struct.unpack("<Q", f.read(8))[0]
//	        header, data = json.loads(f.read(n)), f.read()
//	    meta = header.pop("__metadata__")
//	    dtypes = {"F32": "<f4", "F64": "<f8"}
//	    tensors = {}
//	    for name, e in header.items():
//	        begin, end = e["data_offsets"]
//	        a = np.frombuffer(data[begin:end], dtype=dtypes[e["dtype"]])
//	        tensors[name] = a.reshape(e["shape"])
//	    return tensors, meta
//
// (torch.from_numpy(a.copy()) makes a tensor of each.) And the checksum:
//
//	import hashlib, json, struct
//	def verify(path):
//	    with open(path, "rb") as f:
//	        n = struct.unpack("<Q", f.read(8))[0]
//	        header, data = json.loads(f.read(n)), f.read()
//	    meta = header.pop("__metadata__")
//	    u = lambda i: struct.pack("<Q", i)
//	    s = lambda x: u(len(x.encode())) + x.encode()
//	    h = hashlib.sha256(u(len(header)))
//	    for name, e in header.items():
//	        h.update(s(name) + s(e["dtype"]) + u(len(e["shape"])) + b"".join(map(u, e["shape"])))
//	        h.update(u(e["data_offsets"][0]) + u(e["data_offsets"][1]))
//	    rest = sorted((k.encode(), v.encode()) for k, v in meta.items() if k != "checksum")
//	    h.update(u(len(rest)) + b"".join(u(len(k)) + k + u(len(v)) + v for k, v in rest))
//	    h.update(data)
//	    return h.hexdigest() == meta["checksum"]
//
// Both are run on a file written by Save in this package's tests.
//
// # Reading a checkpoint into PyTorch
//
// scripts/rnnkit_to_torch.py (numpy and torch only: Debian has no
// safetensors package) reads a checkpoint as above, checks its checksum,
// builds the torch.nn module of the model it holds from the metadata
// (x.kind and "model": a language model, a Seq2Seq model with any decoder
// and encoder, a tree model of models/tree) and loads the parameters with
// the strict load_state_dict; their names are the module's own
// (docs/models.md, "PyTorch names"). Optimiser state ("state/…") is left
// out.
//
//	/usr/bin/python3 scripts/rnnkit_to_torch.py best.safetensors --out model.pt --vocab vocab.json
//
//	import rnnkit_to_torch as rk            # with scripts/ on sys.path
//	model, info = rk.load("best.safetensors")  # eval mode; info["vocab"]: the tokens in id order
//
// The module gives rnnkit's outputs on the same inputs (package interop's
// TestRnnkitToTorch: within 1e-6 in float32, 1e-12 in float64), and
// --out's file imports back with rnnkit import.
//
// # Why not a safetensors library
//
// The format is small, and what this package must guarantee is mostly what
// a general reader does not: a checksum over a canonical form, tensors in a
// fixed order (JSON objects are unordered, so order is recovered from the
// header's text, which needs a token-level parser), refusal of duplicate
// keys, of unknown fields and of gaps, and allocations bounded by the file
// size before anything is parsed. The checked library
// (github.com/nlpodyssey/safetensors) would have needed all of that around
// it anyway, and it parses headers up to 100 MB with memory many times
// their size, so the reader and writer here (about 1,100 lines with their
// comments, fuzzed) are this package's own and add no dependency.
//
// [safetensors]: https://github.com/huggingface/safetensors
package checkpoint
