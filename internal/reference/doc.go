// Package reference is an independent, plain-Go forward pass of every
// recurrent cell rnnkit builds with Gorgonia. It imports nothing but the
// standard library and computes each step with explicit float64 loops, so
// that a bug in the expression graph — a wrong gate order, a transposed
// weight, or Gorgonia merging two nodes whose hashes collide (its Slice op
// hashes only the low byte of the bounds, so the columns 0:256 and 256:512
// of a [B, 4·256] gate matrix become one node) — shows up as a numerical
// difference instead of hiding behind the graph.
//
// # Layout
//
// Parameters use PyTorch's layout, row-major: W_ih [G·H, I], W_hh [G·H, H],
// b_ih [G·H] and b_hh [G·H], with G gate blocks stacked in the rows (RNN 1,
// GRU 3 in the order r, z, n, LSTM 4 in the order i, f, g, o), and for the
// peephole LSTM the diagonal peephole vectors p_i, p_f, p_o [H]. Inputs x
// are [B, I] and states h, c are [B, H], row-major.
//
// # Equations
//
// With σ(v) = 1/(1+e^−v) and ⊙ the element-wise product, one step is:
//
// Elman RNN (kinds "rnn_tanh" and "rnn_relu", φ = tanh or max(0, ·)):
//
//	h' = φ(W_ih x + b_ih + W_hh h + b_hh)
//
// LSTM (kind "lstm"):
//
//	i  = σ(W_ii x + b_ii + W_hi h + b_hi)
//	f  = σ(W_if x + b_if + W_hf h + b_hf)
//	g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
//	o  = σ(W_io x + b_io + W_ho h + b_ho)
//	c' = f ⊙ c + i ⊙ g
//	h' = o ⊙ tanh(c')
//
// Peephole LSTM (kind "peephole_lstm"): as the LSTM, except
//
//	i  = σ(W_ii x + b_ii + W_hi h + b_hi + p_i ⊙ c)
//	f  = σ(W_if x + b_if + W_hf h + b_hf + p_f ⊙ c)
//	o  = σ(W_io x + b_io + W_ho h + b_ho + p_o ⊙ c')
//
// (g has no peephole; o looks at the new cell state c').
//
// GRU (kind "gru", PyTorch's variant):
//
//	r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//	z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//	n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//	h' = (1 − z) ⊙ n + z ⊙ h
//
// Nothing here panics on bad input: wrong lengths, non-positive sizes and
// unknown kinds are returned as errors.
package reference
