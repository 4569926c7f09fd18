package decode

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// histState carries, per row, an id (which source the row came from) and
// the tokens fed to the row so far.
type histState struct {
	ids  []int
	hist [][]int

	bad string // misbehave in Select: "rows", "nil", "error", "panic"
}

func newHistState(ids ...int) *histState {
	return &histState{ids: ids, hist: make([][]int, len(ids))}
}

func (s *histState) Rows() int { return len(s.ids) }

func (s *histState) Select(rows []int) (State, error) {
	switch s.bad {
	case "rows":
		return &histState{ids: []int{0}, hist: make([][]int, 1)}, nil
	case "nil":
		return nil, nil
	case "error":
		return nil, errSelect
	case "panic":
		panic("select")
	}
	out := &histState{ids: make([]int, len(rows)), hist: make([][]int, len(rows))}
	for i, r := range rows {
		if r < 0 || r >= len(s.ids) {
			return nil, fmt.Errorf("select: row %d of %d", r, len(s.ids))
		}
		out.ids[i] = s.ids[r]
		out.hist[i] = append([]int(nil), s.hist[r]...)
	}
	return out, nil
}

// funcModel computes a row's logits with f from its id and everything fed
// to it so far (BOS first); it records what the decoder does.
type funcModel struct {
	vocab   int
	f       func(id int, hist []int) []float64
	steps   int
	maxRows int
	fed     [][]int // fed[t] = the tokens of step t
}

func (m *funcModel) Vocab() int { return m.vocab }

func (m *funcModel) Step(s State, tokens []int) ([][]float64, State, error) {
	hs, ok := s.(*histState)
	if !ok {
		return nil, nil, fmt.Errorf("state %T", s)
	}
	if len(tokens) != len(hs.ids) {
		return nil, nil, fmt.Errorf("%d tokens for %d rows", len(tokens), len(hs.ids))
	}
	m.steps++
	m.maxRows = max(m.maxRows, len(tokens))
	m.fed = append(m.fed, append([]int(nil), tokens...))
	next := &histState{ids: hs.ids, hist: make([][]int, len(tokens)), bad: hs.bad}
	logits := make([][]float64, len(tokens))
	for i, tok := range tokens {
		if tok < 0 || tok >= m.vocab {
			return nil, nil, fmt.Errorf("token %d outside [0, %d)", tok, m.vocab)
		}
		next.hist[i] = append(append([]int(nil), hs.hist[i]...), tok)
		logits[i] = m.f(hs.ids[i], next.hist[i])
	}
	return logits, next, nil
}

// randomLogits is a pseudo-random function of (seed, id, hist): logits in
// [-scale, scale], the EOS logit shifted by eosBias.
func randomLogits(vocab int, seed uint64, scale float64, eos int, eosBias float64) func(int, []int) []float64 {
	return func(id int, hist []int) []float64 {
		h := seed*0x9e3779b97f4a7c15 + uint64(id)*0xbf58476d1ce4e5b9
		for _, t := range hist {
			h = (h ^ uint64(t+1)) * 0x94d049bb133111eb
			h ^= h >> 29
		}
		r := rand.New(rand.NewPCG(h, 17))
		l := make([]float64, vocab)
		for j := range l {
			l[j] = scale * (2*r.Float64() - 1)
		}
		l[eos] += eosBias
		return l
	}
}

// markovLogits depends only on the last token fed and the row id.
func markovLogits(vocab int, r *rand.Rand, ids int, scale float64) func(int, []int) []float64 {
	table := make([][][]float64, ids)
	for i := range table {
		table[i] = make([][]float64, vocab)
		for t := range table[i] {
			table[i][t] = make([]float64, vocab)
			for j := range table[i][t] {
				table[i][t][j] = scale * r.NormFloat64()
			}
		}
	}
	return func(id int, hist []int) []float64 {
		return append([]float64(nil), table[id][hist[len(hist)-1]]...)
	}
}

// probTable gives the logits log(p) for the history key (the tokens fed
// after BOS, as "2 3"), and uniform logits for a history it lacks.
func probTable(vocab int, p map[string][]float64) func(int, []int) []float64 {
	return func(_ int, hist []int) []float64 {
		key := fmt.Sprint(hist[1:])
		key = key[1 : len(key)-1]
		l := make([]float64, vocab)
		if ps, ok := p[key]; ok {
			for j, v := range ps {
				l[j] = math.Log(v)
			}
		}
		return l
	}
}

// bruteForce enumerates every sequence a decoder can return for row id
// (EOS after fewer than MaxLen tokens, or MaxLen tokens without EOS) and
// returns them all, best score first.
func bruteForce(f func(int, []int) []float64, id int, opt Options, alpha float64) []Hypothesis {
	score := func(lp float64, n int) float64 {
		if alpha == 0 {
			return lp
		}
		return lp / math.Pow((5+float64(n))/6, alpha)
	}
	var all []Hypothesis
	var rec func(prefix []int, lp float64)
	rec = func(prefix []int, lp float64) {
		ls := LogSoftmax(f(id, append([]int{opt.BOS}, prefix...)))
		if !math.IsInf(ls[opt.EOS], -1) {
			all = append(all, Hypothesis{Tokens: append([]int{}, prefix...), LogProb: lp + ls[opt.EOS], Score: score(lp+ls[opt.EOS], len(prefix)+1)})
		}
		for tok, l := range ls {
			if tok == opt.EOS || math.IsInf(l, -1) {
				continue
			}
			next := append(append([]int{}, prefix...), tok)
			if len(next) == opt.MaxLen {
				all = append(all, Hypothesis{Tokens: next, LogProb: lp + l, Score: score(lp+l, len(next))})
			} else {
				rec(next, lp+l)
			}
		}
	}
	rec(nil, 0)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	return all
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalSeqs(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalInts(a[i], b[i]) {
			return false
		}
	}
	return true
}

func ids(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// randomCase draws a random history-dependent model, options and a batch.
func randomCase(r *rand.Rand) (*funcModel, Options, *histState) {
	vocab := 2 + r.IntN(7)
	opt := Options{BOS: r.IntN(vocab), EOS: r.IntN(vocab), MaxLen: 1 + r.IntN(10)}
	bias := []float64{0, -2, 1}[r.IntN(3)]
	f := randomLogits(vocab, r.Uint64(), 0.5+3*r.Float64(), opt.EOS, bias)
	if r.IntN(3) == 0 {
		f = markovLogits(vocab, r, 4, 2)
	}
	return &funcModel{vocab: vocab, f: f}, opt, newHistState(ids(1 + r.IntN(4))...)
}

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%+v", err)
	}
}
