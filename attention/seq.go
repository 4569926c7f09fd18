package attention

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/internal/opkit"
	"github.com/rnnkit/rnnkit/internal/parallel"
)

// Attention over whole sequences at once. Queries q [Tq·B, H] and the
// memory m [Tm·B, H] are time-major (row t·B + b is sequence b at step t);
// each query attends to the memory of its own sequence only. These are the
// batched products of a Luong decoder run over all its steps at once, as a
// fused decoder does: one node each instead of one per step.

// SeqScores returns the dot-product scores [Tq·B, Tm] of every query with
// every memory step of its sequence: s[t·B+b, j] = q[t·B+b] · m[j·B+b].
func SeqScores(q, m *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	return seqAttn(seqScores, q, m, batch)
}

// SeqAttend returns the weighted sums [Tq·B, H] of the memory of each
// query's sequence: c[t·B+b] = Σ_j a[t·B+b, j] m[j·B+b], for weights a
// [Tq·B, Tm] (a softmax of SeqScores, say).
func SeqAttend(a, m *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	return seqAttn(seqAttend, a, m, batch)
}

type seqAttnKind int

const (
	seqScores seqAttnKind = iota // (q [Tq·B, H], m [Tm·B, H]) → [Tq·B, Tm]: per b, Q_b·M_bᵀ
	seqAttend                    // (a [Tq·B, Tm], m [Tm·B, H]) → [Tq·B, H]: per b, A_b·M_b
	seqBack                      // (a [Tq·B, Tm], x [Tq·B, H]) → [Tm·B, H]: per b, A_bᵀ·X_b
)

func (k seqAttnKind) String() string {
	return [...]string{"SeqScores", "SeqAttend", "SeqAttendᵀ"}[k]
}

// seqAttnOp holds the sizes: B sequences, Tq query steps, Tm memory steps,
// width H.
type seqAttnOp struct {
	opkit.Base
	kind         seqAttnKind
	B, Tq, Tm, H int
}

func seqAttn(kind seqAttnKind, x, y *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	if x == nil || y == nil {
		return nil, errors.Errorf("attention: %v of nil node", kind)
	}
	sx, sy := x.Shape(), y.Shape()
	if len(sx) != 2 || len(sy) != 2 {
		return nil, errors.Errorf("attention: %v needs matrices, got %v and %v", kind, sx, sy)
	}
	if batch <= 0 || sx[0]%batch != 0 || sy[0]%batch != 0 || sx[0] == 0 || sy[0] == 0 {
		return nil, errors.Errorf("attention: %v: %v and %v are not whole steps of batch %d", kind, sx, sy, batch)
	}
	op := seqAttnOp{Base: opkit.WithBuf(), kind: kind, B: batch, Tq: sx[0] / batch}
	switch kind {
	case seqScores:
		op.Tm, op.H = sy[0]/batch, sx[1]
		if sy[1] != op.H {
			return nil, errors.Errorf("attention: %v: queries %v and memory %v differ in width", kind, sx, sy)
		}
	case seqAttend:
		op.Tm, op.H = sx[1], sy[1]
		if sy[0] != op.Tm*batch {
			return nil, errors.Errorf("attention: %v: weights %v over %d steps, memory %v", kind, sx, sx[1], sy)
		}
	case seqBack:
		op.Tm, op.H = sx[1], sy[1]
		if sy[0] != sx[0] {
			return nil, errors.Errorf("attention: %v: weights %v and values %v differ in rows", kind, sx, sy)
		}
	}
	if x.Dtype() != y.Dtype() {
		return nil, errors.Wrapf(graph.ErrDtype, "%v: %v and %v", kind, x.Dtype(), y.Dtype())
	}
	n, err := gorgonia.ApplyOp(op, x, y)
	return n, errors.Wrapf(err, "attention: %v", kind)
}

