// Package cells holds rnnkit's recurrent cells — the Elman RNN (tanh and
// ReLU), the LSTM, the peephole LSTM and the GRU — each a Gorgonia
// expression subgraph for one time step, the registry of cell kinds, and
// the free functions that unroll a cell over time.
//
// # The contract
//
// A [Cell] does one time step: Step(x, prev) returns the output h and the
// next [State], whose first element is always h (an LSTM's state is {h, c}),
// so callers never special-case a cell. [Unroll] and [UnrollReverse] loop a
// cell over a sequence; a [Stack] of cells is again a cell.
//
// # Kinds
//
// Every cell kind is described in one place, its [Spec]: gate count, state
// tensors, extra parameters, initialisers, the step subgraph (New), its
// fused kernel if it has one (Fused) and a plain-Go reference step. The
// built-in kinds (rnn.go, lstm.go, peephole.go, gru.go) and any kind added
// with [Register] are listed by [Kinds] and found by [Lookup]; Config, New,
// Sequence, the conformance suite (cells/celltest), the PyTorch parity
// runner, the benchmarks and the command's -cell flags all read the
// registry. A new kind is one file — its cell, usually embedding [Affine],
// and its Spec — and one call of Register; docs/cells.md shows one.
//
// # Parameters
//
// A cell is described by a [Config] (kind, sizes, layer, direction, name
// prefix), which knows its parameters' names and shapes in PyTorch's layout
// — weight_ih_l{k}[_reverse] [G·H, I], weight_hh_l{k} [G·H, H], bias_ih and
// bias_hh [G·H], gate order LSTM i, f, g, o and GRU r, z, n, then the
// kind's extra parameters (peephole_{i,f,o}_l{k}) — so PyTorch weights load
// as they are. Config.Init creates the parameters in a graph.Params with
// the kind's initialisers (PyTorch's by default) from a seeded source;
// [New] binds a cell into one graph.Graph.
//
// # Sequences
//
// [Sequence] runs a whole batch of sequences held in one time-major matrix:
// through the kind's fused kernel (package recurrent, for the built-in
// kinds) where it has one, through the step-by-step subgraph otherwise —
// explicitly, never through another kind's kernel.
//
// # Backpropagation through time
//
// Unrolling builds the whole computation over T steps as one graph;
// gorgonia.Grad of a loss over the outputs differentiates through every
// step, which is backpropagation through time. The maths, and why gradients
// vanish or explode over many steps, are in docs/cells.md.
//
// # Errors
//
// Steps check their inputs: a wrong shape is a [*ShapeError], a wrong
// number of state tensors [ErrState], an empty sequence [ErrEmpty]. Nothing
// here panics on bad input.
package cells
