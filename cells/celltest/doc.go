// Package celltest is a conformance suite every rnnkit cell passes, after
// the pattern of gonum's graph/testgraph and the standard library's
// testing/fstest: call [Run] from a test with a [Subject] that builds the
// cell — [ForKind] for a registered cell kind — and it checks the Cell
// contract.
//
// The suite checks that state shapes stay fixed across steps and State[0]
// is the output; that Unroll equals a loop of Step and UnrollReverse equals
// Unroll over the reversed sequence; that float64 gradients with respect to
// every parameter, input and initial state equal central finite
// differences; that cells.Sequence — the kind's fused kernel where it has
// one, its step-by-step subgraph otherwise — gives what the step-by-step
// subgraph gives (outputs, final state and every gradient, both directions,
// with padding) and gradients that equal finite differences; that the
// graph computes what the kind's plain-Go reference step computes, where
// the Subject has one; that T = 1, B = 1 and H = 1 work; that float32
// agrees with float64; and that bad input gives errors, not panics.
//
// Every graph the suite compiles is built by graph.Build, gradients and
// reads included, so a Gorgonia hash collision cannot pass unseen.
package celltest
