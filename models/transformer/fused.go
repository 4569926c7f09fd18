package transformer

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
)

// AttentionOp is scaled dot-product attention over every sequence and
// head as one op: q [B·Tq, E], k and v [B·Tk, E] (already projected),
// keep the 0/1 mask [B·Tq, Tk] or nil, drop a dropout mask [B·heads·Tq, Tk]
// (entries 0 or 1/(1−p), row (b·heads + h)·Tq + i) or nil. For each
// sequence b and head h (columns h·d … (h+1)·d):
//
//	P = softmax(q_bh k_bhᵀ / √d) over the kept keys,  out_bh = (P ⊙ D) v_bh
//
// A masked key gets weight exactly 0, a row with no kept key all zeros.
// Its gradient is one op that recomputes P and returns dq, dk and dv
// packed, cut up by copy ops; the masks get none.
func AttentionOp(q, k, v, keep, drop *gorgonia.Node, B, heads int) (*gorgonia.Node, error) {
	if q == nil || k == nil || v == nil {
		return nil, errors.New("transformer: AttentionOp of nil")
	}
	if B <= 0 || heads <= 0 {
		return nil, errors.Wrapf(ErrShape, "AttentionOp: %d sequences, %d heads", B, heads)
	}
	sq, sk, sv := q.Shape(), k.Shape(), v.Shape()
	if len(sq) != 2 || len(sk) != 2 || !opkit.SameShape(sk, sv) || sq[1] != sk[1] || sq[0]%B != 0 || sk[0]%B != 0 {
		return nil, errors.Wrapf(ErrShape, "AttentionOp: q %v, k %v, v %v for %d sequences", sq, sk, sv, B)
	}
	E := sq[1]
	if E%heads != 0 {
		return nil, errors.Wrapf(ErrConfig, "AttentionOp: E = %d is not divisible by %d heads", E, heads)
	}
	op := &attnOp{B: B, H: heads, Tq: sq[0] / B, Tk: sk[0] / B, E: E, keep: keep != nil, drop: drop != nil}
	args := gorgonia.Nodes{q, k, v}
	if keep != nil {
		if !opkit.SameShape(keep.Shape(), []int{B * op.Tq, op.Tk}) {
			return nil, errors.Wrapf(ErrMask, "AttentionOp: mask %v, want [%d %d]", keep.Shape(), B*op.Tq, op.Tk)
		}
		args = append(args, keep)
	}
	if drop != nil {
		if !opkit.SameShape(drop.Shape(), []int{B * heads * op.Tq, op.Tk}) {
			return nil, errors.Wrapf(ErrMask, "AttentionOp: dropout mask %v, want [%d %d]", drop.Shape(), B*heads*op.Tq, op.Tk)
		}
		args = append(args, drop)
	}
	op.Base = opkit.WithBuf()
	n, err := gorgonia.ApplyOp(op, args...)
	return n, errors.Wrap(err, "transformer: AttentionOp")
}

// attnOp: (q, k, v[, keep][, drop]) → out [B·Tq, E]; with grad set,
// (q, k, v[, keep][, drop], dout) → [dq | dk | dv] packed.
type attnOp struct {
	opkit.Base
	B, H, Tq, Tk, E int
	keep, drop      bool
	grad            bool
}

func (op *attnOp) inputShapes() [][]int {
	s := [][]int{{op.B * op.Tq, op.E}, {op.B * op.Tk, op.E}, {op.B * op.Tk, op.E}}
	if op.keep {
		s = append(s, []int{op.B * op.Tq, op.Tk})
	}
	if op.drop {
		s = append(s, []int{op.B * op.H * op.Tq, op.Tk})
	}
	if op.grad {
		s = append(s, []int{op.B * op.Tq, op.E})
	}
	return s
}

