package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/internal/opkit"
	"github.com/rnnkit/rnnkit/internal/parallel"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// LinearCrossEntropy returns the [N] vector of weighted losses
// CrossEntropy(x·Wᵀ + b, t) for x [N, E], w [V, E] and b [V] (nil: no
// bias), as one op that never makes the [N, V] logits a node of the graph.
// The forward pass computes the logits a block of rows at a time into a
// buffer the op keeps from run to run, turns each row into its loss and,
// in place, into its gradient w_n·(softmax − onehot(y_n)); the backward
// pass only multiplies that buffer (dx = G·W, dW = Gᵀ·x, db = Σ_rows G,
// G the buffer's rows scaled by the upstream gradient). It is the
// definition's value and gradient (MatMul, AddRow, CrossEntropy) up to
// rounding.
func LinearCrossEntropy(x, w, b *gorgonia.Node, t *Targets) (*gorgonia.Node, error) {
	if x == nil || w == nil || t == nil {
		return nil, errors.New("graph: LinearCrossEntropy of nil")
	}
	sx, sw := x.Shape(), w.Shape()
	if len(sx) != 2 || len(sw) != 2 || sx[1] != sw[1] || sx[0] != len(t.ids) || sw[0] != t.classes {
		return nil, errors.Errorf("graph: LinearCrossEntropy: x %v, weight %v for %d targets over %d classes", sx, sw, len(t.ids), t.classes)
	}
	st := &linXent{n: sx[0], e: sx[1], v: sw[0], t: t, bias: b != nil, serial: nextSerial()}
	args := gorgonia.Nodes{x, w}
	if b != nil {
		if sb := b.Shape(); len(sb) != 1 || sb[0] != st.v {
			return nil, errors.Errorf("graph: LinearCrossEntropy: bias %v for %d classes", sb, st.v)
		}
		args = append(args, b)
	}
	n, err := gorgonia.ApplyOp(linXentOp{Base: opkit.WithBuf(), s: st}, args...)
	return n, errors.Wrap(err, "graph: LinearCrossEntropy")
}

// linXent is what the forward op and its gradient ops share: the sizes and
// the [N, V] buffer holding, after a forward run, each row's gradient
// w_n·(softmax − onehot).
type linXent struct {
	n, e, v int
	t       *Targets
	bias    bool
	serial  uint64

	g32 []float32
	g64 []float64
	p32 blas.PackedB[float32]
	p64 blas.PackedB[float64]
}

// tileRows returns how many rows of logits the forward pass computes at a
// time: about 1 MiB of them, at least 12 (the matrix kernel's row block).
func (s *linXent) tileRows() int {
	r := (1 << 18) / s.v / 12 * 12
	return min(max(r, 12), s.n)
}

func linXentForward[T float32 | float64](s *linXent, x, w, b, loss []T, g *[]T, pb *blas.PackedB[T]) {
	N, E, V := s.n, s.e, s.v
	if cap(*g) < N*V {
		*g = make([]T, N*V)
	}
	buf := (*g)[:N*V]
	pb.Pack(true, E, V, w, E)
	R := s.tileRows()
	for i0 := 0; i0 < N; i0 += R {
		i1 := min(i0+R, N)
		tile := buf[i0*V : i1*V]
		beta := T(0)
		if b != nil {
			for i := i0; i < i1; i++ {
				copy(buf[i*V:(i+1)*V], b)
			}
			beta = 1
		}
		pb.Mul(i1-i0, 1, x[i0*E:], E, beta, tile, V)
		parallel.For(i1-i0, 6*V, func(lo, hi int) {
			for i := i0 + lo; i < i0+hi; i++ {
				loss[i] = xentRowGrad(buf[i*V:(i+1)*V], s.t.ids[i], s.t.weights[i])
			}
		})
	}
}

