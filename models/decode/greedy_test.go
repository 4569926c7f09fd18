package decode

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Tokens of the constructed examples.
const (
	eos = 0
	bos = 1
	tA  = 2
	tB  = 3
)

func TestGreedyEOSStopsAndIsExcluded(t *testing.T) {
	m := &funcModel{vocab: 4, f: probTable(4, map[string][]float64{
		"":    {0.1, 0, 0.6, 0.3},
		"2":   {0.1, 0, 0.2, 0.7},
		"2 3": {0.8, 0, 0.1, 0.1},
	})}
	got, err := Greedy(m, newHistState(0), Options{BOS: bos, EOS: eos, MaxLen: 10})
	mustNoErr(t, err)
	if !equalSeqs(got, [][]int{{tA, tB}}) {
		t.Fatalf("got %v, want [[2 3]]", got)
	}
	if m.steps != 3 {
		t.Errorf("%d steps, want 3 (stop once every row has emitted EOS)", m.steps)
	}
	if m.fed[0][0] != bos {
		t.Errorf("first token fed %d, want BOS", m.fed[0][0])
	}
}

func TestGreedyEOSFirstGivesEmpty(t *testing.T) {
	m := &funcModel{vocab: 4, f: probTable(4, map[string][]float64{"": {0.9, 0, 0.05, 0.05}})}
	got, err := Greedy(m, newHistState(0), Options{BOS: bos, EOS: eos, MaxLen: 5})
	mustNoErr(t, err)
	if len(got) != 1 || got[0] == nil || len(got[0]) != 0 {
		t.Fatalf("got %#v, want one empty non-nil sequence", got)
	}
}

func TestMaxLenCaps(t *testing.T) {
	never := func(_ int, hist []int) []float64 { // EOS impossible
		return []float64{math.Inf(-1), 0, 1, 0.5}
	}
	for _, maxLen := range []int{1, 2, 7} {
		opt := Options{BOS: bos, EOS: eos, MaxLen: maxLen}
		m := &funcModel{vocab: 4, f: never}
		got, err := Greedy(m, newHistState(0, 1), opt)
		mustNoErr(t, err)
		for i, seq := range got {
			if len(seq) != maxLen {
				t.Errorf("greedy, MaxLen %d: row %d has %d tokens", maxLen, i, len(seq))
			}
		}
		if m.steps != maxLen {
			t.Errorf("greedy, MaxLen %d: %d steps", maxLen, m.steps)
		}
		got, err = Sample(m, newHistState(0, 1), opt, SampleOptions{Temperature: 1, Source: src(1)})
		mustNoErr(t, err)
		for i, seq := range got {
			if len(seq) != maxLen {
				t.Errorf("sample, MaxLen %d: row %d has %d tokens", maxLen, i, len(seq))
			}
		}
		m.steps = 0
		hs, err := Beam(m, newHistState(0, 1), opt, BeamOptions{Width: 3, NBest: 3})
		mustNoErr(t, err)
		for b := range hs {
			for _, h := range hs[b] {
				if len(h.Tokens) != maxLen {
					t.Errorf("beam, MaxLen %d: source %d: %v", maxLen, b, h.Tokens)
				}
			}
		}
		if m.steps != maxLen {
			t.Errorf("beam, MaxLen %d: %d steps", maxLen, m.steps)
		}
	}
}

func TestGreedyFinishedRowsAreFedEOSAndFrozen(t *testing.T) {
	// Row 0 ends at its second step; row 1 at its fourth.
	f := func(id int, hist []int) []float64 {
		n := len(hist)
		if (id == 0 && n == 2) || (id == 1 && n == 4) {
			return []float64{5, 0, 0, 0}
		}
		if id == 0 && n > 2 { // after its end, row 0 would produce tokens
			return []float64{0, 0, 0, 9}
		}
		return []float64{0, 0, 3, 0}
	}
	m := &funcModel{vocab: 4, f: f}
	got, err := Greedy(m, newHistState(0, 1), Options{BOS: bos, EOS: eos, MaxLen: 10})
	mustNoErr(t, err)
	if !equalSeqs(got, [][]int{{tA}, {tA, tA, tA}}) {
		t.Fatalf("got %v", got)
	}
	if m.steps != 4 {
		t.Errorf("%d steps, want 4", m.steps)
	}
	for step := 2; step < m.steps; step++ {
		if m.fed[step][0] != eos {
			t.Errorf("step %d: finished row fed %d, want EOS", step, m.fed[step][0])
		}
	}
}

func TestGreedyBatchedEqualsAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for c := 0; c < 50; c++ {
		m, opt, s := randomCase(r)
		batch, err := Greedy(m, s, opt)
		mustNoErr(t, err)
		for i := range s.ids {
			alone, err := Greedy(m, newHistState(i), opt)
			mustNoErr(t, err)
			if !equalInts(batch[i], alone[0]) {
				t.Fatalf("case %d row %d: batched %v, alone %v", c, i, batch[i], alone[0])
			}
		}
	}
}

func TestLogSoftmax(t *testing.T) {
	inf := math.Inf(1)
	got := LogSoftmax([]float64{1000, 1000, -inf})
	if math.Abs(got[0]+math.Ln2) > 1e-15 || math.Abs(got[1]+math.Ln2) > 1e-15 || !math.IsInf(got[2], -1) {
		t.Errorf("large logits: %v", got)
	}
	got = LogSoftmax([]float64{1, 2, 3})
	sum := 0.0
	for _, v := range got {
		sum += math.Exp(v)
	}
	if math.Abs(sum-1) > 1e-15 || math.Abs(got[2]-got[0]-2) > 1e-15 {
		t.Errorf("%v sums to %v", got, sum)
	}
	got = LogSoftmax([]float64{-inf, -inf})
	if !math.IsInf(got[0], -1) || !math.IsInf(got[1], -1) {
		t.Errorf("all -Inf: %v", got)
	}
	got = LogSoftmax([]float64{inf, 0, inf})
	if got[0] != -math.Ln2 || !math.IsInf(got[1], -1) || got[2] != -math.Ln2 {
		t.Errorf("+Inf: %v", got)
	}
	if got = LogSoftmax([]float64{0, math.NaN()}); !math.IsNaN(got[0]) {
		t.Errorf("NaN: %v", got)
	}
	if got = LogSoftmax(nil); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestTopIndices(t *testing.T) {
	x := []float64{1, 3, math.Inf(-1), 3, 2, 0}
	for k, want := range [][]int{{}, {1}, {1, 3}, {1, 3, 4}, {1, 3, 4, 0}, {1, 3, 4, 0, 5}, {1, 3, 4, 0, 5}, {1, 3, 4, 0, 5}} {
		if got := topIndices(x, k, nil); !equalInts(got, want) {
			t.Errorf("k=%d: %v, want %v", k, got, want)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for c := 0; c < 200; c++ {
		x := make([]float64, 1+r.IntN(30))
		for i := range x {
			x[i] = float64(r.IntN(6)) // many ties
		}
		all := ids(len(x))
		sortByRank(x, all)
		k := r.IntN(len(x) + 2)
		if got := topIndices(x, k, nil); !equalInts(got, all[:min(k, len(x))]) {
			t.Fatalf("%v k=%d: %v, want %v", x, k, got, all[:min(k, len(x))])
		}
	}
}

// Both ways topIndices selects (sorted insertion for k ≤ 32, a heap above)
// give the best k by rank, −Inf and NaN left out.
func TestTopIndicesBothWays(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for c := 0; c < 400; c++ {
		x := make([]float64, 1+r.IntN(90))
		var all []int
		for i := range x {
			switch r.IntN(10) {
			case 0:
				x[i] = math.Inf(-1)
			case 1:
				x[i] = math.NaN()
			default:
				x[i] = float64(r.IntN(8))
				all = append(all, i)
			}
		}
		sortByRank(x, all)
		k := r.IntN(50)
		want := all[:min(k, len(all))]
		if got := topIndices(x, k, nil); !equalInts(got, want) {
			t.Fatalf("%v k=%d: %v, want %v", x, k, got, want)
		}
		if got := topIndicesShort(x, k, nil); !equalInts(got, want) {
			t.Fatalf("short: %v k=%d: %v, want %v", x, k, got, want)
		}
	}
}
