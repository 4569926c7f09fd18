package recurrent

import (
	"fmt"
	"hash"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/opkit"
)

// Kind names a recurrence Fused computes.
type Kind int

// The recurrences, with the equations and parameter layouts of the cells
// package (PyTorch's). The zero Kind is none of them: a Kind left unset is
// an error, never a tanh RNN.
const (
	Tanh     Kind = iota + 1 // Elman RNN, tanh
	ReLU                     // Elman RNN, ReLU
	LSTM                     // LSTM with forget gate
	Peephole                 // LSTM whose gates see the cell state
	GRU                      // GRU, PyTorch's variant
)

// String returns the kind's name, that of the cell kind it computes.
func (k Kind) String() string {
	switch k {
	case Tanh:
		return "rnn_tanh"
	case ReLU:
		return "rnn_relu"
	case LSTM:
		return "lstm"
	case Peephole:
		return "peephole_lstm"
	case GRU:
		return "gru"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Inputs are the nodes of a fused recurrence. X holds the whole
// sequence time-major, [T·B, I]: rows t·B … t·B+B−1 are step t. H0 and C0
// are the initial state [B, H] (C0 for LSTMs only). WIH [G·H, I], WHH
// [G·H, H], BIH and BHH [G·H] are the cell's parameters in PyTorch's layout
// (G = 1, 4 or 3 gate blocks), PI, PF, PO [H] the peephole weights. Mask,
// if not nil, is [T·B] of 0 and 1: at a 0 the sequence keeps its state and
// outputs zero, as cells.UnrollMasked. NoInputGrad declares X data that
// needs no gradient (PyTorch's requires_grad=False): the backward pass then
// skips the product ∂X = dG·W_ih, and X is not differentiable through this
// node (a gorgonia.Grad with respect to it fails).
type Inputs struct {
	X, H0, C0          *gorgonia.Node
	WIH, WHH, BIH, BHH *gorgonia.Node
	PI, PF, PO         *gorgonia.Node
	Mask               *gorgonia.Node
	NoInputGrad        bool
}

// Fused runs a whole recurrence as one node (a fused kernel with its
// own backward pass through time) and returns its outputs [T·B, H]
// time-major, the final h [B, H] and, for LSTMs, the final c [B, H]. It
// computes exactly what the cells package's step-by-step subgraph computes
// over the same sequence (reverse runs it from the last step to the first,
// outputs indexed by original time, as cells.UnrollReverse); the fused
// kernel computes the input projections of all steps in one matrix
// product and every gate of a step in one pass over memory. Gradients
// reach every input but the mask.
func Fused(kind Kind, reverse bool, in Inputs) (out, h, c *gorgonia.Node, err error) {
	d, nodes, err := recurrentCheck(kind, reverse, in)
	if err != nil {
		return nil, nil, nil, err
	}
	op := &recurrentOp{Base: opkit.WithBuf(), d: d, id: recSerial.Add(1)}
	all, err := gorgonia.ApplyOp(op, nodes...)
	if err != nil {
		return nil, nil, nil, errors.Wrapf(err, "recurrent: %v", kind)
	}
	tb := d.T * d.B
	if out, err = graph.Rows(all, 0, tb); err != nil {
		return nil, nil, nil, err
	}
	if h, err = graph.Rows(all, tb, tb+d.B); err != nil {
		return nil, nil, nil, err
	}
	if d.lstm() {
		if c, err = graph.Rows(all, tb+d.B, tb+2*d.B); err != nil {
			return nil, nil, nil, err
		}
	}
	return out, h, c, nil
}

// recSerial numbers the fused recurrences so that no two share a hash.
var recSerial atomic.Uint64

func recurrentCheck(kind Kind, reverse bool, in Inputs) (recDims, []*gorgonia.Node, error) {
	var d recDims
	fail := func(format string, a ...any) (recDims, []*gorgonia.Node, error) {
		return d, nil, errors.Errorf("recurrent: %v: "+format, append([]any{kind}, a...)...)
	}
	if kind < Tanh || kind > GRU {
		return fail("unknown kind")
	}
	d.kind, d.reverse, d.masked, d.noXGrad = kind, reverse, in.Mask != nil, in.NoInputGrad
	if in.X == nil || in.H0 == nil || in.WIH == nil || in.WHH == nil || in.BIH == nil || in.BHH == nil {
		return fail("nil input")
	}
	if d.lstm() != (in.C0 != nil) {
		return fail("C0 is required by LSTMs and only by them")
	}
	if (kind == Peephole) != (in.PI != nil && in.PF != nil && in.PO != nil) || (kind != Peephole && (in.PI != nil || in.PF != nil || in.PO != nil)) {
		return fail("PI, PF and PO are required by the peephole LSTM and only by it")
	}
	hs := in.H0.Shape()
	if len(hs) != 2 || hs[0] < 1 || hs[1] < 1 {
		return fail("H0 is %v, want [batch, hidden]", hs)
	}
	d.B, d.H = hs[0], hs[1]
	xs := in.X.Shape()
	if len(xs) != 2 || xs[0] < d.B || xs[0]%d.B != 0 || xs[1] < 1 {
		return fail("X is %v, want [steps·%d, input] with at least one step", xs, d.B)
	}
	d.T, d.I = xs[0]/d.B, xs[1]
	GH := d.gates() * d.H
	nodes := []*gorgonia.Node{in.X, in.H0}
	want := [][]int{xs, {d.B, d.H}}
	names := []string{"X", "H0"}
	if d.lstm() {
		nodes, want, names = append(nodes, in.C0), append(want, []int{d.B, d.H}), append(names, "C0")
	}
	nodes = append(nodes, in.WIH, in.WHH, in.BIH, in.BHH)
	want = append(want, []int{GH, d.I}, []int{GH, d.H}, []int{GH}, []int{GH})
	names = append(names, "WIH", "WHH", "BIH", "BHH")
	if kind == Peephole {
		nodes = append(nodes, in.PI, in.PF, in.PO)
		want = append(want, []int{d.H}, []int{d.H}, []int{d.H})
		names = append(names, "PI", "PF", "PO")
	}
	if in.Mask != nil {
		nodes, want, names = append(nodes, in.Mask), append(want, []int{d.T * d.B}), append(names, "Mask")
	}
	dt := in.X.Dtype()
	if err := graph.CheckDtype(dt); err != nil {
		return fail("%v", err)
	}
	for i, n := range nodes {
		if !opkit.SameShape(n.Shape(), want[i]) {
			return fail("%s is %v, want %v", names[i], n.Shape(), want[i])
		}
		if n.Dtype() != dt {
			return fail("%s is %v, X is %v", names[i], n.Dtype(), dt)
		}
		if n.Graph() != in.X.Graph() {
			return fail("%s belongs to another graph", names[i])
		}
	}
	return d, nodes, nil
}

// inputShapes returns the shapes of the op's inputs, in order.
func (d recDims) inputShapes() [][]int {
	GH := d.gates() * d.H
	s := [][]int{{d.T * d.B, d.I}, {d.B, d.H}}
	if d.lstm() {
		s = append(s, []int{d.B, d.H})
	}
	s = append(s, []int{GH, d.I}, []int{GH, d.H}, []int{GH}, []int{GH})
	if d.kind == Peephole {
		s = append(s, []int{d.H}, []int{d.H}, []int{d.H})
	}
	if d.masked {
		s = append(s, []int{d.T * d.B})
	}
	return s
}

// recurrentOp is the fused forward pass. Its result stacks the outputs and
// the final states, [(T + states)·B, H]; ws keeps what the backward pass
// needs, so the op's gradient node must run after it in the same run (as
// Gorgonia's machines do).
type recurrentOp struct {
	opkit.Base
	d  recDims
	id uint64
	ws *recState
	// shapes caches d.inputShapes(); ts holds the input values of a pass.
	shapes [][]int
	ts     []*tensor.Dense
}

// recState is the workspace of one fused node, shared by its forward and
// backward ops.
type recState struct {
	f32 recWS[float32]
	f64 recWS[float64]
}

func (op *recurrentOp) state() *recState {
	if op.ws == nil {
		op.ws = new(recState)
	}
	return op.ws
}

func (op *recurrentOp) Arity() int { return len(op.d.inputShapes()) }

func (op *recurrentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	var ts []hm.Type
	for _, s := range op.d.inputShapes() {
		ts = append(ts, gorgonia.TensorType{Dims: len(s), Of: a})
	}
	return hm.NewFnType(append(ts, gorgonia.TensorType{Dims: 2, Of: a})...)
}

func (op *recurrentOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.d.outRows(), op.d.H}, nil
}

func (op *recurrentOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := op.inputs(vals)
	if err != nil {
		return nil, err
	}
	out := op.Alloc()(ts[0].Dtype(), false, op.d.outRows(), op.d.H)
	st := op.state()
	switch out.Dtype() {
	case tensor.Float32:
		st.f32.ensure(op.d)
		st.f32.forward(recInputs[float32](op.d, ts), out.Float32s())
	default:
		st.f64.ensure(op.d)
		st.f64.forward(recInputs[float64](op.d, ts), out.Float64s())
	}
	return out, nil
}

// inputs checks the values of the op's inputs and returns them as dense
// tensors of the shapes the graph was built with.
func (op *recurrentOp) inputs(vals []gorgonia.Value) ([]*tensor.Dense, error) {
	if op.shapes == nil {
		op.shapes = op.d.inputShapes()
		op.ts = make([]*tensor.Dense, len(op.shapes))
	}
	shapes := op.shapes
	if len(vals) < len(shapes) {
		return nil, errors.Errorf("recurrent: %v: %d inputs, want %d", op, len(vals), len(shapes))
	}
	ts := op.ts // reused: the op's passes run one at a time
	for i, s := range shapes {
		t, err := opkit.AsShape(op, vals[i], s)
		if err != nil {
			return nil, err
		}
		if i > 0 && t.Dtype() != ts[0].Dtype() {
			return nil, errors.Wrapf(graph.ErrDtype, "%v: input %d is %v, input 0 is %v", op, i, t.Dtype(), ts[0].Dtype())
		}
		ts[i] = t
	}
	if dt := ts[0].Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Wrapf(graph.ErrDtype, "%v: %v", op, dt)
	}
	return ts, nil
}

