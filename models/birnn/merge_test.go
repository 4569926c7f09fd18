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

// combine is the merge of one step's forward and backward rows, in Go.
func combine(m birnn.Merge, f, b []float64, B int) []float64 {
	var out []float64
	hf, hb := len(f)/B, len(b)/B
	for r := 0; r < B; r++ {
		fr, br := f[r*hf:(r+1)*hf], b[r*hb:(r+1)*hb]
		switch m {
		case birnn.Concat:
			out = append(append(out, fr...), br...)
		default:
			for j := range fr {
				v := map[birnn.Merge]float64{birnn.Sum: fr[j] + br[j], birnn.Mul: fr[j] * br[j], birnn.Average: (fr[j] + br[j]) * 0.5}[m]
				out = append(out, v)
			}
		}
	}
	return out
}

// split returns the loss weights that the forward and backward outputs get
// from the merged output's weights r, given their values f and b: the
// derivative of Σ merge(f, b) ⊙ r with respect to f and to b.
func split(m birnn.Merge, r, f, b []float64, B int) (rf, rb []float64) {
	hf, hb := len(f)/B, len(b)/B
	for row := 0; row < B; row++ {
		for j := 0; j < hf; j++ {
			switch m {
			case birnn.Concat:
				rf = append(rf, r[row*(hf+hb)+j])
			case birnn.Sum:
				rf, rb = append(rf, r[row*hf+j]), append(rb, r[row*hf+j])
			case birnn.Mul:
				rf, rb = append(rf, r[row*hf+j]*b[row*hf+j]), append(rb, r[row*hf+j]*f[row*hf+j])
			case birnn.Average:
				rf, rb = append(rf, r[row*hf+j]*0.5), append(rb, r[row*hf+j]*0.5)
			}
		}
		if m == birnn.Concat {
			rb = append(rb, r[row*(hf+hb)+hf:(row+1)*(hf+hb)]...)
		}
	}
	return rf, rb
}