// shapes returns the op's input shapes and output shape.
func (op seqAttnOp) shapes() (a, b, out []int) {
	q, m := op.Tq*op.B, op.Tm*op.B
	switch op.kind {
	case seqScores:
		return []int{q, op.H}, []int{m, op.H}, []int{q, op.Tm}
	case seqAttend:
		return []int{q, op.Tm}, []int{m, op.H}, []int{q, op.H}
	default:
		return []int{q, op.Tm}, []int{q, op.H}, []int{m, op.H}
	}
}

func (op seqAttnOp) Arity() int { return 2 }
func (op seqAttnOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op seqAttnOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	_, _, out := op.shapes()
	return tensor.Shape(out), nil
}

func (op seqAttnOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(vals))
	}
	sa, sb, so := op.shapes()
	a, err := opkit.AsShape(op, vals[0], sa)
	if err != nil {
		return nil, err
	}
	b, err := opkit.AsShape(op, vals[1], sb)
	if err != nil {
		return nil, err
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Wrapf(graph.ErrDtype, "%v: %v and %v", op, a.Dtype(), b.Dtype())
	}
	out := op.Alloc()(a.Dtype(), false, so...)
	switch ad := a.Data().(type) {
	case []float32:
		seqAttnDo(op, ad, b.Data().([]float32), out.Data().([]float32))
	case []float64:
		seqAttnDo(op, ad, b.Data().([]float64), out.Data().([]float64))
	default:
		return nil, errors.Wrapf(graph.ErrDtype, "%v", op)
	}
	return out, nil
}

// seqAttnDo runs one strided matrix product per sequence b: its rows are
// every B-th row of each operand, starting at row b.
func seqAttnDo[T float32 | float64](op seqAttnOp, a, b, out []T) {
	B, Tq, Tm, H := op.B, op.Tq, op.Tm, op.H
	parallel.For(B, 2*Tq*Tm*H, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			switch op.kind {
			case seqScores: // Q_b [Tq, H] · M_bᵀ → [Tq, Tm]
				blas.Gemm(false, true, Tq, Tm, H, 1, a[s*H:], B*H, b[s*H:], B*H, 0, out[s*Tm:], B*Tm)
			case seqAttend: // A_b [Tq, Tm] · M_b [Tm, H] → [Tq, H]
				blas.Gemm(false, false, Tq, H, Tm, 1, a[s*Tm:], B*Tm, b[s*H:], B*H, 0, out[s*H:], B*H)
			default: // A_bᵀ [Tm, Tq] · X_b [Tq, H] → [Tm, H]
				blas.Gemm(true, false, Tm, H, Tq, 1, a[s*Tm:], B*Tm, b[s*H:], B*H, 0, out[s*H:], B*H)
			}
		}
	})
}

func (op seqAttnOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.seqattn(%d,%d,%d,%d,%d)", op.kind, op.B, op.Tq, op.Tm, op.H)
}
func (op seqAttnOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op seqAttnOp) String() string {
	return fmt.Sprintf("%v[B%d Tq%d Tm%d H%d]", op.kind, op.B, op.Tq, op.Tm, op.H)
}
func (op seqAttnOp) DiffWRT(inputs int) []bool {
	return []bool{op.kind != seqBack, op.kind != seqBack}
}

// SymDiff, per sequence b with upstream G:
//
//	S = Q Mᵀ: dQ = G M (SeqAttend), dM = Gᵀ Q (seqBack)
//	C = A M:  dA = G Mᵀ (SeqScores), dM = Aᵀ G (seqBack)
func (op seqAttnOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(inputs))
	}
	x, m := inputs[0], inputs[1]
	var dx, dm *gorgonia.Node
	var err error
	switch op.kind {
	case seqScores:
		if dx, err = SeqAttend(grad, m, op.B); err == nil {
			dm, err = seqAttn(seqBack, grad, x, op.B)
		}
	case seqAttend:
		if dx, err = SeqScores(grad, m, op.B); err == nil {
			dm, err = seqAttn(seqBack, x, grad, op.B)
		}
	default:
		return nil, errors.Errorf("attention: %v: no second derivative", op)
	}
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dm}, nil
}
