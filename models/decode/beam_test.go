package decode

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// recompute returns the log-probability of tokens (and of EOS if they are
// fewer than MaxLen) under f, summed in the decoders' order.
func recompute(f func(int, []int) []float64, id int, opt Options, tokens []int) float64 {
	hist := []int{opt.BOS}
	lp := 0.0
	for _, tok := range tokens {
		lp += LogSoftmax(f(id, hist))[tok]
		hist = append(hist, tok)
	}
	if len(tokens) < opt.MaxLen {
		lp += LogSoftmax(f(id, hist))[opt.EOS]
	}
	return lp
}

// checkHyps checks a source's hypotheses: sorted by score, distinct, no
// EOS inside, no more than MaxLen tokens, LogProb and Score right.
func checkHyps(t *testing.T, what string, hs []Hypothesis, f func(int, []int) []float64, id int, opt Options, alpha float64) {
	t.Helper()
	seen := map[string]bool{}
	for k, h := range hs {
		key := fmt.Sprint(h.Tokens)
		if seen[key] {
			t.Errorf("%s: hypothesis %v twice", what, h.Tokens)
		}
		seen[key] = true
		if k > 0 && h.Score > hs[k-1].Score {
			t.Errorf("%s: hypothesis %d scores %v > %v", what, k, h.Score, hs[k-1].Score)
		}
		if len(h.Tokens) > opt.MaxLen || h.Tokens == nil {
			t.Errorf("%s: tokens %#v", what, h.Tokens)
		}
		for _, tok := range h.Tokens {
			if tok == opt.EOS {
				t.Errorf("%s: EOS in %v", what, h.Tokens)
			}
		}
		if lp := recompute(f, id, opt, h.Tokens); math.Abs(lp-h.LogProb) > 1e-12 {
			t.Errorf("%s: %v: LogProb %v, recomputed %v", what, h.Tokens, h.LogProb, lp)
		}
		n := len(h.Tokens)
		if n < opt.MaxLen {
			n++
		}
		if s := h.LogProb / math.Pow((5+float64(n))/6, alpha); math.Abs(s-h.Score) > 1e-12 {
			t.Errorf("%s: %v: Score %v, want %v", what, h.Tokens, h.Score, s)
		}
	}
}

func TestBeamWidthOneIsGreedy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for c := 0; c < 200; c++ {
		m, opt, s := randomCase(r)
		want, err := Greedy(m, s, opt)
		mustNoErr(t, err)
		got, err := Beam(m, s, opt, BeamOptions{Width: 1})
		mustNoErr(t, err)
		for i := range want {
			if len(got[i]) != 1 || !equalInts(got[i][0].Tokens, want[i]) {
				t.Fatalf("case %d row %d: beam %v, greedy %v", c, i, got[i], want[i])
			}
			checkHyps(t, fmt.Sprintf("case %d row %d", c, i), got[i], m.f, i, opt, 0)
		}
	}
}

func TestBeamBeatsGreedy(t *testing.T) {
	// A is likelier than B first, but every continuation of A is poor,
	// while B is almost surely followed by EOS.
	f := probTable(4, map[string][]float64{
		"":  {0.01, 0, 0.55, 0.44},
		"2": {0.3, 0, 0.36, 0.34},
		"3": {0.9, 0, 0.05, 0.05},
	})
	opt := Options{BOS: bos, EOS: eos, MaxLen: 3}
	g, err := Greedy(&funcModel{vocab: 4, f: f}, newHistState(0), opt)
	mustNoErr(t, err)
	hs, err := Beam(&funcModel{vocab: 4, f: f}, newHistState(0), opt, BeamOptions{Width: 2, NBest: 2})
	mustNoErr(t, err)
	best := bruteForce(f, 0, opt, 0)[0]
	if !equalInts(best.Tokens, []int{tB}) || equalInts(g[0], best.Tokens) {
		t.Fatalf("the example is broken: greedy %v, optimum %v", g[0], best.Tokens)
	}
	if !equalInts(hs[0][0].Tokens, best.Tokens) || math.Abs(hs[0][0].LogProb-math.Log(0.44*0.9)) > 1e-12 {
		t.Errorf("beam found %+v, the optimum is %+v", hs[0][0], best)
	}
	checkHyps(t, "beam", hs[0], f, 0, opt, 0)
}

func TestBeamLargeWidthIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for c := 0; c < 60; c++ {
		vocab := 2 + r.IntN(3)
		opt := Options{BOS: r.IntN(vocab), EOS: r.IntN(vocab), MaxLen: 1 + r.IntN(4)}
		f := randomLogits(vocab, r.Uint64(), 2, opt.EOS, -0.5)
		alpha := []float64{0, 0.6, 1.5, -0.5}[c%4]
		sources := 1 + r.IntN(3)
		// 128 ≥ every hypothesis (at most 3⁴ = 81 live, 108 candidates).
		bo := BeamOptions{Width: 128, NBest: 8, LengthPenalty: alpha}
		got, err := Beam(&funcModel{vocab: vocab, f: f}, newHistState(ids(sources)...), opt, bo)
		mustNoErr(t, err)
		for b := 0; b < sources; b++ {
			want := bruteForce(f, b, opt, alpha)
			want = want[:min(len(want), bo.NBest)]
			if len(got[b]) != len(want) {
				t.Fatalf("case %d source %d: %d hypotheses, want %d", c, b, len(got[b]), len(want))
			}
			for k := range want {
				if !equalInts(got[b][k].Tokens, want[k].Tokens) || math.Abs(got[b][k].Score-want[k].Score) > 1e-12 {
					t.Fatalf("case %d (α %v) source %d rank %d: %+v, brute force %+v", c, alpha, b, k, got[b][k], want[k])
				}
			}
		}
	}
}

func TestBeamEarlyStopChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	stopped := 0
	for c := 0; c < 200; c++ {
		m, opt, s := randomCase(r)
		opt.MaxLen += 5
		w := 1 + r.IntN(3)
		bo := BeamOptions{Width: w, NBest: 1 + r.IntN(w), LengthPenalty: []float64{0, 0.7, -0.4, 2}[c%4]}
		early, err := beam(m, s, opt, bo, true)
		mustNoErr(t, err)
		earlySteps := m.steps
		m.steps = 0
		full, err := beam(m, s, opt, bo, false)
		mustNoErr(t, err)
		if earlySteps < m.steps {
			stopped++
		}
		for b := range full {
			if len(early[b]) != len(full[b]) {
				t.Fatalf("case %d source %d: early %v, full %v", c, b, early[b], full[b])
			}
			for k := range full[b] {
				if !equalInts(early[b][k].Tokens, full[b][k].Tokens) || early[b][k].Score != full[b][k].Score {
					t.Fatalf("case %d source %d: early %v, full %v", c, b, early[b], full[b])
				}
			}
		}
	}
	if stopped < 40 {
		t.Errorf("early stopping saved steps in only %d cases of 200", stopped)
	}
}

func TestBeamStopsEarly(t *testing.T) {
	m := &funcModel{vocab: 4, f: randomLogits(4, 3, 1, eos, 3)} // EOS likely
	hs, err := Beam(m, newHistState(0, 1), Options{BOS: bos, EOS: eos, MaxLen: 50}, BeamOptions{Width: 2, NBest: 2})
	mustNoErr(t, err)
	if m.steps >= 20 {
		t.Errorf("%d steps for a model that favours EOS: %v", m.steps, hs)
	}
}

func TestBeamNBestSortedDistinct(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for c := 0; c < 100; c++ {
		m, opt, s := randomCase(r)
		w := 1 + r.IntN(6)
		alpha := []float64{0, 1, -0.3}[c%3]
		got, err := Beam(m, s, opt, BeamOptions{Width: w, NBest: w, LengthPenalty: alpha})
		mustNoErr(t, err)
		if m.maxRows != s.Rows()*w {
			t.Errorf("case %d: %d rows stepped, want sources × width = %d", c, m.maxRows, s.Rows()*w)
		}
		for _, fed := range m.fed {
			if len(fed) != s.Rows()*w {
				t.Fatalf("case %d: a step of %d rows", c, len(fed))
			}
		}
		if len(got) != s.Rows() {
			t.Fatalf("case %d: %d results for %d sources", c, len(got), s.Rows())
		}
		for b, hs := range got {
			if len(hs) == 0 || len(hs) > w {
				t.Errorf("case %d source %d: %d hypotheses", c, b, len(hs))
			}
			checkHyps(t, fmt.Sprintf("case %d source %d", c, b), hs, m.f, b, opt, alpha)
		}
	}
}

func TestBeamNBestZeroMeansOne(t *testing.T) {
	m := &funcModel{vocab: 5, f: randomLogits(5, 1, 2, eos, 0)}
	got, err := Beam(m, newHistState(0, 1), Options{BOS: bos, EOS: eos, MaxLen: 6}, BeamOptions{Width: 4})
	mustNoErr(t, err)
	for b := range got {
		if len(got[b]) != 1 {
			t.Errorf("source %d: %d hypotheses, want 1", b, len(got[b]))
		}
	}
}