// Each merge mode's outputs are the expected combination of the two
// directions unrolled separately (cells.Unroll, cells.UnrollReverse), the
// final states are theirs, and the gradients of Σ output ⊙ R are those of
// Σ f ⊙ ∂merge/∂f·R + Σ b ⊙ ∂merge/∂b·R over the separate directions. The
// wide case (hidden size 256, batch 1) is where gorgonia.Concat's gradient
// goes wrong.
func TestMergeModesMatchSeparateDirections(t *testing.T) {
	cases := []struct {
		name         string
		fk, bk       cells.Kind
		T, B, I, H   int
		concatHidden int // the backward hidden size for Concat
	}{
		{"lstm+gru", cells.LSTMKind, cells.GRUKind, 4, 2, 3, 3, 5},
		{"rnn_tanh/H=256/B=1", cells.RNNTanh, cells.RNNTanh, 2, 1, 2, 256, 256},
	}
	for _, c := range cases {
		for _, merge := range []birnn.Merge{birnn.Concat, birnn.Sum, birnn.Mul, birnn.Average} {
			t.Run(c.name+"/"+merge.String(), func(t *testing.T) {
				hb := c.H
				if merge == birnn.Concat {
					hb = c.concatHidden
				}
				ps, err := graph.NewParams(tensor.Float64)
				if err != nil {
					t.Fatal(err)
				}
				src := graph.NewSource(31)
				fc := cells.Config{Kind: c.fk, InputSize: c.I, HiddenSize: c.H}
				bc := cells.Config{Kind: c.bk, InputSize: c.I, HiddenSize: hb, Reverse: true}
				for _, cfg := range []cells.Config{fc, bc} {
					if err := cfg.Init(ps, src); err != nil {
						t.Fatal(err)
					}
				}
				O := c.H
				if merge == birnn.Concat {
					O = c.H + hb
				}
				xd := make([][]float64, c.T)
				rd := make([][]float64, c.T)
				for s := range xd {
					xd[s], rd[s] = normals(src, c.B*c.I), normals(src, c.B*O)
				}
				sfd := make([][]float64, fc.NumStates())
				for i := range sfd {
					sfd[i] = normals(src, c.B*c.H)
				}
				sbd := make([][]float64, bc.NumStates())
				for i := range sbd {
					sbd[i] = normals(src, c.B*hb)
				}
				// build binds both cells and the inputs into a new graph.
				build := func() (g *graph.Graph, f, b cells.Cell, xs []*gorgonia.Node, s0f, s0b cells.State) {
					g, err := graph.New(ps)
					if err != nil {
						t.Fatal(err)
					}
					if f, err = cells.New(g, fc); err != nil {
						t.Fatal(err)
					}
					if b, err = cells.New(g, bc); err != nil {
						t.Fatal(err)
					}
					for s := range xd {
						xs = append(xs, input(t, g, fmt.Sprintf("x_%d", s), xd[s], c.B, c.I))
					}
					for i, d := range sfd {
						s0f = append(s0f, input(t, g, fmt.Sprintf("s0f_%d", i), d, c.B, c.H))
					}
					for i, d := range sbd {
						s0b = append(s0b, input(t, g, fmt.Sprintf("s0b_%d", i), d, c.B, hb))
					}
					return g, f, b, xs, s0f, s0b
				}

				// The encoder.
				g, f, b, xs, s0f, s0b := build()
				enc, err := birnn.New(f, b, merge)
				if err != nil {
					t.Fatal(err)
				}
				if enc.OutputSize() != O {
					t.Fatalf("OutputSize %d, want %d", enc.OutputSize(), O)
				}
				outs, ff, bf, err := enc.Encode(xs, nil, s0f, s0b)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range outs {
					if s := o.Shape(); len(s) != 2 || s[0] != c.B || s[1] != O {
						t.Fatalf("output shape %v, want [%d %d]", s, c.B, O)
					}
				}
				var rs []*gorgonia.Node
				for s := range rd {
					rs = append(rs, input(t, g, fmt.Sprintf("r_%d", s), rd[s], c.B, O))
				}
				wrt := append(g.Learnables(), xs...)
				grads, err := gorgonia.Grad(weightedSum(t, outs, rs), wrt...)
				if err != nil {
					t.Fatal(err)
				}
				outV, finV, gradV := readAll(outs), readAll(append(append(cells.State{}, ff...), bf...)), readAll(grads)
				var got struct{ outs, fins, grads [][]float64 }
				run(t, g, 2, func(r int) {
					o, fi, gr := floats(t, outV), floats(t, finV), floats(t, gradV)
					if r == 1 && (maxAbs2(o, got.outs) != 0 || maxAbs2(fi, got.fins) != 0 || maxAbs2(gr, got.grads) != 0) {
						t.Fatal("a second run of the machine gives other values")
					}
					got.outs, got.fins, got.grads = o, fi, gr
				})

				// The directions unrolled separately.
				g1, f1, b1, xs1, s0f1, s0b1 := build()
				fo, ffin, err := cells.Unroll(f1, xs1, s0f1)
				if err != nil {
					t.Fatal(err)
				}
				bo, bfin, err := cells.UnrollReverse(b1, xs1, s0b1)
				if err != nil {
					t.Fatal(err)
				}
				foV, boV, fin1V := readAll(fo), readAll(bo), readAll(append(append(cells.State{}, ffin...), bfin...))
				var fv, bv, fins [][]float64
				run(t, g1, 1, func(int) { fv, bv, fins = floats(t, foV), floats(t, boV), floats(t, fin1V) })

				var dOut float64
				for s := range outs {
					dOut = math.Max(dOut, maxAbs(got.outs[s], combine(merge, fv[s], bv[s], c.B)))
				}
				if dOut != 0 {
					t.Errorf("outputs differ from the merged separate directions by %.3g", dOut)
				}
				if d := maxAbs2(got.fins, fins); d != 0 {
					t.Errorf("final states differ from the separate directions' by %.3g", d)
				}

				// The reference gradient: each direction weighted by its share of R.
				g2, f2, b2, xs2, s0f2, s0b2 := build()
				fo2, _, err := cells.Unroll(f2, xs2, s0f2)
				if err != nil {
					t.Fatal(err)
				}
				bo2, _, err := cells.UnrollReverse(b2, xs2, s0b2)
				if err != nil {
					t.Fatal(err)
				}
				var rf, rb []*gorgonia.Node
				for s := range rd {
					a, z := split(merge, rd[s], fv[s], bv[s], c.B)
					rf = append(rf, input(t, g2, fmt.Sprintf("rf_%d", s), a, c.B, c.H))
					rb = append(rb, input(t, g2, fmt.Sprintf("rb_%d", s), z, c.B, hb))
				}
				loss2 := gorgonia.Must(gorgonia.Add(weightedSum(t, fo2, rf), weightedSum(t, bo2, rb)))
				grads2, err := gorgonia.Grad(loss2, append(g2.Learnables(), xs2...)...)
				if err != nil {
					t.Fatal(err)
				}
				grad2V := readAll(grads2)
				var want [][]float64
				run(t, g2, 1, func(int) { want = floats(t, grad2V) })
				dGrad := maxAbs2(got.grads, want)
				if dGrad > 1e-12 {
					for i := range want {
						if d := maxAbs(got.grads[i], want[i]); d > 1e-12 {
							t.Errorf("gradient of %s differs by %.3g", wrt[i].Name(), d)
						}
					}
				}
				t.Logf("max abs difference: outputs %.3g, gradients %.3g", dOut, dGrad)
			})
		}
	}
}

// gorgonia.Concat's gradient is still wrong where its halves are 256 wide
// (the Slice hash trap), which is why graph.ConcatCols exists. If
// this test fails, Gorgonia has fixed the trap.
func TestGorgoniaConcatTrap(t *testing.T) {
	const W = 256
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(3)
	a, b := randInput(t, g, src, "a", 1, W), randInput(t, g, src, "b", 1, W)
	r := randInput(t, g, src, "r", 1, 2*W)
	sa, err := graph.Sigmoid(a) // not an input node as Concat's argument
	if err != nil {
		t.Fatal(err)
	}
	sb, err := graph.Sigmoid(b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gorgonia.Concat(1, sa, sb)
	if err != nil {
		t.Fatal(err)
	}
	loss := weightedSum(t, []*gorgonia.Node{c}, []*gorgonia.Node{r})
	grads, err := gorgonia.Grad(loss, a, b)
	if err != nil {
		t.Fatal(err)
	}
	gv := readAll(grads)
	run(t, g, 1, func(int) {
		v := floats(t, gv)
		rv, _ := graph.ValueFloat64s(r.Value())
		bv, _ := graph.ValueFloat64s(b.Value())
		wrong := 0.0
		for j := 0; j < W; j++ {
			s := 1 / (1 + math.Exp(-bv[j]))
			wrong = math.Max(wrong, math.Abs(v[1][j]-rv[W+j]*s*(1-s)))
		}
		if wrong < 1e-3 {
			t.Fatalf("gorgonia.Concat's gradient is right at width %d (error %.3g): the trap is fixed", W, wrong)
		}
		t.Logf("gorgonia.Concat's gradient for the second half is off by up to %.3g at width %d", wrong, W)
	})
}
