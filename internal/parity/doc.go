// Package parity runs a PyTorch reference fixture through rnnkit: it builds
// the model the fixture's case names from its dims, loads its parameters,
// runs forward and backward of its loss, and compares every output, final
// state and gradient with the fixture's.
package parity