func (op *attnOp) Arity() int { return len(op.inputShapes()) }
func (op *attnOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, op.Arity()+1)
	for range op.inputShapes() {
		ts = append(ts, gorgonia.TensorType{Dims: 2, Of: a})
	}
	if op.grad {
		return hm.NewFnType(append(ts, gorgonia.TensorType{Dims: 1, Of: a})...)
	}
	return hm.NewFnType(append(ts, gorgonia.TensorType{Dims: 2, Of: a})...)
}
func (op *attnOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{op.B * (op.Tq + 2*op.Tk) * op.E}, nil
	}
	return tensor.Shape{op.B * op.Tq, op.E}, nil
}
func (op *attnOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	shapes := op.inputShapes()
	if len(vals) != len(shapes) {
		return nil, errors.Errorf("transformer: %v: %d inputs, want %d", op, len(vals), len(shapes))
	}
	ts := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		t, err := opkit.AsShape(op, v, shapes[i])
		if err != nil {
			return nil, err
		}
		if i > 0 && t.Dtype() != ts[0].Dtype() {
			return nil, errors.Errorf("transformer: %v: input %d is %v, input 0 %v", op, i, t.Dtype(), ts[0].Dtype())
		}
		ts[i] = t
	}
	s, _ := op.InferShape()
	out := op.Alloc()(ts[0].Dtype(), false, s...)
	switch ts[0].Dtype() {
	case tensor.Float64:
		attnRun[float64](op, ts, opkit.Floats[float64](out))
	case tensor.Float32:
		attnRun[float32](op, ts, opkit.Floats[float32](out))
	default:
		return nil, errors.Wrapf(opkit.ErrDtype, "%v", op)
	}
	return out, nil
}

// attnRun runs the forward pass or, with op.grad, the backward pass, over
// the (sequence, head) pairs split among the cores.
func attnRun[T float32 | float64](op *attnOp, ts []*tensor.Dense, out []T) {
	q, k, v := opkit.Floats[T](ts[0]), opkit.Floats[T](ts[1]), opkit.Floats[T](ts[2])
	i := 3
	var keep, drop, dout []T
	if op.keep {
		keep = opkit.Floats[T](ts[i])
		i++
	}
	if op.drop {
		drop = opkit.Floats[T](ts[i])
		i++
	}
	if op.grad {
		dout = opkit.Floats[T](ts[i])
	}
	B, H, Tq, Tk, E := op.B, op.H, op.Tq, op.Tk, op.E
	d := E / H
	scale := T(1 / math.Sqrt(float64(d)))
	var dq, dk, dv []T
	if op.grad {
		dq = out[:B*Tq*E]
		dk = out[B*Tq*E : B*(Tq+Tk)*E]
		dv = out[B*(Tq+Tk)*E:]
	}
	parallel.For(B*H, 4*Tq*Tk*d, func(lo, hi int) {
		p := make([]T, Tq*Tk)
		var pd, dp []T
		if op.drop {
			pd = make([]T, Tq*Tk)
		}
		if op.grad {
			dp = make([]T, Tq*Tk)
		}
		for pair := lo; pair < hi; pair++ {
			b, h := pair/H, pair%H
			qo, ko := b*Tq*E+h*d, b*Tk*E+h*d
			blas.Gemm(false, true, Tq, Tk, d, scale, q[qo:], E, k[ko:], E, 0, p, Tk)
			var m []T
			if keep != nil {
				m = keep[b*Tq*Tk : (b+1)*Tq*Tk]
			}
			softmaxKept(p, m, Tq, Tk)
			pw := p // the weights applied to v: P, or P ⊙ D
			var dm []T
			if drop != nil {
				dm = drop[pair*Tq*Tk : (pair+1)*Tq*Tk]
				for j := range pd {
					pd[j] = p[j] * dm[j]
				}
				pw = pd
			}
			if !op.grad {
				blas.Gemm(false, false, Tq, d, Tk, 1, pw, Tk, v[ko:], E, 0, out[qo:], E)
				continue
			}
			// dv = Pwᵀ·dout; dPw = dout·vᵀ; dP = dPw ⊙ D;
			// dS = P ⊙ (dP − Σ_j P dP); dq = dS·k/√d; dk = dSᵀ·q/√d.
			blas.Gemm(true, false, Tk, d, Tq, 1, pw, Tk, dout[qo:], E, 0, dv[ko:], E)
			blas.Gemm(false, true, Tq, Tk, d, 1, dout[qo:], E, v[ko:], E, 0, dp, Tk)
			if dm != nil {
				for j := range dp {
					dp[j] *= dm[j]
				}
			}
			for r := 0; r < Tq; r++ {
				pr, dr := p[r*Tk:(r+1)*Tk], dp[r*Tk:(r+1)*Tk]
				var s float64
				for j, x := range pr {
					s += float64(x) * float64(dr[j])
				}
				for j, x := range pr {
					dr[j] = T(float64(x) * (float64(dr[j]) - s))
				}
			}
			blas.Gemm(false, false, Tq, d, Tk, scale, dp, Tk, k[ko:], E, 0, dq[qo:], E)
			blas.Gemm(true, false, Tk, d, Tq, scale, dp, Tk, q[qo:], E, 0, dk[ko:], E)
		}
	})
}

