package birnn_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
)

// A float32 encoder computes what a float64 one does from the same
// parameters, to float32 precision: every merge mode (Average's constant
// included) over a padded batch, and a two-layer stack.
func TestFloat32MatchesFloat64(t *testing.T) {
	const T, B, I, H = 4, 3, 3, 4
	masks := [][]float64{{1, 1, 1}, {1, 1, 0}, {1, 1, 0}, {1, 0, 0}}
	type result struct{ outs, grads [][]float64 }
	encode := func(t *testing.T, dt tensor.Dtype, merge birnn.Merge, layers int) result {
		ps, err := graph.NewParams(dt)
		if err != nil {
			t.Fatal(err)
		}
		src := graph.NewSource(41)
		cfgs := birnn.StackConfigs(cells.GRUKind, I, H, max(layers, 1), "")
		for _, c := range cfgs {
			if err := c.Init(ps, src); err != nil {
				t.Fatal(err)
			}
		}
		g, err := graph.New(ps)
		if err != nil {
			t.Fatal(err)
		}
		var xs, ms, rs []*gorgonia.Node
		O := 2 * H
		if layers == 0 && merge != birnn.Concat {
			O = H
		}
		for s := 0; s < T; s++ {
			xs = append(xs, randInput(t, g, src, fmt.Sprintf("x_%d", s), B, I))
			ms = append(ms, input(t, g, fmt.Sprintf("m_%d", s), masks[s], B))
			rs = append(rs, randInput(t, g, src, fmt.Sprintf("r_%d", s), B, O))
		}
		var outs []*gorgonia.Node
		if layers == 0 {
			f, err := cells.New(g, cfgs[0])
			if err != nil {
				t.Fatal(err)
			}
			b, err := cells.New(g, cfgs[1])
			if err != nil {
				t.Fatal(err)
			}
			enc, err := birnn.New(f, b, merge)
			if err != nil {
				t.Fatal(err)
			}
			if outs, _, _, err = enc.Encode(xs, ms, nil, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			st, err := birnn.NewStack(g, cells.GRUKind, I, H, layers, "")
			if err != nil {
				t.Fatal(err)
			}
			if outs, _, err = st.Encode(xs, ms, nil); err != nil {
				t.Fatal(err)
			}
		}
		grads, err := gorgonia.Grad(weightedSum(t, outs, rs), g.Learnables()...)
		if err != nil {
			t.Fatal(err)
		}
		ov, gv := readAll(outs), readAll(grads)
		var r result
		run(t, g, 1, func(int) { r.outs, r.grads = floats(t, ov), floats(t, gv) })
		return r
	}
	type tc struct {
		name   string
		merge  birnn.Merge
		layers int
	}
	cases := []tc{{"stack2", birnn.Concat, 2}}
	for _, m := range []birnn.Merge{birnn.Concat, birnn.Sum, birnn.Mul, birnn.Average} {
		cases = append(cases, tc{m.String(), m, 0})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := encode(t, tensor.Float64, c.merge, c.layers), encode(t, tensor.Float32, c.merge, c.layers)
			dOut, dGrad := maxAbs2(a.outs, b.outs), maxAbs2(a.grads, b.grads)
			t.Logf("float32 vs float64: outputs %.3g, gradients %.3g", dOut, dGrad)
			if dOut > 1e-5 || math.IsNaN(dOut) {
				t.Errorf("outputs differ by %.3g", dOut)
			}
			if dGrad > 1e-4 || math.IsNaN(dGrad) {
				t.Errorf("gradients differ by %.3g", dGrad)
			}
		})
	}
}
