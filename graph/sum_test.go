package graph_test

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// graph.Sum equals gorgonia.Sum, and its gradient agrees with finite
// differences, alone and inside a loss.
func TestSum(t *testing.T) {
	for _, shape := range [][2]int{{3, 4}, {1, 5}, {1, 1}} {
		s := newAttSetup(t, tensor.Float64, 9)
		x, _ := s.input("x", nil, shape[0], shape[1])
		must := attMust(t)
		ours := must(graph.Sum(x))
		theirs := must(gorgonia.Sum(x))
		vals := s.run(ours, theirs)
		attClose(t, "sum", vals[0], vals[1], 1e-15)
		loss := must(gorgonia.Mul(ours, ours)) // (Σx)², a non-constant upstream gradient
		s.check(attAdd(t, loss, s.sumProd(x, "r")), []*gorgonia.Node{x})
	}
	s := newAttSetup(t, tensor.Float32, 1)
	v, _ := s.input("v", nil, 4)
	if _, err := graph.Sum(v); err == nil {
		t.Error("Sum of a vector accepted")
	}
}