// softmaxKept replaces each row of s [rows, n] by its softmax over the
// entries m keeps (m nil keeps all), computed in float64 around the row's
// maximum; the other entries, and rows with none kept, become 0.
func softmaxKept[T float32 | float64](s, m []T, rows, n int) {
	for r := 0; r < rows; r++ {
		row := s[r*n : (r+1)*n]
		var mr []T
		if m != nil {
			mr = m[r*n : (r+1)*n]
		}
		mx, found := math.Inf(-1), false
		for j, x := range row {
			if (mr == nil || mr[j] != 0) && float64(x) > mx {
				mx, found = float64(x), true
			}
		}
		if !found {
			clear(row)
			continue
		}
		var sum float64
		for j, x := range row {
			if mr != nil && mr[j] == 0 {
				row[j] = 0
				continue
			}
			e := math.Exp(float64(x) - mx)
			row[j] = T(e)
			sum += e
		}
		for j := range row {
			row[j] = T(float64(row[j]) / sum)
		}
	}
}

func (op *attnOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.transformer.attn(B%d,H%d,Tq%d,Tk%d,E%d,%t,%t,%t)", op.B, op.H, op.Tq, op.Tk, op.E, op.keep, op.drop, op.grad)
}
func (op *attnOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op *attnOp) String() string {
	s := fmt.Sprintf("Attention[B%d H%d %d×%d E%d]", op.B, op.H, op.Tq, op.Tk, op.E)
	if op.grad {
		return "∂" + s
	}
	return s
}
func (op *attnOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	if !op.grad {
		for i := 0; i < 3 && i < inputs; i++ {
			d[i] = true
		}
	}
	return d
}
func (op *attnOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.grad {
		return nil, errors.Errorf("transformer: %v: no second derivative", op)
	}
	g := *op
	g.grad, g.Base = true, opkit.WithBuf()
	packed, err := gorgonia.ApplyOp(&g, append(append(gorgonia.Nodes{}, inputs...), grad)...)
	if err != nil {
		return nil, errors.Wrapf(err, "transformer: %v gradient", op)
	}
	out := make(gorgonia.Nodes, len(inputs))
	off := 0
	for i, s := range [][]int{{op.B * op.Tq, op.E}, {op.B * op.Tk, op.E}, {op.B * op.Tk, op.E}} {
		if out[i], err = unpack(packed, off, s); err != nil {
			return nil, err
		}
		off += s[0] * s[1]
	}
	return out, nil
}

