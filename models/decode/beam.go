package decode

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sort"

	"github.com/rnnkit/rnnkit/internal/parallel"
)

// BeamOptions are the settings of [Beam].
type BeamOptions struct {
	// Width is the number of hypotheses kept per source row; > 0.
	Width int
	// LengthPenalty is GNMT's α (Wu et al. 2016): a hypothesis scores
	// LogProb / ((5+len)/6)^α, where len counts its tokens and its EOS if
	// it ended with one. 0 ranks by the plain sum of log-probabilities;
	// α > 0 favours longer hypotheses, α < 0 shorter ones. Finite.
	LengthPenalty float64
	// NBest is how many hypotheses to return per source row, ≤ Width; 0
	// means 1.
	NBest int
}

// Hypothesis is one sequence found by [Beam].
type Hypothesis struct {
	// Tokens are the generated tokens, without BOS and without EOS.
	Tokens []int
	// LogProb is the sum of the log-probabilities (log-softmax of the
	// logits) of the tokens, and of EOS if the hypothesis ended with one
	// (len(Tokens) < MaxLen).
	LogProb float64
	// Score is LogProb under the length penalty; Beam ranks by it.
	Score float64
}

// Beam decodes every row of s0 (a source) by beam search and returns, per
// source in the order of s0's rows, its at most NBest best hypotheses by
// Score, best first. The conventions are those of [Greedy]: every
// hypothesis starts by feeding opt.BOS, EOS ends a hypothesis and is not
// included in its Tokens, and a hypothesis has at most opt.MaxLen tokens.
//
// The search is batched over sources: the model steps sources × Width rows
// (source b's hypotheses are rows b·Width … b·Width+Width−1), and
// State.Select reorders and copies the rows after each step. At the first
// step only one copy of each source is expanded, so no hypothesis appears
// twice.
//
// At each step the candidates (every live hypothesis extended by every
// token) are ranked by log-probability and taken best first until Width of
// them, not ending with EOS, are live; the candidates ending with EOS met
// on the way are finished. A source stops when it has Width finished
// hypotheses and no live one can reach a better score than the Width-th
// best of them (log-probabilities only decrease, so the bound is exact:
// stopping changes no result), when no hypothesis is live, or after MaxLen
// steps, when the live hypotheses are finished as they are. Rows of
// finished sources, and empty slots, are fed EOS. Candidates of equal
// log-probability rank by hypothesis, then by token id.
//
// Width 1 with LengthPenalty 0 gives Greedy's sequences; a Width as large
// as the number of possible sequences gives the exact best.
func Beam(m Model, s0 State, opt Options, bo BeamOptions) ([][]Hypothesis, error) {
	return beam(m, s0, opt, bo, true)
}

// beam is Beam; the tests turn earlyStop off to check that stopping early
// changes nothing.
func beam(m Model, s0 State, opt Options, bo BeamOptions, earlyStop bool) ([][]Hypothesis, error) {
	vocab, sources, err := setup(m, s0, opt)
	if err != nil {
		return nil, err
	}
	w := bo.Width
	if w <= 0 {
		return nil, invalidf("beam width %d, want > 0", w)
	}
	if w > math.MaxInt32/sources {
		return nil, invalidf("beam width %d × %d sources is too many rows", w, sources)
	}
	if bo.NBest < 0 || bo.NBest > w {
		return nil, invalidf("NBest %d, want 0 to the width %d (0 means 1)", bo.NBest, w)
	}
	if math.IsNaN(bo.LengthPenalty) || math.IsInf(bo.LengthPenalty, 0) {
		return nil, invalidf("length penalty %v, want a finite value", bo.LengthPenalty)
	}
	nbest := max(bo.NBest, 1)
	bs := &beamSearch{opt: opt, w: w, alpha: bo.LengthPenalty, lsm: make([]float64, vocab), earlyStop: earlyStop}

	rows := sources * w
	sel := make([]int, rows)
	tokens := make([]int, rows)
	for r := range sel {
		sel[r] = r / w
		tokens[r] = opt.BOS
	}
	s, err := selectRows(s0, sel, 0)
	if err != nil {
		return nil, err
	}
	srcs := make([]beamSource, sources)
	for b := range srcs {
		srcs[b].live = []hyp{{tokens: []int{}}}
	}
	// The sources' searches are independent: they run in groups of
	// sources, taken in turn by the cores (parallel.Pull) when the batch
	// is large enough, each core with its own scratch buffers.
	groups, per := 1, sources
	if sources*w*vocab >= 1<<14 {
		per = max(1, (1<<13)/(w*vocab))
		groups = (sources + per - 1) / per
	}
	searches := make([]*beamSearch, min(runtime.GOMAXPROCS(0), groups))
	searches[0] = bs
	for p := 1; p < len(searches); p++ {
		searches[p] = &beamSearch{opt: opt, w: w, alpha: bo.LengthPenalty, lsm: make([]float64, vocab), earlyStop: earlyStop}
	}
	errs := make([]error, sources)
	live := make([]bool, groups)
	for t := 0; t < opt.MaxLen; t++ {
		logits, next, err := step(m, s, tokens, vocab, t)
		if err != nil {
			return nil, err
		}
		s = next
		sel = make([]int, rows)
		tokens = make([]int, rows)
		parallel.Pull(groups, len(searches), func(worker, g int) {
			live[g] = false
			for b := g * per; b < min((g+1)*per, sources); b++ {
				running, err := searches[worker].source(&srcs[b], logits, sel, tokens, b, t)
				if err != nil {
					errs[b] = err
					return
				}
				live[g] = live[g] || running
			}
		})
		for _, err := range errs { // the first source's error, as a serial search would return
			if err != nil {
				return nil, err
			}
		}
		running := false
		for _, l := range live {
			running = running || l
		}
		if !running {
			break
		}
		if s, err = selectRows(s, sel, t); err != nil {
			return nil, err
		}
	}
	out := make([][]Hypothesis, sources)
	for b := range srcs {
		f := srcs[b].finished
		out[b] = f[:min(nbest, len(f)):min(nbest, len(f))]
	}
	return out, nil
}

