package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/recurrent"
)

// SeqOptions are the options of Sequence.
type SeqOptions struct {
	// Reverse runs the sequence from its last step to its first, as
	// UnrollReverse; outputs stay indexed by original time.
	Reverse bool
	// Mask, if not nil, is [T·B]: 1 where sequence b has a token at step t
	// (element t·B + b), 0 where it is padding, with UnrollMasked's meaning.
	// Only 0 and 1 are allowed.
	Mask *gorgonia.Node
	// Stepwise builds the step-by-step subgraph (Unroll over row blocks)
	// instead of the fused kernel. Both compute the same values and
	// gradients; the fused kernel is several times faster. A cell whose
	// kind has no fused kernel (Spec.Fused), or that is no registered
	// kind's cell, always runs step by step.
	Stepwise bool
	// NoInputGrad declares x data that needs no gradient (PyTorch's
	// requires_grad=False on the input): a fused kernel then skips the
	// product ∂x = dG·W_ih of its backward pass, and a gradient with respect
	// to x is an error. The step-by-step subgraph ignores it. Leave it
	// false when x is computed (an embedding, a layer below) or when its
	// gradient is wanted.
	NoInputGrad bool
}

// Sequence runs c over a whole batch of sequences held time-major in one
// matrix, x [T·B, I]: rows t·B … t·B+B−1 are step t. It returns every
// step's output in one matrix [T·B, H], time-major too, and the final
// state. A nil s0 means c.ZeroState(batch). A [Stack] runs layer by layer,
// each layer over the whole sequence (its dropout, if any, draws one mask
// for the whole [T·B, H] output of a layer).
//
// For a cell whose kind registers a fused kernel (Spec.Fused; the
// built-in kinds, through [recurrent.Fused]) it builds one fused node: the
// input projections of all steps in one matrix product, each step's gates
// in one pass over memory, and a backward pass through time of its own. It
// is the fast way to run a layer, and the values and gradients are those of
// Unroll over the same steps (tested on random shapes, against the PyTorch
// fixtures and finite differences). Every other cell — a kind without a
// fused kernel, a cell type of one's own — runs the step-by-step subgraph
// of its Step, as Unroll builds it.
func Sequence(c Cell, x *gorgonia.Node, batch int, s0 State, opt SeqOptions) (*gorgonia.Node, State, error) {
	if c == nil {
		return nil, nil, errors.Wrap(ErrConfig, "sequence: nil cell")
	}
	if x == nil || x.Shape().Dims() != 2 {
		return nil, nil, errors.Wrap(ErrState, "sequence: the input must be a [steps·batch, input] matrix")
	}
	if batch <= 0 {
		return nil, nil, errors.Wrapf(ErrConfig, "sequence: batch size %d must be greater than zero", batch)
	}
	rows := x.Shape()[0]
	if rows < batch || rows%batch != 0 {
		return nil, nil, errors.Wrapf(ErrState, "sequence: %d input rows are not a whole number of steps of batch %d", rows, batch)
	}
	T := rows / batch
	if opt.Mask != nil {
		if s := opt.Mask.Shape(); s.Dims() != 1 || s[0] != rows {
			return nil, nil, errors.Wrapf(ErrState, "sequence: mask is %v, want [%d]", s, rows)
		}
	}
	if s0 == nil {
		var err error
		if s0, err = c.ZeroState(batch); err != nil {
			return nil, nil, errors.Wrap(err, "sequence")
		}
	}
	if st, ok := c.(*Stack); ok && !opt.Stepwise {
		return st.sequence(x, batch, s0, opt)
	}
	if !opt.Stepwise {
		if f := fusedKernel(c); f != nil {
			y, s, err := f(x, batch, s0, opt)
			if err != nil {
				return nil, nil, errors.Wrap(err, "sequence")
			}
			return y, s, nil
		}
	}
	xs := make([]*gorgonia.Node, T)
	var masks []*gorgonia.Node
	if opt.Mask != nil {
		masks = make([]*gorgonia.Node, T)
	}
	for t := range xs {
		var err error
		if xs[t], err = graph.Rows(x, t*batch, (t+1)*batch); err != nil {
			return nil, nil, errors.Wrap(err, "sequence")
		}
		if masks != nil {
			if masks[t], err = graph.Rows(opt.Mask, t*batch, (t+1)*batch); err != nil {
				return nil, nil, errors.Wrap(err, "sequence")
			}
		}
	}
	outs, s, err := unroll(c, xs, s0, masks, opt.Reverse)
	if err != nil {
		return nil, nil, errors.Wrap(err, "sequence")
	}
	y, err := graph.ConcatRows(outs...)
	if err != nil {
		return nil, nil, errors.Wrap(err, "sequence")
	}
	return y, s, nil
}

