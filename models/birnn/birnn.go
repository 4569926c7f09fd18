package birnn

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// Merge is how the two directions' outputs are joined at each time step.
type Merge int

// The merge modes.
const (
	// Concat joins [→h_t ; ←h_t] on the feature axis, the forward half
	// first, as PyTorch does; the output size is Hf + Hb. The default.
	Concat Merge = iota
	// Sum adds the two directions' outputs; their sizes must be equal.
	Sum
	// Mul multiplies the two directions' outputs element-wise.
	Mul
	// Average is (→h_t + ←h_t) / 2.
	Average
)

var mergeNames = [...]string{Concat: "concat", Sum: "sum", Mul: "mul", Average: "average"}

func (m Merge) valid() bool { return m >= Concat && m <= Average }

// String returns the mode's name: "concat", "sum", "mul" or "average"
// ("Merge(n)" for a value that is none of them).
func (m Merge) String() string {
	if !m.valid() {
		return fmt.Sprintf("Merge(%d)", int(m))
	}
	return mergeNames[m]
}

// ParseMerge returns the mode named s, as String writes it, ignoring case
// and surrounding space; "ave" (Keras's name) is also Average.
func ParseMerge(s string) (Merge, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	if k == "ave" {
		return Average, nil
	}
	for m, name := range mergeNames {
		if k == name {
			return Merge(m), nil
		}
	}
	return 0, errors.Wrapf(ErrConfig, "unknown merge mode %q (want concat, sum, mul or average)", s)
}

// Encoder is a bidirectional recurrent encoder: a forward and a backward
// cell, bound to one graph, and a merge mode. Build it with [New].
type Encoder struct {
	fwd, bwd cells.Cell
	merge    Merge
	in       int // input size of both cells
	hf, hb   int // hidden sizes
}

// New pairs a forward and a backward cell with a merge mode. Both cells must
// implement cells.Sized and take inputs of the same size; for Sum, Mul and
// Average their hidden sizes must also be equal. Passing the same Cell value
// twice, or two cells bound to the same parameters (cells of one
// cells.Config, typically the backward one without Reverse set), is an
// error: the two directions would share their weights by accident.
func New(fwd, bwd cells.Cell, merge Merge) (*Encoder, error) {
	if isNil(fwd) {
		return nil, errors.Wrap(ErrConfig, "birnn: nil forward cell")
	}
	if isNil(bwd) {
		return nil, errors.Wrap(ErrConfig, "birnn: nil backward cell")
	}
	if !merge.valid() {
		return nil, errors.Wrapf(ErrConfig, "birnn: unknown merge mode %v", merge)
	}
	if sameCell(fwd, bwd) {
		return nil, errors.Wrap(ErrConfig, "birnn: the forward and backward cells are the same cell (their weights would be shared)")
	}
	if name, ok := sharedParam(fwd, bwd); ok {
		return nil, errors.Wrapf(ErrConfig, "birnn: the forward and backward cells share parameter %q (set Reverse in the backward cell's config)", name)
	}
	fs, ok := fwd.(cells.Sized)
	if !ok {
		return nil, errors.Wrapf(ErrConfig, "birnn: forward cell %T does not report its sizes (cells.Sized)", fwd)
	}
	bs, ok := bwd.(cells.Sized)
	if !ok {
		return nil, errors.Wrapf(ErrConfig, "birnn: backward cell %T does not report its sizes (cells.Sized)", bwd)
	}
	e := &Encoder{fwd: fwd, bwd: bwd, merge: merge, in: fs.InputSize(), hf: fs.HiddenSize(), hb: bs.HiddenSize()}
	if e.in <= 0 || e.hf <= 0 || e.hb <= 0 {
		return nil, errors.Wrapf(ErrConfig, "birnn: cell sizes must be positive (input %d, hidden %d and %d)", e.in, e.hf, e.hb)
	}
	if bs.InputSize() != e.in {
		return nil, errors.Wrapf(ErrConfig, "birnn: forward cell takes input size %d, backward cell %d", e.in, bs.InputSize())
	}
	if merge != Concat && e.hf != e.hb {
		return nil, errors.Wrapf(ErrConfig, "birnn: merge %v needs equal hidden sizes, got %d (forward) and %d (backward)", merge, e.hf, e.hb)
	}
	return e, nil
}