// xentRowGrad turns the logits r into w·(softmax(r) − onehot(y)) in place
// and returns the loss −w·log softmax(r)[y], log-sum-exp around the row's
// maximum with the sum in float64 (float32 rows: vmath.Max32 and
// vmath.ExpShiftSum32, one exponential pass).
func xentRowGrad[T float32 | float64](r []T, y int, w float64) T {
	if w == 0 {
		clear(r)
		return 0
	}
	ly := r[y]
	var m, sum float64
	switch rv := any(r).(type) {
	case []float32:
		m32 := vmath.Max32(rv)
		m = float64(m32)
		if !math.IsInf(m, 0) && m == m {
			sum = vmath.ExpShiftSum32(rv, rv, m32)
		}
	case []float64:
		m = rv[0]
		for _, v := range rv[1:] {
			if v > m {
				m = v
			}
		}
		if !math.IsInf(m, 0) && m == m {
			for j, v := range rv {
				e := math.Exp(v - m)
				rv[j] = e
				sum += e
			}
		}
	}
	if math.IsInf(m, 0) || m != m {
		// no finite maximum: the definition's value, a NaN gradient
		lse := logSumExp(r, make([]T, len(r)))
		loss := T(-w * (float64(ly) - lse))
		for j := range r {
			r[j] = T(math.NaN())
		}
		return loss
	}
	lse := m + math.Log(sum)
	loss := T(-w * (float64(ly) - lse))
	scale := T(w / sum)
	for j := range r {
		r[j] *= scale
	}
	r[y] -= T(w)
	return loss
}

// linXentOp: (x, w[, b]) → the [N] weighted losses.
type linXentOp struct {
	opkit.Base
	s *linXent
}

func (op linXentOp) shapes() [][]int {
	s := [][]int{{op.s.n, op.s.e}, {op.s.v, op.s.e}}
	if op.s.bias {
		s = append(s, []int{op.s.v})
	}
	return s
}

func (op linXentOp) Arity() int { return len(op.shapes()) }
func (op linXentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := []hm.Type{gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 2, Of: a}}
	if op.s.bias {
		ts = append(ts, gorgonia.TensorType{Dims: 1, Of: a})
	}
	ts = append(ts, gorgonia.TensorType{Dims: 1, Of: a})
	return hm.NewFnType(ts...)
}
func (op linXentOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.n}, nil
}

// inputs checks vals against the op's input shapes and one float dtype.
func (op linXentOp) inputs(vals []gorgonia.Value, shapes [][]int) ([]*tensor.Dense, error) {
	if len(vals) != len(shapes) {
		return nil, errors.Errorf("graph: %v: %d inputs, want %d", op, len(vals), len(shapes))
	}
	ts := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, err := opkit.AsShape(op, v, shapes[i])
		if err != nil {
			return nil, err
		}
		if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 || dt != ts0(ts, d).Dtype() {
			return nil, errors.Wrapf(ErrDtype, "%v: input %d is %v", op, i, dt)
		}
		ts[i] = d
	}
	return ts, nil
}

// ts0 returns the first input (d itself for the first).
func ts0(ts []*tensor.Dense, d *tensor.Dense) *tensor.Dense {
	if ts[0] != nil {
		return ts[0]
	}
	return d
}

func (op linXentOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := op.inputs(vals, op.shapes())
	if err != nil {
		return nil, err
	}
	s := op.s
	out := op.Alloc()(ts[0].Dtype(), false, s.n)
	switch ts[0].Dtype() {
	case tensor.Float32:
		var b []float32
		if s.bias {
			b = opkit.Floats[float32](ts[2])
		}
		linXentForward(s, opkit.Floats[float32](ts[0]), opkit.Floats[float32](ts[1]), b, opkit.Floats[float32](out), &s.g32, &s.p32)
	default:
		var b []float64
		if s.bias {
			b = opkit.Floats[float64](ts[2])
		}
		linXentForward(s, opkit.Floats[float64](ts[0]), opkit.Floats[float64](ts[1]), b, opkit.Floats[float64](out), &s.g64, &s.p64)
	}
	return out, nil
}

func (op linXentOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "rnnkit.linxent(%d)", op.s.serial) }
func (op linXentOp) Hashcode() uint32      { return opkit.Hash(op) }
func (op linXentOp) String() string        { return "LinearCrossEntropy" }
func (op linXentOp) DiffWRT(inputs int) []bool {
	return opkit.Trues(inputs)
}

// SymDiff: one op per input, each reading the buffer the forward run left
// (the forward's output is their input, so they run after it).
func (op linXentOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(inputs))
	}
	out := make(gorgonia.Nodes, len(inputs))
	for k := range inputs {
		other := inputs[1-min(k, 1)] // dx needs w, dW needs x, db neither
		d, err := gorgonia.ApplyOp(linXentGradOp{Base: opkit.WithBuf(), s: op.s, wrt: k}, other, output, grad)
		if err != nil {
			return nil, err
		}
		out[k] = d
	}
	return out, nil
}

