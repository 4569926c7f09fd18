package cells_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// maskedRun builds an unroll over sequences of the given lengths, padded to
// T, in one batch, and returns the per-sequence outputs (only the real
// steps), the final h and the gradient of loss = Σ outputs ⊙ R with respect
// to every parameter. reverse picks UnrollReverseMasked.
func maskedRun(t *testing.T, kind cells.Kind, ps *graph.Params, seqs [][][]float64, rs [][][]float64, T, I, H int, reverse bool) (outs [][][]float64, final [][]float64, grads [][]float64) {
	t.Helper()
	B := len(seqs)
	g, _ := graph.New(ps)
	cell, err := cells.New(g, cells.Config{Kind: kind, InputSize: I, HiddenSize: H})
	if err != nil {
		t.Fatal(err)
	}
	xs, ms, rn := make([]*gorgonia.Node, T), make([]*gorgonia.Node, T), make([]*gorgonia.Node, T)
	for step := 0; step < T; step++ {
		x := make([]float64, B*I)
		m := make([]float64, B)
		r := make([]float64, B*H)
		for b, s := range seqs {
			if step < len(s) {
				copy(x[b*I:], s[step])
				copy(r[b*H:], rs[b][step])
				m[b] = 1
			} else {
				for j := range x[b*I : (b+1)*I] {
					x[b*I+j] = 1e3 // garbage in the padding must not matter
				}
			}
		}
		xs[step], _ = g.Input(fmt.Sprintf("x_%d", step), B, I)
		ms[step], _ = g.Input(fmt.Sprintf("m_%d", step), B)
		rn[step], _ = g.Input(fmt.Sprintf("r_%d", step), B, H)
		graph.Set(xs[step], x)
		graph.Set(ms[step], m)
		graph.Set(rn[step], r)
	}
	unroll := cells.UnrollMasked
	if reverse {
		unroll = cells.UnrollReverseMasked
	}
	os, fin, err := unroll(cell, xs, nil, ms)
	if err != nil {
		t.Fatal(err)
	}
	var loss *gorgonia.Node
	for step := range os {
		s := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(os[step], rn[step]))))
		if loss == nil {
			loss = s
		} else {
			loss = gorgonia.Must(gorgonia.Add(loss, s))
		}
	}
	gs, err := gorgonia.Grad(loss, g.Learnables()...)
	if err != nil {
		t.Fatal(err)
	}
	ov := make([]gorgonia.Value, T)
	for i := range os {
		gorgonia.Read(os[i], &ov[i])
	}
	var fv gorgonia.Value
	gorgonia.Read(fin[0], &fv)
	gv := make([]gorgonia.Value, len(gs))
	for i := range gs {
		gorgonia.Read(gs[i], &gv[i])
	}
	m, _ := graph.NewMachine(g)
	defer m.Close()
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	outs = make([][][]float64, B)
	fvals, _ := graph.ValueFloat64s(fv)
	for b := range seqs {
		for step := range seqs[b] {
			v, _ := graph.ValueFloat64s(ov[step])
			outs[b] = append(outs[b], v[b*H:(b+1)*H])
		}
		for step := len(seqs[b]); step < T; step++ {
			v, _ := graph.ValueFloat64s(ov[step])
			for _, x := range v[b*H : (b+1)*H] {
				if x != 0 {
					t.Fatalf("padded output of sequence %d at step %d is %v, want 0", b, step, x)
				}
			}
		}
		final = append(final, fvals[b*H:(b+1)*H])
	}
	for _, v := range gv {
		f, _ := graph.ValueFloat64s(v)
		grads = append(grads, f)
	}
	return outs, final, grads
}

