// Package celltest is a conformance suite every rnnkit cell passes, after
// the pattern of gonum's graph/testgraph and the standard library's
// testing/fstest: call [Run] from a test with a [Subject] that builds the
// cell, and it checks the Cell contract.
//
// The suite checks that state shapes stay fixed across steps and State[0]
// is the output; that Unroll equals a loop of Step and UnrollReverse equals
// Unroll over the reversed sequence; that float64 gradients with respect to
// every parameter, input and initial state equal central finite
// differences; that T = 1 and B = 1 work; that float32 agrees with float64;
// and that bad input gives errors, not panics.
package celltest
