package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
)

// IDs holds the integer ids (token ids) that a [Gather] node reads on each
// run. It is a side input: create it with the graph, Set it before every
// run. Set checks every id against the vocabulary, so a bad id is an error
// before the machine runs, never a panic inside it.
type IDs struct {
	ids    []int
	vocab  int
	serial uint64 // tells the ops of different id sets apart in their hashes
}

// NewIDs returns n ids, all 0, each to be in [0, vocab).
func NewIDs(n, vocab int) (*IDs, error) {
	if n <= 0 || vocab <= 0 {
		return nil, errors.Errorf("graph: NewIDs(%d, %d): sizes must be positive", n, vocab)
	}
	return &IDs{ids: make([]int, n), vocab: vocab, serial: nextSerial()}, nil
}

// Len returns the number of ids.
func (x *IDs) Len() int { return len(x.ids) }

// Vocab returns the exclusive upper bound of the ids.
func (x *IDs) Vocab() int { return x.vocab }

// Set copies ids in. Their number must be Len() and each must lie in [0, Vocab()).
func (x *IDs) Set(ids []int) error {
	if len(ids) != len(x.ids) {
		return errors.Errorf("graph: %d ids, want %d", len(ids), len(x.ids))
	}
	for i, id := range ids {
		if id < 0 || id >= x.vocab {
			return errors.Errorf("graph: id %d at position %d is out of range [0, %d)", id, i, x.vocab)
		}
	}
	copy(x.ids, ids)
	return nil
}

// Values returns a copy of the ids.
func (x *IDs) Values() []int { return append([]int(nil), x.ids...) }

// Gather returns the rows ids of table [V, E] as an [n, E] node: an
// embedding look-up. Its gradient adds each output row's gradient into the
// table row it came from; rows whose id equals skip (a padding id; −1 for
// none) get no gradient, as PyTorch's padding_idx.
func Gather(table *gorgonia.Node, ids *IDs, skip int) (*gorgonia.Node, error) {
	if table == nil || ids == nil {
		return nil, errors.New("graph: Gather of nil")
	}
	s := table.Shape()
	if len(s) != 2 || s[0] != ids.vocab {
		return nil, errors.Errorf("graph: Gather: table %s has shape %v, want [%d, E]", table.Name(), s, ids.vocab)
	}
	if skip < -1 || skip >= ids.vocab {
		return nil, errors.Errorf("graph: Gather: padding id %d out of range", skip)
	}
	n, err := gorgonia.ApplyOp(gatherOp{Base: opkit.WithBuf(), ids: ids, v: s[0], e: s[1], skip: skip}, table)
	return n, errors.Wrap(err, "graph: Gather")
}

// gatherOp: table [V, E] → [n, E].
type gatherOp struct {
	opkit.Base
	ids        *IDs
	v, e, skip int
}

func (op gatherOp) Arity() int { return 1 }
func (op gatherOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op gatherOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{len(op.ids.ids), op.e}, nil
}
func (op gatherOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.Alloc(), vals...)
}

