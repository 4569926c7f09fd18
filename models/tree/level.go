package tree

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/opkit"
)

// BuildLevelGraph builds into g (typically inside graph.Build) the
// level-batched model of the batch b: one fused node computes every node
// of every tree, level by level — all leaves through one product with
// W_iou, then all nodes of height 1 through one product with U_iou (and
// U_f), and so on up — and its gradient node runs the levels back down with
// the same products transposed. Its outputs (H, C, Logits, Roots, Loss)
// are those of [BuildTrainGraph], the definition, which it is checked
// against; it has a few dozen nodes where the definition has a few per
// tree node. It sets b's words and labels.
func BuildLevelGraph(g *graph.Graph, c Config, b *Batch) (*TrainGraph, error) {
	return BuildLevelGraphWith(g, c, b, Options{})
}

// BuildLevelGraphWith is BuildLevelGraph with training options (dropout
// before the classifier).
func BuildLevelGraphWith(g *graph.Graph, c Config, b *Batch, o Options) (*TrainGraph, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	t, err := newTrainGraph(g, c, b)
	if err != nil {
		return nil, err
	}
	s := newSchedule(c, b)
	emb, err := t.param("embedding.weight")
	if err != nil {
		return nil, err
	}
	x, err := graph.Gather(emb, t.ids, -1)
	if err != nil {
		return nil, err
	}
	inputs := []*gorgonia.Node{x}
	for _, name := range levelParams(s) {
		p, err := t.param(name)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, p)
	}
	op := &levelOp{s: s, id: levelSerial.Add(1), ws: new(levelState)}
	out, err := gorgonia.ApplyOp(op, inputs...)
	if err != nil {
		return nil, errors.Wrapf(err, "tree: %v", op)
	}
	N := b.Len()
	if t.H, err = graph.Rows(out, 0, N); err != nil {
		return nil, err
	}
	if c.Kind.LSTM() {
		if t.C, err = graph.Rows(out, N, 2*N); err != nil {
			return nil, err
		}
	}
	roots, err := graph.NewIDs(len(b.Roots), N)
	if err != nil {
		return nil, err
	}
	if err := roots.Set(b.Roots); err != nil {
		return nil, err
	}
	if t.Roots, err = graph.Gather(t.H, roots, -1); err != nil {
		return nil, err
	}
	if err := t.classify(&o); err != nil {
		return nil, err
	}
	t.level = &levelGraph{op: op, roots: roots}
	return t, t.Set(b)
}

// levelGraph is what a level-batched TrainGraph changes for a new batch:
// the fused node's schedule and the roots' rows.
type levelGraph struct {
	op    *levelOp
	roots *graph.IDs
}

// set gives the fused node the schedule of b, which must have the counts
// the graph was built for.
func (l *levelGraph) set(c Config, b *Batch) error {
	s := l.op.s
	if b.Len() != s.N || b.Trees() != len(l.roots.Values()) || len(b.Leaves()) != s.L {
		return errors.Wrapf(ErrBatch, "%d trees of %d nodes and %d leaves, the graph has %d, %d and %d",
			b.Trees(), b.Len(), len(b.Leaves()), len(l.roots.Values()), s.N, s.L)
	}
	if c.Kind.Binary() {
		if err := b.CheckBinary(); err != nil {
			return errors.Wrapf(err, "tree: %v", c.Kind)
		}
	}
	ns := newSchedule(c, b)
	if ns.internal() != s.internal() {
		return errors.Wrap(ErrBatch, "a batch of one-word trees and one with phrases need different graphs")
	}
	if err := l.roots.Set(b.Roots); err != nil {
		return err
	}
	l.op.s = ns
	return nil
}

// levelParams names the op's parameter inputs (after the leaves' vectors):
// the composition weights only where the batch has internal nodes.
func levelParams(s *schedule) []string {
	var names []string
	if s.kind.LSTM() {
		names = []string{"W_iou.weight", "b_iou"}
	}
	if !s.internal() {
		return names
	}
	if s.kind == RNN {
		return []string{"W.weight", "W.bias"}
	}
	return append(names, "U_iou.weight", "U_f.weight", "U_f.bias")
}

