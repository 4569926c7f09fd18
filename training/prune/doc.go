// Package prune makes rnnkit's models sparse and small: magnitude pruning
// of weight matrices, one-shot ([Magnitude]) or gradual during training
// ([Gradual], Zhu & Gupta 2017), and structured pruning of a recurrent
// language model's hidden units ([Units]), which shrinks the matrices.
//
// # Which tensors
//
// [Weights] selects what magnitude pruning touches: every parameter of two
// or more dimensions (the fused gate matrices weight_ih_l{k} and
// weight_hh_l{k}, fc.weight, attention matrices), but not biases,
// peephole vectors or other one-dimensional parameters (few values, each
// shared by a whole row), and not embedding tables (names ending in
// "embedding.weight"): a row of an embedding is one token's only
// representation, and pruning it by magnitude removes rare tokens'
// vectors first. Pass another selection to include them.
//
// # Masks
//
// A mask holds 1 for a weight kept and 0 for one pruned. Pruning to
// sparsity s zeroes the round(s·n) weights of smallest magnitude (ties
// broken by position, so the result is a function of the weights): per
// tensor (each selected tensor gets sparsity s), or globally (one
// threshold over all selected tensors). Under [Gradual] the masks are
// applied after every optimiser step, so pruned weights stay zero, and the
// Trainer keeps them in its checkpoints (training.StepHook): a resumed run
// continues bit for bit.
//
// # Schedule
//
// Zhu & Gupta's cubic schedule raises the sparsity from s_i to s_f over n
// pruning steps Δt apart, starting at step t₀:
//
//	s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³,  t ∈ {t₀, t₀+Δt, …, t₀+n·Δt}
//
// pruning fast while many redundant weights remain and slowly near the
// target. [Schedule] holds t₀ (Start), t₀+n·Δt (End) and Δt (Every).
package prune