// recurrentInputs returns the cell's parameters as the inputs of a fused node.
func (a Affine) recurrentInputs(x *gorgonia.Node, s0 State, opt SeqOptions) recurrent.Inputs {
	in := recurrent.Inputs{X: x, H0: s0[0], WIH: a.wih, WHH: a.whh, BIH: a.bih, BHH: a.bhh, Mask: opt.Mask, NoInputGrad: opt.NoInputGrad}
	if len(s0) > 1 {
		in.C0 = s0[1]
	}
	return in
}

// fusedAs returns the fused kernel of the RNN, LSTM and GRU cells: the
// recurrence k over the cell's parameters.
func (a Affine) fusedAs(k recurrent.Kind) SequenceFunc {
	return func(x *gorgonia.Node, batch int, s0 State, opt SeqOptions) (*gorgonia.Node, State, error) {
		if err := a.CheckRows(x, batch, s0); err != nil {
			return nil, nil, err
		}
		return a.fusedWith(k, a.recurrentInputs(x, s0, opt), opt.Reverse)
	}
}

func (a Affine) fusedWith(k recurrent.Kind, in recurrent.Inputs, reverse bool) (*gorgonia.Node, State, error) {
	out, h, c, err := recurrent.Fused(k, reverse, in)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "cells: %s sequence", a.cfg.name())
	}
	if c != nil {
		return out, State{h, c}, nil
	}
	return out, State{h}, nil
}

// fused is the fused kernel of the peephole LSTM.
func (p *Peephole) fused(x *gorgonia.Node, batch int, s0 State, opt SeqOptions) (*gorgonia.Node, State, error) {
	if err := p.CheckRows(x, batch, s0); err != nil {
		return nil, nil, err
	}
	in := p.recurrentInputs(x, s0, opt)
	in.PI, in.PF, in.PO = p.pi, p.pf, p.po
	return p.fusedWith(recurrent.Peephole, in, opt.Reverse)
}

// sequence runs the stack layer by layer, each over the whole sequence.
func (s *Stack) sequence(x *gorgonia.Node, batch int, s0 State, opt SeqOptions) (*gorgonia.Node, State, error) {
	layers, err := s.Layers(s0)
	if err != nil {
		return nil, nil, errors.Wrap(err, "sequence")
	}
	next := make([]State, len(layers))
	in := x
	for i, c := range s.cells {
		var y *gorgonia.Node
		o := opt
		o.NoInputGrad = opt.NoInputGrad && i == 0 // the layers above need their input's gradient
		if y, next[i], err = Sequence(c, in, batch, layers[i], o); err != nil {
			return nil, nil, errors.Wrapf(err, "stack: layer %d", i)
		}
		in = y
		if s.dropout != nil && i < len(s.cells)-1 {
			if in, err = s.dropout.Apply(s.g, y); err != nil {
				return nil, nil, errors.Wrapf(err, "stack: dropout after layer %d", i)
			}
		}
	}
	st, err := s.Join(next)
	if err != nil {
		return nil, nil, err
	}
	return in, st, nil
}
