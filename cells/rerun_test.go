package cells_test

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// rnnkit's ops write into the tape machine's registers from the previous
// run (gorgonia.UsePreallocDoer). A machine run again on new inputs must
// give exactly what a fresh machine gives, outputs and gradients.
func TestRerunEqualsFreshMachine(t *testing.T) {
	const T, B, I, H = 4, 3, 3, 5
	for _, kind := range cells.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ps, _ := graph.NewParams(tensor.Float64)
			src := graph.NewSource(21)
			cfg := cells.Config{Kind: kind, InputSize: I, HiddenSize: H}
			cfg.Init(ps, src)
			data := func(seed uint64) [][]float64 {
				s := graph.NewSource(seed)
				out := make([][]float64, T)
				for i := range out {
					out[i] = make([]float64, B*I)
					for j := range out[i] {
						out[i][j] = s.NormFloat64()
					}
				}
				return out
			}
			build := func() (gorgonia.VM, []*gorgonia.Node, []gorgonia.Value) {
				g, _ := graph.New(ps)
				cell, _ := cells.New(g, cfg)
				xs := make([]*gorgonia.Node, T)
				for i := range xs {
					xs[i], _ = g.Input(fmt.Sprintf("x_%d", i), B, I)
				}
				outs, final, err := cells.Unroll(cell, xs, nil)
				if err != nil {
					t.Fatal(err)
				}
				var loss *gorgonia.Node
				for _, o := range outs {
					s := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(o))))
					if loss == nil {
						loss = s
					} else {
						loss = gorgonia.Must(gorgonia.Add(loss, s))
					}
				}
				grads, err := gorgonia.Grad(loss, g.Learnables()...)
				if err != nil {
					t.Fatal(err)
				}
				watch := append(append(append([]*gorgonia.Node{}, outs...), final...), grads...)
				vals := make([]gorgonia.Value, len(watch))
				for i, n := range watch {
					gorgonia.Read(n, &vals[i])
				}
				m, err := graph.NewMachine(g)
				if err != nil {
					t.Fatal(err)
				}
				return m, xs, vals
			}
			run := func(m gorgonia.VM, xs []*gorgonia.Node, vals []gorgonia.Value, d [][]float64) [][]float64 {
				for i, x := range xs {
					graph.Set(x, d[i])
				}
				m.Reset()
				if err := graph.Run(m); err != nil {
					t.Fatal(err)
				}
				out := make([][]float64, len(vals))
				for i, v := range vals {
					out[i], _ = graph.ValueFloat64s(v)
				}
				return out
			}
			m1, xs1, v1 := build()
			defer m1.Close()
			run(m1, xs1, v1, data(1))
			run(m1, xs1, v1, data(2))
			again := run(m1, xs1, v1, data(3))
			m2, xs2, v2 := build()
			defer m2.Close()
			fresh := run(m2, xs2, v2, data(3))
			for i := range fresh {
				for j := range fresh[i] {
					if again[i][j] != fresh[i][j] {
						t.Fatalf("value %d[%d]: third run %v, fresh machine %v", i, j, again[i][j], fresh[i][j])
					}
				}
			}
		})
	}
}