// LayerNormOp is LayerNorm over the rows of x [N, E] as one op:
// (x − μ)/√(σ² + ε)·γ + β, the statistics in float64. Its gradient is one
// op returning dx, dγ and dβ packed, cut up by copy ops.
func LayerNormOp(x, gamma, beta *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	if x == nil || gamma == nil || beta == nil {
		return nil, errors.New("transformer: LayerNormOp of nil")
	}
	s := x.Shape()
	if len(s) != 2 || !opkit.SameShape(gamma.Shape(), []int{s[1]}) || !opkit.SameShape(beta.Shape(), []int{s[1]}) {
		return nil, errors.Wrapf(ErrShape, "LayerNormOp: x %v, weight %v, bias %v", s, gamma.Shape(), beta.Shape())
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, errors.Wrapf(ErrConfig, "LayerNormOp: eps %v must be positive", eps)
	}
	n, err := gorgonia.ApplyOp(&lnOp{Base: opkit.WithBuf(), N: s[0], E: s[1], eps: eps}, x, gamma, beta)
	return n, errors.Wrap(err, "transformer: LayerNormOp")
}

// lnOp: (x, γ, β) → y [N, E]; with grad set, (x, γ, β, dy) → [dx | dγ | dβ].
type lnOp struct {
	opkit.Base
	N, E int
	eps  float64
	grad bool
}

func (op *lnOp) inputShapes() [][]int {
	s := [][]int{{op.N, op.E}, {op.E}, {op.E}}
	if op.grad {
		s = append(s, []int{op.N, op.E})
	}
	return s
}
func (op *lnOp) Arity() int { return len(op.inputShapes()) }
func (op *lnOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, vec := gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}
	if op.grad {
		return hm.NewFnType(m, vec, vec, m, vec)
	}
	return hm.NewFnType(m, vec, vec, m)
}
func (op *lnOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return tensor.Shape{(op.N + 2) * op.E}, nil
	}
	return tensor.Shape{op.N, op.E}, nil
}
func (op *lnOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	shapes := op.inputShapes()
	if len(vals) != len(shapes) {
		return nil, errors.Errorf("transformer: %v: %d inputs, want %d", op, len(vals), len(shapes))
	}
	ts := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		t, err := opkit.AsShape(op, v, shapes[i])
		if err != nil {
			return nil, err
		}
		if i > 0 && t.Dtype() != ts[0].Dtype() {
			return nil, errors.Errorf("transformer: %v: input %d is %v, input 0 %v", op, i, t.Dtype(), ts[0].Dtype())
		}
		ts[i] = t
	}
	s, _ := op.InferShape()
	out := op.Alloc()(ts[0].Dtype(), false, s...)
	switch ts[0].Dtype() {
	case tensor.Float64:
		lnRun[float64](op, ts, opkit.Floats[float64](out))
	case tensor.Float32:
		lnRun[float32](op, ts, opkit.Floats[float32](out))
	default:
		return nil, errors.Wrapf(opkit.ErrDtype, "%v", op)
	}
	return out, nil
}

func lnRun[T float32 | float64](op *lnOp, ts []*tensor.Dense, out []T) {
	x, gamma, beta := opkit.Floats[T](ts[0]), opkit.Floats[T](ts[1]), opkit.Floats[T](ts[2])
	N, E := op.N, op.E
	stats := func(row []T) (mean, rstd float64) {
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(E)
		var vr float64
		for _, v := range row {
			c := float64(v) - mean
			vr += c * c
		}
		return mean, 1 / math.Sqrt(vr/float64(E)+op.eps)
	}
	if !op.grad {
		parallel.For(N, 8*E, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := x[r*E : (r+1)*E]
				mean, rstd := stats(row)
				o := out[r*E : (r+1)*E]
				for j, v := range row {
					o[j] = T((float64(v)-mean)*rstd*float64(gamma[j]) + float64(beta[j]))
				}
			}
		})
		return
	}
	dy := opkit.Floats[T](ts[3])
	dx, dg, db := out[:N*E], out[N*E:(N+1)*E], out[(N+1)*E:]
	sg := make([]float64, E)
	sb := make([]float64, E)
	xh := make([]float64, E)
	g := make([]float64, E)
	for r := 0; r < N; r++ {
		row, dr := x[r*E:(r+1)*E], dy[r*E:(r+1)*E]
		mean, rstd := stats(row)
		var mg, mgx float64
		for j, v := range row {
			xh[j] = (float64(v) - mean) * rstd
			sb[j] += float64(dr[j])
			sg[j] += float64(dr[j]) * xh[j]
			g[j] = float64(dr[j]) * float64(gamma[j])
			mg += g[j]
			mgx += g[j] * xh[j]
		}
		mg /= float64(E)
		mgx /= float64(E)
		o := dx[r*E : (r+1)*E]
		for j := range o {
			o[j] = T(rstd * (g[j] - mg - xh[j]*mgx))
		}
	}
	for j := 0; j < E; j++ {
		dg[j], db[j] = T(sg[j]), T(sb[j])
	}
}

