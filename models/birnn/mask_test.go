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

// model builds an encoder into g over xs (masks nil for an unpadded batch)
// and returns its outputs and its final states.
type model func(t *testing.T, g *graph.Graph, xs, masks []*gorgonia.Node) ([]*gorgonia.Node, []cells.State)

// encoderModel is a one-layer encoder of two cells of kind, layer 0.
func encoderModel(kind cells.Kind, I, H int, merge birnn.Merge) model {
	return func(t *testing.T, g *graph.Graph, xs, masks []*gorgonia.Node) ([]*gorgonia.Node, []cells.State) {
		t.Helper()
		fc, bc := birnn.LayerConfigs(kind, I, H, 0, "")
		f, err := cells.New(g, fc)
		if err != nil {
			t.Fatal(err)
		}
		b, err := cells.New(g, bc)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := birnn.New(f, b, merge)
		if err != nil {
			t.Fatal(err)
		}
		outs, ff, bf, err := enc.Encode(xs, masks, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return outs, []cells.State{ff, bf}
	}
}

// stackModel is a stacked encoder of L layers.
func stackModel(kind cells.Kind, I, H, L int) model {
	return func(t *testing.T, g *graph.Graph, xs, masks []*gorgonia.Node) ([]*gorgonia.Node, []cells.State) {
		t.Helper()
		st, err := birnn.NewStack(g, kind, I, H, L, "")
		if err != nil {
			t.Fatal(err)
		}
		outs, finals, err := st.Encode(xs, masks, nil)
		if err != nil {
			t.Fatal(err)
		}
		return outs, finals
	}
}

// batchResult is what paddedRun measures.
type batchResult struct {
	outs   [][][]float64 // [sequence][real step] output row
	finals [][][]float64 // [sequence][state tensor] row, state tensors of every final state in order
	grads  [][]float64   // per parameter, in Params order
}

// paddedRun encodes seqs (each a list of [I] vectors) in one batch padded to
// T with masks, or, if masked is false, unpadded (all sequences of length
// T), computing loss = Σ_t Σ output_t ⊙ R_t with R from rs (an [O] vector
// per real step). Padded outputs must be exactly zero.
func paddedRun(t *testing.T, ps *graph.Params, build model, seqs, rs [][][]float64, T, I int, masked bool) batchResult {
	t.Helper()
	B := len(seqs)
	O := len(rs[0][0])
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	xs, rn := make([]*gorgonia.Node, T), make([]*gorgonia.Node, T)
	var ms []*gorgonia.Node
	for s := 0; s < T; s++ {
		x, m, r := make([]float64, B*I), make([]float64, B), make([]float64, B*O)
		for b, seq := range seqs {
			if s < len(seq) {
				copy(x[b*I:], seq[s])
				copy(r[b*O:], rs[b][s])
				m[b] = 1
				continue
			}
			for j := 0; j < I; j++ {
				x[b*I+j] = 1e3 // garbage in the padding must not matter
			}
			for j := 0; j < O; j++ {
				r[b*O+j] = 7 // nor may the loss weight of a padded output
			}
		}
		xs[s] = input(t, g, fmt.Sprintf("x_%d", s), x, B, I)
		rn[s] = input(t, g, fmt.Sprintf("r_%d", s), r, B, O)
		if masked {
			ms = append(ms, input(t, g, fmt.Sprintf("m_%d", s), m, B))
		}
	}
	outs, finals := build(t, g, xs, ms)
	loss := weightedSum(t, outs, rn)
	grads, err := gorgonia.Grad(loss, g.Learnables()...)
	if err != nil {
		t.Fatal(err)
	}
	outV, gradV := readAll(outs), readAll(grads)
	var fn []*gorgonia.Node
	for _, s := range finals {
		fn = append(fn, s...)
	}
	finV := readAll(fn)
	var res batchResult
	run(t, g, 1, func(int) {
		ov, fv := floats(t, outV), floats(t, finV)
		res.outs = make([][][]float64, B)
		res.finals = make([][][]float64, B)
		for b, seq := range seqs {
			for s := 0; s < T; s++ {
				row := ov[s][b*O : (b+1)*O]
				if s < len(seq) {
					res.outs[b] = append(res.outs[b], row)
					continue
				}
				for _, v := range row {
					if v != 0 {
						t.Fatalf("padded output of sequence %d at step %d is %v, want 0", b, s, v)
					}
				}
			}
			for k, v := range fv {
				n := len(v) / B
				if n*B != len(v) || fn[k].Shape()[0] != B {
					t.Fatalf("final state tensor %d has shape %v", k, fn[k].Shape())
				}
				res.finals[b] = append(res.finals[b], v[b*n:(b+1)*n])
			}
		}
		res.grads = floats(t, gradV)
	})
	return res
}

// A padded batch gives each sequence the merged outputs, the final states
// of both directions and the parameter gradients it has when encoded alone
// (unmasked, at its own length).
func TestPaddedBatchEqualsSequencesAlone(t *testing.T) {
	const I, H = 3, 4
	lengths := []int{5, 2, 4, 1}
	T := 5
	type tc struct {
		name   string
		kind   cells.Kind
		layers int // 0: one Encoder of the merge; else a Stacked
		merge  birnn.Merge
	}
	var cases []tc
	for _, kind := range []cells.Kind{cells.LSTMKind, cells.GRUKind} {
		for _, m := range []birnn.Merge{birnn.Concat, birnn.Sum} {
			cases = append(cases, tc{fmt.Sprintf("%s/%v", kind, m), kind, 0, m})
		}
		cases = append(cases, tc{fmt.Sprintf("%s/stack2", kind), kind, 2, birnn.Concat})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := graph.NewParams(tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			src := graph.NewSource(17)
			var build model
			O := H
			if c.merge == birnn.Concat {
				O = 2 * H
			}
			if c.layers == 0 {
				fc, bc := birnn.LayerConfigs(c.kind, I, H, 0, "")
				for _, cfg := range []cells.Config{fc, bc} {
					if err := cfg.Init(ps, src); err != nil {
						t.Fatal(err)
					}
				}
				build = encoderModel(c.kind, I, H, c.merge)
			} else {
				for _, cfg := range birnn.StackConfigs(c.kind, I, H, c.layers, "") {
					if err := cfg.Init(ps, src); err != nil {
						t.Fatal(err)
					}
				}
				build = stackModel(c.kind, I, H, c.layers)
			}
			seqs, rs := make([][][]float64, len(lengths)), make([][][]float64, len(lengths))
			for b, n := range lengths {
				for s := 0; s < n; s++ {
					seqs[b] = append(seqs[b], normals(src, I))
					rs[b] = append(rs[b], normals(src, O))
				}
			}
			batch := paddedRun(t, ps, build, seqs, rs, T, I, true)
			sum := make([][]float64, len(batch.grads))
			for i := range sum {
				sum[i] = make([]float64, len(batch.grads[i]))
			}
			var dOut, dFin float64
			for b := range seqs {
				alone := paddedRun(t, ps, build, seqs[b:b+1], rs[b:b+1], len(seqs[b]), I, false)
				d := maxAbs2(batch.outs[b], alone.outs[0])
				if d > 1e-14 {
					t.Errorf("sequence %d: outputs differ by %.3g", b, d)
				}
				dOut = math.Max(dOut, d)
				if d = maxAbs2(batch.finals[b], alone.finals[0]); d > 1e-14 {
					t.Errorf("sequence %d: final states differ by %.3g", b, d)
				}
				dFin = math.Max(dFin, d)
				for i, gr := range alone.grads {
					for j, v := range gr {
						sum[i][j] += v
					}
				}
			}
			dGrad := maxAbs2(batch.grads, sum)
			if dGrad > 1e-13 {
				t.Errorf("parameter gradients differ from the sum over single sequences by %.3g", dGrad)
			}
			t.Logf("max abs difference: outputs %.3g, final states %.3g, gradients %.3g", dOut, dFin, dGrad)
		})
	}
}
