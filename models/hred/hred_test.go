package hred

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
	"github.com/rnnkit/rnnkit/models/decode"
)

// Every model's loss has the gradient central differences give, on every
// parameter, float64, for a GRU and an LSTM: through the utterance
// encoder, the context RNN, the decoder and, for VHRED, the reparameterised
// z (ε fixed by the seed) and the closed-form KL weighted by β.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, k := range []Kind{Seq2Seq, HRED, VHRED} {
		for _, cell := range []cells.Kind{cells.GRUKind, cells.LSTMKind} {
			t.Run(fmt.Sprintf("%s/%s", k, cell), func(t *testing.T) {
				c := testConfig(k, cell)
				ps := testParams(t, c, tensor.Float64, 3)
				ex := randomExamples(rand.New(rand.NewPCG(1, 2)), 3, 3, 3, c.Vocab)
				d := DimsOf(k, ex, 1)
				_, rep, err := graph.Build(ps, func(g *graph.Graph) (gradcheck.Report, error) {
					tg, err := BuildTrainGraph(g, c, d)
					if err != nil {
						return gradcheck.Report{}, err
					}
					if _, err := tg.Set(ex, SetOptions{Beta: 0.7, Source: graph.NewSource(9)}); err != nil {
						return gradcheck.Report{}, err
					}
					return gradcheck.Check(g, tg.Loss, g.Learnables(), 1e-6)
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
				if rep.Checked == 0 || rep.MaxErr > 1e-6 {
					t.Errorf("max error %.3g at %s (%d checked)", rep.MaxErr, rep.Worst, rep.Checked)
				}
			})
		}
	}
}

