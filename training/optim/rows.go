package optim

import (
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/parallel"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// Rows is the row-sparse gradient of a matrix parameter [V, E] (an
// embedding table, of which a batch reads a few rows): Values[i] is the
// gradient of row IDs[i], every other row's gradient is zero. IDs are
// distinct and ascending; Values is [len(IDs), E] of the parameter's dtype.
// A model whose gradient of a table is such rows hands them over as Rows
// instead of a dense [V, E] tensor that is mostly zeros.
type Rows struct {
	IDs    []int
	Values *tensor.Dense
}

// RowStepper is an [Optimizer] that takes row-sparse gradients: StepRows is
// Step with dense gradients g and row-sparse ones rows (no name in both),
// and its result is, bit for bit, that of Step with each Rows made dense
// ([Rows.Dense]). It checks what Step checks, and the rows: IDs distinct,
// ascending and in range, Values of the parameter's dtype and width and
// finite.
//
// [Adagrad] is one.
type RowStepper interface {
	Optimizer
	StepRows(ps *graph.Params, g Grads, rows map[string]Rows) error
}

// Dense returns r as the dense gradient of a parameter of shape [v, e]
// (zeros but for r's rows), after the checks of [RowStepper].
func (r Rows) Dense(v, e int) (*tensor.Dense, error) {
	if err := r.check("", v, e, r.dtype()); err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(v, e), tensor.Of(r.Values.Dtype()))
	switch out.Dtype() {
	case tensor.Float64:
		scatterRows(floats[float64](out), floats[float64](r.Values), r.IDs, e)
	default:
		scatterRows(floats[float32](out), floats[float32](r.Values), r.IDs, e)
	}
	return out, nil
}

func scatterRows[T float](dst, src []T, ids []int, e int) {
	for i, id := range ids {
		copy(dst[id*e:(id+1)*e], src[i*e:(i+1)*e])
	}
}

func (r Rows) dtype() tensor.Dtype {
	if r.Values == nil {
		return tensor.Dtype{}
	}
	return r.Values.Dtype()
}

// check validates r as the gradient of a parameter name [v, e] of dtype dt.
func (r Rows) check(name string, v, e int, dt tensor.Dtype) error {
	if r.Values == nil {
		return errors.Errorf("optim: row gradient of %q has no values", name)
	}
	if r.Values.Dtype() != dt {
		return errors.Wrapf(graph.ErrDtype, "optim: row gradient of %q is %v, parameter is %v", name, r.Values.Dtype(), dt)
	}
	if s := r.Values.Shape(); len(s) != 2 || s[0] != len(r.IDs) || s[1] != e || r.Values.RequiresIterator() {
		return &graph.ShapeError{Name: "row gradient of " + name, Want: tensor.Shape{len(r.IDs), e}, Got: s.Clone()}
	}
	for i, id := range r.IDs {
		if id < 0 || id >= v || (i > 0 && id <= r.IDs[i-1]) {
			return errors.Errorf("optim: row gradient of %q: row %d is %d (want distinct ascending rows of 0..%d)", name, i, id, v-1)
		}
	}
	if i := firstNonFinite(r.Values); i >= 0 {
		v, _ := graph.Float64s(r.Values)
		return errors.Wrapf(ErrNonFinite, "optim: row gradient of %q, row %d element %d is %v", name, r.IDs[i/e], i%e, v[i])
	}
	return nil
}

// StepRows implements [RowStepper]. Each parameter with row gradients is
// updated as Step would update it with the dense gradient: element by
// element, the rows' values, or zero for the rows they leave out, through
// the same code in the same split of elements between the AVX2 kernel and
// the portable loop (so even an element where the two would round
// differently gets Step's value). With weight decay every element changes
// (g' = wd·p for a row without gradient), so every row is visited, but the
// gradient of the rows left out is never stored, read or checked; without
// weight decay (and eps > 0) a row left out would keep its parameter and
// sum bit for bit, so only the given rows are visited.
func (o *Adagrad) StepRows(ps *graph.Params, g Grads, rows map[string]Rows) error {
	if ps == nil {
		return errors.New("optim: nil params")
	}
	names := make([]string, 0, len(rows))
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	type rowJob struct {
		name string
		p    *tensor.Dense
		r    Rows
	}
	var jobs []rowJob
	for _, name := range names {
		if _, dup := g[name]; dup {
			return errors.Errorf("optim: %q has both a dense and a row gradient", name)
		}
		p, ok := ps.Get(name)
		if !ok {
			return errors.Wrapf(graph.ErrNotFound, "optim: row gradient for %q", name)
		}
		s := p.Shape()
		if len(s) != 2 || p.RequiresIterator() {
			return errors.Errorf("optim: row gradient for %q, a parameter of shape %v (want a contiguous matrix)", name, s)
		}
		if err := rows[name].check(name, s[0], s[1], p.Dtype()); err != nil {
			return err
		}
		if st := o.c.state[name]; st != nil && (st.bufs[0].Dtype() != p.Dtype() || !sameShape(st.bufs[0].Shape(), s)) {
			return errors.Wrapf(ErrState, "adagrad.sum.%s is %v %v, the parameter is %v %v",
				name, st.bufs[0].Dtype(), st.bufs[0].Shape(), p.Dtype(), s)
		}
		jobs = append(jobs, rowJob{name, p, rows[name]})
	}
	if err := o.Step(ps, g); err != nil { // checks the dense part before it changes anything
		return err
	}
	for _, j := range jobs {
		st := o.c.state[j.name]
		if st == nil {
			st = &pstate{bufs: []*tensor.Dense{zerosLike(j.p)}}
			o.c.state[j.name] = st
		}
		st.step++
		e := j.p.Shape()[1]
		if j.p.Dtype() == tensor.Float64 {
			o.rows64(floats[float64](j.p), floats[float64](st.bufs[0]), floats[float64](j.r.Values), j.r.IDs, e)
		} else {
			o.rows32(floats[float32](j.p), floats[float32](st.bufs[0]), floats[float32](j.r.Values), j.r.IDs, e)
		}
	}
	return nil
}

