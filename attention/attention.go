package attention

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/opkit"
)

// The operations of Luong and Bahdanau attention over a batch, with the
// encoder outputs kept as one node per source step (as Unroll returns them):
//
//	S = DotScores(h, E)        scores      [B, n]
//	A = SoftmaxRows(S, mask)   weights     [B, n]
//	C = Attend(A, E)           context     [B, H]
//
// Bahdanau's additive scores v·tanh(W·h + U·e_j) are n vectors [B] (one per
// source step), which StackCols joins into the [B, n] scores.
//
// Every op here is n-ary (one input per source step, so no reshape, slice
// or concatenation of Gorgonia's is involved), accepts values that arrive as
// views or with a dimension of size 1 squeezed out, computes in float32 or
// float64, and differentiates symbolically with ops of this file, so the
// gradients are themselves differentiable (except SoftmaxRows', like
// Sigmoid's).

// DotScores returns the dot-product attention scores S [B, n] with
// S[b, j] = <q[b, :], keys[j][b, :]>: q is [B, H] (a decoder state), each of
// the n keys is [B, H] (an encoder output per source step). Shapes and
// dtypes are checked when the node is built. The gradient reaches q and
// every key.
func DotScores(q *gorgonia.Node, keys []*gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "DotScores"
	b, h, err := matrixDims(fn, "q", q)
	if err != nil {
		return nil, err
	}
	if err := sameMatrices(fn, "key", keys, b, h); err != nil {
		return nil, err
	}
	children := append([]*gorgonia.Node{q}, keys...)
	if err := sameFloatDtype(fn, children); err != nil {
		return nil, err
	}
	n, err := gorgonia.ApplyOp(dotScoresOp{b: b, h: h, n: len(keys)}, children...)
	return n, errors.Wrap(err, "attention: DotScores")
}

// Attend returns the context C [B, H] with C[b, :] = Σ_j alpha[b, j] ·
// values[j][b, :]: alpha is [B, n] (attention weights, typically from
// SoftmaxRows), each of the n values is [B, H]. Shapes and dtypes are
// checked when the node is built. The gradient reaches alpha and every
// value.
func Attend(alpha *gorgonia.Node, values []*gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "Attend"
	b, n, err := matrixDims(fn, "alpha", alpha)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errors.Errorf("attention: %s: no values", fn)
	}
	if len(values) != n {
		return nil, errors.Errorf("attention: %s: alpha %s has shape %v, for %d values", fn, alpha.Name(), alpha.Shape(), len(values))
	}
	if values[0] == nil {
		return nil, errors.Errorf("attention: %s: value 0 is nil", fn)
	}
	_, h, err := matrixDims(fn, "value 0", values[0])
	if err != nil {
		return nil, err
	}
	if err := sameMatrices(fn, "value", values, b, h); err != nil {
		return nil, err
	}
	children := append([]*gorgonia.Node{alpha}, values...)
	if err := sameFloatDtype(fn, children); err != nil {
		return nil, err
	}
	c, err := gorgonia.ApplyOp(attendOp{b: b, h: h, n: n}, children...)
	return c, errors.Wrap(err, "attention: Attend")
}

// SoftmaxRows returns the softmax of each row of x [B, n], computed stably
// (the row's maximum is subtracted before exponentiating, so logits of any
// finite size give finite weights). mask is nil or a [B, n] node of 0s and
// 1s: an entry whose mask is 0 gets weight exactly 0 and no gradient, the
// others share the row's weight (any non-zero mask value counts as 1), and
// a row whose mask is all 0 gives all zeros (and zero gradient), never NaN.
// The mask gets no gradient.
func SoftmaxRows(x, mask *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "SoftmaxRows"
	b, n, err := matrixDims(fn, "x", x)
	if err != nil {
		return nil, err
	}
	children := []*gorgonia.Node{x}
	if mask != nil {
		if !opkit.SameShape(mask.Shape(), []int{b, n}) {
			return nil, errors.Errorf("attention: %s: mask %s has shape %v, want [%d %d]", fn, mask.Name(), mask.Shape(), b, n)
		}
		children = append(children, mask)
	}
	if err := sameFloatDtype(fn, children); err != nil {
		return nil, err
	}
	y, err := gorgonia.ApplyOp(softmaxRowsOp{b: b, n: n, masked: mask != nil}, children...)
	return y, errors.Wrap(err, "attention: SoftmaxRows")
}

