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

// Run a whole batch of sequences through the fused kernel: one node for
// the layer, its own backward pass through time. The input is time-major,
// [T·B, I]; so are the outputs, [T·B, H].
func ExampleSequence() {
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		panic(err)
	}
	cfg := cells.Config{Kind: cells.GRUKind, InputSize: 2, HiddenSize: 3}
	if err := cfg.Init(ps, graph.NewSource(42)); err != nil {
		panic(err)
	}
	g, err := graph.New(ps)
	if err != nil {
		panic(err)
	}
	gru, err := cells.New(g, cfg)
	if err != nil {
		panic(err)
	}
	const T, B = 4, 2
	x, err := g.Input("x", T*B, 2) // rows t·B … t·B+B−1 are step t
	if err != nil {
		panic(err)
	}
	data := make([]float64, T*B*2)
	for i := range data {
		data[i] = float64(i%5) / 5
	}
	if err := graph.Set(x, data); err != nil {
		panic(err)
	}
	out, final, err := cells.Sequence(gru, x, B, nil, cells.SeqOptions{})
	if err != nil {
		panic(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(out))
	if _, err := gorgonia.Grad(loss, g.Learnables()...); err != nil {
		panic(err)
	}
	var lossV gorgonia.Value
	gorgonia.Read(loss, &lossV)
	m, err := graph.NewMachine(g)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		panic(err)
	}
	fmt.Println("outputs:", out.Shape(), "final h:", final[0].Shape())
	fmt.Printf("loss %.6f\n", lossV.Data())
	// Output:
	// outputs: (8, 3) final h: (2, 3)
	// loss 4.324190
}
