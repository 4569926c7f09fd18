package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Unroll runs c over the time steps xs (each [batch, input]) from the state
// s0, and returns every step's output and the final state. A nil s0 means
// c.ZeroState(batch). It is exactly this loop:
//
//	s := s0
//	for t, x := range xs {
//		outs[t], s, err = c.Step(x, s)
//	}
//	return outs, s, nil
func Unroll(c Cell, xs []*gorgonia.Node, s0 State) ([]*gorgonia.Node, State, error) {
	return unroll(c, xs, s0, nil, false)
}

// UnrollReverse runs c over xs from the last step to the first, as the
// backward half of a bidirectional layer does. outs[t] is the output after
// consuming xs[T−1], …, xs[t] (indexed by original time, as PyTorch's
// output), and the final state is the one after xs[0].
func UnrollReverse(c Cell, xs []*gorgonia.Node, s0 State) ([]*gorgonia.Node, State, error) {
	return unroll(c, xs, s0, nil, true)
}

// unroll runs c over xs, backwards if reverse; with masks (one [B] node per
// step) a padded step keeps the state and outputs zeros.
func unroll(c Cell, xs []*gorgonia.Node, s0 State, masks []*gorgonia.Node, reverse bool) ([]*gorgonia.Node, State, error) {
	if masks != nil && len(masks) != len(xs) {
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
		h, next, err := c.Step(xs[t], s)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "unroll: step %d", t)
		}
		if masks != nil {
			if h, next, err = Keep(masks[t], s, next); err != nil {
				return nil, nil, errors.Wrapf(err, "unroll: step %d", t)
			}
		}
		outs[t], s = h, next
	}
	return outs, s, nil
}