// StackCols returns the [B, n] matrix whose column j is vs[j], each of the n
// vectors being [B]: it joins per-step scores (Bahdanau's v·tanh(…), one
// node per source step) into the rows SoftmaxRows takes. The gradient
// splits back into the columns.
func StackCols(vs []*gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "StackCols"
	if len(vs) == 0 {
		return nil, errors.Errorf("attention: %s of no vectors", fn)
	}
	var b int
	for j, v := range vs {
		if v == nil {
			return nil, errors.Errorf("attention: %s: vector %d is nil", fn, j)
		}
		s := v.Shape()
		if len(s) != 1 {
			return nil, errors.Errorf("attention: %s needs vectors [B], %s (vector %d) has shape %v", fn, v.Name(), j, s)
		}
		if j == 0 {
			b = s[0]
		} else if s[0] != b {
			return nil, errors.Errorf("attention: %s: %s (vector %d) has shape %v, want [%d]", fn, v.Name(), j, s, b)
		}
	}
	if err := sameFloatDtype(fn, vs); err != nil {
		return nil, err
	}
	m, err := gorgonia.ApplyOp(stackColsOp{b: b, n: len(vs)}, vs...)
	return m, errors.Wrap(err, "attention: StackCols")
}

// matrixDims returns the shape of x, which must be a non-nil matrix.
func matrixDims(fn, what string, x *gorgonia.Node) (rows, cols int, err error) {
	if x == nil {
		return 0, 0, errors.Errorf("attention: %s: %s is nil", fn, what)
	}
	s := x.Shape()
	if len(s) != 2 {
		return 0, 0, errors.Errorf("attention: %s needs a matrix for %s, %s has shape %v", fn, what, x.Name(), s)
	}
	return s[0], s[1], nil
}

// sameMatrices checks that xs is not empty and each x is a [rows, cols] matrix.
func sameMatrices(fn, what string, xs []*gorgonia.Node, rows, cols int) error {
	if len(xs) == 0 {
		return errors.Errorf("attention: %s: no %ss", fn, what)
	}
	for j, x := range xs {
		if x == nil {
			return errors.Errorf("attention: %s: %s %d is nil", fn, what, j)
		}
		if !opkit.SameShape(x.Shape(), []int{rows, cols}) {
			return errors.Errorf("attention: %s: %s %d (%s) has shape %v, want [%d %d]", fn, what, j, x.Name(), x.Shape(), rows, cols)
		}
	}
	return nil
}

// sameFloatDtype checks that the (non-nil, tensor) nodes share one float dtype.
func sameFloatDtype(fn string, xs []*gorgonia.Node) error {
	dt := xs[0].Dtype()
	if err := graph.CheckDtype(dt); err != nil {
		return errors.Wrapf(err, "attention: %s: %s", fn, xs[0].Name())
	}
	for _, x := range xs[1:] {
		if x.Dtype() != dt {
			return errors.Wrapf(graph.ErrDtype, "%s: %s is %v, %s is %v", fn, xs[0].Name(), dt, x.Name(), x.Dtype())
		}
	}
	return nil
}

type floatT interface{ float32 | float64 }

// fnType returns the type of an op taking k inputs of type in to out.
func fnType(k int, in, out hm.Type) hm.Type {
	ts := make([]hm.Type, 0, k+1)
	for i := 0; i < k; i++ {
		ts = append(ts, in)
	}
	return hm.NewFnType(append(ts, out)...)
}

func matrixType() gorgonia.TensorType {
	return gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
}

func vectorType() gorgonia.TensorType {
	return gorgonia.TensorType{Dims: 1, Of: hm.TypeVariable('a')}
}

// checkShapes checks the shapes given to an op's InferShape.
func checkShapes(op fmt.Stringer, in []gorgonia.DimSizer, want ...[]int) error {
	if len(in) != len(want) {
		return errors.Errorf("attention: %v: %d inputs, want %d", op, len(in), len(want))
	}
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok || !opkit.SameShape(s, want[i]) {
			return errors.Errorf("attention: %v: input %d has shape %v, want %v", op, i, d, want[i])
		}
	}
	return nil
}