// The reparameterised z = μ + exp(½ log σ²) ⊙ ε and the Gaussian KL, each
// on its own: their values equal the formulas computed in plain Go, and
// their gradients with respect to μ and log σ² (both Gaussians for the
// KL) equal central differences.
func TestReparamAndKL(t *testing.T) {
	const B, Z = 3, 4
	r := rand.New(rand.NewPCG(4, 4))
	vals := func() []float64 {
		v := make([]float64, B*Z)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return v
	}
	muQ, lvQ, muP, lvP, eps, w := vals(), vals(), vals(), vals(), vals(), vals()
	ps, _ := graph.NewParams(tensor.Float64)
	for _, tc := range []string{"reparam", "kl"} {
		t.Run(tc, func(t *testing.T) {
			type out struct {
				rep gradcheck.Report
			}
			_, o, err := graph.Build(ps, func(g *graph.Graph) (out, error) {
				in := map[string][]float64{"muQ": muQ, "lvQ": lvQ, "muP": muP, "lvP": lvP, "eps": eps, "w": w}
				nodes := map[string]*gorgonia.Node{}
				for _, name := range []string{"muQ", "lvQ", "muP", "lvP", "eps", "w"} {
					n, err := g.Input(name, B, Z)
					if err != nil {
						return out{}, err
					}
					if err := graph.Set(n, in[name]); err != nil {
						return out{}, err
					}
					nodes[name] = n
				}
				b := &bound{g: g}
				var y *gorgonia.Node
				var err error
				wrt := []*gorgonia.Node{nodes["muQ"], nodes["lvQ"]}
				if tc == "reparam" {
					y, err = b.reparam(nodes["muQ"], nodes["lvQ"], nodes["eps"])
				} else {
					y, err = b.gaussKL(nodes["muQ"], nodes["lvQ"], nodes["muP"], nodes["lvP"])
					wrt = append(wrt, nodes["muP"], nodes["lvP"])
				}
				if err != nil {
					return out{}, err
				}
				// A weighted sum, so that every element's gradient differs.
				yw, err := gorgonia.HadamardProd(y, nodes["w"])
				if err != nil {
					return out{}, err
				}
				loss, err := graph.Sum(yw)
				if err != nil {
					return out{}, err
				}
				rep, err := gradcheck.Check(g, loss, wrt, 1e-6)
				return out{rep}, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if o.rep.Checked != len(muQ)*(2+2*btoi(tc == "kl")) || o.rep.MaxErr > 1e-7 {
				t.Errorf("%d checked, max error %.3g at %s", o.rep.Checked, o.rep.MaxErr, o.rep.Worst)
			}
		})
	}
	// The values, against the formulas.
	_, vals2, err := graph.Build(ps, func(g *graph.Graph) ([2]gorgonia.Value, error) {
		var vs [2]gorgonia.Value
		nodes := map[string]*gorgonia.Node{}
		for name, v := range map[string][]float64{"muQ": muQ, "lvQ": lvQ, "muP": muP, "lvP": lvP, "eps": eps} {
			n, err := g.Input(name, B, Z)
			if err != nil {
				return vs, err
			}
			if err := graph.Set(n, v); err != nil {
				return vs, err
			}
			nodes[name] = n
		}
		b := &bound{g: g}
		z, err := b.reparam(nodes["muQ"], nodes["lvQ"], nodes["eps"])
		if err != nil {
			return vs, err
		}
		kl, err := b.gaussKL(nodes["muQ"], nodes["lvQ"], nodes["muP"], nodes["lvP"])
		if err != nil {
			return vs, err
		}
		gorgonia.Read(z, &vs[0])
		gorgonia.Read(kl, &vs[1])
		m, err := graph.NewMachine(g)
		if err != nil {
			return vs, err
		}
		defer m.Close()
		return vs, graph.Run(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	z, _ := graph.ValueFloat64s(vals2[0])
	kl, _ := graph.ValueFloat64s(vals2[1])
	for i := range muQ {
		wantZ := muQ[i] + math.Exp(lvQ[i]/2)*eps[i]
		wantKL := 0.5 * (lvP[i] - lvQ[i] + (math.Exp(lvQ[i])+(muQ[i]-muP[i])*(muQ[i]-muP[i]))/math.Exp(lvP[i]) - 1)
		if math.Abs(z[i]-wantZ) > 1e-12 || math.Abs(kl[i]-wantKL) > 1e-12 {
			t.Fatalf("element %d: z %v, KL %v; want %v, %v", i, z[i], kl[i], wantZ, wantKL)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// VHRED with z forced to zero (the posterior's mean layer zero, ε = 0) is
// HRED whose decoder and initial-state weights are VHRED's without the
// columns that read z: the same reply NLL.
func TestVHREDWithZeroZIsHRED(t *testing.T) {
	for _, cell := range []cells.Kind{cells.GRUKind, cells.LSTMKind} {
		cv, ch := testConfig(VHRED, cell), testConfig(HRED, cell)
		pv := testParams(t, cv, tensor.Float64, 5)
		for _, name := range []string{"posterior.mu.weight", "posterior.mu.bias"} {
			w, _ := pv.Get(name)
			n := w.Shape().TotalSize()
			if err := pv.SetFloat64s(name, make([]float64, n)); err != nil {
				t.Fatal(err)
			}
		}
		ph := testParams(t, ch, tensor.Float64, 6)
		for _, name := range ph.Names() {
			src, ok := pv.Get(name)
			if !ok {
				t.Fatalf("VHRED has no %s", name)
			}
			v, _ := graph.Float64s(src)
			dst, _ := ph.Get(name)
			if src.Shape().Eq(dst.Shape()) {
				ph.SetFloat64s(name, v)
				continue
			}
			// [out, E + C + Z] (decoder input) or [out, C + Z] (initial
			// state): drop the last Z columns.
			rows, cols := src.Shape()[0], src.Shape()[1]
			keep := dst.Shape()[1]
			if cols-keep != cv.Latent {
				t.Fatalf("%s: %v against %v", name, src.Shape(), dst.Shape())
			}
			var out []float64
			for r := 0; r < rows; r++ {
				out = append(out, v[r*cols:r*cols+keep]...)
			}
			ph.SetFloat64s(name, out)
		}
		ex := randomExamples(rand.New(rand.NewPCG(7, 7)), 4, 4, 5, cv.Vocab)
		d := DimsOf(HRED, ex, 2)
		fv := runForward(t, pv, cv, d, ex, SetOptions{Beta: 0}, make([]float64, d.B*cv.Latent))
		fh := runForward(t, ph, ch, d, ex, SetOptions{}, nil)
		if math.Abs(fv.nll-fh.nll) > 1e-10 || fv.nll == 0 {
			t.Errorf("%s: VHRED with z = 0 NLL %.12g, HRED %.12g", cell, fv.nll, fh.nll)
		}
		// And z matters when it is not zero.
		fz := runForward(t, pv, cv, d, ex, SetOptions{}, nil)
		ones := make([]float64, d.B*cv.Latent)
		for i := range ones {
			ones[i] = 1
		}
		f1 := runForward(t, pv, cv, d, ex, SetOptions{}, ones)
		if fz.nll != fv.nll || math.Abs(f1.nll-fv.nll) < 1e-6 {
			t.Errorf("%s: ε = 1 NLL %.12g against ε = 0 %.12g", cell, f1.nll, fv.nll)
		}
	}
}

// A padded batch computes what each example computes alone: the summed
// NLL and KL of a batch (padded to multiples of 3 utterances and tokens,
// plus an empty row) equal the sums of the examples run one by one, each
// at its own size; and the generator's condition and first logits of a
// row do not depend on the other rows.
func TestPaddedBatchEqualsAlone(t *testing.T) {
	for _, k := range []Kind{Seq2Seq, HRED, VHRED} {
		c := testConfig(k, cells.LSTMKind)
		ps := testParams(t, c, tensor.Float64, 8)
		ex := randomExamples(rand.New(rand.NewPCG(2, 9)), 5, 4, 6, c.Vocab)
		d := DimsOf(k, ex, 3)
		d.B++ // a padding row
		eps := make([]float64, d.B*c.Latent)
		for i := range eps {
			eps[i] = float64(i%5)/5 - 0.4
		}
		all := runForward(t, ps, c, d, ex, SetOptions{Beta: 1}, epsOrNil(k, eps))
		var nll, kl float64
		for b, e := range ex {
			one := []Example{e}
			var e1 []float64
			if k == VHRED {
				e1 = eps[b*c.Latent : (b+1)*c.Latent]
			}
			f := runForward(t, ps, c, DimsOf(k, one, 1), one, SetOptions{Beta: 1}, e1)
			nll += f.nll
			kl += f.kl
		}
		if math.Abs(all.nll-nll) > 1e-9*math.Abs(nll) || math.Abs(all.kl-kl) > 1e-9*math.Max(1, kl) {
			t.Errorf("%s: batch NLL %.12g KL %.12g, one by one %.12g and %.12g", k, all.nll, all.kl, nll, kl)
		}
		gen, err := NewGenerator(ps, c)
		if err != nil {
			t.Fatal(err)
		}
		ctxs := make([][][]int, len(ex))
		for i, e := range ex {
			ctxs[i] = e.Context
		}
		s, err := gen.Encode(ctxs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ex {
			s1, err := gen.Encode(ctxs[i:i+1], nil)
			if err != nil {
				t.Fatal(err)
			}
			for j, v := range s1.cond[0] {
				if math.Abs(v-s.cond[i][j]) > 1e-12 {
					t.Fatalf("%s: row %d condition %v alone, %v in the batch", k, i, s1.cond[0], s.cond[i])
				}
			}
		}
		gen.Close()
	}
}

func epsOrNil(k Kind, eps []float64) []float64 {
	if k == VHRED {
		return eps
	}
	return nil
}

// The generator's greedy reply scores the tokens the training graph
// scores: a step-by-step decoder over the same condition gives the
// teacher-forced graph's NLL for the reply it produced.
func TestGeneratorMatchesTrainGraph(t *testing.T) {
	for _, k := range []Kind{Seq2Seq, HRED, VHRED} {
		c := testConfig(k, cells.GRUKind)
		ps := testParams(t, c, tensor.Float64, 11)
		ctx := [][]int{{4, 5, 6}, {7, 8}}
		gen, err := NewGenerator(ps, c)
		if err != nil {
			t.Fatal(err)
		}
		s0, err := gen.Encode([][][]int{ctx}, nil)
		if err != nil {
			t.Fatal(err)
		}
		reply := []int{9, 4, 10}
		var st decode.State = s0
		nll, tok := 0.0, c.BOS
		for i := 0; i <= len(reply); i++ {
			logits, next, err := gen.Step(st, []int{tok})
			if err != nil {
				t.Fatal(err)
			}
			want := c.EOS
			if i < len(reply) {
				want = reply[i]
			}
			nll += logSumExp(logits[0]) - logits[0][want]
			st, tok = next, want
		}
		gen.Close()
		// The train graph with ε = 0 draws z from the posterior; the
		// generator from the prior. Make them equal by giving both zero
		// means and log-variances.
		if k == VHRED {
			for _, p := range []string{"prior", "posterior"} {
				for _, l := range []string{"mu", "logvar"} {
					for _, s := range []string{"weight", "bias"} {
						name := p + "." + l + "." + s
						w, _ := ps.Get(name)
						ps.SetFloat64s(name, make([]float64, w.Shape().TotalSize()))
					}
				}
			}
			gen2, _ := NewGenerator(ps, c)
			s0, _ = gen2.Encode([][][]int{ctx}, nil)
			st, tok, nll = s0, c.BOS, 0
			for i := 0; i <= len(reply); i++ {
				logits, next, _ := gen2.Step(st, []int{tok})
				want := c.EOS
				if i < len(reply) {
					want = reply[i]
				}
				nll += logSumExp(logits[0]) - logits[0][want]
				st, tok = next, want
			}
			gen2.Close()
		}
		ex := []Example{{Context: ctx, Reply: reply}}
		f := runForward(t, ps, c, DimsOf(k, ex, 1), ex, SetOptions{}, nil)
		if math.Abs(f.nll-nll) > 1e-10 {
			t.Errorf("%s: step-by-step NLL %.12g, training graph %.12g", k, nll, f.nll)
		}
	}
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// Bad sizes and examples are errors naming what is wrong.
func TestErrors(t *testing.T) {
	c := testConfig(HRED, cells.GRUKind)
	bad := c
	bad.Kind = "flat"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("kind: %v", err)
	}
	bad = c
	bad.Context = 0
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "context size") {
		t.Errorf("context: %v", err)
	}
	bad = c
	bad.EOS = 99
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "eos id 99") {
		t.Errorf("eos: %v", err)
	}
	ps := testParams(t, c, tensor.Float64, 1)
	tg, err := NewTrainGraph(ps, c, Dims{B: 2, N: 2, Tu: 3, Tr: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		ex   []Example
		want string
	}{
		{[]Example{{Context: [][]int{{4}}, Reply: []int{4, 5, 6}}}, "reply has 3 tokens"},
		{[]Example{{Context: [][]int{{4}, {4}, {5}}, Reply: []int{4}}}, "has 3 utterances"},
		{[]Example{{Context: [][]int{{4}, {}}, Reply: []int{4}}}, "utterance 1 has 0 tokens"},
		{[]Example{{Reply: []int{4}}}, "no context"},
		{[]Example{{Context: [][]int{{40}}, Reply: []int{4}}}, "out of range"},
		{nil, "0 examples"},
	} {
		if _, err := tg.Set(x.ex, SetOptions{}); err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("%v: error %v, want %q", x.ex, err, x.want)
		}
	}
	if _, err := NewTrainGraph(ps, c, Dims{B: 0, N: 1, Tu: 1, Tr: 1}); err == nil {
		t.Error("batch 0 accepted")
	}
}

// DrawNoise gives what Set draws from the same source: the decoder
// inputs that word dropout turned into UNK and VHRED's ε, so a reference
// implementation given them replays a run.
func TestDrawNoiseIsWhatSetDraws(t *testing.T) {
	for _, k := range []Kind{HRED, VHRED} {
		t.Run(string(k), func(t *testing.T) {
			c := testConfig(k, cells.GRUKind)
			ps := testParams(t, c, tensor.Float64, 3)
			ex := randomExamples(rand.New(rand.NewPCG(2, 2)), 6, 3, 8, c.Vocab)
			for i := range ex {
				for s, id := range ex[i].Reply {
					if id == c.UNK { // so that every UNK input is a drop
						ex[i].Reply[s] = c.UNK + 1
					}
				}
			}
			d := DimsOf(k, ex, 1)
			opt := SetOptions{Beta: 1, WordDropout: 0.4}
			_, tg, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
				tg, err := BuildTrainGraph(g, c, d)
				if err != nil {
					return nil, err
				}
				opt.Source = graph.NewSource(17)
				_, err = tg.Set(ex, opt)
				return tg, err
			})
			if err != nil {
				t.Fatal(err)
			}
			opt.Source = graph.NewSource(17)
			n := c.DrawNoise(ex, d.B, opt)
			in := tg.tgtIn.Values()
			drops := 0
			for b, e := range ex {
				for s := range e.Reply {
					if got := in[s+1][b] == c.UNK; got != n.Drop[b][s] {
						t.Fatalf("example %d reply token %d: Set's input is UNK %v, DrawNoise's drop %v", b, s, got, n.Drop[b][s])
					}
					if n.Drop[b][s] {
						drops++
					}
				}
			}
			if drops == 0 {
				t.Fatal("no token dropped at 0.4: the check saw nothing")
			}
			if k != VHRED {
				if n.Eps != nil {
					t.Errorf("ε for %s: %v", k, n.Eps)
				}
				return
			}
			eps, err := graph.Float64s(tg.Eps.Value().(*tensor.Dense))
			if err != nil {
				t.Fatal(err)
			}
			if len(eps) != len(n.Eps) || len(eps) == 0 {
				t.Fatalf("ε: Set %d values, DrawNoise %d", len(eps), len(n.Eps))
			}
			for i := range eps {
				if eps[i] != n.Eps[i] {
					t.Fatalf("ε[%d]: Set %v, DrawNoise %v", i, eps[i], n.Eps[i])
				}
			}
		})
	}
}
