// Package training trains rnnkit's models: a trainer over compiled
// machines cached per batch shape, rnnkit's own optimisers
// (training/optim), gradient clipping by global norm, evaluation on
// forward-only machines (so gradients never accumulate), metrics
// (training/metrics) and checkpoints that resume bit for bit
// (training/checkpoint).
//
// # Reproducibility
//
// A run is a function of its config and seed. Each epoch's batch order is
// drawn from a source seeded by (seed, epoch); dropout masks are drawn
// from a source reseeded by (seed, step); the optimiser's state is saved
// with the parameters. A run stopped after any step and resumed from its
// checkpoint therefore ends with the same parameters, bit for bit, as a
// run never stopped.
package training
