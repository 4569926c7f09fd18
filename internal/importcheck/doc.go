// Package importcheck holds no code, only a test: a module of its own,
// made in a temporary folder, requires rnnkit as a user's module would
// (its go.mod has no replace directive but the one pointing
// github.com/rnnkit/rnnkit at this checkout), builds against released
// Gorgonia v0.9.18, and runs `rnnkit parity` and a graph with a known hash
// collision through it.
package importcheck
