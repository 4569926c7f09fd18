package optim_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/optim"
)

// Example fits w to a target by minimising Σ(target − w)² with Adam: one
// compiled machine, gradients read with GradsFrom, clipped, applied, and
// zeroed after each step (Gorgonia accumulates them otherwise). The
// optimiser's state is saved midway and a second optimiser resumes from it.
func Example() {
	check := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	ps, err := graph.NewParams(tensor.Float64)
	check(err)
	_, err = ps.New("w", 2)
	check(err)
	g, err := graph.New(ps)
	check(err)
	w, err := g.Param("w", 2)
	check(err)
	target, err := g.Input("target", 2)
	check(err)
	check(graph.Set(target, []float64{3, -1}))
	diff := gorgonia.Must(gorgonia.Sub(target, w))
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(diff))))
	_, err = gorgonia.Grad(loss, w)
	check(err)
	nodes := g.Learnables()
	m, err := graph.NewMachine(g, gorgonia.BindDualValues(nodes...))
	check(err)
	defer m.Close()

	opt, err := optim.NewAdam(0.05, 0.9, 0.999, 1e-8)
	check(err)
	var saved map[string]*tensor.Dense
	for step := 1; step <= 400; step++ {
		m.Reset()
		check(graph.Run(m))
		grads, err := optim.GradsFrom(nodes)
		check(err)
		_, err = optim.ClipGlobalNorm(grads, 1)
		check(err)
		check(opt.Step(ps, grads))
		check(optim.ZeroGrads(nodes))
		if step == 200 {
			saved = opt.State() // with the Params, a checkpoint
		}
	}
	v, err := graph.ValueFloat64s(nodes[0].Value()) // the node is bound to the Params' tensor
	check(err)
	fmt.Printf("w = [%.3f %.3f]\n", v[0], v[1])

	resumed, err := optim.NewAdam(0.05, 0.9, 0.999, 1e-8)
	check(err)
	check(resumed.LoadState(saved))
	fmt.Println("resumed at step", saved["adam.step.w"].Data().([]float64)[0])
	// Output:
	// w = [3.000 -1.000]
	// resumed at step 200
}
