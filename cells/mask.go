package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// UnrollMasked is Unroll over a padded batch. masks[t] is a [batch] node
// holding 1 where sequence b has a token at step t and 0 where it is
// padding. At a padded step a sequence keeps its state
// (s_t = m·s_new + (1−m)·s_{t−1}) and its output is zero, so the final
// state is each sequence's state after its own last token and padded steps
// contribute nothing to a loss over the outputs, nor to any gradient.
func UnrollMasked(c Cell, xs []*gorgonia.Node, s0 State, masks []*gorgonia.Node) ([]*gorgonia.Node, State, error) {
	return unrollMasked(c, xs, s0, masks, false)
}

// UnrollReverseMasked is UnrollReverse over a padded batch: each sequence's
// reverse pass starts at its own last token, because its state stays s0
// through the padded steps at the end.
func UnrollReverseMasked(c Cell, xs []*gorgonia.Node, s0 State, masks []*gorgonia.Node) ([]*gorgonia.Node, State, error) {
	return unrollMasked(c, xs, s0, masks, true)
}

func unrollMasked(c Cell, xs []*gorgonia.Node, s0 State, masks []*gorgonia.Node, reverse bool) ([]*gorgonia.Node, State, error) {
	if masks == nil {
		return nil, nil, errors.Wrap(ErrState, "unroll: nil masks")
	}
	return unroll(c, xs, s0, masks, reverse)
}

// Keep applies one step's mask ([B] of 0/1) to a step's result: rows whose
// mask is 0 keep the previous state and output zeros. It returns the output
// and the kept state. UnrollMasked applies it at every step; a caller that
// writes its own loop (a decoder with attention) uses it directly.
func Keep(mask *gorgonia.Node, prev, next State) (*gorgonia.Node, State, error) {
	if mask == nil {
		return nil, nil, errors.Wrap(ErrState, "nil mask")
	}
	kept := make(State, len(next))
	for k := range next {
		var err error
		if kept[k], err = graph.Blend(next[k], prev[k], mask); err != nil {
			return nil, nil, errors.Wrapf(err, "state %d", k)
		}
	}
	out, err := graph.MaskRows(kept[0], mask, false)
	return out, kept, err
}