// repeat returns k copies of shape, after the shapes in first.
func repeat(shape []int, k int, first ...[]int) [][]int {
	out := append([][]int(nil), first...)
	for i := 0; i < k; i++ {
		out = append(out, shape)
	}
	return out
}

// valueAs is asShape that also accepts a Gorgonia scalar (a [1] or [1, 1]
// value some op handed on as a scalar).
func valueAs(op fmt.Stringer, v gorgonia.Value, shape []int) (*tensor.Dense, error) {
	var backing any
	switch s := v.(type) {
	case *gorgonia.F64:
		backing = []float64{float64(*s)}
	case *gorgonia.F32:
		backing = []float32{float32(*s)}
	default:
		return opkit.AsShape(op, v, shape)
	}
	for _, d := range shape {
		if d != 1 {
			return nil, errors.Errorf("attention: %v: scalar value, want shape %v", op, shape)
		}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
}

// run views vals with the shapes the graph was built with, checks that they
// share a float dtype, and returns a new tensor of shape out filled by the
// kernel for that dtype.
func run[O fmt.Stringer](op O, vals []gorgonia.Value, shapes [][]int, out []int,
	k64 func(O, [][]float64, []float64), k32 func(O, [][]float32, []float32)) (gorgonia.Value, error) {
	if len(vals) != len(shapes) {
		return nil, errors.Errorf("attention: %v: %d inputs, want %d", op, len(vals), len(shapes))
	}
	ts := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		t, err := valueAs(op, v, shapes[i])
		if err != nil {
			return nil, err
		}
		if i > 0 && t.Dtype() != ts[0].Dtype() {
			return nil, errors.Wrapf(graph.ErrDtype, "%v: inputs of %v and %v", op, ts[0].Dtype(), t.Dtype())
		}
		ts[i] = t
	}
	res := tensor.New(tensor.WithShape(out...), tensor.Of(ts[0].Dtype()))
	var ok bool
	switch ts[0].Dtype() {
	case tensor.Float64:
		ok = runKernel(op, ts, res, k64)
	case tensor.Float32:
		ok = runKernel(op, ts, res, k32)
	}
	if !ok {
		return nil, errors.Wrapf(graph.ErrDtype, "%v: %v", op, ts[0].Dtype())
	}
	return res, nil
}

func runKernel[O any, T floatT](op O, ts []*tensor.Dense, res *tensor.Dense, k func(O, [][]T, []T)) bool {
	in := make([][]T, len(ts))
	for i, t := range ts {
		d, ok := t.Data().([]T)
		if !ok {
			return false
		}
		in[i] = d
	}
	out, ok := res.Data().([]T)
	if !ok {
		return false
	}
	k(op, in, out)
	return true
}

// dotScoresOp: q [b, h], keys[0..n) [b, h] → S [b, n].
type dotScoresOp struct {
	opkit.Base
	b, h, n int
}

func (op dotScoresOp) Arity() int    { return op.n + 1 }
func (op dotScoresOp) Type() hm.Type { return fnType(op.n+1, matrixType(), matrixType()) }
func (op dotScoresOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, repeat([]int{op.b, op.h}, op.n+1)...); err != nil {
		return nil, err
	}
	return tensor.Shape{op.b, op.n}, nil
}
func (op dotScoresOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return run(op, vals, repeat([]int{op.b, op.h}, op.n+1), []int{op.b, op.n}, dotScoresK[float64], dotScoresK[float32])
}

func dotScoresK[T floatT](op dotScoresOp, in [][]T, out []T) {
	q := in[0]
	for j, k := range in[1:] {
		for r := 0; r < op.b; r++ {
			var s float64
			for i := r * op.h; i < (r+1)*op.h; i++ {
				s += float64(q[i]) * float64(k[i])
			}
			out[r*op.n+j] = T(s)
		}
	}
}

func (op dotScoresOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.dotscores(b=%d,h=%d,n=%d)", op.b, op.h, op.n)
}
func (op dotScoresOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op dotScoresOp) String() string   { return fmt.Sprintf("DotScores[%d×(%d,%d)]", op.n, op.b, op.h) }
func (op dotScoresOp) DiffWRT(inputs int) []bool {
	return opkit.Trues(inputs)
}

