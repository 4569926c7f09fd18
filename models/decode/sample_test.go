package decode

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
)

func src(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// sampleEqualsGreedy checks Sample with so against Greedy on random models.
func sampleEqualsGreedy(t *testing.T, so SampleOptions, cases int) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	for c := 0; c < cases; c++ {
		m, opt, s := randomCase(r)
		want, err := Greedy(m, s, opt)
		mustNoErr(t, err)
		so.Source = src(uint64(c))
		got, err := Sample(m, s, opt, so)
		mustNoErr(t, err)
		if !equalSeqs(got, want) {
			t.Fatalf("case %d %+v: sampled %v, greedy %v", c, so, got, want)
		}
	}
}

func TestSampleTinyTemperatureIsGreedy(t *testing.T) {
	sampleEqualsGreedy(t, SampleOptions{Temperature: 1e-6}, 100)
	sampleEqualsGreedy(t, SampleOptions{Temperature: 1e-300}, 30) // logits/T overflows
	// Negative logits over a subnormal temperature underflow to −Inf
	// unless the largest is subtracted first.
	neg := func(_ int, hist []int) []float64 { return []float64{-3, -2, -1.5, -1, -1 - 1e-12} }
	for _, temp := range []float64{1e-6, 1e-300, 5e-324} {
		m := &funcModel{vocab: 5, f: neg}
		got, err := Sample(m, newHistState(0, 1), Options{BOS: bos, EOS: eos, MaxLen: 3}, SampleOptions{Temperature: temp, Source: src(3)})
		mustNoErr(t, err)
		if !equalSeqs(got, [][]int{{3, 3, 3}, {3, 3, 3}}) {
			t.Errorf("temperature %v: %v, want token 3 always", temp, got)
		}
	}
}

func TestSampleTemperatureZeroIsGreedy(t *testing.T) {
	sampleEqualsGreedy(t, SampleOptions{}, 30)
}

func TestSampleTopKOneIsGreedy(t *testing.T) {
	sampleEqualsGreedy(t, SampleOptions{Temperature: 1, TopK: 1}, 100)
	sampleEqualsGreedy(t, SampleOptions{Temperature: 3, TopK: 1, TopP: 0.9}, 30)
}

func TestSampleTinyTopPIsGreedy(t *testing.T) {
	sampleEqualsGreedy(t, SampleOptions{Temperature: 1, TopP: 1e-9}, 100)
	sampleEqualsGreedy(t, SampleOptions{Temperature: 2, TopK: 3, TopP: 1e-9}, 30)
}

func TestSampleSeeds(t *testing.T) {
	m := &funcModel{vocab: 6, f: randomLogits(6, 7, 1, eos, -1)}
	opt := Options{BOS: bos, EOS: eos, MaxLen: 12}
	s := newHistState(ids(8)...)
	run := func(seed uint64, so SampleOptions) [][]int {
		so.Source = graph.NewSource(seed) // graph.Source is the Source type
		got, err := Sample(m, s, opt, so)
		mustNoErr(t, err)
		return got
	}
	for _, so := range []SampleOptions{{Temperature: 1}, {Temperature: 1.5, TopK: 3}, {Temperature: 0.8, TopP: 0.9}} {
		a, b, c := run(1, so), run(1, so), run(2, so)
		if !equalSeqs(a, b) {
			t.Errorf("%+v: the same seed gave %v and %v", so, a, b)
		}
		if equalSeqs(a, c) {
			t.Errorf("%+v: seeds 1 and 2 both gave %v", so, a)
		}
	}
}

// firstTokenCounts samples n rows of one step from constant logits and
// counts the tokens drawn (EOS = an empty sequence).
func firstTokenCounts(t *testing.T, logits []float64, n int, so SampleOptions) []int {
	t.Helper()
	m := &funcModel{vocab: len(logits), f: func(int, []int) []float64 { return append([]float64(nil), logits...) }}
	so.Source = src(42)
	got, err := Sample(m, newHistState(make([]int, n)...), Options{BOS: bos, EOS: eos, MaxLen: 1}, so)
	mustNoErr(t, err)
	counts := make([]int, len(logits))
	for _, seq := range got {
		switch len(seq) {
		case 0:
			counts[eos]++
		case 1:
			counts[seq[0]]++
		default:
			t.Fatalf("MaxLen 1 gave %v", seq)
		}
	}
	return counts
}

// chiSquare checks counts against probabilities p (tokens with p = 0 must
// never appear) with a bound well above the 99.9% quantile for ≤ 5 degrees
// of freedom.
func chiSquare(t *testing.T, counts []int, p []float64) {
	t.Helper()
	n := 0
	for _, c := range counts {
		n += c
	}
	x2 := 0.0
	for j, c := range counts {
		if p[j] == 0 {
			if c != 0 {
				t.Errorf("token %d has probability 0 but was drawn %d times", j, c)
			}
			continue
		}
		e := p[j] * float64(n)
		x2 += (float64(c) - e) * (float64(c) - e) / e
	}
	t.Logf("counts %v, chi-square %.2f", counts, x2)
	if x2 > 22 {
		t.Errorf("counts %v for p %v: chi-square %.1f", counts, p, x2)
	}
}

func softmaxOf(l []float64, temp float64) []float64 {
	x := make([]float64, len(l))
	for j := range l {
		x[j] = l[j] / temp
	}
	ls := LogSoftmax(x)
	for j := range ls {
		ls[j] = math.Exp(ls[j])
	}
	return ls
}

// keep renormalises p over the tokens in set.
func keep(p []float64, set ...int) []float64 {
	out := make([]float64, len(p))
	sum := 0.0
	for _, j := range set {
		sum += p[j]
	}
	for _, j := range set {
		out[j] = p[j] / sum
	}
	return out
}

func TestSampleFrequencies(t *testing.T) {
	logits := []float64{0.2, 1.1, -0.4, 0.7, 0, math.Inf(-1)}
	const n = 20000
	for _, temp := range []float64{1, 0.5, 2} {
		chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: temp}), softmaxOf(logits, temp))
	}
	// TopK = 2: only tokens 1 and 3 ever appear, in the renormalised ratio.
	p := softmaxOf(logits, 1)
	chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: 1, TopK: 2}), keep(p, 1, 3))
	// p ≈ [.154 .380 .085 .255 .126 0]: the nucleus of 0.6 is {1, 3}
	// (.635), of 0.75 {1, 3, 0} (.789), of 0.8 {1, 3, 0, 4}.
	chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: 1, TopP: 0.6}), keep(p, 1, 3))
	chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: 1, TopP: 0.75}), keep(p, 1, 3, 0))
	chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: 1, TopP: 0.8}), keep(p, 1, 3, 0, 4))
	// Top-k first, then top-p over the renormalised top-k: top-3 is
	// {1, 3, 0} with ≈ [.481 .323 .196]; a nucleus of 0.75 is {1, 3}.
	chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: 1, TopK: 3, TopP: 0.75}), keep(p, 1, 3))
	// TopP 1 and TopK ≥ the vocabulary are off.
	chiSquare(t, firstTokenCounts(t, logits, n, SampleOptions{Temperature: 1, TopK: 10, TopP: 1}), p)
}