// hyp is a live hypothesis.
type hyp struct {
	tokens []int
	lp     float64
}

// beamSource is the search of one source row.
type beamSource struct {
	live     []hyp        // live[j] is in row base+j
	finished []Hypothesis // best first, at most width
	done     bool
}

type candidate struct {
	slot, tok int
	lp        float64
}

type beamSearch struct {
	opt   Options
	w     int
	alpha float64
	lsm   []float64
	top   []int
	cands []candidate

	earlyStop bool
}

// source runs step t of source b's search from the batch's logits and
// writes its rows' selection and next tokens into sel and tokens; it
// reports whether the source is still running.
func (bs *beamSearch) source(src *beamSource, logits [][]float64, sel, tokens []int, b, t int) (bool, error) {
	w := bs.w
	base := b * w
	if !src.done {
		parents, err := bs.advance(src, logits[base:base+w], base, t)
		if err != nil {
			return false, err
		}
		if !src.done {
			for j, p := range parents {
				sel[base+j] = base + p
				tokens[base+j] = src.live[j].tokens[len(src.live[j].tokens)-1]
			}
			for j := len(parents); j < w; j++ {
				sel[base+j] = base
				tokens[base+j] = bs.opt.EOS
			}
			return true, nil
		}
	}
	for j := 0; j < w; j++ {
		sel[base+j] = base + j
		tokens[base+j] = bs.opt.EOS
	}
	return false, nil
}

// score applies the length penalty to a log-probability.
func (bs *beamSearch) score(lp float64, length int) float64 {
	if bs.alpha == 0 {
		return lp
	}
	return lp / math.Pow((5+float64(length))/6, bs.alpha)
}

// finish adds a finished hypothesis, keeping the best width, best first
// (an earlier one first among equal scores).
func (bs *beamSearch) finish(src *beamSource, tokens []int, lp float64, length int) {
	h := Hypothesis{Tokens: tokens, LogProb: lp, Score: bs.score(lp, length)}
	f := src.finished
	i := sort.Search(len(f), func(i int) bool { return f[i].Score < h.Score })
	if i >= bs.w {
		return
	}
	f = append(f, Hypothesis{})
	copy(f[i+1:], f[i:])
	f[i] = h
	if len(f) > bs.w {
		f = f[:bs.w]
	}
	src.finished = f
}

// advance extends src's live hypotheses from their rows' logits (rows[j]
// is the row of live[j], row base+j of the batch) and returns, for each
// new live hypothesis, the slot of its parent. It marks src done when the
// search of this source is over.
func (bs *beamSearch) advance(src *beamSource, rows [][]float64, base, t int) ([]int, error) {
	w := bs.w
	cands := bs.cands[:0]
	for j, h := range src.live {
		if err := checkRow(rows[j], base+j, t); err != nil {
			return nil, err
		}
		logSoftmaxInto(bs.lsm, rows[j])
		// The candidates taken are among the best 2w overall (at most one
		// per hypothesis ends with EOS), so among each hypothesis' best 2w.
		bs.top = topIndices(bs.lsm, 2*w, bs.top[:0])
		for _, tok := range bs.top {
			cands = append(cands, candidate{slot: j, tok: tok, lp: h.lp + bs.lsm[tok]})
		}
	}
	bs.cands = cands
	// A strict total order (slot and token tell candidates apart), so the
	// result does not depend on the sorting algorithm.
	slices.SortFunc(cands, func(a, b candidate) int {
		switch {
		case a.lp != b.lp:
			if a.lp > b.lp {
				return -1
			}
			return 1
		case a.slot != b.slot:
			return cmp.Compare(a.slot, b.slot)
		}
		return cmp.Compare(a.tok, b.tok)
	})
	var live []hyp
	var parents []int
	for _, c := range cands {
		if len(live) == w {
			break
		}
		parent := src.live[c.slot].tokens
		if c.tok == bs.opt.EOS {
			bs.finish(src, append([]int{}, parent...), c.lp, len(parent)+1)
			continue
		}
		tokens := make([]int, len(parent)+1)
		copy(tokens, parent)
		tokens[len(parent)] = c.tok
		live = append(live, hyp{tokens: tokens, lp: c.lp})
		parents = append(parents, c.slot)
	}
	if t == bs.opt.MaxLen-1 { // the last step: finish the live ones as they are
		for _, h := range live {
			bs.finish(src, h.tokens, h.lp, len(h.tokens))
		}
		live = nil
	}
	src.live = live
	src.done = len(live) == 0 || (bs.earlyStop && bs.cannotImprove(src))
	return parents, nil
}

// cannotImprove reports whether src has width finished hypotheses and no
// live one can score better than the worst of them. A live hypothesis'
// log-probability lp only decreases, and its final length L lies in
// [len+1, MaxLen]; lp/((5+L)/6)^α is monotone in L, so its best is at
// one end.
func (bs *beamSearch) cannotImprove(src *beamSource) bool {
	if len(src.finished) < bs.w {
		return false
	}
	worst := src.finished[bs.w-1].Score
	for _, h := range src.live {
		best := math.Max(bs.score(h.lp, len(h.tokens)+1), bs.score(h.lp, bs.opt.MaxLen))
		if best > worst {
			return false
		}
	}
	return true
}
