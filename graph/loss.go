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

// logSumExp returns log Σ e^x, accumulated in float64.
func logSumExp[T float32 | float64](x []T) float64 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	if math.IsInf(float64(m), 0) || m != m {
		return float64(m)
	}
	sum := 0.0
	switch xv := any(x).(type) {
	case []float32:
		m32 := float32(m)
		for _, v := range xv {
			sum += float64(exp32(v - m32))
		}
	case []float64:
		m64 := float64(m)
		for _, v := range xv {
			sum += math.Exp(v - m64)
		}
	}
	return float64(m) + math.Log(sum)
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
		for i := lo; i < hi; i++ {
			if t.weights[i] == 0 {
				loss[i] = 0
				continue
			}
			r := x[i*c : (i+1)*c]
			loss[i] = T(-t.weights[i] * (float64(r[t.ids[i]]) - logSumExp(r)))
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
			lse := logSumExp(r)
			switch dv := any(d).(type) {
			case []float32:
				rv, l, w32 := any(r).([]float32), float32(lse), float32(w)
				for j, v := range rv {
					dv[j] = w32 * exp32(v-l)
				}
			case []float64:
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
