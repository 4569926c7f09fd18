package mlm

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
)

// within fails when an observed share k/n of a binomial sample is more
// than 5 standard deviations from p.
func within(t *testing.T, what string, k, n int, p float64) {
	t.Helper()
	got := float64(k) / float64(n)
	sd := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(got-p) > 5*sd {
		t.Errorf("%s: %d of %d = %.5f, want %.5f ± %.5f (5 sd)", what, k, n, got, p, 5*sd)
	} else {
		t.Logf("%s: %.5f (want %.5f ± %.5f)", what, got, p, 5*sd)
	}
}

// BERT's proportions on a large sample: the number selected per
// sequence, never a special token, each candidate position equally
// likely, 80% [MASK], 10% a random ordinary word (uniform), 10% kept.
func TestMaskingStatistics(t *testing.T) {
	const V, words, maskID, N, T = 40, 5, 4, 20000, 30
	k := Masker{Masking: BERT(), MaskID: maskID, Words: words, Vocab: V}
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	data := graph.NewSource(7)
	src := graph.NewSource(11)
	var selected, masked, kept, changed, cands int
	perPos := make([]int, T)
	candAt := make([]int, T)
	replaced := make([]int, V)
	for range N {
		seq := make([]int, T)
		n := 0
		for i := range seq {
			if data.Float64() < 0.1 { // a special token or <unk>
				seq[i] = data.IntN(words)
			} else {
				seq[i] = words + data.IntN(V-words)
				n++
				candAt[i]++
			}
		}
		m := k.Apply(seq, src)
		if got := len(m.Positions()); got != k.Count(n) {
			t.Fatalf("%d selected of %d candidates, want %d", got, n, k.Count(n))
		}
		cands += n
		for i, s := range m.Selected {
			if !s {
				if m.Inputs[i] != seq[i] {
					t.Fatalf("unselected position %d changed %d → %d", i, seq[i], m.Inputs[i])
				}
				continue
			}
			if seq[i] < words {
				t.Fatalf("special id %d at %d selected", seq[i], i)
			}
			selected++
			perPos[i]++
			switch in := m.Inputs[i]; {
			case in == maskID:
				masked++
			case in == seq[i]:
				kept++
			default:
				changed++
				replaced[in]++
			}
		}
	}
	// round(0.15·n) is within ½ of 0.15·n in each sequence.
	if d := math.Abs(float64(selected) - 0.15*float64(cands)); d > 0.5*N {
		t.Errorf("%d selected of %d candidates: %.0f from 15%%, more than rounding allows", selected, cands, d)
	}
	t.Logf("selected share of candidates: %.5f", float64(selected)/float64(cands))
	// A random word equals the original with probability 1/(V − words).
	w := float64(V - words)
	within(t, "[MASK]", masked, selected, 0.8)
	within(t, "random word (≠ original)", changed, selected, 0.1*(1-1/w))
	within(t, "kept", kept, selected, 0.1+0.1/w)
	// Every position is selected at the same rate given it is a candidate.
	for i := range T {
		within(t, "selection rate at a position", perPos[i], candAt[i], float64(selected)/float64(cands))
	}
	for id := range words {
		if replaced[id] != 0 {
			t.Errorf("special id %d drawn as a random word %d times", id, replaced[id])
		}
	}
	for id := words; id < V; id++ {
		within(t, "random word's id", replaced[id], changed, 1/w)
	}
}

func TestMaskingCountAndDeterminism(t *testing.T) {
	m := BERT()
	for _, c := range []struct{ n, want int }{{0, 0}, {1, 1}, {3, 1}, {6, 1}, {10, 2}, {20, 3}, {40, 6}, {100, 15}} {
		if got := m.Count(c.n); got != c.want {
			t.Errorf("Count(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	k := Masker{Masking: BERT(), MaskID: 4, Words: 5, Vocab: 50}
	seq := []int{5, 6, 7, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0}
	a := k.Apply(seq, graph.NewSource(3))
	b := k.Apply(seq, graph.NewSource(3))
	if !slices.Equal(a.Inputs, b.Inputs) || !slices.Equal(a.Selected, b.Selected) {
		t.Errorf("one seed, two maskings: %v %v / %v %v", a.Inputs, a.Selected, b.Inputs, b.Selected)
	}
	differ := false
	for s := uint64(4); s < 20 && !differ; s++ {
		c := k.Apply(seq, graph.NewSource(s))
		differ = !slices.Equal(a.Selected, c.Selected)
	}
	if !differ {
		t.Error("sixteen seeds select the same positions")
	}
	if seq[0] != 5 || seq[4] != 8 {
		t.Error("Apply modified its input")
	}
	if got := k.Apply([]int{0, 1, 2, 3, 4}, graph.NewSource(1)); len(got.Positions()) != 0 {
		t.Errorf("a sequence of special tokens: %v selected", got.Positions())
	}
}

func TestMaskingErrors(t *testing.T) {
	for _, k := range []Masker{
		{Masking: Masking{Rate: 0, Mask: 0.8, Random: 0.1}, MaskID: 4, Words: 5, Vocab: 10},
		{Masking: Masking{Rate: 1.5, Mask: 0.8, Random: 0.1}, MaskID: 4, Words: 5, Vocab: 10},
		{Masking: Masking{Rate: 0.15, Mask: 0.8, Random: 0.3}, MaskID: 4, Words: 5, Vocab: 10},
		{Masking: Masking{Rate: 0.15, Mask: math.NaN(), Random: 0.1}, MaskID: 4, Words: 5, Vocab: 10},
		{Masking: BERT(), MaskID: 4, Words: 5, Vocab: 5},
		{Masking: BERT(), MaskID: 7, Words: 5, Vocab: 10},
	} {
		if err := k.Validate(); !errors.Is(err, ErrMasking) {
			t.Errorf("%+v: %v, want ErrMasking", k, err)
		}
	}
}
