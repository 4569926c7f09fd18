package cells_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// Build an LSTM, unroll it over three time steps, and backpropagate
// through time.
func Example() {
	// Parameters live outside any graph, named as in PyTorch.
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		panic(err)
	}
	cfg := cells.Config{Kind: cells.LSTMKind, InputSize: 2, HiddenSize: 3}
	if err := cfg.Init(ps, graph.NewSource(42)); err != nil {
		panic(err)
	}
	fmt.Println(ps.Names())

	// One graph per input shape: batch 1, three time steps.
	g, err := graph.New(ps)
	if err != nil {
		panic(err)
	}
	lstm, err := cells.New(g, cfg)
	if err != nil {
		panic(err)
	}
	xs := make([]*gorgonia.Node, 3)
	for t := range xs {
		if xs[t], err = g.Input(fmt.Sprintf("x_%d", t), 1, 2); err != nil {
			panic(err)
		}
		if err := graph.Set(xs[t], []float64{1, float64(t)}); err != nil {
			panic(err)
		}
	}
	outs, final, err := cells.Unroll(lstm, xs, nil) // nil: start from zeros
	if err != nil {
		panic(err)
	}
	fmt.Println("state tensors:", len(final), "h shape:", final[0].Shape(), "c shape:", final[1].Shape())

	// loss = sum of the last output; BPTT is gorgonia.Grad of it.
	loss := gorgonia.Must(gorgonia.Sum(outs[2]))
	grads, err := gorgonia.Grad(loss, g.Learnables()...)
	if err != nil {
		panic(err)
	}
	var lossV, gradV gorgonia.Value
	gorgonia.Read(loss, &lossV)
	gorgonia.Read(grads[1], &gradV) // d loss / d weight_hh_l0
	m, err := graph.NewMachine(g)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		panic(err)
	}
	fmt.Printf("loss %.6f\n", lossV.Data())
	fmt.Println("d loss / d weight_hh_l0 shape:", gradV.Shape())
	// Output:
	// [weight_ih_l0 weight_hh_l0 bias_ih_l0 bias_hh_l0]
	// state tensors: 2 h shape: (1, 3) c shape: (1, 3)
	// loss -0.487047
	// d loss / d weight_hh_l0 shape: (12, 3)
}
