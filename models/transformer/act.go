package transformer

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

// Activate applies the activation element-wise: ReLU max(x, 0) (gradient
// 0 at 0, as PyTorch's), or GELU in its exact form x·Φ(x), gradient
// Φ(x) + x·φ(x).
func Activate(x *gorgonia.Node, a Activation) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("transformer: activation of nil")
	}
	if a == "" {
		a = ReLU
	}
	if a != ReLU && a != GELU {
		return nil, errors.Wrapf(ErrConfig, "activation %q", a)
	}
	y, err := gorgonia.ApplyOp(actOp{Base: opkit.WithBuf(), kind: a}, x)
	return y, errors.Wrapf(err, "transformer: %s", a)
}

const invSqrt2 = 0.70710678118654752440
const invSqrt2Pi = 0.39894228040143267794

func actF(kind Activation, x float64) float64 {
	if kind == GELU {
		return 0.5 * x * (1 + math.Erf(x*invSqrt2))
	}
	if x > 0 {
		return x
	}
	return 0
}

func actD(kind Activation, x float64) float64 {
	if kind == GELU {
		return 0.5*(1+math.Erf(x*invSqrt2)) + x*invSqrt2Pi*math.Exp(-0.5*x*x)
	}
	if x > 0 {
		return 1
	}
	return 0
}

// actOp: y = f(x); with grad set, (x, dy) → dy·f'(x).
type actOp struct {
	opkit.Base
	kind Activation
	grad bool
}

func (op actOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op actOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	if op.grad {
		return hm.NewFnType(a, a, a)
	}
	return hm.NewFnType(a, a)
}
func (op actOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("transformer: %v: input shape %v", op, in[0])
	}
	return s.Clone(), nil
}
func (op actOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != op.Arity() {
		return nil, errors.Errorf("transformer: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.Dense(op, vals[0])
	if err != nil {
		return nil, err
	}
	var dy *tensor.Dense
	if op.grad {
		if dy, err = opkit.AsShape(op, vals[1], x.Shape()); err != nil {
			return nil, err
		}
	}
	out := op.Alloc()(x.Dtype(), false, x.Shape().Clone()...)
	switch x.Dtype() {
	case tensor.Float64:
		actDo(op, opkit.Floats[float64](x), dy, opkit.Floats[float64](out))
	case tensor.Float32:
		actDo(op, opkit.Floats[float32](x), dy, opkit.Floats[float32](out))
	default:
		return nil, errors.Wrapf(opkit.ErrDtype, "%v", op)
	}
	return out, nil
}

func actDo[T float32 | float64](op actOp, x []T, dy *tensor.Dense, out []T) {
	var d []T
	if op.grad {
		d = opkit.Floats[T](dy)
	}
	// element-wise: split over the cores (ReLU's few cycles an element
	// make it memory-bound, GELU's erf compute-bound)
	cost := 4
	if op.kind != ReLU {
		cost = 40
	}
	parallel.For(len(x), cost, func(lo, hi int) {
		x, out := x[lo:hi], out[lo:hi]
		switch {
		case op.kind == ReLU && !op.grad:
			for i, v := range x {
				out[i] = max(v, 0)
			}
		case op.kind == ReLU:
			reluGrad(x, d[lo:hi], out)
		case !op.grad:
			for i, v := range x {
				out[i] = T(actF(GELU, float64(v)))
			}
		default:
			d := d[lo:hi]
			for i, v := range x {
				out[i] = d[i] * T(actD(GELU, float64(v)))
			}
		}
	})
}

// reluGrad writes d[i] where x[i] > 0 and 0 elsewhere (NaN included).
// float32 without a branch: the signs of x are as good as random, and a
// mispredicted branch per element costs more than the rest of the loop.
func reluGrad[T float32 | float64](x, d, out []T) {
	switch xv := any(x).(type) {
	case []float32:
		dv, ov := any(d).([]float32), any(out).([]float32)
		dv, ov = dv[:len(xv)], ov[:len(xv)]
		for i, v := range xv {
			bits := math.Float32bits(v)
			pos := int64(int32(bits))                            // > 0 for x > 0 and for +NaN
			notNaN := int64(0x7f800001) - int64(bits&0x7fffffff) // > 0 unless NaN
			mask := uint32(-min(pos, notNaN) >> 63)              // all ones iff both > 0
			ov[i] = math.Float32frombits(math.Float32bits(dv[i]) & mask)
		}
	case []float64:
		dv, ov := any(d).([]float64), any(out).([]float64)
		for i, v := range xv {
			if v > 0 {
				ov[i] = dv[i]
			} else {
				ov[i] = 0
			}
		}
	}
}

func (op actOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.transformer.act(%s,%v)", op.kind, op.grad)
}
func (op actOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op actOp) String() string {
	if op.grad {
		return string(op.kind) + "'"
	}
	return string(op.kind)
}
func (op actOp) DiffWRT(inputs int) []bool {
	if op.grad {
		return []bool{false, false}
	}
	return []bool{true}
}
func (op actOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.grad {
		return nil, errors.New("transformer: second derivative of the activation is not implemented")
	}
	d, err := gorgonia.ApplyOp(actOp{Base: opkit.WithBuf(), kind: op.kind, grad: true}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}