// isNil reports whether c is nil or a nil pointer (or other nil reference)
// in an interface, whose methods would dereference nil.
func isNil(c cells.Cell) bool {
	if c == nil {
		return true
	}
	v := reflect.ValueOf(c)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// sameCell reports whether a and b are the same value. Comparing two
// interfaces holding the same uncomparable type panics; such values are
// copies, not the same cell, and are reported as different.
func sameCell(a, b cells.Cell) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// sharedParam returns the name of a parameter both cells bind, for cells
// that report their cells.Config (every cell of package cells does).
func sharedParam(a, b cells.Cell) (string, bool) {
	type configured interface{ Config() cells.Config }
	ca, ok := a.(configured)
	if !ok {
		return "", false
	}
	cb, ok := b.(configured)
	if !ok {
		return "", false
	}
	names := map[string]bool{}
	for _, p := range ca.Config().Params() {
		names[p.Name] = true
	}
	for _, p := range cb.Config().Params() {
		if names[p.Name] {
			return p.Name, true
		}
	}
	return "", false
}

// InputSize returns the size of each input vector.
func (e *Encoder) InputSize() int {
	if e == nil {
		return 0
	}
	return e.in
}

// OutputSize returns the size of each merged output: Hf + Hb for Concat,
// H for the other modes.
func (e *Encoder) OutputSize() int {
	if e == nil {
		return 0
	}
	if e.merge == Concat {
		return e.hf + e.hb
	}
	return e.hf
}

// Merge returns the encoder's merge mode.
func (e *Encoder) Merge() Merge {
	if e == nil {
		return Concat
	}
	return e.merge
}

// Encode runs the forward cell over xs (each [B, I]) from s0f and the
// backward cell over xs in reverse from s0b (nil: zeros), and merges their
// outputs at each step. masks, nil or one [B] node of 0s and 1s per step,
// make xs a padded batch: each sequence's backward pass starts at its own
// last token, padded steps' outputs are zero, and the final states are each
// sequence's own. It returns the merged outputs indexed by original time,
// each [B, OutputSize()], the forward state after the last step and the
// backward state after x_0 (PyTorch's h_n[1]).
func (e *Encoder) Encode(xs []*gorgonia.Node, masks []*gorgonia.Node, s0f, s0b cells.State) (outs []*gorgonia.Node, fwdFinal, bwdFinal cells.State, err error) {
	if e == nil || e.fwd == nil || e.bwd == nil {
		return nil, nil, nil, errors.Wrap(ErrConfig, "birnn: encoder not built with New")
	}
	b, err := e.checkInputs(xs, masks)
	if err != nil {
		return nil, nil, nil, err
	}
	var fo, bo []*gorgonia.Node
	if masks == nil {
		fo, fwdFinal, err = cells.Unroll(e.fwd, xs, s0f)
	} else {
		fo, fwdFinal, err = cells.UnrollMasked(e.fwd, xs, s0f, masks)
	}
	if err != nil {
		return nil, nil, nil, errors.Wrap(err, "birnn: forward direction")
	}
	if masks == nil {
		bo, bwdFinal, err = cells.UnrollReverse(e.bwd, xs, s0b)
	} else {
		bo, bwdFinal, err = cells.UnrollReverseMasked(e.bwd, xs, s0b, masks)
	}
	if err != nil {
		return nil, nil, nil, errors.Wrap(err, "birnn: backward direction")
	}
	outs = make([]*gorgonia.Node, len(xs))
	for t := range xs {
		if outs[t], err = e.mergeStep(fo[t], bo[t], b); err != nil {
			return nil, nil, nil, errors.Wrapf(err, "birnn: step %d", t)
		}
	}
	return outs, fwdFinal, bwdFinal, nil
}

// checkInputs validates xs and masks and returns the batch size.
func (e *Encoder) checkInputs(xs, masks []*gorgonia.Node) (int, error) {
	if len(xs) == 0 {
		return 0, errors.Wrap(cells.ErrEmpty, "birnn: no time steps")
	}
	if masks != nil && len(masks) != len(xs) {
		return 0, errors.Wrapf(ErrInput, "birnn: %d masks for %d steps", len(masks), len(xs))
	}
	if xs[0] == nil {
		return 0, errors.Wrap(ErrInput, "birnn: nil input at step 0")
	}
	s0 := xs[0].Shape()
	if len(s0) != 2 || s0[1] != e.in {
		return 0, errors.Wrapf(ErrInput, "birnn: input at step 0 has shape %v, want [batch, %d]", s0, e.in)
	}
	b, eg, dt := s0[0], xs[0].Graph(), xs[0].Dtype()
	for t, x := range xs {
		if x == nil {
			return 0, errors.Wrapf(ErrInput, "birnn: nil input at step %d", t)
		}
		if s := x.Shape(); len(s) != 2 || s[0] != b || s[1] != e.in {
			return 0, errors.Wrapf(ErrInput, "birnn: input at step %d has shape %v, want [%d, %d]", t, s, b, e.in)
		}
		if x.Graph() != eg {
			return 0, errors.Wrapf(ErrInput, "birnn: input at step %d belongs to another graph", t)
		}
		if x.Dtype() != dt {
			return 0, errors.Wrapf(ErrInput, "birnn: input at step %d is %v, step 0 is %v", t, x.Dtype(), dt)
		}
	}
	for t, m := range masks {
		if m == nil {
			return 0, errors.Wrapf(ErrInput, "birnn: nil mask at step %d", t)
		}
		if s := m.Shape(); len(s) != 1 || s[0] != b {
			return 0, errors.Wrapf(ErrInput, "birnn: mask at step %d has shape %v, want [%d]", t, s, b)
		}
		if m.Graph() != eg {
			return 0, errors.Wrapf(ErrInput, "birnn: mask at step %d belongs to another graph", t)
		}
		if m.Dtype() != dt {
			return 0, errors.Wrapf(ErrInput, "birnn: mask at step %d is %v, inputs are %v", t, m.Dtype(), dt)
		}
	}
	return b, nil
}

// mergeStep joins one step's outputs f [B, Hf] and b [B, Hb].
func (e *Encoder) mergeStep(f, b *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	if f == nil || b == nil {
		return nil, errors.Wrap(ErrInput, "a cell returned a nil output")
	}
	if s := f.Shape(); len(s) != 2 || s[0] != batch || s[1] != e.hf {
		return nil, errors.Wrapf(ErrInput, "forward output has shape %v, want [%d, %d]", s, batch, e.hf)
	}
	if s := b.Shape(); len(s) != 2 || s[0] != batch || s[1] != e.hb {
		return nil, errors.Wrapf(ErrInput, "backward output has shape %v, want [%d, %d]", s, batch, e.hb)
	}
	if e.merge == Concat {
		return graph.ConcatCols(f, b)
	}
	// Gorgonia may write an element-wise op's result into the memory of its
	// first argument when that is a view, overwriting what the view looks
	// at. The cells of package cells never return a view, a parameter or an
	// input node, but another Cell might: copy such a node first.
	if aliased(f) {
		var err error
		if f, err = graph.Cols(f, 0, e.hf); err != nil {
			return nil, err
		}
	}
	switch e.merge {
	case Sum:
		n, err := gorgonia.Add(f, b)
		return n, errors.Wrap(err, "sum")
	case Mul:
		n, err := gorgonia.HadamardProd(f, b)
		return n, errors.Wrap(err, "mul")
	default: // Average
		s, err := gorgonia.Add(f, b)
		if err != nil {
			return nil, errors.Wrap(err, "average")
		}
		half, err := scalar(f.Graph(), f.Dtype(), 0.5)
		if err != nil {
			return nil, errors.Wrap(err, "average")
		}
		n, err := gorgonia.Mul(s, half)
		return n, errors.Wrap(err, "average")
	}
}

// aliased reports whether n is a parameter or input node, or a view that
// Gorgonia's Reshape, Transpose or Slice made: a node whose memory an
// element-wise op taking it as first argument may overwrite, or through
// which it may overwrite another node's (Gorgonia v0.9.18's ops are
// unexported types, hence the names).
func aliased(n *gorgonia.Node) bool {
	op := n.Op()
	if op == nil {
		return true
	}
	switch fmt.Sprintf("%T", op) {
	case "gorgonia.reshapeOp", "gorgonia.transposeOp", "*gorgonia.sliceOp", "gorgonia.sliceOp":
		return true
	}
	return false
}

// scalar returns the constant v of dtype dt in eg. It is the node
// graph.Graph.Scalar(v) returns for the same graph: Gorgonia keeps one
// constant node per name, and the name is Scalar's.
func scalar(eg *gorgonia.ExprGraph, dt tensor.Dtype, v float64) (*gorgonia.Node, error) {
	if eg == nil {
		return nil, errors.Wrap(ErrInput, "node without a graph")
	}
	var n *gorgonia.Node
	switch dt {
	case tensor.Float64:
		n = gorgonia.NewConstant(v, gorgonia.WithName(fmt.Sprintf("const_f64_%v", v)))
	case tensor.Float32:
		n = gorgonia.NewConstant(float32(v), gorgonia.WithName(fmt.Sprintf("const_f32_%v", v)))
	default:
		return nil, errors.Wrapf(graph.ErrDtype, "%v", dt)
	}
	return eg.AddNode(n), nil
}

// EncodeSeq is Encode over a whole batch held time-major in one matrix,
// x [T·B, I] (rows t·B … t·B+B−1 are step t), each direction one fused
// node (cells.Sequence). mask is nil or [T·B] of 0s and 1s. It returns the
// merged outputs [T·B, OutputSize()], time-major, and the final states as
// Encode does.
func (e *Encoder) EncodeSeq(x *gorgonia.Node, batch int, mask *gorgonia.Node, s0f, s0b cells.State) (out *gorgonia.Node, fwdFinal, bwdFinal cells.State, err error) {
	if e == nil || e.fwd == nil || e.bwd == nil {
		return nil, nil, nil, errors.Wrap(ErrConfig, "birnn: encoder not built with New")
	}
	if x == nil {
		return nil, nil, nil, errors.Wrap(ErrInput, "birnn: nil input")
	}
	if s := x.Shape(); len(s) != 2 || s[1] != e.in {
		return nil, nil, nil, errors.Wrapf(ErrInput, "birnn: input has shape %v, want [steps·batch, %d]", s, e.in)
	}
	fo, fwdFinal, err := cells.Sequence(e.fwd, x, batch, s0f, cells.SeqOptions{Mask: mask})
	if err != nil {
		return nil, nil, nil, errors.Wrap(err, "birnn: forward direction")
	}
	bo, bwdFinal, err := cells.Sequence(e.bwd, x, batch, s0b, cells.SeqOptions{Mask: mask, Reverse: true})
	if err != nil {
		return nil, nil, nil, errors.Wrap(err, "birnn: backward direction")
	}
	if out, err = e.mergeStep(fo, bo, x.Shape()[0]); err != nil {
		return nil, nil, nil, errors.Wrap(err, "birnn")
	}
	return out, fwdFinal, bwdFinal, nil
}