// inputShapes returns the shapes of the op's inputs, in order.
func (s *schedule) inputShapes() [][]int {
	H, aw := s.H, s.aw()
	k := aw / H * H // kH: 2H binary, H child-sum
	shapes := [][]int{{s.L, s.E}}
	for _, name := range levelParams(s) {
		shapes = append(shapes, map[string][]int{
			"W.weight": {H, 2 * H}, "W.bias": {H},
			"W_iou.weight": {3 * H, s.E}, "b_iou": {1, 3 * H},
			"U_iou.weight": {3 * H, aw}, "U_f.weight": {k, k}, "U_f.bias": {k},
		}[name])
	}
	return shapes
}

var levelSerial atomic.Uint64

// levelState holds the workspaces of one fused node.
type levelState struct {
	f32 levelWS[float32]
	f64 levelWS[float64]
}

// levelOp is the fused forward of a batch of trees: inputs the leaves'
// vectors and the parameters (see inputShapes), result [states·N, H] (h of
// every node, then c for the Tree-LSTMs).
type levelOp struct {
	s    *schedule
	id   uint64
	ws   *levelState
	buf  *tensor.Dense
	grad *levelGradOp // its gradient node's op, once SymDiff made it
}

func (op *levelOp) Arity() int { return len(op.s.inputShapes()) }
func (op *levelOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	var ts []hm.Type
	for _, s := range op.s.inputShapes() {
		ts = append(ts, gorgonia.TensorType{Dims: len(s), Of: a})
	}
	return hm.NewFnType(append(ts, gorgonia.TensorType{Dims: 2, Of: a})...)
}
func (op *levelOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.states() * op.s.N, op.s.H}, nil
}
func (op *levelOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := values(op, vals, op.s.inputShapes())
	if err != nil {
		return nil, err
	}
	shape, _ := op.InferShape()
	out := reuse(&op.buf, ts[0].Dtype(), shape)
	switch out.Dtype() {
	case tensor.Float32:
		op.ws.f32.ensure(op.s)
		op.ws.f32.forward(levelInputs[float32](op.s, ts), out.Float32s())
	case tensor.Float64:
		op.ws.f64.ensure(op.s)
		op.ws.f64.forward(levelInputs[float64](op.s, ts), out.Float64s())
	}
	return out, nil
}
func (op *levelOp) ReturnsPtr() bool      { return false }
func (op *levelOp) CallsExtern() bool     { return false }
func (op *levelOp) OverwritesInput() int  { return -1 }
func (op *levelOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "rnnkit.tree.level(%d)", op.id) }
func (op *levelOp) Hashcode() uint32      { return hashOf(op) }
func (op *levelOp) String() string {
	return fmt.Sprintf("TreeLevels[%v N%d L%d levels%d E%d H%d]", op.s.kind, op.s.N, op.s.L, len(op.s.levels), op.s.E, op.s.H)
}
func (op *levelOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff: one node computes every input's gradient from the workspace
// the forward pass left, packed into one vector; copy ops cut it up.
func (op *levelOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	args := append(append(gorgonia.Nodes{}, inputs...), output, grad)
	gop := &levelGradOp{fwd: op}
	packed, err := gorgonia.ApplyOp(gop, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "tree: %v gradient", op)
	}
	op.grad = gop
	grads := make(gorgonia.Nodes, len(inputs))
	off := 0
	for i, s := range op.s.inputShapes() {
		if grads[i], err = gorgonia.ApplyOp(&unpackOp{off: off, shape: s}, packed); err != nil {
			return nil, errors.Wrapf(err, "tree: %v gradient", op)
		}
		off += size(s)
	}
	return grads, nil
}

