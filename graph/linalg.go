package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/internal/opkit"
)

// BLAS names the matrix multiply this build uses: rnnkit's own pure-Go one
// ("rnnkit-gemm", internal/gemm) by default, "openblas" with the build tag
// openblas (and cgo, and Debian's libopenblas-dev installed).
const BLAS = blas.Name

// MatMul returns op(a)·op(b) for matrices, where op transposes when the
// flag is set: MatMul(x, w, false, true) is x·wᵀ, PyTorch's linear layer
// with w stored [out, in]. It calls the build's matrix multiply (see
// BLAS), never materialises a
// transpose, and never writes into its inputs: Gorgonia's own Transpose and
// Reshape return views that a later element-wise op may overwrite in place,
// corrupting a parameter (see docs/architecture.md). A [1, n] matrix stays a
// matrix here.
func MatMul(a, b *gorgonia.Node, transA, transB bool) (*gorgonia.Node, error) {
	if a == nil || b == nil {
		return nil, errors.New("graph: MatMul of nil node")
	}
	sa, sb := a.Shape(), b.Shape()
	if len(sa) != 2 || len(sb) != 2 {
		return nil, errors.Errorf("graph: MatMul needs matrices, got %v and %v", sa, sb)
	}
	op := matMulOp{Base: opkit.WithBuf(), transA: transA, transB: transB, sa: [2]int{sa[0], sa[1]}, sb: [2]int{sb[0], sb[1]}}
	if _, err := op.InferShape(sa, sb); err != nil {
		return nil, err
	}
	n, err := gorgonia.ApplyOp(op, a, b)
	return n, errors.Wrap(err, "graph: MatMul")
}

// AddRow returns x + b with the vector b [n] added to every row of x [m, n].
func AddRow(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	return rowOp(rowAdd, x, b)
}

// MulRow returns x ⊙ p with the vector p [n] multiplied into every row of
// x [m, n] (a diagonal matrix product, as a peephole connection).
func MulRow(x, p *gorgonia.Node) (*gorgonia.Node, error) {
	return rowOp(rowMul, x, p)
}

func rowOp(kind rowKind, x, v *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || v == nil {
		return nil, errors.Errorf("graph: %v of nil node", kind)
	}
	op := rowBroadcastOp{Base: opkit.WithBuf(), kind: kind}
	if _, err := op.InferShape(x.Shape(), v.Shape()); err != nil {
		return nil, err
	}
	op.m, op.n = x.Shape()[0], x.Shape()[1]
	n, err := gorgonia.ApplyOp(op, x, v)
	return n, errors.Wrapf(err, "graph: %v", kind)
}

// matMulOp: op(A)·op(B).
type matMulOp struct {
	opkit.Base
	transA, transB bool
	sa, sb         [2]int // the input shapes the graph was built with
}

func (op matMulOp) Arity() int { return 2 }
func (op matMulOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}

// dims returns m, k, n for op(A) [m, k] · op(B) [k, n].
func (op matMulOp) dims(sa, sb tensor.Shape) (m, k, n int, err error) {
	if len(sa) != 2 || len(sb) != 2 {
		return 0, 0, 0, errors.Errorf("graph: %v needs matrices, got %v and %v", op, sa, sb)
	}
	m, k = sa[0], sa[1]
	if op.transA {
		m, k = k, m
	}
	k2, n := sb[0], sb[1]
	if op.transB {
		k2, n = n, k2
	}
	if k != k2 {
		return 0, 0, 0, errors.Errorf("graph: %v: inner dimensions of %v and %v differ", op, sa, sb)
	}
	return m, k, n, nil
}

func (op matMulOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(in))
	}
	sa, ok1 := in[0].(tensor.Shape)
	sb, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 {
		return nil, errors.Errorf("graph: %v: inputs %v, %v", op, in[0], in[1])
	}
	m, _, n, err := op.dims(sa, sb)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op matMulOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.Alloc(), vals...)
}

