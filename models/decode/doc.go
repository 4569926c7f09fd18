// Package decode generates token sequences from any step-wise decoder:
// greedy decoding ([Greedy]), sampling with temperature, top-k and top-p
// ([Sample]), and batched beam search with a length penalty ([Beam]).
//
// The algorithms know nothing of Gorgonia. A decoder is a [Model] that
// advances a batch of rows by one token, and a [State] that holds the rows'
// recurrent state and can reorder and copy them ([State.Select]); a one-step
// Seq2Seq decoder graph compiled once per batch size fits behind these two
// interfaces.
//
// # Conventions
//
// Every row starts by feeding [Options.BOS]. A row's generation ends when it
// emits [Options.EOS] or after [Options.MaxLen] steps; the model is stepped
// at most MaxLen times. The EOS token is never part of a returned sequence,
// so a returned sequence has at most MaxLen tokens, and one that is shorter
// than MaxLen ended with EOS.
//
// The batch size never changes during a call: Greedy and Sample step all
// rows of the initial state together and keep feeding EOS to rows that have
// finished (their output is frozen); Beam steps sources × width rows.
//
// Logits may be −Inf (a token that can never be chosen) but not NaN or +Inf,
// and every row the decoder reads must have at least one finite logit. A
// model that breaks the contract (wrong number of rows or logits, a nil
// state, a panic) makes the decoder return an error wrapping [ErrModel];
// invalid arguments give errors wrapping [ErrInvalid]. No function of this
// package panics.
//
// # What the decoders promise to a Model
//
// The decoders never use a State again after passing it to Step or Select,
// read logits only until the next call to Step and never modify them, and
// never keep the tokens slice they pass to Step. A Model may therefore
// reuse its buffers from one step to the next.
//
// # Randomness
//
// [Sample] draws from SampleOptions.Source, a math/rand/v2 generator: the
// same type as graph.Source, so graph.NewSource(seed) serves. The same seed
// gives the same samples; nothing is seeded from the clock.
package decode