// levelGradOp computes the packed gradient of a levelOp from its inputs,
// its result and the result's gradient.
type levelGradOp struct {
	fwd *levelOp
	buf *tensor.Dense
}

func (op *levelGradOp) Arity() int    { return op.fwd.Arity() + 2 }
func (op *levelGradOp) Type() hm.Type { return opkit.PackedGradType(op.fwd.s.inputShapes()) }
func (op *levelGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	n := 0
	for _, s := range op.fwd.s.inputShapes() {
		n += size(s)
	}
	return tensor.Shape{n}, nil
}
func (op *levelGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	s := op.fwd.s
	shapes := s.inputShapes()
	if len(vals) != len(shapes)+2 {
		return nil, errors.Errorf("tree: %v: %d inputs, want %d", op, len(vals), len(shapes)+2)
	}
	ts, err := values(op, vals, append(shapes, []int{s.states() * s.N, s.H}))
	if err != nil {
		return nil, err
	}
	dOut, err := values(op, vals[len(vals)-1:], [][]int{{s.states() * s.N, s.H}})
	if err != nil {
		return nil, err
	}
	if dOut[0].Dtype() != ts[0].Dtype() {
		return nil, errors.Errorf("tree: %v: gradient is %v, inputs %v", op, dOut[0].Dtype(), ts[0].Dtype())
	}
	shape, _ := op.InferShape()
	out := reuse(&op.buf, ts[0].Dtype(), shape)
	switch out.Dtype() {
	case tensor.Float32:
		w := &op.fwd.ws.f32
		if w.s != s || !w.ran {
			return nil, errors.Errorf("tree: %v: the forward pass has not run", op)
		}
		d := out.Float32s()
		clear(d)
		w.backward(levelInputs[float32](s, ts), dOut[0].Float32s(), splitLevelGrads(s, d))
	case tensor.Float64:
		w := &op.fwd.ws.f64
		if w.s != s || !w.ran {
			return nil, errors.Errorf("tree: %v: the forward pass has not run", op)
		}
		d := out.Float64s()
		clear(d)
		w.backward(levelInputs[float64](s, ts), dOut[0].Float64s(), splitLevelGrads(s, d))
	}
	return out, nil
}
func (op *levelGradOp) ReturnsPtr() bool      { return false }
func (op *levelGradOp) CallsExtern() bool     { return false }
func (op *levelGradOp) OverwritesInput() int  { return -1 }
func (op *levelGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "rnnkit.tree.levelGrad(%d)", op.fwd.id) }
func (op *levelGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *levelGradOp) String() string        { return "∂" + op.fwd.String() }
func (op *levelGradOp) DiffWRT(inputs int) []bool {
	return make([]bool, inputs)
}
func (op *levelGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.Errorf("tree: %v: no second derivative", op)
}

// levelInputs names the input values (checked by values to be of T).
func levelInputs[T float32 | float64](s *schedule, ts []*tensor.Dense) levelIn[T] {
	in := levelIn[T]{x: floats[T](ts[0])}
	for i, name := range levelParams(s) {
		v := floats[T](ts[i+1])
		switch name {
		case "W.weight":
			in.w = v
		case "W.bias":
			in.b = v
		case "W_iou.weight":
			in.wiou = v
		case "b_iou":
			in.biou = v
		case "U_iou.weight":
			in.uiou = v
		case "U_f.weight":
			in.uf = v
		case "U_f.bias":
			in.ufb = v
		}
	}
	return in
}

// splitLevelGrads cuts the packed gradient into the inputs' parts.
func splitLevelGrads[T float32 | float64](s *schedule, packed []T) levelGrads[T] {
	shapes := s.inputShapes()
	var g levelGrads[T]
	g.x = packed[:size(shapes[0])]
	off := size(shapes[0])
	for i, name := range levelParams(s) {
		n := size(shapes[i+1])
		v := packed[off : off+n]
		off += n
		switch name {
		case "W.weight":
			g.w = v
		case "W.bias":
			g.b = v
		case "W_iou.weight":
			g.wiou = v
		case "b_iou":
			g.biou = v
		case "U_iou.weight":
			g.uiou = v
		case "U_f.weight":
			g.uf = v
		case "U_f.bias":
			g.ufb = v
		}
	}
	return g
}