// recInputs names the op's input values, checked by inputs to be of T's
// dtype.
func recInputs[T float32 | float64](d recDims, ts []*tensor.Dense) recIn[T] {
	var buf [16][]T // inputs has checked len(ts) = len(d.inputShapes()) ≤ 14
	v := buf[:len(ts)]
	for i, t := range ts {
		v[i] = opkit.Floats[T](t)
	}
	var in recIn[T]
	in.x, in.h0, v = v[0], v[1], v[2:]
	if d.lstm() {
		in.c0, v = v[0], v[1:]
	}
	in.wih, in.whh, in.bih, in.bhh, v = v[0], v[1], v[2], v[3], v[4:]
	if d.kind == Peephole {
		in.pi, in.pf, in.po, v = v[0], v[1], v[2], v[3:]
	}
	if d.masked {
		in.mask = v[0]
	}
	return in
}

func (op *recurrentOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.recurrent(%v,%+v,%d)", op.d.kind, op.d, op.id)
}
func (op *recurrentOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op *recurrentOp) String() string {
	dir := ""
	if op.d.reverse {
		dir = " reverse"
	}
	return fmt.Sprintf("Recurrent[%v%s T%d B%d I%d H%d]", op.d.kind, dir, op.d.T, op.d.B, op.d.I, op.d.H)
}