func TestBeamFewerHypothesesThanNBest(t *testing.T) {
	// Vocabulary {EOS, BOS}, MaxLen 1: only [] and [BOS] exist.
	m := &funcModel{vocab: 2, f: func(int, []int) []float64 { return []float64{0, 0} }}
	got, err := Beam(m, newHistState(0), Options{BOS: 1, EOS: 0, MaxLen: 1}, BeamOptions{Width: 4, NBest: 4})
	mustNoErr(t, err)
	if len(got[0]) != 2 || !equalInts(got[0][0].Tokens, []int{}) || !equalInts(got[0][1].Tokens, []int{1}) {
		t.Errorf("got %+v", got[0])
	}
}

func TestBeamLengthPenalty(t *testing.T) {
	// Ending at once (p .55) beats A A A EOS (p .45·.99³) on log-probability,
	// but with α = 1 the longer one wins: −0.829/1.5 > −0.598/1.
	f := probTable(4, map[string][]float64{
		"":      {0.55, 0, 0.45, 0},
		"2":     {0.01, 0, 0.99, 0},
		"2 2":   {0.01, 0, 0.99, 0},
		"2 2 2": {0.99, 0, 0.01, 0},
	})
	opt := Options{BOS: bos, EOS: eos, MaxLen: 6}
	best := func(alpha float64) []Hypothesis {
		hs, err := Beam(&funcModel{vocab: 4, f: f}, newHistState(0), opt, BeamOptions{Width: 3, NBest: 3, LengthPenalty: alpha})
		mustNoErr(t, err)
		checkHyps(t, fmt.Sprint("α ", alpha), hs[0], f, 0, opt, alpha)
		if bf := bruteForce(f, 0, opt, alpha)[0]; !equalInts(hs[0][0].Tokens, bf.Tokens) {
			t.Errorf("α %v: beam %v, brute force %v", alpha, hs[0][0].Tokens, bf.Tokens)
		}
		return hs[0]
	}
	plain, penalised := best(0), best(1)
	if !equalInts(plain[0].Tokens, []int{}) {
		t.Errorf("α 0: best %v, want []", plain[0].Tokens)
	}
	if !equalInts(penalised[0].Tokens, []int{tA, tA, tA}) {
		t.Errorf("α 1: best %v, want [2 2 2]", penalised[0].Tokens)
	}
	if want := math.Log(0.45*0.99*0.99*0.99) / 1.5; math.Abs(penalised[0].Score-want) > 1e-12 {
		t.Errorf("α 1: score %v, want %v", penalised[0].Score, want)
	}
}

func TestBeamBatchedEqualsAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for c := 0; c < 50; c++ {
		m, opt, s := randomCase(r)
		bo := BeamOptions{Width: 1 + r.IntN(4), LengthPenalty: 0.5}
		bo.NBest = 1 + r.IntN(bo.Width)
		batch, err := Beam(m, s, opt, bo)
		mustNoErr(t, err)
		for i := range s.ids {
			alone, err := Beam(m, newHistState(i), opt, bo)
			mustNoErr(t, err)
			if fmt.Sprint(batch[i]) != fmt.Sprint(alone[0]) {
				t.Fatalf("case %d source %d: batched %v, alone %v", c, i, batch[i], alone[0])
			}
		}
	}
}

// A batch large enough for the sources' searches to run on several cores
// (when there are several) gives each source the hypotheses it gets alone,
// and a model's bad logits in two sources report the first one's row.
func TestBeamLargeBatchEqualsAlone(t *testing.T) {
	const sources, vocab = 120, 40
	bo := BeamOptions{Width: 4, NBest: 3, LengthPenalty: 0.3}
	if sources*bo.Width*vocab < 1<<14 {
		t.Fatal("the batch is too small to be split")
	}
	m := &funcModel{vocab: vocab, f: randomLogits(vocab, 7, 3, 1, 0)}
	opt := Options{BOS: 0, EOS: 1, MaxLen: 6}
	batch, err := Beam(m, newHistState(ids(sources)...), opt, bo)
	mustNoErr(t, err)
	for i := 0; i < sources; i++ {
		alone, err := Beam(m, newHistState(i), opt, bo)
		mustNoErr(t, err)
		if fmt.Sprint(batch[i]) != fmt.Sprint(alone[0]) {
			t.Fatalf("source %d: batched %v, alone %v", i, batch[i], alone[0])
		}
	}
	good := m.f
	m.f = func(id int, hist []int) []float64 {
		l := good(id, hist)
		if (id == 100 || id == 30) && len(hist) == 3 {
			l[5] = math.NaN()
		}
		return l
	}
	_, err = Beam(m, newHistState(ids(sources)...), opt, bo)
	if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "row 120:") {
		t.Errorf("error %v, want ErrModel for row 120 (source 30's first)", err)
	}
}