// A padded batch gives the same outputs, final states and gradients as
// each sequence run alone.
func TestPaddedBatchEqualsSequencesAlone(t *testing.T) {
	const I, H = 3, 4
	lengths := []int{5, 2, 4, 1}
	T := 5
	for _, kind := range cells.Kinds() {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%v", kind, reverse), func(t *testing.T) {
				ps, _ := graph.NewParams(tensor.Float64)
				src := graph.NewSource(11)
				if err := (cells.Config{Kind: kind, InputSize: I, HiddenSize: H}).Init(ps, src); err != nil {
					t.Fatal(err)
				}
				seqs := make([][][]float64, len(lengths))
				rs := make([][][]float64, len(lengths))
				for b, L := range lengths {
					for s := 0; s < L; s++ {
						x, r := make([]float64, I), make([]float64, H)
						for j := range x {
							x[j] = src.NormFloat64()
						}
						for j := range r {
							r[j] = src.NormFloat64()
						}
						seqs[b] = append(seqs[b], x)
						rs[b] = append(rs[b], r)
					}
				}
				outs, final, grads := maskedRun(t, kind, ps, seqs, rs, T, I, H, reverse)
				sumGrads := make([][]float64, len(grads))
				for b := range seqs {
					o1, f1, g1 := maskedRun(t, kind, ps, seqs[b:b+1], rs[b:b+1], len(seqs[b]), I, H, reverse)
					if d := maxAbs2(outs[b], o1[0]); d > 1e-14 {
						t.Fatalf("sequence %d: outputs differ by %g", b, d)
					}
					if d := maxAbs1(final[b], f1[0]); d > 1e-14 {
						t.Fatalf("sequence %d: final state differs by %g", b, d)
					}
					for i := range g1 {
						if sumGrads[i] == nil {
							sumGrads[i] = make([]float64, len(g1[i]))
						}
						for j := range g1[i] {
							sumGrads[i][j] += g1[i][j]
						}
					}
				}
				for i := range grads {
					if d := maxAbs1(grads[i], sumGrads[i]); d > 1e-13 {
						t.Fatalf("gradient %d differs from the sum over single sequences by %g", i, d)
					}
				}
			})
		}
	}
}

func maxAbs1(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func maxAbs2(a, b [][]float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, maxAbs1(a[i], b[i]))
	}
	return m
}

// Masked unrolling differentiates correctly, including the blend.
func TestMaskedGradients(t *testing.T) {
	const T, B, I, H = 3, 3, 2, 3
	ps, _ := graph.NewParams(tensor.Float64)
	src := graph.NewSource(5)
	cfg := cells.Config{Kind: cells.LSTMKind, InputSize: I, HiddenSize: H}
	cfg.Init(ps, src)
	g, _ := graph.New(ps)
	cell, _ := cells.New(g, cfg)
	masks := [][]float64{{1, 1, 1}, {1, 0, 1}, {1, 0, 0}}
	var xs, ms []*gorgonia.Node
	for s := 0; s < T; s++ {
		x, _ := g.Input(fmt.Sprintf("x_%d", s), B, I)
		d := make([]float64, B*I)
		for j := range d {
			d[j] = src.NormFloat64()
		}
		graph.Set(x, d)
		m, _ := g.Input(fmt.Sprintf("m_%d", s), B)
		graph.Set(m, masks[s])
		xs, ms = append(xs, x), append(ms, m)
	}
	outs, fin, err := cells.UnrollMasked(cell, xs, nil, ms)
	if err != nil {
		t.Fatal(err)
	}
	var loss *gorgonia.Node
	for _, o := range append(outs, fin...) {
		s := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(o))))
		if loss == nil {
			loss = s
		} else {
			loss = gorgonia.Must(gorgonia.Add(loss, s))
		}
	}
	rep, err := gradcheck.Check(g, loss, append(g.Learnables(), xs...), 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-7 {
		t.Fatalf("max error %.3g at %s", rep.MaxErr, rep.Worst)
	}
	if _, _, err := cells.UnrollMasked(cell, xs, nil, ms[:2]); err == nil {
		t.Error("fewer masks than steps accepted")
	}
}
