// Package recurrent runs a whole recurrent layer over a sequence as one
// fused Gorgonia node with its own backward pass through time: the fast
// path of cells.Sequence for the Elman RNN (tanh and ReLU), the LSTM, the
// peephole LSTM and the GRU.
//
// [Fused] takes the sequence time-major in one matrix X [T·B, I], the
// initial state and the cell's parameters in PyTorch's layout ([Inputs]),
// and returns the outputs [T·B, H] and the final state. It computes what
// the cells package's step-by-step subgraph computes — that subgraph is
// the definition, and the tests of cells check this package against it,
// against the PyTorch fixtures and against finite differences — but as a
// speed path: the input projections of all steps in one matrix product
// (internal/blas), the recurrent product of a step on a weight packed once
// per pass, every gate of a step in one pass over memory, and the weight
// gradients in one product each over all steps.
//
// # Files
//
// recurrent.go holds the ops (the forward node, its gradient node, and the
// copy that cuts the packed gradient into its parts); kernel.go the
// kernels themselves, for float32 and float64, with their workspace reused
// from run to run; fastmath.go the vector activations (internal/vmath for
// float32). The float32 backward rows of the LSTMs and the GRU are
// internal/vmath kernels too (LSTMBack32, PeepholeBack32, GRUBack32), with
// the scalar rows' operations in their order, and so are the float32
// forward rows of the GRU and the peephole LSTM (GRUForward32,
// PeepholeForward32: Sigmoid32 and Tanh32 on the scalar rows' blocks, the
// sums and products between them vectorised). A step's recurrent product and its element-wise pass are split
// over the cores by the worker team of internal/parallel, bit-identical to
// the unsplit pass.
//
// # Contract
//
// A fused node keeps, between its forward and backward ops, the workspace
// of the pass; the gradient node must run after the forward node in the
// same run of the machine, as Gorgonia's machines do. The zero [Kind] is
// not a recurrence: an unset kind is an error. Shapes, dtypes and graphs
// of the inputs are checked when the node is built; nothing here panics
// on bad input.
package recurrent
