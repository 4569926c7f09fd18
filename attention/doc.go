// Package attention holds the operations of Luong and Bahdanau attention
// as Gorgonia ops with symbolic gradients, over a batch of sequences:
//
//	S = DotScores(h, E)        scores      [B, n]
//	A = SoftmaxRows(S, mask)   weights     [B, n]
//	C = Attend(A, E)           context     [B, H]
//
// with the encoder outputs E kept as one node per source step (as
// cells.Unroll returns them), and StackCols joining Bahdanau's per-step
// additive scores into one [B, n] matrix. SeqScores and SeqAttend are the
// same scores and context for every decoder step at once, over time-major
// matrices [T·B, H] (as cells.Sequence returns them): what a decoder
// trained with teacher forcing uses.
//
// attention.go holds the per-step ops, seq.go the whole-sequence ones.
// Every op checks shapes and dtypes when its node is built, accepts values
// that arrive as views or with a dimension of size 1 squeezed out, computes
// in float32 or float64, and differentiates with ops of this package (so
// the gradients are differentiable again, except SoftmaxRows'). The masked
// softmax gives an all-masked row zeros, never NaN. Nothing here panics on
// bad input.
package attention