func (op *recurrentOp) DiffWRT(inputs int) []bool {
	diff := opkit.Trues(inputs)
	if op.d.masked && inputs > 0 {
		diff[inputs-1] = false
	}
	if op.d.noXGrad && inputs > 0 {
		diff[0] = false
	}
	return diff
}

// SymDiff: one node computes every input's gradient from the workspace the
// forward pass left, packed into a vector; a copy op cuts each out.
func (op *recurrentOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	fwd, ok := output.Op().(*recurrentOp)
	if !ok {
		return nil, errors.Errorf("recurrent: %v: gradient of a node of op %v", op, output.Op())
	}
	args := append(append(gorgonia.Nodes{}, inputs...), output, grad)
	packed, err := gorgonia.ApplyOp(&recurrentGradOp{Base: opkit.WithBuf(), fwd: fwd}, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "recurrent: %v gradient", op)
	}
	shapes := op.d.inputShapes()
	grads := make(gorgonia.Nodes, len(inputs))
	first := 0 // the input of the first packed part
	if op.d.noXGrad {
		first = 1
	}
	off := 0
	for i, n := range op.d.gradLayout() {
		k := first + i
		if grads[k], err = gorgonia.ApplyOp(unpackOp{Base: opkit.WithBuf(), off: off, shape: shapes[k]}, packed); err != nil {
			return nil, errors.Wrapf(err, "recurrent: %v gradient", op)
		}
		off += n
	}
	return grads, nil
}