func (op matMulOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	a, err := opkit.AsShape(op, vals[0], op.sa[:])
	if err != nil {
		return nil, err
	}
	b, err := opkit.AsShape(op, vals[1], op.sb[:])
	if err != nil {
		return nil, err
	}
	m, k, n, err := op.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Wrapf(ErrDtype, "%v: %v and %v", op, a.Dtype(), b.Dtype())
	}
	out := alloc(a.Dtype(), k == 0, m, n)
	lda, ldb := a.Shape()[1], b.Shape()[1]
	if m == 0 || n == 0 {
		return out, nil
	}
	switch ad := a.Data().(type) {
	case []float64:
		if k > 0 {
			blas.Gemm(op.transA, op.transB, m, n, k, 1, ad, lda, b.Data().([]float64), ldb, 0, out.Data().([]float64), n)
		}
	case []float32:
		if k > 0 {
			blas.Gemm(op.transA, op.transB, m, n, k, 1, ad, lda, b.Data().([]float32), ldb, 0, out.Data().([]float32), n)
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

func (op matMulOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.matmul(%t,%t,%v,%v)", op.transA, op.transB, op.sa, op.sb)
}
func (op matMulOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op matMulOp) String() string {
	t := func(b bool) string {
		if b {
			return "ᵀ"
		}
		return ""
	}
	return fmt.Sprintf("A%s·B%s", t(op.transA), t(op.transB))
}
func (op matMulOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

// SymDiff: for C = op(A)·op(B) and upstream G,
//
//	C = A B:   dA = G Bᵀ, dB = Aᵀ G
//	C = A Bᵀ:  dA = G B,  dB = Gᵀ A
//	C = Aᵀ B:  dA = B Gᵀ, dB = A G
//	C = Aᵀ Bᵀ: dA = Bᵀ Gᵀ, dB = Gᵀ Aᵀ
func (op matMulOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(inputs))
	}
	a, b, g := inputs[0], inputs[1], grad
	var da, db *gorgonia.Node
	var err error
	switch {
	case !op.transA && !op.transB:
		if da, err = MatMul(g, b, false, true); err == nil {
			db, err = MatMul(a, g, true, false)
		}
	case !op.transA && op.transB:
		if da, err = MatMul(g, b, false, false); err == nil {
			db, err = MatMul(g, a, true, false)
		}
	case op.transA && !op.transB:
		if da, err = MatMul(b, g, false, true); err == nil {
			db, err = MatMul(a, g, false, false)
		}
	default:
		if da, err = MatMul(b, g, true, true); err == nil {
			db, err = MatMul(g, a, true, true)
		}
	}
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{da, db}, nil
}

type rowKind int

const (
	rowAdd rowKind = iota
	rowMul
)

func (k rowKind) String() string {
	if k == rowAdd {
		return "AddRow"
	}
	return "MulRow"
}

// rowBroadcastOp: x [m, n] ∘ v [n] → [m, n], ∘ = + or ⊙.
type rowBroadcastOp struct {
	opkit.Base
	kind rowKind
	m, n int // x's shape when the graph was built
}

func (op rowBroadcastOp) Arity() int { return 2 }
func (op rowBroadcastOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}, gorgonia.TensorType{Dims: 2, Of: a})
}
func (op rowBroadcastOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(in) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op.kind, len(in))
	}
	sx, ok1 := in[0].(tensor.Shape)
	sv, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 || len(sx) != 2 || len(sv) != 1 || sx[1] != sv[0] {
		return nil, errors.Errorf("graph: %v needs [m, n] and [n], got %v and %v", op.kind, in[0], in[1])
	}
	return sx.Clone(), nil
}
func (op rowBroadcastOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.Alloc(), vals...)
}

func (op rowBroadcastOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op.kind, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.m, op.n})
	if err != nil {
		return nil, err
	}
	v, err := opkit.AsShape(op, vals[1], []int{op.n})
	if err != nil {
		return nil, err
	}
	n := op.n
	out := alloc(x.Dtype(), false, x.Shape().Clone()...)
	switch xd := x.Data().(type) {
	case []float64:
		rowApply(op.kind, xd, v.Data().([]float64), out.Data().([]float64), n)
	case []float32:
		rowApply(op.kind, xd, v.Data().([]float32), out.Data().([]float32), n)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op.kind)
	}
	return out, nil
}

func rowApply[T float32 | float64](kind rowKind, x, v, out []T, n int) {
	for r := 0; r+n <= len(x); r += n {
		xs, os := x[r:r+n], out[r:r+n]
		if kind == rowAdd {
			for j, b := range v {
				os[j] = xs[j] + b
			}
		} else {
			for j, p := range v {
				os[j] = xs[j] * p
			}
		}
	}
}

func (op rowBroadcastOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.row(%d,%d,%d)", op.kind, op.m, op.n)
}
func (op rowBroadcastOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op rowBroadcastOp) String() string   { return op.kind.String() }
func (op rowBroadcastOp) DiffWRT(inputs int) []bool {
	return []bool{true, true}
}

// SymDiff: AddRow: dx = G, dv = Σ_rows G. MulRow: dx = G ⊙ v, dv = Σ_rows G ⊙ x.
func (op rowBroadcastOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op.kind, len(inputs))
	}
	x, v := inputs[0], inputs[1]
	if op.kind == rowAdd {
		dv, err := gorgonia.Sum(grad, 0)
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{grad, dv}, nil
	}
	dx, err := MulRow(grad, v)
	if err != nil {
		return nil, err
	}
	gx, err := gorgonia.HadamardProd(grad, x)
	if err != nil {
		return nil, err
	}
	dv, err := gorgonia.Sum(gx, 0)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dv}, nil
}
