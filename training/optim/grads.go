package optim

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Grads maps parameter names to their gradient tensors, each of the same
// shape and dtype as its parameter.
type Grads map[string]*tensor.Dense

// GradsFrom reads the gradients of parameter nodes after a run of a machine
// compiled with gorgonia.BindDualValues(nodes...): node.Grad() for each
// node, keyed by node.Name(), copied (so a later [ZeroGrads] or run does
// not change the Grads returned). A nil node, a node without a gradient, a
// gradient that is not a float32 or float64 tensor, and two nodes of one
// name are errors.
//
// With BindDualValues, Gorgonia adds each run's gradient to the previous
// ones (docs/architecture.md); call ZeroGrads after reading them.
func GradsFrom(nodes gorgonia.Nodes) (Grads, error) { return grads(nodes, true) }

// GradsOf is GradsFrom without the copies: the Grads hold the nodes' own
// gradient tensors (their dual values), which the next run adds to and
// ZeroGrads clears, and which ClipGlobalNorm scales in place. A trainer
// that steps and then zeroes the gradients saves a copy of every gradient
// per step (an embedding table's is as large as the table).
func GradsOf(nodes gorgonia.Nodes) (Grads, error) { return grads(nodes, false) }

func grads(nodes gorgonia.Nodes, clone bool) (Grads, error) {
	g := make(Grads, len(nodes))
	for _, n := range nodes {
		t, err := gradTensor(n)
		if err != nil {
			return nil, err
		}
		if _, dup := g[n.Name()]; dup {
			return nil, errors.Wrapf(graph.ErrDuplicate, "optim: two nodes named %q", n.Name())
		}
		if clone {
			if t, err = cloneDense(t); err != nil {
				return nil, errors.Wrapf(err, "optim: gradient of %s", n.Name())
			}
		}
		g[n.Name()] = t
	}
	return g, nil
}

// ZeroGrads sets the gradients of nodes (their dual values, with
// gorgonia.BindDualValues) to zero in place. Call it after each optimiser
// step, since Gorgonia accumulates gradients across runs. It checks every
// node before it zeroes any.
func ZeroGrads(nodes gorgonia.Nodes) error {
	ts := make([]*tensor.Dense, len(nodes))
	for i, n := range nodes {
		t, err := gradTensor(n)
		if err != nil {
			return err
		}
		ts[i] = t
	}
	for _, t := range ts {
		t.Zero()
	}
	return nil
}

func gradTensor(n *gorgonia.Node) (*tensor.Dense, error) {
	if n == nil {
		return nil, errors.New("optim: nil node")
	}
	v, err := n.Grad()
	if err != nil {
		return nil, errors.Wrapf(err, "optim: node %s has no gradient (compile with gorgonia.BindDualValues "+
			"and differentiate with gorgonia.Grad)", n.Name())
	}
	t, ok := v.(*tensor.Dense)
	if !ok || t == nil {
		return nil, errors.Errorf("optim: the gradient of node %s is a %T, not a tensor", n.Name(), v)
	}
	if err := graph.CheckDtype(t.Dtype()); err != nil {
		return nil, errors.Wrapf(err, "optim: gradient of %s", n.Name())
	}
	return t, nil
}

// ClipGlobalNorm scales every gradient in place by
//
//	c = min(1, maxNorm / (‖g‖ + 1e−6))
//
// where ‖g‖ = √(Σᵢ ‖gᵢ‖²) is the L2 norm of all the gradients together,
// as torch.nn.utils.clip_grad_norm_(params, maxNorm) does (the norm of the
// tensors' norms, the 1e−6 included, and a multiplication by c even when
// c = 1, which changes nothing). It returns ‖g‖ before clipping. The norm is
// computed in float64 over the tensors in name order (float32 gradients
// are multiplied by c rounded to float32), and is rescaled rather than
// overflowing when the squares of finite elements exceed the float64 range.
//
// maxNorm must be > 0 (ErrConfig); a nil or non-contiguous gradient is an
// error. A NaN or infinite norm returns the norm and ErrNonFinite, and no
// gradient is changed. An empty g returns 0.
func ClipGlobalNorm(g Grads, maxNorm float64) (float64, error) {
	if math.IsNaN(maxNorm) || maxNorm <= 0 {
		return 0, errors.Wrapf(ErrConfig, "optim: max norm %v (want > 0)", maxNorm)
	}
	names := make([]string, 0, len(g))
	for name, t := range g {
		if t == nil {
			return 0, errors.Errorf("optim: gradient of %q is nil", name)
		}
		if err := graph.CheckDtype(t.Dtype()); err != nil {
			return 0, errors.Wrapf(err, "optim: gradient of %q", name)
		}
		if t.Shape().Dims() == 0 || t.RequiresIterator() {
			return 0, errors.Errorf("optim: gradient of %q is a scalar or a non-contiguous view", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	norm := globalNorm(g, names, 1)
	if math.IsInf(norm, 1) {
		// Maybe only the squares overflowed: rescale by the largest |x|.
		m := 0.0
		for _, name := range names {
			m = math.Max(m, maxAbs(g[name]))
		}
		if !math.IsInf(m, 0) && !math.IsNaN(m) {
			norm = m * globalNorm(g, names, 1/m)
		}
	}
	if !finite(norm) {
		return norm, errors.Wrapf(ErrNonFinite, "optim: gradient norm %v", norm)
	}
	c := math.Min(1, maxNorm/(norm+1e-6))
	if c != 1 {
		for _, name := range names {
			t := g[name]
			if t.Dtype() == tensor.Float64 {
				scale(floats[float64](t), c)
			} else {
				scale(floats[float32](t), c)
			}
		}
	}
	return norm, nil
}

// globalNorm returns the L2 norm of the tensors' L2 norms (as
// clip_grad_norm_ computes it), each element first multiplied by s.
func globalNorm(g Grads, names []string, s float64) float64 {
	total := 0.0
	for _, name := range names {
		var n float64
		if t := g[name]; t.Dtype() == tensor.Float64 {
			n = tensorNorm(floats[float64](t), s)
		} else {
			n = tensorNorm(floats[float32](t), s)
		}
		total += n * n
	}
	return math.Sqrt(total)
}

func tensorNorm[T float](xs []T, s float64) float64 {
	sum := 0.0
	for _, x := range xs {
		v := float64(x) * s
		sum += v * v
	}
	return math.Sqrt(sum)
}

func maxAbs(t *tensor.Dense) float64 {
	m := 0.0
	if t.Dtype() == tensor.Float64 {
		for _, x := range floats[float64](t) {
			m = math.Max(m, math.Abs(x))
		}
	} else {
		for _, x := range floats[float32](t) {
			m = math.Max(m, math.Abs(float64(x)))
		}
	}
	return m
}

func scale[T float](xs []T, c float64) {
	k := T(c)
	for i := range xs {
		xs[i] *= k
	}
}
