package graph_test

import (
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A one-layer network σ(x·W + b): parameters are created once under a scope,
// initialised from a seeded source, bound into a graph, compiled and run.
func Example() {
	p, err := graph.NewParams(tensor.Float64)
	if err != nil {
		log.Fatal(err)
	}
	layer, err := graph.NewScope(p).Sub("linear")
	if err != nil {
		log.Fatal(err)
	}
	src := graph.NewSource(1)
	if _, err := layer.New("weight", graph.PyTorchDefault(3), src, 3, 2); err != nil {
		log.Fatal(err)
	}
	if _, err := layer.New("bias", graph.PyTorchDefault(3), src, 1, 2); err != nil {
		log.Fatal(err)
	}

	g, err := graph.New(p)
	if err != nil {
		log.Fatal(err)
	}
	w, err := g.Param("linear.weight", 3, 2)
	if err != nil {
		log.Fatal(err)
	}
	b, err := g.Param("linear.bias", 1, 2)
	if err != nil {
		log.Fatal(err)
	}
	x, err := g.Input("x", 1, 3)
	if err != nil {
		log.Fatal(err)
	}
	if err := graph.Set(x, []float64{1, 2, 3}); err != nil {
		log.Fatal(err)
	}
	xw, err := gorgonia.Mul(x, w)
	if err != nil {
		log.Fatal(err)
	}
	z, err := gorgonia.Add(xw, b)
	if err != nil {
		log.Fatal(err)
	}
	y, err := graph.Sigmoid(z)
	if err != nil {
		log.Fatal(err)
	}
	var out gorgonia.Value
	gorgonia.Read(y, &out)

	m, err := graph.NewMachine(g)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		log.Fatal(err)
	}
	weights, _ := p.Get("linear.weight")
	wv, _ := graph.Float64s(weights)
	yv, err := graph.ValueFloat64s(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Names())
	fmt.Printf("weight %.4f\n", wv)
	fmt.Printf("y %v %.6f\n", out.Shape(), yv)
	// Output:
	// [linear.weight linear.bias]
	// weight [-0.5050 -0.0795 -0.5018 0.2544 -0.2314 0.0482]
	// y (1, 2) [0.128928 0.735748]
}
