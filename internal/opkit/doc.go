// Package opkit is what rnnkit's own Gorgonia ops are made of, shared by
// the graph package's safe ops and the fused kernels built on it (package
// recurrent, package attention): an output buffer reused from one run of a
// machine to the next ([Base]), an op's hash ([Hash]), the conversion of
// the values a machine hands an op into dense tensors of the shape the
// graph was built with ([AsShape], [Dense], [Floats]), and small helpers
// every op needs ([Trues], [SameShape]).
//
// Nothing here panics on bad input: a value of the wrong type, shape or
// dtype is an error (wrapping [ErrDtype] for a dtype other than float32 or
// float64).
package opkit
