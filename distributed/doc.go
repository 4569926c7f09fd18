// Package distributed trains a model data-parallel: several processes
// (ranks) run the same [training.Trainer], each on its part of every
// global batch, and sum their gradients before each optimiser step, so
// that the group takes the step one process would take on the whole batch
// (synchronous data parallelism, docs/architecture.md).
//
// # Overview
//
// A [Comm] is the little of MPI the training needs: the rank and size of
// the group, an all-reduce sum, a broadcast, a barrier and an abort. Three
// implementations:
//
//   - [Single] is a group of one process: what training alone is.
//   - [NewLocal] makes an in-process group of n ranks that meet over
//     shared memory, for tests (and for trying the logic without MPI): each
//     rank is a goroutine running its own Trainer.
//   - package distributed/mpi binds Open MPI through cgo, built only with
//     the build tag mpi (go build -tags mpi); the default build stays pure
//     Go and its mpi.Init says MPI was not built in.
//
// [Attach] puts a Trainer into a group: it checks that the model can be
// split ([training.Sharder]) and that every rank stands at rank 0's
// position, broadcasts rank 0's parameters, and sets Trainer.Group. From then on every step shards the batch, sums
// the weighted losses and gradients with AllreduceSum and applies the same
// update on every rank; rank 0 alone writes checkpoints, metrics.jsonl and
// the plot (see training.Group).
//
// # Invariants
//
// All ranks call the collectives in the same order with buffers of the
// same length; the sum is taken in rank order, so two runs of one group
// are bit for bit equal. A rank that fails in a step still takes part in
// that step's all-reduce with a failure flag, so the others stop with it
// instead of waiting; a rank that dies is noticed by mpirun (or by a
// collective's timeout: [NewLocal]'s, and mpi.Init's) and the others
// are stopped.
package distributed