func (op gatherOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	t, err := opkit.AsShape(op, vals[0], []int{op.v, op.e})
	if err != nil {
		return nil, err
	}
	n := len(op.ids.ids)
	out := alloc(t.Dtype(), false, n, op.e)
	switch src := t.Data().(type) {
	case []float64:
		gatherRows(src, out.Data().([]float64), op.ids.ids, op.e)
	case []float32:
		gatherRows(src, out.Data().([]float32), op.ids.ids, op.e)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

func gatherRows[T float32 | float64](src, dst []T, ids []int, e int) {
	for i, id := range ids {
		copy(dst[i*e:(i+1)*e], src[id*e:(id+1)*e])
	}
}

func (op gatherOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.gather(%d,%d,%d,%d)", op.ids.serial, op.v, op.e, op.skip)
}
func (op gatherOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op gatherOp) String() string            { return fmt.Sprintf("Gather[%d of %d]", len(op.ids.ids), op.v) }
func (op gatherOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op gatherOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	op.Base = opkit.WithBuf() // the scatter's own buffer
	d, err := gorgonia.ApplyOp(scatterOp{gatherOp: op}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// scatterOp: grad [n, E] → [V, E], each row added into its id's row.
type scatterOp struct{ gatherOp }

func (op scatterOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.v, op.e}, nil
}
func (op scatterOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.Alloc(), vals...)
}

func (op scatterOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	g, err := opkit.AsShape(op, vals[0], []int{len(op.ids.ids), op.e})
	if err != nil {
		return nil, err
	}
	out := alloc(g.Dtype(), true, op.v, op.e)
	switch src := g.Data().(type) {
	case []float64:
		scatterRows(src, out.Data().([]float64), op.ids.ids, op.e, op.skip)
	case []float32:
		scatterRows(src, out.Data().([]float32), op.ids.ids, op.e, op.skip)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

func scatterRows[T float32 | float64](src, dst []T, ids []int, e, skip int) {
	for i, id := range ids {
		if id == skip {
			continue
		}
		d, s := dst[id*e:(id+1)*e], src[i*e:(i+1)*e]
		for j := range d {
			d[j] += s[j]
		}
	}
}

func (op scatterOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.scatter(%d,%d,%d,%d)", op.ids.serial, op.v, op.e, op.skip)
}
func (op scatterOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op scatterOp) String() string            { return fmt.Sprintf("Scatter[%d into %d]", len(op.ids.ids), op.v) }
func (op scatterOp) DiffWRT(inputs int) []bool { return []bool{false} }
func (op scatterOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of Gather is not implemented")
}

// Blend returns mask ⊙ a + (1 − mask) ⊙ b row by row, where mask is a [B]
// vector of 0s and 1s and a, b are [B, n]: the rows whose mask is 0 keep b.
// This is how a finished sequence in a padded batch keeps its state. The
// mask gets no gradient.
func Blend(a, b, mask *gorgonia.Node) (*gorgonia.Node, error) {
	if a == nil || b == nil || mask == nil {
		return nil, errors.New("graph: Blend of nil node")
	}
	sa, sb, sm := a.Shape(), b.Shape(), mask.Shape()
	if len(sa) != 2 || !opkit.SameShape(sa, sb) || len(sm) != 1 || sm[0] != sa[0] {
		return nil, errors.Errorf("graph: Blend needs [B, n], [B, n] and [B], got %v, %v and %v", sa, sb, sm)
	}
	n, err := gorgonia.ApplyOp(blendOp{Base: opkit.WithBuf(), b: sa[0], n: sa[1]}, a, b, mask)
	return n, errors.Wrap(err, "graph: Blend")
}

// MaskRows returns mask ⊙ x row by row (mask [B], x [B, n]), or
// (1 − mask) ⊙ x when invert is set. The mask gets no gradient.
func MaskRows(x, mask *gorgonia.Node, invert bool) (*gorgonia.Node, error) {
	if x == nil || mask == nil {
		return nil, errors.New("graph: MaskRows of nil node")
	}
	sx, sm := x.Shape(), mask.Shape()
	if len(sx) != 2 || len(sm) != 1 || sm[0] != sx[0] {
		return nil, errors.Errorf("graph: MaskRows needs [B, n] and [B], got %v and %v", sx, sm)
	}
	n, err := gorgonia.ApplyOp(maskRowsOp{Base: opkit.WithBuf(), b: sx[0], n: sx[1], invert: invert}, x, mask)
	return n, errors.Wrap(err, "graph: MaskRows")
}

type blendOp struct {
	opkit.Base
	b, n int
}

func (op blendOp) Arity() int { return 3 }
func (op blendOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(m, m, v, m)
}
func (op blendOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.b, op.n}, nil
}
func (op blendOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.Alloc(), vals...)
}

func (op blendOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 3 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	a, err := opkit.AsShape(op, vals[0], []int{op.b, op.n})
	if err != nil {
		return nil, err
	}
	b, err := opkit.AsShape(op, vals[1], []int{op.b, op.n})
	if err != nil {
		return nil, err
	}
	m, err := opkit.AsShape(op, vals[2], []int{op.b})
	if err != nil {
		return nil, err
	}
	out := alloc(a.Dtype(), false, op.b, op.n)
	switch ad := a.Data().(type) {
	case []float64:
		blendRows(ad, b.Data().([]float64), m.Data().([]float64), out.Data().([]float64), op.n)
	case []float32:
		blendRows(ad, b.Data().([]float32), m.Data().([]float32), out.Data().([]float32), op.n)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

func blendRows[T float32 | float64](a, b, m, out []T, n int) {
	for r, mr := range m {
		src := b
		if mr != 0 {
			src = a
		}
		if mr != 0 && mr != 1 { // a soft mask: interpolate
			for j := r * n; j < (r+1)*n; j++ {
				out[j] = mr*a[j] + (1-mr)*b[j]
			}
			continue
		}
		copy(out[r*n:(r+1)*n], src[r*n:(r+1)*n])
	}
}

func (op blendOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.blend(%d,%d)", op.b, op.n) }
func (op blendOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op blendOp) String() string            { return "Blend" }
func (op blendOp) DiffWRT(inputs int) []bool { return []bool{true, true, false} }
func (op blendOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(inputs))
	}
	da, err := MaskRows(grad, inputs[2], false)
	if err != nil {
		return nil, err
	}
	db, err := MaskRows(grad, inputs[2], true)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{da, db, nil}, nil
}

type maskRowsOp struct {
	opkit.Base
	b, n   int
	invert bool
}

func (op maskRowsOp) Arity() int { return 2 }
func (op maskRowsOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(m, v, m)
}
func (op maskRowsOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.b, op.n}, nil
}
func (op maskRowsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.Alloc(), vals...)
}

func (op maskRowsOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.b, op.n})
	if err != nil {
		return nil, err
	}
	m, err := opkit.AsShape(op, vals[1], []int{op.b})
	if err != nil {
		return nil, err
	}
	out := alloc(x.Dtype(), false, op.b, op.n)
	switch xd := x.Data().(type) {
	case []float64:
		maskRows(xd, m.Data().([]float64), out.Data().([]float64), op.n, op.invert)
	case []float32:
		maskRows(xd, m.Data().([]float32), out.Data().([]float32), op.n, op.invert)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

func maskRows[T float32 | float64](x, m, out []T, n int, invert bool) {
	for r, mr := range m {
		if invert {
			mr = 1 - mr
		}
		for j := r * n; j < (r+1)*n; j++ {
			out[j] = mr * x[j]
		}
	}
}

func (op maskRowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.maskrows(%d,%d,%t)", op.b, op.n, op.invert)
}
func (op maskRowsOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op maskRowsOp) String() string            { return "MaskRows" }
func (op maskRowsOp) DiffWRT(inputs int) []bool { return []bool{true, false} }
func (op maskRowsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(inputs))
	}
	d, err := MaskRows(grad, inputs[1], op.invert)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d, nil}, nil
}
