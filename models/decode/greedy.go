package decode

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Greedy decodes every row of s0 by always taking the most likely token
// (the largest logit; the lowest token id among equals) and returns one
// sequence per row, in the order of s0's rows.
//
// Every row starts by feeding opt.BOS. A row stops when it emits opt.EOS,
// which is not included in its sequence, or after opt.MaxLen tokens. All
// rows step together; a finished row keeps being fed EOS but its output is
// frozen, and decoding stops as soon as every row has finished. A row that
// emits EOS first returns an empty (non-nil) sequence.
func Greedy(m Model, s0 State, opt Options) ([][]int, error) {
	vocab, rows, err := setup(m, s0, opt)
	if err != nil {
		return nil, err
	}
	return generate(m, s0, opt, vocab, rows, argmax)
}

// SampleOptions are the settings of [Sample].
type SampleOptions struct {
	// Temperature divides the logits before the softmax: below 1 sharpens
	// the distribution, above 1 flattens it. It must be ≥ 0; a temperature
	// of 0 means greedy decoding (the most likely token, as [Greedy]).
	Temperature float64
	// TopK keeps only the TopK most likely tokens (the lowest ids among
	// equals); 0 turns it off, and so does a TopK ≥ the vocabulary size.
	TopK int
	// TopP keeps the nucleus: the smallest set of most likely tokens whose
	// probability sum is ≥ TopP (after top-k). 0 or 1 turns it off; it must
	// lie in [0, 1].
	TopP float64
	// Source is the random generator samples are drawn from (one Float64
	// per row still running, per step); *rand.Rand is the type graph.Source
	// names, so graph.NewSource(seed) gives one, and the same seed gives
	// the same samples. Required, even at temperature 0.
	Source *rand.Rand
}

// Sample decodes every row of s0 by drawing each token at random, and
// returns one sequence per row, with the same conventions as [Greedy]
// (BOS first, EOS ends a row and is excluded, at most MaxLen tokens).
//
// For every row, at every step, the logits are divided by so.Temperature,
// cut to the so.TopK most likely tokens, then to the top-p nucleus, and
// the token is drawn from the softmax of what is left, renormalised. The
// softmax subtracts the largest logit first, so large logits (or a tiny
// temperature) do not overflow. A temperature of 0 gives greedy decoding.
func Sample(m Model, s0 State, opt Options, so SampleOptions) ([][]int, error) {
	vocab, rows, err := setup(m, s0, opt)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(so.Temperature) || math.IsInf(so.Temperature, 0) || so.Temperature < 0 {
		return nil, invalidf("temperature %v, want a finite value ≥ 0 (0 means greedy)", so.Temperature)
	}
	if so.TopK < 0 {
		return nil, invalidf("TopK %d, want ≥ 0 (0 turns it off)", so.TopK)
	}
	if math.IsNaN(so.TopP) || so.TopP < 0 || so.TopP > 1 {
		return nil, invalidf("TopP %v, want a value in [0, 1] (0 or 1 turns it off)", so.TopP)
	}
	if so.Source == nil {
		return nil, invalidf("nil random source (give SampleOptions a seeded Source)")
	}
	if so.Temperature == 0 {
		return generate(m, s0, opt, vocab, rows, argmax)
	}
	sp := &sampler{so: so, scaled: make([]float64, vocab), w: make([]float64, vocab)}
	return generate(m, s0, opt, vocab, rows, sp.pick)
}

// generate runs the batched loop Greedy and Sample share; pick chooses a
// row's next token from its logits (already checked by checkRow).
func generate(m Model, s State, opt Options, vocab, rows int, pick func([]float64) int) ([][]int, error) {
	out := make([][]int, rows)
	for i := range out {
		out[i] = []int{}
	}
	done := make([]bool, rows)
	tokens := make([]int, rows)
	for i := range tokens {
		tokens[i] = opt.BOS
	}
	running := rows
	for t := 0; t < opt.MaxLen && running > 0; t++ {
		logits, next, err := step(m, s, tokens, vocab, t)
		if err != nil {
			return nil, err
		}
		s = next
		tokens = make([]int, rows)
		for i := range tokens {
			tokens[i] = opt.EOS
			if done[i] {
				continue
			}
			if err := checkRow(logits[i], i, t); err != nil {
				return nil, err
			}
			tok := pick(logits[i])
			if tok == opt.EOS {
				done[i] = true
				running--
				continue
			}
			out[i] = append(out[i], tok)
			tokens[i] = tok
		}
	}
	return out, nil
}