// linXentGradOp: (w or x, loss, g [N]) → dx [N, E] (wrt 0), dW [V, E]
// (wrt 1) or db [V] (wrt 2).
type linXentGradOp struct {
	opkit.Base
	s   *linXent
	wrt int
}

func (op linXentGradOp) shape() []int {
	switch op.wrt {
	case 0:
		return []int{op.s.n, op.s.e}
	case 1:
		return []int{op.s.v, op.s.e}
	}
	return []int{op.s.v}
}

func (op linXentGradOp) Arity() int { return 3 }
func (op linXentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}
	var o hm.Type = m
	if op.wrt == 2 {
		o = v
	}
	return hm.NewFnType(m, v, v, o)
}
func (op linXentGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.shape()), nil
}

func (op linXentGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	s := op.s
	other := []int{s.v, s.e}
	if op.wrt != 0 {
		other = []int{s.n, s.e}
	}
	ts, err := linXentOp{s: s}.inputs(vals, [][]int{other, {s.n}, {s.n}})
	if err != nil {
		return nil, err
	}
	out := op.Alloc()(ts[0].Dtype(), false, op.shape()...)
	switch ts[0].Dtype() {
	case tensor.Float32:
		if len(s.g32) < s.n*s.v {
			return nil, errors.Errorf("graph: %v before its forward pass", op)
		}
		linXentBackward(s, op.wrt, opkit.Floats[float32](ts[0]), opkit.Floats[float32](ts[2]), s.g32[:s.n*s.v], opkit.Floats[float32](out))
	default:
		if len(s.g64) < s.n*s.v {
			return nil, errors.Errorf("graph: %v before its forward pass", op)
		}
		linXentBackward(s, op.wrt, opkit.Floats[float64](ts[0]), opkit.Floats[float64](ts[2]), s.g64[:s.n*s.v], opkit.Floats[float64](out))
	}
	return out, nil
}

// linXentBackward writes the gradient wrt input k of the forward op into
// out, G = diag(g)·P with P the forward's buffer (never copied: dx's rows
// are scaled after the product, x's rows before dW's).
func linXentBackward[T float32 | float64](s *linXent, k int, other, g, P, out []T) {
	N, E, V := s.n, s.e, s.v
	ones := true
	for _, v := range g {
		if v != 1 {
			ones = false
			break
		}
	}
	switch k {
	case 0: // dx = diag(g)·P·W
		blas.Gemm(false, false, N, E, V, 1, P, V, other, E, 0, out, E)
		if !ones {
			for i := 0; i < N; i++ {
				row := out[i*E : (i+1)*E]
				for j := range row {
					row[j] *= g[i]
				}
			}
		}
	case 1: // dW = Pᵀ·(diag(g)·x)
		x := other
		if !ones {
			x = make([]T, N*E)
			for i := 0; i < N; i++ {
				for j := 0; j < E; j++ {
					x[i*E+j] = g[i] * other[i*E+j]
				}
			}
		}
		blas.Gemm(true, false, V, E, N, 1, P, V, x, E, 0, out, E)
	default: // db = Σ_i g_i·P_i
		parallel.For(V, 2*N, func(lo, hi int) {
			d := out[lo:hi]
			clear(d)
			for i := 0; i < N; i++ {
				gi := g[i]
				if gi == 0 {
					continue
				}
				row := P[i*V+lo : i*V+hi]
				switch dv := any(d).(type) {
				case []float32:
					vmath.Axpy32(float32(gi), any(row).([]float32), dv)
				case []float64:
					rv := any(row).([]float64)
					for j := range dv {
						dv[j] += float64(gi) * rv[j]
					}
				}
			}
		})
	}
}

func (op linXentGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.linxentgrad(%d,%d)", op.s.serial, op.wrt)
}
func (op linXentGradOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op linXentGradOp) String() string            { return fmt.Sprintf("LinearCrossEntropyGrad%d", op.wrt) }
func (op linXentGradOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op linXentGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of LinearCrossEntropy is not implemented")
}
