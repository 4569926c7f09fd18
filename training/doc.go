// Package training trains rnnkit's models: one loop for every model
// family ([Trainer]) over a small interface ([Model]), rnnkit's own
// optimisers (training/optim), gradient clipping by global norm,
// learning-rate schedules and early stopping ([Schedule]), evaluation on
// forward-only machines (so gradients never accumulate), metrics
// (training/metrics), a guard against non-finite numbers (ErrNonFinite),
// and checkpoints that resume bit for bit (training/checkpoint).
//
// # Models
//
// A [Model] supplies its batches (opaque to the Trainer but for their
// [Shape]), the loss graph of a batch shape ([Model.Build], inside
// graph.Build), its parameters ([Model.Init]) and its evaluation
// ([Model.Evaluate]: named [Metrics]); [Carrier] models hand state from
// batch to batch (truncated BPTT). [Seq2Seq] (encoder–decoder on
// question–answer pairs: metrics loss, exact_match, token_accuracy) and
// [LM] (language model: loss, perplexity, bits_per_char) are the families
// of this package; [Open] rebuilds any family's model from its checkpoint
// ([Register] makes a family known to it), and training/preset names the
// experiments the rnnkit command runs.
//
// # Reproducibility
//
// A run is a function of its config and seed. The parameters are drawn
// from a source seeded by the seed; each epoch's batches from a source
// seeded by (seed, epoch); each step's random choices (dropout masks) from
// (seed, step); the optimiser's state, the schedule's, the position within
// the epoch and a carried state are saved with the parameters. A run
// stopped after any step and resumed from its checkpoint therefore ends
// with the same parameters, bit for bit, as a run never stopped.
package training
