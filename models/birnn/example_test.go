package birnn_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
)

// Build a bidirectional GRU encoder over a padded batch of two sequences
// (lengths 4 and 2) and print the shapes of what it returns.
func Example() {
	// Parameters, named as PyTorch names those of a bidirectional GRU layer.
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		panic(err)
	}
	fc, bc := birnn.LayerConfigs(cells.GRUKind, 5, 3, 0, "enc.")
	src := graph.NewSource(7)
	for _, c := range []cells.Config{fc, bc} {
		if err := c.Init(ps, src); err != nil {
			panic(err)
		}
	}
	fmt.Println(ps.Names()[0], ps.Names()[4])

	// One graph for batches of 2 sequences of at most 4 steps.
	g, err := graph.New(ps)
	if err != nil {
		panic(err)
	}
	fwd, err := cells.New(g, fc)
	if err != nil {
		panic(err)
	}
	bwd, err := cells.New(g, bc)
	if err != nil {
		panic(err)
	}
	enc, err := birnn.New(fwd, bwd, birnn.Concat)
	if err != nil {
		panic(err)
	}
	lengths := []int{4, 2}
	xs := make([]*gorgonia.Node, 4)
	masks := make([]*gorgonia.Node, 4)
	for t := range xs {
		if xs[t], err = g.Input(fmt.Sprintf("x_%d", t), 2, 5); err != nil {
			panic(err)
		}
		if masks[t], err = g.Input(fmt.Sprintf("mask_%d", t), 2); err != nil {
			panic(err)
		}
		m := make([]float64, 2)
		for b, n := range lengths {
			if t < n {
				m[b] = 1
			}
		}
		if err := graph.Set(masks[t], m); err != nil {
			panic(err)
		}
	}
	outs, fwdFinal, bwdFinal, err := enc.Encode(xs, masks, nil, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("steps:", len(outs), "output:", outs[0].Shape(), "size:", enc.OutputSize())
	fmt.Println("forward final:", fwdFinal[0].Shape(), "backward final:", bwdFinal[0].Shape())

	// Run it: the second sequence's outputs at its padded steps are zero.
	var last gorgonia.Value
	gorgonia.Read(outs[3], &last)
	m, err := graph.NewMachine(g)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		panic(err)
	}
	v, err := graph.ValueFloat64s(last)
	if err != nil {
		panic(err)
	}
	zero := true
	for _, x := range v[6:] { // the second sequence's row
		zero = zero && x == 0
	}
	fmt.Println("second sequence's output at step 3 is zero:", zero)
	// Output:
	// enc.weight_ih_l0 enc.weight_ih_l0_reverse
	// steps: 4 output: (2, 6) size: 6
	// forward final: (2, 3) backward final: (2, 3)
	// second sequence's output at step 3 is zero: true
}
