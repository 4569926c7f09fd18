package graph

import (
	"fmt"
	"hash"
	"math"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
	"github.com/rnnkit/rnnkit/internal/parallel"
)

// ApplyFused returns x ⊙ mask like Apply, as one op that draws its mask
// itself while it runs instead of reading a mask input filled element by
// element beforehand. Resample (and ApplyFused) give the op a seed from
// the Dropout's source; each run draws the mask from that seed alone (so
// runs between two Resamples use the same mask, and equal seeds give equal
// masks): blocks of 8192 elements, each from a PCG seeded with the seed and
// the block's index, every 64-bit draw deciding two elements by its 32-bit
// halves (kept when the half is at least ⌈p·2³²⌉; the kept fraction is
// 1 − p within 2⁻³²). The op keeps the mask, 0 or 1/(1−p) per element, for
// its gradient dy ⊙ mask. In evaluation mode it passes x through.
//
// The masks differ from Apply's for the same seed: a model built with
// ApplyFused draws other masks than the same model built with Apply.
func (d *Dropout) ApplyFused(g *Graph, x *gorgonia.Node) (*gorgonia.Node, error) {
	if g == nil || x == nil {
		return nil, errors.New("graph: dropout of nil")
	}
	if math.IsInf(1/(1-d.p), 0) {
		return nil, errors.New("graph: dropout probability 1")
	}
	st := &dropState{shape: append([]int(nil), x.Shape()...), serial: nextSerial()}
	d.seed(st)
	d.fused = append(d.fused, st)
	out, err := gorgonia.ApplyOp(dropOp{Base: opkit.WithBuf(), s: st}, x)
	return out, errors.Wrap(err, "graph: dropout")
}

// seed gives st the Dropout's current mode and a new seed.
func (d *Dropout) seed(st *dropState) {
	st.on = d.training && d.p > 0
	st.keep = 1 / (1 - d.p)
	st.thr = uint64(math.Ceil(d.p * (1 << 32)))
	st.seed = 0
	if st.on {
		st.seed = d.src.Uint64()
	}
}

// dropState is what a fused dropout op and its gradient share.
type dropState struct {
	shape  []int
	serial uint64
	on     bool
	keep   float64
	thr    uint64 // a 32-bit half below thr drops its element
	seed   uint64

	m32 []float32
	m64 []float64
}

// dropBlock is the number of mask elements drawn from one PCG.
const dropBlock = 8192

// mix is SplitMix64's finaliser: the block seeds of one mask seed.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// dropForward draws the mask into m and writes x ⊙ m into out.
func dropForward[T float32 | float64](st *dropState, x, out, m []T) {
	keep := T(st.keep)
	blocks := (len(x) + dropBlock - 1) / dropBlock
	parallel.For(blocks, 3*dropBlock, func(lo, hi int) {
		var pcg rand.PCG
		for blk := lo; blk < hi; blk++ {
			pcg.Seed(mix(st.seed+uint64(blk)*0x9e3779b97f4a7c15), mix(st.seed^uint64(blk)))
			i0, i1 := blk*dropBlock, min((blk+1)*dropBlock, len(x))
			for i := i0; i < i1; i += 2 {
				u := pcg.Uint64()
				k := T(0)
				if u&0xffffffff >= st.thr {
					k = keep
				}
				m[i], out[i] = k, x[i]*k
				if i+1 < i1 {
					k = 0
					if u>>32 >= st.thr {
						k = keep
					}
					m[i+1], out[i+1] = k, x[i+1]*k
				}
			}
		}
	})
}

// dropOp: x → x ⊙ mask, the mask drawn from the state's seed.
type dropOp struct {
	opkit.Base
	s *dropState
}

func (op dropOp) Arity() int { return 1 }
func (op dropOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: len(op.s.shape), Of: a}
	return hm.NewFnType(t, t)
}
func (op dropOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(append([]int(nil), op.s.shape...)), nil
}

func (op dropOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], op.s.shape)
	if err != nil {
		return nil, err
	}
	out := op.Alloc()(x.Dtype(), false, op.s.shape...)
	st := op.s
	switch xd := x.Data().(type) {
	case []float32:
		xd = xd[:x.Shape().TotalSize()]
		if !st.on {
			copy(opkit.Floats[float32](out), xd)
			break
		}
		if cap(st.m32) < len(xd) {
			st.m32 = make([]float32, len(xd))
		}
		st.m32 = st.m32[:len(xd)]
		dropForward(st, xd, opkit.Floats[float32](out), st.m32)
	case []float64:
		xd = xd[:x.Shape().TotalSize()]
		if !st.on {
			copy(opkit.Floats[float64](out), xd)
			break
		}
		if cap(st.m64) < len(xd) {
			st.m64 = make([]float64, len(xd))
		}
		st.m64 = st.m64[:len(xd)]
		dropForward(st, xd, opkit.Floats[float64](out), st.m64)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v: %v", op, x.Dtype())
	}
	return out, nil
}

func (op dropOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.dropout(%d)", op.s.serial) }
func (op dropOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op dropOp) String() string            { return "Dropout" }
func (op dropOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff: dx = dy ⊙ mask, the mask the forward run kept (its output is
// the gradient op's input, so it runs after it).
func (op dropOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(dropGradOp{dropOp{Base: opkit.WithBuf(), s: op.s}}, grad, output)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// dropGradOp: (dy, y) → dy ⊙ mask.
type dropGradOp struct{ dropOp }

func (op dropGradOp) Arity() int { return 2 }
func (op dropGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: len(op.s.shape), Of: a}
	return hm.NewFnType(t, t, t)
}

func (op dropGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	dy, err := opkit.AsShape(op, vals[0], op.s.shape)
	if err != nil {
		return nil, err
	}
	st := op.s
	if n := dy.Shape().TotalSize(); st.on && len(st.m32) < n && len(st.m64) < n {
		return nil, errors.Errorf("graph: %v before its forward pass", op)
	}
	out := op.Alloc()(dy.Dtype(), false, op.s.shape...)
	switch dd := dy.Data().(type) {
	case []float32:
		dropGrad(st.on, dd[:dy.Shape().TotalSize()], st.m32, opkit.Floats[float32](out))
	case []float64:
		dropGrad(st.on, dd[:dy.Shape().TotalSize()], st.m64, opkit.Floats[float64](out))
	default:
		return nil, errors.Wrapf(ErrDtype, "%v: %v", op, dy.Dtype())
	}
	return out, nil
}

// dropGrad writes dy ⊙ m into out (dy itself when the dropout is off).
func dropGrad[T float32 | float64](on bool, dy, m, out []T) {
	if !on {
		copy(out, dy)
		return
	}
	parallel.For(len(dy), 4, func(lo, hi int) {
		dy, m, out := dy[lo:hi], m[lo:hi], out[lo:hi]
		for i, v := range dy {
			out[i] = v * m[i]
		}
	})
}

func (op dropGradOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "rnnkit.dropoutgrad(%d)", op.s.serial) }
func (op dropGradOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op dropGradOp) String() string            { return "DropoutGrad" }
func (op dropGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op dropGradOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of Dropout is not implemented")
}
