// Package graph holds what every rnnkit model is made of below the cells:
// parameters that outlive any Gorgonia graph, naming scopes, seeded
// initialisers, a few operations Gorgonia gets wrong or makes slow, and
// helpers that compile and run machines with errors instead of panics.
//
// # Parameters and graphs
//
// A [Params] is an ordered set of named tensors (float32 or float64). It is
// created once, initialised from a seeded source, trained, and saved. A
// [Graph] is one Gorgonia expression graph built for one input shape; it
// binds the Params' tensors as nodes on first use, so every graph built over
// the same Params shares (and updates) the same memory. Build one Graph per
// shape and reuse its compiled machine across batches: building a graph per
// batch is a performance bug.
//
// Make a graph that will be compiled with [Build], which calls the build
// function twice (under differently named leaves) and compares the two, so
// that Gorgonia v0.9.18's 32-bit hash collisions, which merge two different
// nodes or let the compiler share their registers, are found and the graph
// built again. Everything the machine runs, gorgonia.Grad and
// gorgonia.Read included, belongs inside the build function.
//
// # Names
//
// Parameter names follow PyTorch (weight_ih_l0, bias_hh_l1_reverse, …),
// optionally under a dotted prefix from a [Scope] ("encoder.weight_ih_l0").
// Params refuses a duplicate name, and so does Graph for input nodes:
// Gorgonia merges two input nodes of the same name, type and shape into one
// node, silently.
//
// # Operations
//
// [Cols] slices columns out of a matrix without Gorgonia's Slice hash
// collision (its hash keeps only the low byte of the bounds, so the slices
// 0:256 and 256:512 become one node). [Sigmoid] computes the logistic
// function exactly at every input, where Gorgonia's saturates to 0 or 1
// early. Both differentiate symbolically.
//
// # What is built on it
//
// The fused recurrent kernels are in package recurrent and the attention
// ops in package attention; both import graph, never the reverse. What
// their ops share with this package's (the reused output buffer, the
// matrix multiply, the worker team) is in internal/opkit, internal/blas and
// internal/parallel.
//
// # Errors
//
// Nothing in this package panics on bad input: shapes are checked and
// reported as [*ShapeError]; Gorgonia panics raised while compiling a
// machine are recovered and returned as errors by [NewMachine] (and by
// [Run] for a panic on the calling goroutine). An op's panic happens on the
// tape machine's own goroutine and cannot be recovered: this package's ops
// return errors instead.
package graph
