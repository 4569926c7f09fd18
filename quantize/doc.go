// Package quantize is rnnkit's post-training dynamic int8 quantization,
// the scheme of PyTorch's quantize_dynamic: every weight matrix of a
// trained model (embedding tables, recurrent weight_ih and weight_hh,
// linear layers) becomes int8 with a float32 scale per row; biases stay
// float32; activations are quantized per row when they arrive
// (internal/qgemm explains the arithmetic and its kernels).
//
// [FromCheckpoint] quantizes a float checkpoint into a [File], which
// [File.Save] writes and [Load] reads back (the layout is in
// docs/compression.md: a safetensors file of I8 matrices, their F32
// ".scale" vectors and the F32 vectors, with the float checkpoint's
// metadata and a checksum). [NewLM] builds a language model that runs on
// the int8 weights — embedding rows dequantized on look-up, the recurrent
// layers' W_ih·x for a whole window in one int8 product and W_hh·h per
// step, the output layer int8 — for evaluation and benchmarks;
// [KeepFloat] gives the same engine with float32 weights, the reference
// it is compared with. [File.Checkpoint] dequantizes a file into a float
// checkpoint, for models without an int8 engine (weight-only
// quantization).
//
// # Accuracy
//
// Rounding moves a weight by at most half its row's step s_w and an
// activation by at most half its row's step s_x, so an output of a
// product moves by at most Σ_k (|x_k|·s_w/2 + |W_k|·s_x/2 + s_x·s_w/4);
// the tests check one step of every cell kind against that bound carried
// through the gates, and the engine with float32 weights against
// models/lm's graph.
package quantize
