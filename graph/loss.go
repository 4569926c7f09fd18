package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Targets holds, for each of B rows, a class id and a weight: the side
// input of [CrossEntropy]. Set it before every run. A weight of 0 (a padded
// position) removes the row from the loss and from every gradient; weights
// of 1/N make the loss a mean over N positions.
type Targets struct {
	ids     []int
	weights []float64
	classes int
}

// NewTargets returns targets for b rows over the given number of classes.
func NewTargets(b, classes int) (*Targets, error) {
	if b <= 0 || classes <= 0 {
		return nil, errors.Errorf("graph: NewTargets(%d, %d): sizes must be positive", b, classes)
	}
	return &Targets{ids: make([]int, b), weights: make([]float64, b), classes: classes}, nil
}

// Len returns the number of rows.
func (t *Targets) Len() int { return len(t.ids) }

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
	n, err := gorgonia.ApplyOp(xentOp{t: t}, logits)
	return n, errors.Wrap(err, "graph: CrossEntropy")
}

type xentOp struct {
	opBase
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

// logSoftmaxRow writes log softmax(x) into out and returns it.
func logSoftmaxRow(x, out []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	lse := m + math.Log(s)
	for j, v := range x {
		out[j] = v - lse
	}
	return out
}

func (op xentOp) rows(v gorgonia.Value) ([][]float64, tensor.Dtype, error) {
	b, c := len(op.t.ids), op.t.classes
	x, err := asShape(op, v, []int{b, c})
	if err != nil {
		return nil, tensor.Dtype{}, err
	}
	f, err := Float64s(x)
	if err != nil {
		return nil, tensor.Dtype{}, err
	}
	rows := make([][]float64, b)
	for i := range rows {
		rows[i] = f[i*c : (i+1)*c]
	}
	return rows, x.Dtype(), nil
}

func (op xentOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	rows, dt, err := op.rows(vals[0])
	if err != nil {
		return nil, err
	}
	loss := make([]float64, len(rows))
	tmp := make([]float64, op.t.classes)
	for i, r := range rows {
		if op.t.weights[i] != 0 {
			loss[i] = -op.t.weights[i] * logSoftmaxRow(r, tmp)[op.t.ids[i]]
		}
	}
	return FromFloat64s(dt, loss, len(loss))
}
func (op xentOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.xent(%p)", op.t) }
func (op xentOp) Hashcode() uint32          { return hashOf(op) }
func (op xentOp) String() string            { return "CrossEntropy" }
func (op xentOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op xentOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(xentGradOp{op}, inputs[0], grad)
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
	rows, dt, err := op.rows(vals[0])
	if err != nil {
		return nil, err
	}
	gv, err := asShape(op, vals[1], []int{len(rows)})
	if err != nil {
		return nil, err
	}
	g, err := Float64s(gv)
	if err != nil {
		return nil, err
	}
	c := op.t.classes
	out := make([]float64, len(rows)*c)
	for i, r := range rows {
		w := op.t.weights[i] * g[i]
		if w == 0 {
			continue
		}
		d := logSoftmaxRow(r, out[i*c:(i+1)*c])
		for j := range d {
			d[j] = w * math.Exp(d[j])
		}
		d[op.t.ids[i]] -= w
	}
	return FromFloat64s(dt, out, len(rows), c)
}
func (op xentGradOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.xentgrad(%p)", op.t) }
func (op xentGradOp) Hashcode() uint32          { return hashOf(op) }
func (op xentGradOp) String() string            { return "CrossEntropyGrad" }
func (op xentGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op xentGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of CrossEntropy is not implemented")
}
