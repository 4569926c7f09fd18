package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
	"github.com/rnnkit/rnnkit/internal/parallel"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// Targets holds, for each of B rows, a class id and a weight: the side
// input of [CrossEntropy]. Set it before every run. A weight of 0 (a padded
// position) removes the row from the loss and from every gradient; weights
// of 1/N make the loss a mean over N positions.
type Targets struct {
	ids     []int
	weights []float64
	classes int
	serial  uint64 // tells the ops of different targets apart in their hashes
}

// NewTargets returns targets for b rows over the given number of classes.
func NewTargets(b, classes int) (*Targets, error) {
	if b <= 0 || classes <= 0 {
		return nil, errors.Errorf("graph: NewTargets(%d, %d): sizes must be positive", b, classes)
	}
	return &Targets{ids: make([]int, b), weights: make([]float64, b), classes: classes, serial: nextSerial()}, nil
}

// Len returns the number of rows.
func (t *Targets) Len() int { return len(t.ids) }

// Classes returns the number of classes.
func (t *Targets) Classes() int { return t.classes }

// Set copies ids and weights in (weights nil means all 1). Every id must lie
// in [0, classes) and every weight must be finite and not negative.
func (t *Targets) Set(ids []int, weights []float64) error {
	if len(ids) != len(t.ids) || (weights != nil && len(weights) != len(t.ids)) {
		return errors.Errorf("graph: %d ids and %d weights for %d rows", len(ids), len(weights), len(t.ids))
	}
	for i, id := range ids {
		if id < 0 || id >= t.classes {
			return errors.Errorf("graph: target %d at row %d is out of range [0, %d)", id, i, t.classes)
		}
		if weights != nil && (weights[i] < 0 || math.IsNaN(weights[i]) || math.IsInf(weights[i], 0)) {
			return errors.Errorf("graph: weight %v at row %d must be finite and not negative", weights[i], i)
		}
	}
	copy(t.ids, ids)
	for i := range t.weights {
		t.weights[i] = 1
		if weights != nil {
			t.weights[i] = weights[i]
		}
	}
	return nil
}

// CrossEntropy returns the [B] vector of weighted losses
// w_b · (−log softmax(logits_b)[y_b]) for logits [B, C], computed stably
// (log-sum-exp around the row maximum). Sum it for the loss. Its gradient
// is w_b · (softmax(logits_b) − onehot(y_b)).
func CrossEntropy(logits *gorgonia.Node, t *Targets) (*gorgonia.Node, error) {
	if logits == nil || t == nil {
		return nil, errors.New("graph: CrossEntropy of nil")
	}
	s := logits.Shape()
	if len(s) != 2 || s[0] != len(t.ids) || s[1] != t.classes {
		return nil, errors.Errorf("graph: CrossEntropy: logits %v for %d targets over %d classes", s, len(t.ids), t.classes)
	}
	n, err := gorgonia.ApplyOp(xentOp{Base: opkit.WithBuf(), t: t}, logits)
	return n, errors.Wrap(err, "graph: CrossEntropy")
}

type xentOp struct {
	opkit.Base
	t *Targets
}

func (op xentOp) Arity() int { return 1 }
func (op xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a})
}
func (op xentOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{len(op.t.ids)}, nil
}

// logSumExp returns log Σ e^x, accumulated in float64; e is scratch space
// of len(x) for float32 rows (unused for float64).
func logSumExp[T float32 | float64](x, e []T) float64 {
	switch xv := any(x).(type) {
	case []float32:
		m, sum := expShift32(xv, any(e).([]float32))
		if sum < 0 {
			return float64(m)
		}
		return float64(m) + math.Log(sum)
	case []float64:
		m := xv[0]
		for _, v := range xv[1:] {
			if v > m {
				m = v
			}
		}
		if math.IsInf(m, 0) || m != m {
			return m
		}
		sum := 0.0
		for _, v := range xv {
			sum += math.Exp(v - m)
		}
		return m + math.Log(sum)
	}
	panic("unreachable")
}

// expShift32 writes e^(x_j − m) into e, where m = max_j x_j, and returns m
// and Σ_j e_j accumulated in float64: the row's maximum and one
// exponential pass with its sum (vmath.Max32, vmath.ExpShiftSum32), serving
// both the loss (log-sum-exp) and its gradient (the softmax). Where m is
// ±Inf or NaN (a NaN first), e is left as it is and the sum is −1; a NaN
// elsewhere reaches the sum through the exponential.
func expShift32(x, e []float32) (float32, float64) {
	m := vmath.Max32(x)
	if math.IsInf(float64(m), 0) || m != m {
		return m, -1
	}
	return m, vmath.ExpShiftSum32(e[:len(x)], x, m)
}

