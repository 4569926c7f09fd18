// Package interop moves models between PyTorch and rnnkit: it loads a
// PyTorch state_dict (read by package interop/torch) into an rnnkit
// model's parameters, and its tests check that the outputs agree both
// ways.
//
// # Loading a state_dict
//
// rnnkit names and lays out its parameters as PyTorch does (fused gate
// matrices weight_ih_l{k}[_reverse] [G·H, in], two biases, gate order LSTM
// i, f, g, o and GRU r, z, n; docs/models.md, "PyTorch names"), so a
// tensor loads as it is, under its name. [Load] copies the tensors of a
// [torch.StateDict] into a graph.Params as PyTorch's strict
// load_state_dict does: every parameter must receive a tensor of its
// shape, and every key must name a parameter. When they do not, it returns
// a *[LoadError] whose message is PyTorch's:
//
//	interop: Error(s) in loading state_dict for lm:
//		Missing key(s) in state_dict: "fc.weight", "fc.bias".
//		Unexpected key(s) in state_dict: "out.weight", "out.bias".
//		size mismatch for rnn.weight_ih_l0: copying a param with shape [28, 5] from checkpoint, the shape in current model is [28, 6].
//
// and the parameters are unchanged. Beyond PyTorch's checks, a non-float
// tensor (int64, bool, …) for a parameter, a NaN or infinite value, a
// float64 value beyond float32's range for float32 parameters, and tied
// copies that differ are errors too, each naming the key. float16,
// bfloat16, float32 and float64 tensors are converted to the parameters'
// dtype (exactly, but for float64 into float32, which rounds).
//
// # Module names
//
// A PyTorch model may call its modules otherwise (emb for embedding, enc
// for encoder, DGL's Tree-LSTM keeps its cell under "cell."). [Options]
// maps key prefixes to rnnkit's (the longest matching prefix is replaced)
// and lists tied copies. A model family declares its own mapping by
// implementing [TorchNamer] (and [TorchTier] for tied weights):
// training.LM and training.Seq2Seq do; [OptionsFor] gathers it, and
// [TreeNames] is the tree models'. [Import] builds a training.Trainer of a
// training.Model with the state_dict loaded, whose Checkpoint is an
// ordinary rnnkit checkpoint; `rnnkit import` is that call from the
// command line.
//
// # Export
//
// scripts/rnnkit_to_torch.py (numpy and torch only) loads an rnnkit
// checkpoint into the matching torch.nn module: nn.Embedding, nn.LSTM /
// nn.GRU / nn.RNN with num_layers and bidirectional, nn.Linear, the
// Seq2Seq decoders and attention scores, and the tree models
// (training/checkpoint's package documentation, "Reading a checkpoint into
// PyTorch").
//
// # Round trips
//
// The tests train PyTorch models for a few steps, save them with
// torch.save, import them and compare rnnkit's outputs with PyTorch's on
// the same inputs, and the other way round through the export script, with
// Debian's /usr/bin/python3 and torch (the tests skip, saying why, where
// it is missing): an LSTM and a GRU language model, Seq2Seq models with a
// bidirectional 2-layer LSTM encoder, a peeky GRU decoder, additive
// attention and the dot-attention model of benchmarks/torch_models.py, and
// the binary Tree-LSTM in DGL's layout, to 1e-6 in float32 and 1e-12 in
// float64 (the largest differences seen are 4.8e-7 and 8.9e-16).
package interop