// recurrentGradOp computes the packed gradient of a fused recurrence from
// its inputs, its result and the result's gradient.
type recurrentGradOp struct {
	opkit.Base
	fwd *recurrentOp
}

func (op *recurrentGradOp) Arity() int    { return op.fwd.Arity() + 2 }
func (op *recurrentGradOp) Type() hm.Type { return opkit.PackedGradType(op.fwd.d.inputShapes()) }
func (op *recurrentGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	n := 0
	for _, s := range op.fwd.d.gradLayout() {
		n += s
	}
	return tensor.Shape{n}, nil
}

func (op *recurrentGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	d := op.fwd.d
	ts, err := op.fwd.inputs(vals)
	if err != nil {
		return nil, err
	}
	if len(vals) != len(ts)+2 {
		return nil, errors.Errorf("recurrent: %v: %d inputs, want %d", op, len(vals), len(ts)+2)
	}
	dOut, err := opkit.AsShape(op, vals[len(vals)-1], []int{d.outRows(), d.H})
	if err != nil {
		return nil, err
	}
	if dOut.Dtype() != ts[0].Dtype() {
		return nil, errors.Wrapf(graph.ErrDtype, "%v: gradient is %v, inputs %v", op, dOut.Dtype(), ts[0].Dtype())
	}
	shape, _ := op.InferShape()
	out := op.Alloc()(dOut.Dtype(), false, shape...)
	st := op.fwd.state()
	switch out.Dtype() {
	case tensor.Float32:
		if st.f32.d != d || st.f32.gates == nil {
			return nil, errors.Errorf("recurrent: %v: the forward pass has not run", op)
		}
		st.f32.backward(recInputs[float32](d, ts), opkit.Floats[float32](dOut), splitGrads(d, out.Float32s()))
	default:
		if st.f64.d != d || st.f64.gates == nil {
			return nil, errors.Errorf("recurrent: %v: the forward pass has not run", op)
		}
		st.f64.backward(recInputs[float64](d, ts), opkit.Floats[float64](dOut), splitGrads(d, out.Float64s()))
	}
	return out, nil
}

func (op *recurrentGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.recurrentGrad(%d)", op.fwd.id)
}
func (op *recurrentGradOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op *recurrentGradOp) String() string   { return "∂" + op.fwd.String() }
func (op *recurrentGradOp) DiffWRT(inputs int) []bool {
	return make([]bool, inputs)
}
func (op *recurrentGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.Errorf("recurrent: %v: no second derivative", op)
}

// unpackOp copies one part out of a packed vector and gives it a shape.
type unpackOp struct {
	opkit.Base
	off   int
	shape []int
}

func (op unpackOp) Arity() int { return 1 }
func (op unpackOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 1, Of: a}, gorgonia.TensorType{Dims: len(op.shape), Of: a})
}
func (op unpackOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(append([]int(nil), op.shape...)), nil
}
func (op unpackOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("recurrent: %v: %d inputs", op, len(vals))
	}
	src, err := opkit.Dense(op, vals[0])
	if err != nil {
		return nil, err
	}
	n := 1
	for _, s := range op.shape {
		n *= s
	}
	if src.Shape().TotalSize() < op.off+n {
		return nil, errors.Errorf("recurrent: %v: packed value of %d elements", op, src.Shape().TotalSize())
	}
	out := op.Alloc()(src.Dtype(), false, op.shape...)
	switch src.Dtype() {
	case tensor.Float32:
		copy(out.Float32s(), src.Float32s()[op.off:op.off+n])
	case tensor.Float64:
		copy(out.Float64s(), src.Float64s()[op.off:op.off+n])
	default:
		return nil, errors.Wrapf(graph.ErrDtype, "%v", op)
	}
	return out, nil
}
func (op unpackOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.unpack(%d,%v)", op.off, op.shape)
}
func (op unpackOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op unpackOp) String() string            { return fmt.Sprintf("Unpack[%d:%v]", op.off, op.shape) }
func (op unpackOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op unpackOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.Errorf("recurrent: %v: not differentiable", op)
}
