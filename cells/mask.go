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
	if len(masks) != len(xs) {
		return nil, nil, errors.Wrapf(ErrState, "unroll: %d masks for %d steps", len(masks), len(xs))
	}
	if c == nil {
		return nil, nil, errors.Wrap(ErrConfig, "unroll: nil cell")
	}
	if len(xs) == 0 {
		return nil, nil, errors.Wrap(ErrEmpty, "unroll: no time steps")
	}
	if xs[0] == nil || xs[0].Shape().Dims() != 2 {
		return nil, nil, errors.Wrap(ErrState, "unroll: each step's input must be a [batch, input] matrix")
	}
	s := s0
	if s == nil {
		var err error
		if s, err = c.ZeroState(xs[0].Shape()[0]); err != nil {
			return nil, nil, errors.Wrap(err, "unroll")
		}
	}
	outs := make([]*gorgonia.Node, len(xs))
	for i := range xs {
		t := i
		if reverse {
			t = len(xs) - 1 - i
		}
		if masks[t] == nil {
			return nil, nil, errors.Wrapf(ErrState, "unroll: nil mask at step %d", t)
		}
		_, next, err := c.Step(xs[t], s)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "unroll: step %d", t)
		}
		kept := make(State, len(next))
		for k := range next {
			if kept[k], err = graph.Blend(next[k], s[k], masks[t]); err != nil {
				return nil, nil, errors.Wrapf(err, "unroll: step %d, state %d", t, k)
			}
		}
		if outs[t], err = graph.MaskRows(kept[0], masks[t], false); err != nil {
			return nil, nil, errors.Wrapf(err, "unroll: step %d", t)
		}
		s = kept
	}
	return outs, s, nil
}
