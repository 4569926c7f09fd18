package word2vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// smallModel returns a model over a vocabulary of v words with random
// counts and every weight random in [−0.5, 0.5) (syn1 and syn1neg too, so
// that every gradient is non-trivial).
func smallModel(t *testing.T, cfg Config, v int, seed uint64) *Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	words, counts := []string{EndOfSentence}, []int64{int64(20 + r.IntN(50))}
	for i := 1; i < v; i++ {
		words = append(words, fmt.Sprintf("w%d", i))
		counts = append(counts, int64(100/i+1+r.IntN(5)))
	}
	voc, err := NewVocab(words, counts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(voc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range [][]float32{m.Syn0, m.Syn1, m.Syn1Neg} {
		for i := range w {
			w[i] = r.Float32() - 0.5
		}
	}
	return m
}

// batch returns n examples with random inputs (one for skip-gram, 4 for
// CBOW, so that every CBOW example has the same number of inputs) and
// negs negative samples each, some of them repeated.
func batch(m *Model, n, negs int, seed uint64) []Example {
	r := rand.New(rand.NewPCG(seed, 4))
	v := m.Vocab.Len()
	var out []Example
	for range n {
		e := Example{Word: int32(1 + r.IntN(v-1))}
		in := 1
		if m.Config.CBOW {
			in = 4
		}
		for range in {
			e.Inputs = append(e.Inputs, int32(r.IntN(v)))
		}
		for range negs {
			e.Negatives = append(e.Negatives, int32(1+r.IntN(v-1)))
		}
		out = append(out, e)
	}
	return out
}

// graphGradients builds Loss for the examples inside graph.Build, runs it
// and returns the loss and gorgonia.Grad's gradients by parameter name.
func graphGradients(t *testing.T, m *Model, ps *graph.Params, examples []Example) (float64, map[string][]float64) {
	t.Helper()
	type out struct {
		loss  gorgonia.Value
		grads []gorgonia.Value
		names []string
	}
	res := &out{}
	g, _, err := graph.Build(ps, func(g *graph.Graph) (struct{}, error) {
		loss, err := m.Loss(g, examples)
		if err != nil {
			return struct{}{}, err
		}
		wrt := g.Learnables()
		grads, err := gorgonia.Grad(loss, wrt...)
		if err != nil {
			return struct{}{}, err
		}
		*res = out{grads: make([]gorgonia.Value, len(grads))}
		gorgonia.Read(loss, &res.loss)
		for i, n := range grads {
			gorgonia.Read(n, &res.grads[i])
			res.names = append(res.names, ps.Names()[i])
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	grads := map[string][]float64{}
	for i, name := range res.names {
		d, err := graph.Float64s(res.grads[i].(tensor.Tensor))
		if err != nil {
			t.Fatal(err)
		}
		grads[name] = d
	}
	return res.loss.Data().(float64), grads
}

type archCase struct {
	name     string
	cbow, hs bool
	negative int
}

var archCases = []archCase{
	{"skipgram-ns", false, false, 3}, {"skipgram-hs", false, true, 0}, {"skipgram-hs+ns", false, true, 2},
	{"cbow-ns", true, false, 3}, {"cbow-hs", true, true, 0}, {"cbow-hs+ns", true, true, 2},
}

// The fast kernel's gradients for a batch (float64, exact σ, α = −1, the
// updates written to zeroed buffers) equal gorgonia.Grad of the objective
// written as a graph, to rounding, for skip-gram and CBOW with negative
// sampling, the hierarchical softmax and both; for CBOW the kernel gives
// syn0 the hidden vector's gradient undivided (word2vec.c's update),
// which is 4 times the graph's with 4 inputs per example.
func TestKernelGradientsEqualGraph(t *testing.T) {
	for _, c := range archCases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CBOW, cfg.HS, cfg.Negative, cfg.Size = c.cbow, c.hs, c.negative, 6
			m := smallModel(t, cfg, 9, 1)
			ex := batch(m, 5, c.negative, 2)
			ps, err := m.Params(tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			kLoss, kGrads, err := m.KernelGradients(ps, ex)
			if err != nil {
				t.Fatal(err)
			}
			gLoss, gGrads := graphGradients(t, m, ps, ex)
			if math.Abs(kLoss-gLoss) > 1e-12*math.Abs(gLoss) {
				t.Errorf("loss: kernel %.15g, graph %.15g", kLoss, gLoss)
			}
			if len(kGrads) != len(gGrads) {
				t.Fatalf("kernel has gradients %v, graph %v", keys(kGrads), keys(gGrads))
			}
			for name, g := range gGrads {
				scale := 1.0
				if c.cbow && name == ParamSyn0 {
					scale = 4
				}
				var nonzero int
				for i, want := range g {
					want *= scale
					if got := kGrads[name][i]; math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
						t.Fatalf("%s[%d]: kernel %.15g, graph %.15g", name, i, got, want)
					}
					if want != 0 {
						nonzero++
					}
				}
				if nonzero == 0 {
					t.Errorf("%s: every gradient is zero", name)
				}
				t.Logf("%s: %d of %d elements equal (%d non-zero)", name, len(g), len(g), nonzero)
			}
		})
	}
}

// The graph's symbolic gradients equal central finite differences of its
// loss, on every weight element, in float64.
func TestGraphGradientsMatchFiniteDifferences(t *testing.T) {
	for _, c := range archCases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CBOW, cfg.HS, cfg.Negative, cfg.Size = c.cbow, c.hs, c.negative, 4
			m := smallModel(t, cfg, 7, 5)
			ex := batch(m, 4, c.negative, 6)
			ps, err := m.Params(tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			_, rep, err := graph.Build(ps, func(g *graph.Graph) (gradcheck.Report, error) {
				loss, err := m.Loss(g, ex)
				if err != nil {
					return gradcheck.Report{}, err
				}
				return gradcheck.Check(g, loss, g.Learnables(), 1e-6)
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
			if rep.Checked == 0 || rep.MaxErr > 1e-7 {
				t.Errorf("max error %.3g at %s (%d checked)", rep.MaxErr, rep.Worst, rep.Checked)
			}
		})
	}
}

// The training kernel in float32 with the C tool's σ table makes, for one
// example, an update within the table's resolution of −α times the exact
// gradient (the table's spacing is 0.012 in f, so σ is off by at most
// about 0.003 per unit).
func TestTableKernelCloseToGradient(t *testing.T) {
	for _, c := range archCases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CBOW, cfg.HS, cfg.Negative, cfg.Size = c.cbow, c.hs, c.negative, 8
			m := smallModel(t, cfg, 9, 7)
			ex := batch(m, 1, c.negative, 8)
			ex[0].Negatives = dedupe(ex[0].Negatives, ex[0].Word)
			ps, err := m.Params(tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			_, grads, err := m.KernelGradients(ps, ex)
			if err != nil {
				t.Fatal(err)
			}
			before := map[string][]float32{ParamSyn0: clone(m.Syn0), ParamSyn1: clone(m.Syn1), ParamSyn1Neg: clone(m.Syn1Neg)}
			const alpha = 0.1
			var huff *Huffman
			if cfg.HS {
				huff = m.huff
			}
			k := newKernel(ops32, cfg.Size, huff, cfg.Negative > 0, expTable())
			k.w0, k.w1, k.w2 = m.Syn0, m.Syn1, m.Syn1Neg
			k.d0, k.d1, k.d2 = m.Syn0, m.Syn1, m.Syn1Neg
			if cfg.CBOW {
				k.cbow(ex[0].Inputs, ex[0].Word, ex[0].Negatives, alpha)
			} else {
				k.skipGram(ex[0].Inputs[0], ex[0].Word, ex[0].Negatives, alpha)
			}
			after := map[string][]float32{ParamSyn0: m.Syn0, ParamSyn1: m.Syn1, ParamSyn1Neg: m.Syn1Neg}
			for name, g := range grads {
				for i := range g {
					step := float64(after[name][i] - before[name][i])
					if d := math.Abs(step + alpha*g[i]); d > alpha*0.02 {
						t.Errorf("%s[%d]: update %.6g, −α·gradient %.6g", name, i, step, -alpha*g[i])
					}
				}
			}
		})
	}
}

func dedupe(negs []int32, word int32) []int32 {
	seen := map[int32]bool{word: true}
	var out []int32
	for _, n := range negs {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }

func keys(m map[string][]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Bad examples are errors, not panics.
func TestExamplesChecked(t *testing.T) {
	m := smallModel(t, DefaultConfig(), 5, 1)
	ps, err := m.Params(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	for name, ex := range map[string]Example{
		"no inputs":         {Word: 1},
		"word out of range": {Inputs: []int32{1}, Word: 5},
		"negative id":       {Inputs: []int32{-1}, Word: 1},
		"bad sample":        {Inputs: []int32{1}, Word: 1, Negatives: []int32{99}},
	} {
		if _, _, err := m.KernelGradients(ps, []Example{ex}); err == nil {
			t.Errorf("%s: KernelGradients: no error", name)
		}
	}
	ps32, err := m.Params(tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.KernelGradients(ps32, nil); err == nil {
		t.Error("KernelGradients on float32 params: no error")
	}
}
