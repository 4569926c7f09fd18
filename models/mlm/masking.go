package mlm

import (
	"math"
	"slices"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
)

// Masking is BERT's masking recipe: the share of a sequence's tokens
// selected for prediction, and what becomes of a selected token.
type Masking struct {
	// Rate is the share of a sequence's candidate tokens selected (BERT:
	// 0.15): a sequence of n candidates gets max(1, round(Rate·n))
	// selections, at most n.
	Rate float64 `json:"rate"`
	// Mask is the probability that a selected token is replaced by [MASK]
	// (BERT: 0.8).
	Mask float64 `json:"mask"`
	// Random is the probability that a selected token is replaced by a
	// word drawn uniformly from the vocabulary (BERT: 0.1); with
	// probability 1 − Mask − Random it is kept.
	Random float64 `json:"random"`
}

// BERT returns BERT's masking: 15% of the tokens, of those 80% [MASK],
// 10% a random word, 10% kept.
func BERT() Masking { return Masking{Rate: 0.15, Mask: 0.8, Random: 0.1} }

// Validate checks that the rate and probabilities lie in [0, 1] and that
// Mask + Random ≤ 1.
func (m Masking) Validate() error {
	for _, x := range []struct {
		name string
		v    float64
	}{{"rate", m.Rate}, {"mask", m.Mask}, {"random", m.Random}} {
		if !(x.v >= 0 && x.v <= 1) {
			return errors.Wrapf(ErrMasking, "%s %v outside [0, 1]", x.name, x.v)
		}
	}
	if m.Rate == 0 {
		return errors.Wrap(ErrMasking, "rate 0 selects nothing")
	}
	if m.Mask+m.Random > 1+1e-12 {
		return errors.Wrapf(ErrMasking, "mask %v + random %v exceed 1", m.Mask, m.Random)
	}
	return nil
}

// Count returns how many of a sequence's n candidate tokens the recipe
// selects: min(n, max(1, round(Rate·n))), 0 for none.
func (m Masking) Count(n int) int {
	if n <= 0 {
		return 0
	}
	return min(n, max(1, int(math.Round(m.Rate*float64(n)))))
}

// Masker applies a [Masking] over a vocabulary whose ordinary words are
// the ids Words..Vocab−1: only they are candidates for selection and
// random replacement (ids below Words, the special tokens, the unknown
// word and [MASK] among them, are never selected).
type Masker struct {
	Masking
	MaskID int // the id of [MASK]
	Words  int // the first ordinary word's id
	Vocab  int // the vocabulary's size
}

// Validate checks the masking and the ids.
func (k Masker) Validate() error {
	if err := k.Masking.Validate(); err != nil {
		return err
	}
	switch {
	case k.Words < 0 || k.Words >= k.Vocab:
		return errors.Wrapf(ErrMasking, "ordinary words from id %d in a vocabulary of %d: none", k.Words, k.Vocab)
	case k.MaskID < 0 || k.MaskID >= k.Words:
		return errors.Wrapf(ErrMasking, "[MASK] id %d must be a special id below %d", k.MaskID, k.Words)
	}
	return nil
}

// Candidate reports whether a token id may be selected.
func (k Masker) Candidate(id int) bool { return id >= k.Words && id < k.Vocab }

// Masked is one sequence after masking.
type Masked struct {
	// Inputs is what the model reads: the sequence with the selected
	// tokens replaced ([MASK], a random word, or themselves).
	Inputs []int
	// Selected marks the positions whose original token is predicted.
	Selected []bool
}

// Positions returns the selected positions in order.
func (m Masked) Positions() []int {
	var out []int
	for t, s := range m.Selected {
		if s {
			out = append(out, t)
		}
	}
	return out
}

// Apply masks seq, drawing from src: Count(candidates) positions chosen
// uniformly among the candidates, each replaced by [MASK] with
// probability Mask, by a uniformly drawn ordinary word with probability
// Random, kept otherwise. seq is not modified. The draws
// depend only on seq, the settings and src's state.
func (k Masker) Apply(seq []int, src graph.Source) Masked {
	out := Masked{Inputs: slices.Clone(seq), Selected: make([]bool, len(seq))}
	var cands []int
	for t, id := range seq {
		if k.Candidate(id) {
			cands = append(cands, t)
		}
	}
	n := k.Count(len(cands))
	if n == 0 {
		return out
	}
	// A partial Fisher–Yates shuffle: the first n of a uniform
	// permutation of the candidates.
	for i := 0; i < n; i++ {
		j := i + src.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	pos := cands[:n]
	slices.Sort(pos)
	for _, t := range pos {
		out.Selected[t] = true
		r := src.Float64()
		switch {
		case r < k.Mask:
			out.Inputs[t] = k.MaskID
		case r < k.Mask+k.Random:
			out.Inputs[t] = k.Words + src.IntN(k.Vocab-k.Words)
		}
	}
	return out
}