// matrix returns the logits value as a dense [B, C] tensor.
func (op xentOp) matrix(v gorgonia.Value) (*tensor.Dense, error) {
	x, err := opkit.AsShape(op, v, []int{len(op.t.ids), op.t.classes})
	if err != nil {
		return nil, err
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Wrapf(ErrDtype, "%v: %v", op, dt)
	}
	return x, nil
}

// xentLoss writes each row's weighted loss −w_b log softmax(x_b)[y_b].
func xentLoss[T float32 | float64](t *Targets, x, loss []T) {
	c := t.classes
	parallel.For(len(loss), 4*c, func(lo, hi int) {
		var e []T
		if _, ok := any(x).([]float32); ok {
			e = make([]T, c)
		}
		for i := lo; i < hi; i++ {
			if t.weights[i] == 0 {
				loss[i] = 0
				continue
			}
			r := x[i*c : (i+1)*c]
			loss[i] = T(-t.weights[i] * (float64(r[t.ids[i]]) - logSumExp(r, e)))
		}
	})
}

// xentGrad writes g_b · w_b · (softmax(x_b) − onehot(y_b)) into out.
func xentGrad[T float32 | float64](t *Targets, x, g, out []T) {
	c := t.classes
	parallel.For(len(g), 6*c, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := out[i*c : (i+1)*c]
			w := t.weights[i] * float64(g[i])
			if w == 0 {
				clear(d)
				continue
			}
			r := x[i*c : (i+1)*c]
			switch dv := any(d).(type) {
			case []float32:
				// The softmax from one exponential pass, written in place.
				_, sum := expShift32(any(r).([]float32), dv)
				if sum < 0 { // m is ±Inf or NaN: as e^(x − lse) gives it
					l := float32(logSumExp(r, d))
					for j, v := range any(r).([]float32) {
						dv[j] = float32(w) * exp32(v-l)
					}
					break
				}
				scale := float32(w / sum)
				for j := range dv {
					dv[j] *= scale
				}
			case []float64:
				lse := logSumExp(r, nil)
				rv := any(r).([]float64)
				for j, v := range rv {
					dv[j] = w * math.Exp(v-lse)
				}
			}
			d[t.ids[i]] -= T(w)
		}
	})
}

func (op xentOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := op.matrix(vals[0])
	if err != nil {
		return nil, err
	}
	out := op.Alloc()(x.Dtype(), false, len(op.t.ids))
	switch xd := x.Data().(type) {
	case []float32:
		xentLoss(op.t, xd, out.Data().([]float32))
	case []float64:
		xentLoss(op.t, xd, out.Data().([]float64))
	}
	return out, nil
}

func (op xentOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.xent(%d)", op.t.serial) }
func (op xentOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op xentOp) String() string            { return "CrossEntropy" }
func (op xentOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op xentOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(xentGradOp{xentOp{Base: opkit.WithBuf(), t: op.t}}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// xentGradOp: (logits [B, C], g [B]) → g_b · w_b · (softmax − onehot).
type xentGradOp struct{ xentOp }

func (op xentGradOp) Arity() int { return 2 }
func (op xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, gorgonia.TensorType{Dims: 1, Of: a}, m)
}
func (op xentGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{len(op.t.ids), op.t.classes}, nil
}
func (op xentGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := op.matrix(vals[0])
	if err != nil {
		return nil, err
	}
	g, err := opkit.AsShape(op, vals[1], []int{len(op.t.ids)})
	if err != nil {
		return nil, err
	}
	if g.Dtype() != x.Dtype() {
		return nil, errors.Wrapf(ErrDtype, "%v: gradient %v, logits %v", op, g.Dtype(), x.Dtype())
	}
	out := op.Alloc()(x.Dtype(), false, len(op.t.ids), op.t.classes)
	switch xd := x.Data().(type) {
	case []float32:
		xentGrad(op.t, xd, g.Data().([]float32), out.Data().([]float32))
	case []float64:
		xentGrad(op.t, xd, g.Data().([]float64), out.Data().([]float64))
	}
	return out, nil
}

func (op xentGradOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.xentgrad(%d)", op.t.serial) }
func (op xentGradOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op xentGradOp) String() string            { return "CrossEntropyGrad" }
func (op xentGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op xentGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of CrossEntropy is not implemented")
}
