package distill

import (
	"fmt"
	"hash"
	"math"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
)

// Soft holds the side input of [SoftKL]: each row's teacher distribution
// softmax(z_t/T) and weight, set before every run.
type Soft struct {
	rows, classes int
	temp, scale   float64
	p             []float64 // rows × classes
	w             []float64
	serial        uint64
}

var serials atomic.Uint64

// NewSoft returns the side input of a [SoftKL] term over rows × classes
// logits at temperature temp (> 0), scaled by scale (α·T² in the package
// doc's loss).
func NewSoft(rows, classes int, temp, scale float64) (*Soft, error) {
	if rows < 1 || classes < 1 {
		return nil, errors.Errorf("distill: %d rows of %d classes", rows, classes)
	}
	if !(temp > 0) || math.IsInf(temp, 0) || !(scale >= 0) || math.IsInf(scale, 0) {
		return nil, errors.Errorf("distill: temperature %v must be positive and scale %v not negative, both finite", temp, scale)
	}
	return &Soft{rows: rows, classes: classes, temp: temp, scale: scale,
		p: make([]float64, rows*classes), w: make([]float64, rows), serial: serials.Add(1)}, nil
}

// SetLogits sets the teacher's distribution from its logits (rows ×
// classes, row-major): softmax(z_t/T), computed stably; weights are the
// rows' weights (1/n for real positions, 0 for padding).
func (s *Soft) SetLogits(logits, weights []float64) error {
	if len(logits) != s.rows*s.classes || len(weights) != s.rows {
		return errors.Errorf("distill: %d teacher logits and %d weights for %d rows of %d classes", len(logits), len(weights), s.rows, s.classes)
	}
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return errors.Errorf("distill: row %d weight %v", i, w)
		}
	}
	for r := range s.rows {
		z := logits[r*s.classes : (r+1)*s.classes]
		p := s.p[r*s.classes : (r+1)*s.classes]
		m := math.Inf(-1)
		for _, v := range z {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("distill: teacher logit %v in row %d", v, r)
			}
			m = math.Max(m, v/s.temp)
		}
		sum := 0.0
		for j, v := range z {
			p[j] = math.Exp(v/s.temp - m)
			sum += p[j]
		}
		for j := range p {
			p[j] /= sum
		}
	}
	copy(s.w, weights)
	return nil
}

// SetProbs sets the teacher's distribution directly (rows × classes,
// each row summing to 1) and the rows' weights: for tests, and a one-hot
// row makes the term a cross-entropy.
func (s *Soft) SetProbs(p, weights []float64) error {
	if len(p) != s.rows*s.classes || len(weights) != s.rows {
		return errors.Errorf("distill: %d probabilities and %d weights for %d rows of %d classes", len(p), len(weights), s.rows, s.classes)
	}
	copy(s.p, p)
	copy(s.w, weights)
	return nil
}

// SoftKL returns the [R] vector of scale · w_r · KL(p_r ‖ softmax(z_r/T))
// for the student's logits z [R, C] and the teacher's distributions p in
// s. Sum it for the loss. Its gradient with respect to z_r is
// scale · w_r · (softmax(z_r/T) − p_r) / T.
func SoftKL(logits *gorgonia.Node, s *Soft) (*gorgonia.Node, error) {
	if logits == nil || s == nil {
		return nil, errors.New("distill: SoftKL of nil")
	}
	if sh := logits.Shape(); len(sh) != 2 || sh[0] != s.rows || sh[1] != s.classes {
		return nil, errors.Errorf("distill: SoftKL: logits %v for %d rows of %d classes", sh, s.rows, s.classes)
	}
	n, err := gorgonia.ApplyOp(klOp{Base: opkit.WithBuf(), s: s}, logits)
	return n, errors.Wrap(err, "distill: SoftKL")
}

type klOp struct {
	opkit.Base
	s *Soft
}

func (op klOp) Arity() int { return 1 }
func (op klOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a})
}
func (op klOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.rows}, nil
}
func (op klOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.distill.kl(%d)", op.s.serial) }
func (op klOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op klOp) String() string            { return "SoftKL" }
func (op klOp) DiffWRT(inputs int) []bool { return []bool{true} }

// logSoftmaxT writes log softmax(x/T) of one row into out.
func logSoftmaxT[F float32 | float64](x []F, temp float64, out []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v)/temp)
	}
	sum := 0.0
	for _, v := range x {
		sum += math.Exp(float64(v)/temp - m)
	}
	lse := m + math.Log(sum)
	for j, v := range x {
		out[j] = float64(v)/temp - lse
	}
}

func klForward[F float32 | float64](s *Soft, x, out []F) {
	c := s.classes
	lq := make([]float64, c)
	for r := range s.rows {
		if s.w[r] == 0 {
			out[r] = 0
			continue
		}
		logSoftmaxT(x[r*c:(r+1)*c], s.temp, lq)
		kl := 0.0
		for j, p := range s.p[r*c : (r+1)*c] {
			if p > 0 {
				kl += p * (math.Log(p) - lq[j])
			}
		}
		out[r] = F(s.scale * s.w[r] * kl)
	}
}

func klBackward[F float32 | float64](s *Soft, x, g, out []F) {
	c := s.classes
	lq := make([]float64, c)
	for r := range s.rows {
		d := out[r*c : (r+1)*c]
		k := s.scale * s.w[r] * float64(g[r]) / s.temp
		if k == 0 {
			clear(d)
			continue
		}
		logSoftmaxT(x[r*c:(r+1)*c], s.temp, lq)
		for j, p := range s.p[r*c : (r+1)*c] {
			d[j] = F(k * (math.Exp(lq[j]) - p))
		}
	}
}

func (op klOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("distill: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.s.rows, op.s.classes})
	if err != nil {
		return nil, err
	}
	out := op.Alloc()(x.Dtype(), false, op.s.rows)
	switch xd := x.Data().(type) {
	case []float32:
		klForward(op.s, xd, out.Data().([]float32))
	case []float64:
		klForward(op.s, xd, out.Data().([]float64))
	default:
		return nil, errors.Errorf("distill: %v of %v", op, x.Dtype())
	}
	return out, nil
}

func (op klOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(klGradOp{klOp{Base: opkit.WithBuf(), s: op.s}}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// klGradOp: (logits [R, C], g [R]) → the gradient of SoftKL.
type klGradOp struct{ klOp }

func (op klGradOp) Arity() int { return 2 }
func (op klGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, gorgonia.TensorType{Dims: 1, Of: a}, m)
}
func (op klGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.rows, op.s.classes}, nil
}
func (op klGradOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.distill.klgrad(%d)", op.s.serial) }
func (op klGradOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op klGradOp) String() string            { return "SoftKLGrad" }
func (op klGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op klGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("distill: second derivative of SoftKL is not implemented")
}

func (op klGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("distill: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.s.rows, op.s.classes})
	if err != nil {
		return nil, err
	}
	g, err := opkit.AsShape(op, vals[1], []int{op.s.rows})
	if err != nil {
		return nil, err
	}
	if g.Dtype() != x.Dtype() {
		return nil, errors.Errorf("distill: %v: gradient %v, logits %v", op, g.Dtype(), x.Dtype())
	}
	out := op.Alloc()(x.Dtype(), false, op.s.rows, op.s.classes)
	switch xd := x.Data().(type) {
	case []float32:
		klBackward(op.s, xd, g.Data().([]float32), out.Data().([]float32))
	case []float64:
		klBackward(op.s, xd, g.Data().([]float64), out.Data().([]float64))
	default:
		return nil, errors.Errorf("distill: %v of %v", op, x.Dtype())
	}
	return out, nil
}