// SymDiff: dq = Attend(G, keys), dkeys[j] = G[:, j] ⊙ q.
func (op dotScoresOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.n+1 {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(inputs))
	}
	q, keys := inputs[0], inputs[1:]
	out := make(gorgonia.Nodes, op.n+1)
	var err error
	if out[0], err = gorgonia.ApplyOp(attendOp{b: op.b, h: op.h, n: op.n}, append(gorgonia.Nodes{grad}, keys...)...); err != nil {
		return nil, err
	}
	for j := range keys {
		if out[j+1], err = gorgonia.ApplyOp(scaleByColOp{j: j, b: op.b, h: op.h, n: op.n}, q, grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// attendOp: alpha [b, n], values[0..n) [b, h] → C [b, h].
type attendOp struct {
	opkit.Base
	b, h, n int
}

func (op attendOp) Arity() int    { return op.n + 1 }
func (op attendOp) Type() hm.Type { return fnType(op.n+1, matrixType(), matrixType()) }
func (op attendOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, repeat([]int{op.b, op.h}, op.n, []int{op.b, op.n})...); err != nil {
		return nil, err
	}
	return tensor.Shape{op.b, op.h}, nil
}
func (op attendOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return run(op, vals, repeat([]int{op.b, op.h}, op.n, []int{op.b, op.n}), []int{op.b, op.h}, attendK[float64], attendK[float32])
}

func attendK[T floatT](op attendOp, in [][]T, out []T) {
	alpha, vs := in[0], in[1:]
	for r := 0; r < op.b; r++ {
		a := alpha[r*op.n : (r+1)*op.n]
		for i := r * op.h; i < (r+1)*op.h; i++ {
			var s float64
			for j, v := range vs {
				s += float64(a[j]) * float64(v[i])
			}
			out[i] = T(s)
		}
	}
}

func (op attendOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.attend(b=%d,h=%d,n=%d)", op.b, op.h, op.n)
}
func (op attendOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op attendOp) String() string            { return fmt.Sprintf("Attend[%d×(%d,%d)]", op.n, op.b, op.h) }
func (op attendOp) DiffWRT(inputs int) []bool { return opkit.Trues(inputs) }

// SymDiff: dalpha = DotScores(G, values), dvalues[j] = alpha[:, j] ⊙ G.
func (op attendOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.n+1 {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(inputs))
	}
	alpha, values := inputs[0], inputs[1:]
	out := make(gorgonia.Nodes, op.n+1)
	var err error
	if out[0], err = gorgonia.ApplyOp(dotScoresOp{b: op.b, h: op.h, n: op.n}, append(gorgonia.Nodes{grad}, values...)...); err != nil {
		return nil, err
	}
	for j := range values {
		if out[j+1], err = gorgonia.ApplyOp(scaleByColOp{j: j, b: op.b, h: op.h, n: op.n}, grad, alpha); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scaleByColOp: x [b, h], a [b, n] → out[r, :] = x[r, :] · a[r, j].
type scaleByColOp struct {
	opkit.Base
	j, b, h, n int
}

func (op scaleByColOp) Arity() int    { return 2 }
func (op scaleByColOp) Type() hm.Type { return fnType(2, matrixType(), matrixType()) }
func (op scaleByColOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, []int{op.b, op.h}, []int{op.b, op.n}); err != nil {
		return nil, err
	}
	return tensor.Shape{op.b, op.h}, nil
}
func (op scaleByColOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return run(op, vals, [][]int{{op.b, op.h}, {op.b, op.n}}, []int{op.b, op.h}, scaleByColK[float64], scaleByColK[float32])
}

func scaleByColK[T floatT](op scaleByColOp, in [][]T, out []T) {
	x, a := in[0], in[1]
	for r := 0; r < op.b; r++ {
		s := a[r*op.n+op.j]
		for i := r * op.h; i < (r+1)*op.h; i++ {
			out[i] = x[i] * s
		}
	}
}

func (op scaleByColOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.scalebycol(j=%d,b=%d,h=%d,n=%d)", op.j, op.b, op.h, op.n)
}
func (op scaleByColOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op scaleByColOp) String() string            { return fmt.Sprintf("ScaleByCol[%d of %d]", op.j, op.n) }
func (op scaleByColOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

// SymDiff: dx = G ⊙ a[:, j]; da is zero but in column j, where
// da[r, j] = <G[r, :], x[r, :]>.
func (op scaleByColOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(inputs))
	}
	x, a := inputs[0], inputs[1]
	dx, err := gorgonia.ApplyOp(op, grad, a)
	if err != nil {
		return nil, err
	}
	dot, err := gorgonia.ApplyOp(dotScoresOp{b: op.b, h: op.h, n: 1}, grad, x)
	if err != nil {
		return nil, err
	}
	da, err := graph.PadCols(dot, op.j, op.n)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, da}, nil
}