// skipsZeros says a zero gradient leaves an element and its sum as they
// are: no weight decay, and eps > 0 (with eps = 0 and s = 0, 0/0 is NaN).
func (o *Adagrad) skipsZeros() bool { return o.wd == 0 && o.eps > 0 }

// rowSource gives the gradient of a range of a [V, E] parameter's elements:
// the given rows' values, zeros elsewhere.
type rowSource[T float] struct {
	vals  []T
	where []int32 // per row: its index in vals, or −1
	e     int
	zeros []T
}

func newRowSource[T float](vals []T, ids []int, v, e int) *rowSource[T] {
	where := make([]int32, v)
	for i := range where {
		where[i] = -1
	}
	for i, id := range ids {
		where[id] = int32(i)
	}
	return &rowSource[T]{vals: vals, where: where, e: e, zeros: make([]T, 4096)}
}

// run returns the gradient of elements [at, at+n') for the longest n' ≤ n
// that stays in one row and, for zeros, in the zero buffer, and whether it
// is zeros.
func (r *rowSource[T]) run(at, n int) ([]T, bool) {
	row, col := at/r.e, at%r.e
	n = min(n, r.e-col)
	if k := r.where[row]; k >= 0 {
		off := int(k)*r.e + col
		return r.vals[off : off+n], false
	}
	return r.zeros[:min(n, len(r.zeros))], true
}

func (o *Adagrad) rows64(p, s, vals []float64, ids []int, e int) {
	src := newRowSource(vals, ids, len(p)/e, e)
	skip := o.skipsZeros()
	parallel.For(len(p), 16, func(lo, hi int) {
		for at := lo; at < hi; {
			g, zero := src.run(at, hi-at)
			if !(zero && skip) {
				adagradUpdate(p[at:at+len(g)], g, s[at:at+len(g)], o.c.lr, o.wd, o.eps)
			}
			at += len(g)
		}
	})
}

// rows32 splits each part [lo, hi) as Step does: the AVX2 kernel takes the
// longest prefix of a multiple of 8 elements, the portable loop the rest.
// Within the prefix, a run of elements whose length is not a multiple of 8
// is finished through an 8-element scratch copy, so that every element of
// the prefix goes through the kernel, as in Step.
func (o *Adagrad) rows32(p, s, vals []float32, ids []int, e int) {
	src := newRowSource(vals, ids, len(p)/e, e)
	skip := o.skipsZeros()
	wd, lr, eps := float32(o.wd), float32(o.c.lr), float32(o.eps)
	asm := vmath.Adagrad32Asm()
	parallel.For(len(p), 16, func(lo, hi int) {
		k := lo
		if asm {
			k = lo + (hi-lo)/8*8
		}
		var sp, sg, ss [8]float32
		for at := lo; at < k; {
			g, zero := src.run(at, k-at)
			if n := len(g) / 8 * 8; n > 0 {
				if !(zero && skip) {
					vmath.Adagrad32(p[at:at+n], g[:n], s[at:at+n], wd, lr, eps)
				}
				at += n
				continue
			}
			// fewer than 8 elements left in this row (or run of zeros): the
			// next 8 through the kernel from a scratch copy
			touched := false
			for i := range 8 {
				g, zero := src.run(at+i, 1)
				sg[i] = g[0]
				touched = touched || !(zero && skip)
			}
			if touched {
				copy(sp[:], p[at:at+8])
				copy(ss[:], s[at:at+8])
				vmath.Adagrad32(sp[:], sg[:], ss[:], wd, lr, eps)
				copy(p[at:at+8], sp[:])
				copy(s[at:at+8], ss[:])
			}
			at += 8
		}
		for at := k; at < hi; {
			g, zero := src.run(at, hi-at)
			if !(zero && skip) {
				adagradUpdate(p[at:at+len(g)], g, s[at:at+len(g)], o.c.lr, o.wd, o.eps)
			}
			at += len(g)
		}
	})
}