// unpackOp copies one part out of a packed vector and gives it a shape.
type unpackOp struct {
	off   int
	shape []int
	buf   *tensor.Dense
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
		return nil, errors.Errorf("tree: %v: %d inputs", op, len(vals))
	}
	src, ok := vals[0].(*tensor.Dense)
	n := size(op.shape)
	if !ok || src.Shape().TotalSize() < op.off+n {
		return nil, errors.Errorf("tree: %v: packed value %v", op, vals[0])
	}
	out := reuse(&op.buf, src.Dtype(), op.shape)
	switch src.Dtype() {
	case tensor.Float32:
		copy(out.Float32s(), src.Float32s()[op.off:op.off+n])
	case tensor.Float64:
		copy(out.Float64s(), src.Float64s()[op.off:op.off+n])
	default:
		return nil, errors.Errorf("tree: %v: dtype %v", op, src.Dtype())
	}
	return out, nil
}
func (op *unpackOp) ReturnsPtr() bool     { return false }
func (op *unpackOp) CallsExtern() bool    { return false }
func (op *unpackOp) OverwritesInput() int { return -1 }
func (op *unpackOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.tree.unpack(%d,%v)", op.off, op.shape)
}
func (op *unpackOp) Hashcode() uint32 { return hashOf(op) }
func (op *unpackOp) String() string   { return fmt.Sprintf("Unpack[%d:%v]", op.off, op.shape) }
func (op *unpackOp) DiffWRT(inputs int) []bool {
	return make([]bool, inputs)
}
func (op *unpackOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.Errorf("tree: %v: not differentiable", op)
}

// values checks an op's input values against the shapes it was built with
// (a value of the right size but another shape is taken as it is: some of
// Gorgonia's backward ops hand on a [1, n] value as [n]) and one float
// dtype, and returns them as dense tensors.
func values(op fmt.Stringer, vals []gorgonia.Value, shapes [][]int) ([]*tensor.Dense, error) {
	if len(vals) < len(shapes) {
		return nil, errors.Errorf("tree: %v: %d inputs, want %d", op, len(vals), len(shapes))
	}
	ts := make([]*tensor.Dense, len(shapes))
	for i, s := range shapes {
		t, ok := vals[i].(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("tree: %v: input %d is %T, want a dense tensor", op, i, vals[i])
		}
		if t.RequiresIterator() {
			if t, ok = t.Materialize().(*tensor.Dense); !ok {
				return nil, errors.Errorf("tree: %v: input %d: cannot materialise a view", op, i)
			}
		}
		if t.Shape().TotalSize() != size(s) {
			return nil, errors.Errorf("tree: %v: input %d has shape %v, want %v", op, i, t.Shape(), s)
		}
		if dt := t.Dtype(); (dt != tensor.Float32 && dt != tensor.Float64) || dt != vals[0].Dtype() {
			return nil, errors.Errorf("tree: %v: input %d is %v", op, i, dt)
		}
		ts[i] = t
	}
	return ts, nil
}

// reuse returns *buf if it has the dtype and shape, else a new tensor kept
// in *buf: an op writes its result into the same buffer on every run.
func reuse(buf **tensor.Dense, dt tensor.Dtype, shape []int) *tensor.Dense {
	if t := *buf; t != nil && t.Dtype() == dt && !t.IsView() && t.Shape().Eq(tensor.Shape(shape)) {
		return t
	}
	*buf = tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	return *buf
}

// floats returns t's data as []T (t's dtype is T's: values checked it).
func floats[T float32 | float64](t *tensor.Dense) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		f := t.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
	}
	f := t.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func hashOf(w interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	w.WriteHash(h)
	return h.Sum32()
}