// softmaxRowsOp: x [b, n] (and mask [b, n] when masked) → y [b, n].
type softmaxRowsOp struct {
	opkit.Base
	b, n   int
	masked bool
}

func (op softmaxRowsOp) arity() int {
	if op.masked {
		return 2
	}
	return 1
}
func (op softmaxRowsOp) Arity() int    { return op.arity() }
func (op softmaxRowsOp) Type() hm.Type { return fnType(op.arity(), matrixType(), matrixType()) }
func (op softmaxRowsOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, repeat([]int{op.b, op.n}, op.arity())...); err != nil {
		return nil, err
	}
	return tensor.Shape{op.b, op.n}, nil
}
func (op softmaxRowsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return run(op, vals, repeat([]int{op.b, op.n}, op.arity()), []int{op.b, op.n}, softmaxRowsK[float64], softmaxRowsK[float32])
}

// softmaxRowsK computes in float64: exp(x − max) over the entries kept by the
// mask, divided by their sum; masked entries, and rows with none kept, are 0.
func softmaxRowsK[T floatT](op softmaxRowsOp, in [][]T, out []T) {
	x := in[0]
	var mask []T
	if op.masked {
		mask = in[1]
	}
	kept := func(i int) bool { return mask == nil || mask[i] != 0 }
	e := make([]float64, op.n)
	for r := 0; r < op.b; r++ {
		lo, hi := r*op.n, (r+1)*op.n
		m, found := math.Inf(-1), false
		for i := lo; i < hi; i++ {
			if kept(i) && (!found || float64(x[i]) > m) {
				m, found = float64(x[i]), true
			}
		}
		if !found {
			continue // out is zero
		}
		var s float64
		for i := lo; i < hi; i++ {
			if kept(i) {
				e[i-lo] = math.Exp(float64(x[i]) - m)
				s += e[i-lo]
			}
		}
		for i := lo; i < hi; i++ {
			if kept(i) {
				out[i] = T(e[i-lo] / s)
			}
		}
	}
}

func (op softmaxRowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.softmaxrows(b=%d,n=%d,masked=%t)", op.b, op.n, op.masked)
}
func (op softmaxRowsOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op softmaxRowsOp) String() string {
	if op.masked {
		return "SoftmaxRows[masked]"
	}
	return "SoftmaxRows"
}
func (op softmaxRowsOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	if inputs > 0 {
		d[0] = true // the mask gets no gradient
	}
	return d
}

// SymDiff: dx = y ⊙ (G − Σ_k G_k y_k) row by row; y is 0 where masked, so
// dx is too. The mask gets none.
func (op softmaxRowsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.arity() {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(inputs))
	}
	dx, err := gorgonia.ApplyOp(softmaxGradOp{b: op.b, n: op.n}, output, grad)
	if err != nil {
		return nil, err
	}
	if op.masked {
		return gorgonia.Nodes{dx, nil}, nil
	}
	return gorgonia.Nodes{dx}, nil
}

// softmaxGradOp: (y, G) → y ⊙ (G − Σ_k G_k y_k) row by row, exactly 0
// wherever y is 0.
type softmaxGradOp struct {
	opkit.Base
	b, n int
}

func (op softmaxGradOp) Arity() int    { return 2 }
func (op softmaxGradOp) Type() hm.Type { return fnType(2, matrixType(), matrixType()) }
func (op softmaxGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, []int{op.b, op.n}, []int{op.b, op.n}); err != nil {
		return nil, err
	}
	return tensor.Shape{op.b, op.n}, nil
}
func (op softmaxGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return run(op, vals, repeat([]int{op.b, op.n}, 2), []int{op.b, op.n}, softmaxGradK[float64], softmaxGradK[float32])
}

