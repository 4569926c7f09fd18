package graph

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout zeroes each element of its inputs with probability P during
// training and scales the rest by 1/(1−P) (inverted dropout, Srivastava et
// al. 2014), so evaluation needs no rescaling. Gorgonia's own Dropout has a
// wrong gradient (it scales by 1/P, and is zero at P = 0); this one
// multiplies by a mask input, whose gradient is the mask itself.
//
// Every Apply adds a mask input to the graph; Resample draws all of them
// from the seeded source before a run. In evaluation mode the masks are all
// ones.
type Dropout struct {
	p        float64
	src      Source
	masks    []*gorgonia.Node
	fused    []*dropState
	training bool
}

// OptionalDropout returns a dropout of probability p drawing from a source
// seeded with seed, or nil (no dropout) where p is 0 or less: what a model
// with a Dropout setting builds for each graph.
func OptionalDropout(p float64, seed uint64) (*Dropout, error) {
	if p <= 0 {
		return nil, nil
	}
	return NewDropout(p, NewSource(seed))
}

// NewDropout returns a dropout of probability p in [0, 1), drawing from src.
func NewDropout(p float64, src Source) (*Dropout, error) {
	if !(p >= 0 && p < 1) {
		return nil, errors.Errorf("graph: dropout probability %v must be in [0, 1)", p)
	}
	if src == nil && p > 0 {
		return nil, errors.New("graph: dropout needs a random source")
	}
	return &Dropout{p: p, src: src, training: true}, nil
}

// P returns the drop probability.
func (d *Dropout) P() float64 { return d.p }

// Reseed replaces the random source by NewSource(seed): a trainer reseeds
// from the global step so that a resumed run draws the same masks.
func (d *Dropout) Reseed(seed uint64) { d.src = NewSource(seed) }

// SetTraining switches between training (random masks) and evaluation
// (all ones). Call Resample after switching.
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Apply returns x ⊙ mask for a new mask input of x's shape, in g.
func (d *Dropout) Apply(g *Graph, x *gorgonia.Node) (*gorgonia.Node, error) {
	if g == nil || x == nil {
		return nil, errors.New("graph: dropout of nil")
	}
	m, err := g.Input(g.UniqueName("dropout_mask"), x.Shape()...)
	if err != nil {
		return nil, err
	}
	d.masks = append(d.masks, m)
	if err := d.fill(m); err != nil {
		return nil, err
	}
	out, err := gorgonia.HadamardProd(x, m)
	return out, errors.Wrap(err, "graph: dropout")
}

// Resample draws every mask anew (or sets them to ones in evaluation mode).
// The masks of ApplyFused get one seed each, drawn in the order they were
// applied; they draw their elements when they run.
func (d *Dropout) Resample() error {
	for _, m := range d.masks {
		if err := d.fill(m); err != nil {
			return err
		}
	}
	for _, st := range d.fused {
		d.seed(st)
	}
	return nil
}

func (d *Dropout) fill(m *gorgonia.Node) error {
	keep := 1 / (1 - d.p)
	if math.IsInf(keep, 0) {
		return errors.New("graph: dropout probability 1")
	}
	t, ok := m.Value().(*tensor.Dense)
	if !ok || t.RequiresIterator() {
		return errors.Errorf("graph: dropout mask %s has no dense value", m.Name())
	}
	// written in place, one draw per element as before (the masks of a seed
	// are those it always gave)
	switch data := t.Data().(type) {
	case []float32:
		fillMask(d, data[:t.Shape().TotalSize()], float32(keep))
	case []float64:
		fillMask(d, data[:t.Shape().TotalSize()], keep)
	default:
		return errors.Wrapf(ErrDtype, "dropout mask %s", m.Name())
	}
	return nil
}

// fillMask sets each element of v to keep with probability 1 − p and to 0
// otherwise (all to 1 in evaluation).
func fillMask[T float32 | float64](d *Dropout, v []T, keep T) {
	if !d.training || d.p == 0 {
		for i := range v {
			v[i] = 1
		}
		return
	}
	for i := range v {
		v[i] = 0
		if d.src.Float64() >= d.p {
			v[i] = keep
		}
	}
}