func (op *lnOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.transformer.layernorm(N%d,E%d,%v,%t)", op.N, op.E, op.eps, op.grad)
}
func (op *lnOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op *lnOp) String() string {
	if op.grad {
		return fmt.Sprintf("∂LayerNorm[%d×%d]", op.N, op.E)
	}
	return fmt.Sprintf("LayerNorm[%d×%d]", op.N, op.E)
}
func (op *lnOp) DiffWRT(inputs int) []bool {
	if op.grad {
		return make([]bool, inputs)
	}
	return opkit.Trues(inputs)
}
func (op *lnOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.grad {
		return nil, errors.Errorf("transformer: %v: no second derivative", op)
	}
	g := *op
	g.grad, g.Base = true, opkit.WithBuf()
	packed, err := gorgonia.ApplyOp(&g, append(append(gorgonia.Nodes{}, inputs...), grad)...)
	if err != nil {
		return nil, errors.Wrapf(err, "transformer: %v gradient", op)
	}
	out := make(gorgonia.Nodes, 3)
	if out[0], err = unpack(packed, 0, []int{op.N, op.E}); err != nil {
		return nil, err
	}
	if out[1], err = unpack(packed, op.N*op.E, []int{op.E}); err != nil {
		return nil, err
	}
	if out[2], err = unpack(packed, (op.N+1)*op.E, []int{op.E}); err != nil {
		return nil, err
	}
	return out, nil
}

// unpack returns a copy of packed[off : off+size(shape)] with that shape.
func unpack(packed *gorgonia.Node, off int, shape []int) (*gorgonia.Node, error) {
	n, err := gorgonia.ApplyOp(&unpackOp{Base: opkit.WithBuf(), off: off, shape: shape}, packed)
	return n, errors.Wrap(err, "transformer: unpack")
}

// unpackOp copies one part out of a packed vector and gives it a shape.
type unpackOp struct {
	opkit.Base
	off   int
	shape []int
}

func (op *unpackOp) size() int {
	n := 1
	for _, d := range op.shape {
		n *= d
	}
	return n
}
func (op *unpackOp) Arity() int { return 1 }
func (op *unpackOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 1, Of: a}, gorgonia.TensorType{Dims: len(op.shape), Of: a})
}
func (op *unpackOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(append([]int(nil), op.shape...)), nil
}
func (op *unpackOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("transformer: %v: %d inputs", op, len(vals))
	}
	src, err := opkit.Dense(op, vals[0])
	n := op.size()
	if err != nil || src.Shape().TotalSize() < op.off+n {
		return nil, errors.Errorf("transformer: %v: packed value %v", op, vals[0].Shape())
	}
	out := op.Alloc()(src.Dtype(), false, op.shape...)
	switch src.Dtype() {
	case tensor.Float32:
		copy(opkit.Floats[float32](out), opkit.Floats[float32](src)[op.off:op.off+n])
	case tensor.Float64:
		copy(opkit.Floats[float64](out), opkit.Floats[float64](src)[op.off:op.off+n])
	default:
		return nil, errors.Wrapf(opkit.ErrDtype, "%v", op)
	}
	return out, nil
}
func (op *unpackOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.transformer.unpack(%d,%v)", op.off, op.shape)
}
func (op *unpackOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op *unpackOp) String() string            { return fmt.Sprintf("Unpack[%d:%v]", op.off, op.shape) }
func (op *unpackOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *unpackOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.Errorf("transformer: %v: not differentiable", op)
}