func softmaxGradK[T floatT](op softmaxGradOp, in [][]T, out []T) {
	y, g := in[0], in[1]
	for r := 0; r < op.b; r++ {
		lo, hi := r*op.n, (r+1)*op.n
		var s float64
		for i := lo; i < hi; i++ {
			if y[i] != 0 {
				s += float64(g[i]) * float64(y[i])
			}
		}
		for i := lo; i < hi; i++ {
			if y[i] != 0 {
				out[i] = T(float64(y[i]) * (float64(g[i]) - s))
			}
		}
	}
}

func (op softmaxGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.softmaxgrad(b=%d,n=%d)", op.b, op.n)
}
func (op softmaxGradOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op softmaxGradOp) String() string            { return "SoftmaxRows'" }
func (op softmaxGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op softmaxGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("attention: second derivative of SoftmaxRows is not implemented")
}

// stackColsOp: vs[0..n) [b] → [b, n], column j = vs[j].
type stackColsOp struct {
	opkit.Base
	b, n int
}

func (op stackColsOp) Arity() int    { return op.n }
func (op stackColsOp) Type() hm.Type { return fnType(op.n, vectorType(), matrixType()) }
func (op stackColsOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if err := checkShapes(op, in, repeat([]int{op.b}, op.n)...); err != nil {
		return nil, err
	}
	return tensor.Shape{op.b, op.n}, nil
}
func (op stackColsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return run(op, vals, repeat([]int{op.b}, op.n), []int{op.b, op.n}, stackColsK[float64], stackColsK[float32])
}

func stackColsK[T floatT](op stackColsOp, in [][]T, out []T) {
	for j, v := range in {
		for r, x := range v {
			out[r*op.n+j] = x
		}
	}
}

func (op stackColsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.stackcols(b=%d,n=%d)", op.b, op.n)
}
func (op stackColsOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op stackColsOp) String() string            { return fmt.Sprintf("StackCols[%d×%d]", op.n, op.b) }
func (op stackColsOp) DiffWRT(inputs int) []bool { return opkit.Trues(inputs) }

// SymDiff: dvs[j] = G[:, j].
func (op stackColsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.n {
		return nil, errors.Errorf("attention: %v: %d inputs", op, len(inputs))
	}
	out := make(gorgonia.Nodes, op.n)
	for j := range out {
		var err error
		if out[j], err = gorgonia.ApplyOp(colVecOp{j: j, b: op.b, n: op.n}, grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// colVecOp takes column j of a [b, n] matrix as a [b] vector or, with place
// set, places a [b] vector in column j of an otherwise zero [b, n] matrix.
// Each is the other's gradient.
type colVecOp struct {
	opkit.Base
	j, b, n int
	place   bool
}

func (op colVecOp) Arity() int { return 1 }
func (op colVecOp) Type() hm.Type {
	if op.place {
		return fnType(1, vectorType(), matrixType())
	}
	return fnType(1, matrixType(), vectorType())
}
func (op colVecOp) shapes() (in, out []int) {
	if op.place {
		return []int{op.b}, []int{op.b, op.n}
	}
	return []int{op.b, op.n}, []int{op.b}
}
func (op colVecOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	want, out := op.shapes()
	if err := checkShapes(op, in, want); err != nil {
		return nil, err
	}
	return tensor.Shape(out), nil
}
func (op colVecOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	in, out := op.shapes()
	return run(op, vals, [][]int{in}, out, colVecK[float64], colVecK[float32])
}

func colVecK[T floatT](op colVecOp, in [][]T, out []T) {
	for r := 0; r < op.b; r++ {
		if op.place {
			out[r*op.n+op.j] = in[0][r]
		} else {
			out[r] = in[0][r*op.n+op.j]
		}
	}
}

func (op colVecOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.colvec(j=%d,b=%d,n=%d,place=%t)", op.j, op.b, op.n, op.place)
}
func (op colVecOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op colVecOp) String() string {
	if op.place {
		return fmt.Sprintf("PlaceCol[%d of %d]", op.j, op.n)
	}
	return fmt.Sprintf("Col[%d of %d]", op.j, op.n)
}
func (op colVecOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op colVecOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	inv := op
	inv.place = !op.place
	d, err := gorgonia.ApplyOp(inv, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}