// sampler draws a token from one row's logits; its buffers are reused
// across rows and steps.
type sampler struct {
	so     SampleOptions
	scaled []float64
	w      []float64
	idx    []int
	heap   []int
}

func (sp *sampler) pick(l []float64) int {
	so := sp.so
	x := sp.scaled
	// Subtract the largest logit before dividing: the result is ≤ 0, so a
	// tiny temperature cannot overflow, and the largest logit keeps a
	// finite value (0) however small the temperature.
	top := l[argmax(l)]
	for j, v := range l {
		x[j] = (v - top) / so.Temperature
	}
	// Tokens are ranked by their logits, not by x, where rounding could
	// merge close values.
	topP := so.TopP > 0 && so.TopP < 1
	idx := sp.idx[:0]
	switch {
	case so.TopK > 0 && so.TopK < len(l):
		sp.heap = topIndices(l, so.TopK, sp.heap[:0])
		idx = append(idx, sp.heap...)
	default:
		for j, v := range l {
			if !math.IsInf(v, -1) {
				idx = append(idx, j)
			}
		}
		if topP {
			sortByRank(l, idx)
		}
	}
	sp.idx = idx
	total := 0.0
	for _, j := range idx { // the largest x is 0: a stable softmax
		sp.w[j] = math.Exp(x[j])
		total += sp.w[j]
	}
	if topP { // idx is sorted, most likely first
		cum := 0.0
		for n, j := range idx {
			cum += sp.w[j]
			if cum >= so.TopP*total {
				idx = idx[:n+1]
				total = cum
				break
			}
		}
	}
	u := so.Source.Float64() * total
	cum := 0.0
	last := idx[0] // replaced below: the most likely token has weight 1
	for _, j := range idx {
		if sp.w[j] == 0 {
			continue
		}
		cum += sp.w[j]
		if u < cum {
			return j
		}
		last = j
	}
	return last // rounding: u ≥ the last partial sum
}

// ranks reports whether token a ranks before token b: a larger value, or
// an equal value and a lower id.
func ranks(x []float64, a, b int) bool {
	return x[a] > x[b] || (x[a] == x[b] && a < b)
}

// sortByRank sorts idx best first. ranks is a strict total order on
// distinct ids, so the result does not depend on the sorting algorithm;
// short lists (beam search sorts its best 2·width) are insertion-sorted.
func sortByRank(x []float64, idx []int) {
	if len(idx) <= 16 {
		for i := 1; i < len(idx); i++ {
			for j := i; j > 0 && ranks(x, idx[j], idx[j-1]); j-- {
				idx[j], idx[j-1] = idx[j-1], idx[j]
			}
		}
		return
	}
	slices.SortFunc(idx, func(a, b int) int {
		if ranks(x, a, b) {
			return -1
		}
		if ranks(x, b, a) {
			return 1
		}
		return 0
	})
}

// topIndices appends to buf the ids of the k best-ranked tokens of x that
// are not −Inf (fewer if there are fewer), best first, in O(n log k).
func topIndices(x []float64, k int, buf []int) []int {
	if k <= 32 {
		return topIndicesShort(x, k, buf)
	}
	h := buf[:0] // a min-heap: h[0] is the worst of the best k so far
	worse := func(a, b int) bool { return ranks(x, h[b], h[a]) }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && worse(c+1, c) {
				c++
			}
			if !worse(c, i) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for j, v := range x {
		if math.IsInf(v, -1) || math.IsNaN(v) {
			continue
		}
		if len(h) < k {
			h = append(h, j)
			for i := len(h) - 1; i > 0; { // sift up
				p := (i - 1) / 2
				if !worse(i, p) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if k > 0 && ranks(x, j, h[0]) {
			h[0] = j
			down(0)
		}
	}
	sortByRank(x, h)
	return h
}

// topIndicesShort is topIndices for a small k: the best k so far are kept
// sorted, best first, and a token better than the last of them is
// inserted in place. The top k are unique (ranks is a strict total order),
// so the result is topIndices'.
func topIndicesShort(x []float64, k int, buf []int) []int {
	h := buf[:0]
	if k <= 0 {
		return h
	}
	for j, v := range x {
		if math.IsInf(v, -1) || math.IsNaN(v) {
			continue
		}
		n := len(h)
		if n == k {
			if !ranks(x, j, h[n-1]) {
				continue
			}
			n-- // drop the last
		} else {
			h = append(h, 0)
		}
		i := n
		for i > 0 && ranks(x, j, h[i-1]) {
			h[i] = h[i-1]
			i--
		}
		h[i] = j
	}
	return h
}
