package birnn_test

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
)

// passThrough is a Cell whose output is its input node itself: an input
// node as the first argument of Gorgonia's Add, which Gorgonia may
// overwrite in place.
type passThrough struct {
	g    *graph.Graph
	n    int
	view bool // return x through a Reshape view instead
}

func (p *passThrough) Step(x *gorgonia.Node, prev cells.State) (*gorgonia.Node, cells.State, error) {
	if len(prev) != 1 {
		return nil, nil, errors.New("passThrough: one state tensor")
	}
	if p.view {
		v, err := gorgonia.Reshape(x, x.Shape().Clone())
		if err != nil {
			return nil, nil, err
		}
		return v, cells.State{v}, nil
	}
	return x, cells.State{x}, nil
}
func (p *passThrough) ZeroState(batch int) (cells.State, error) {
	h, err := p.g.Input(p.g.UniqueName("pass_h0"), batch, p.n)
	return cells.State{h}, err
}
func (p *passThrough) InputSize() int  { return p.n }
func (p *passThrough) HiddenSize() int { return p.n }
func (p *passThrough) NumStates() int  { return 1 }

// Merging a forward output that is an input node itself, or a Reshape view
// of one (with a GRU's backward output), leaves the input intact, run after
// run.
func TestMergeLeavesInputNodesIntact(t *testing.T) {
	const T, B, N = 3, 2, 4
	for _, c := range []struct {
		merge birnn.Merge
		view  bool
	}{{birnn.Sum, false}, {birnn.Mul, false}, {birnn.Average, false}, {birnn.Concat, false},
		{birnn.Sum, true}, {birnn.Mul, true}, {birnn.Average, true}, {birnn.Concat, true}} {
		merge := c.merge
		t.Run(fmt.Sprintf("%v/view=%v", merge, c.view), func(t *testing.T) {
			ps, _ := graph.NewParams(tensor.Float64)
			src := graph.NewSource(9)
			_, bc := birnn.LayerConfigs(cells.GRUKind, N, N, 0, "")
			if err := bc.Init(ps, src); err != nil {
				t.Fatal(err)
			}
			g, err := graph.New(ps)
			if err != nil {
				t.Fatal(err)
			}
			bwd, err := cells.New(g, bc)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := birnn.New(&passThrough{g, N, c.view}, bwd, merge)
			if err != nil {
				t.Fatal(err)
			}
			var xs []*gorgonia.Node
			var xd [][]float64
			for s := 0; s < T; s++ {
				xd = append(xd, normals(src, B*N))
				xs = append(xs, input(t, g, fmt.Sprintf("x_%d", s), xd[s], B, N))
			}
			outs, _, _, err := enc.Encode(xs, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			bo, _, err := cells.UnrollReverse(bwd, xs, nil)
			if err != nil {
				t.Fatal(err)
			}
			ov, bv := readAll(outs), readAll(bo)
			run(t, g, 3, func(r int) {
				got, back := floats(t, ov), floats(t, bv)
				for s := range xs {
					now, _ := graph.ValueFloat64s(xs[s].Value())
					if d := maxAbs(now, xd[s]); d != 0 {
						t.Fatalf("run %d: input %d was overwritten (by up to %.3g)", r+1, s, d)
					}
					if d := maxAbs(got[s], combine(merge, xd[s], back[s], B)); d != 0 {
						t.Fatalf("run %d: output %d is off by %.3g", r+1, s, d)
					}
				}
			})
		})
	}
}
