package graph

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
)

// Params is an ordered set of named parameter tensors of one dtype. Names
// keep their order of registration, which is the order of [Params.Names],
// of [Graph.Learnables] and of saved files.
//
// A Params is not safe for concurrent mutation; graphs that only read it
// may run concurrently.
type Params struct {
	dtype  tensor.Dtype
	names  []string
	byName map[string]*tensor.Dense
}

// NewParams returns an empty Params of dtype tensor.Float32 or tensor.Float64.
func NewParams(dt tensor.Dtype) (*Params, error) {
	if err := CheckDtype(dt); err != nil {
		return nil, err
	}
	return &Params{dtype: dt, byName: map[string]*tensor.Dense{}}, nil
}

// CheckDtype returns ErrDtype unless dt is tensor.Float32 or tensor.Float64.
func CheckDtype(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Wrapf(ErrDtype, "%v (want float32 or float64)", dt)
	}
	return nil
}

// Dtype returns the dtype of every tensor in p.
func (p *Params) Dtype() tensor.Dtype { return p.dtype }

// Len returns the number of parameters.
func (p *Params) Len() int { return len(p.names) }

// Names returns the parameter names in registration order (a copy).
func (p *Params) Names() []string { return append([]string(nil), p.names...) }

// Get returns the tensor called name, if any.
func (p *Params) Get(name string) (*tensor.Dense, bool) {
	t, ok := p.byName[name]
	return t, ok
}

// Lookup returns the tensor called name and checks its shape.
func (p *Params) Lookup(name string, shape ...int) (*tensor.Dense, error) {
	t, ok := p.byName[name]
	if !ok {
		return nil, errors.Wrapf(ErrNotFound, "%q", name)
	}
	if !opkit.SameShape(t.Shape(), shape) {
		return nil, &ShapeError{Name: name, Want: shape, Got: t.Shape().Clone()}
	}
	return t, nil
}

// Add registers t under name. It refuses an empty or duplicate name and a
// tensor of another dtype.
func (p *Params) Add(name string, t *tensor.Dense) error {
	if name == "" {
		return errors.New("graph: empty parameter name")
	}
	if _, ok := p.byName[name]; ok {
		return errors.Wrapf(ErrDuplicate, "parameter %q", name)
	}
	if t == nil {
		return errors.Errorf("graph: parameter %q: nil tensor", name)
	}
	if t.Dtype() != p.dtype {
		return errors.Wrapf(ErrDtype, "parameter %q is %v, params are %v", name, t.Dtype(), p.dtype)
	}
	if err := checkDims(name, t.Shape()); err != nil {
		return err
	}
	p.names = append(p.names, name)
	p.byName[name] = t
	return nil
}

// New registers a new zero tensor of the given shape under name and returns it.
func (p *Params) New(name string, shape ...int) (*tensor.Dense, error) {
	if err := checkDims(name, shape); err != nil {
		return nil, err
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(p.dtype))
	if err := p.Add(name, t); err != nil {
		return nil, err
	}
	return t, nil
}

// SetFloat64s copies data (row-major) into the parameter called name,
// converting to the Params' dtype. The length must match the tensor's.
func (p *Params) SetFloat64s(name string, data []float64) error {
	t, ok := p.byName[name]
	if !ok {
		return errors.Wrapf(ErrNotFound, "%q", name)
	}
	return SetFloat64s(t, data)
}

// SetFloat64s copies data (row-major) into t, converting to t's dtype. A
// view that is not contiguous is refused.
func SetFloat64s(t *tensor.Dense, data []float64) error {
	if t == nil {
		return errors.New("graph: nil tensor")
	}
	if t.RequiresIterator() {
		return errors.New("graph: cannot set the elements of a non-contiguous view")
	}
	if t.Shape().TotalSize() != len(data) {
		return errors.Errorf("graph: %d values for a tensor of shape %v", len(data), t.Shape())
	}
	switch d := t.Data().(type) {
	case []float64:
		copy(d, data)
	case []float32:
		for i, v := range data {
			d[i] = float32(v)
		}
	default:
		return errors.Wrapf(ErrDtype, "%v", t.Dtype())
	}
	return nil
}

// Float64s returns a float64 copy of a float32 or float64 tensor's data.
func Float64s(t tensor.Tensor) ([]float64, error) {
	if t == nil {
		return nil, errors.New("graph: nil tensor")
	}
	if d, ok := t.(*tensor.Dense); ok && d.RequiresIterator() {
		t = d.Materialize()
	}
	n := t.Shape().TotalSize()
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d[:n]...), nil
	case []float32:
		d = d[:n]
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	case float64:
		return []float64{d}, nil
	case float32:
		return []float64{float64(d)}, nil
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", t.Dtype())
	}
}

// FromFloat64s returns a new tensor of dtype dt and the given shape holding data.
func FromFloat64s(dt tensor.Dtype, data []float64, shape ...int) (*tensor.Dense, error) {
	if err := CheckDtype(dt); err != nil {
		return nil, err
	}
	if err := checkDims("tensor", shape); err != nil {
		return nil, err
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	if err := SetFloat64s(t, data); err != nil {
		return nil, err
	}
	return t, nil
}

// AllFinite reports whether every parameter is finite, and names the first that is not.
func (p *Params) AllFinite() (bool, string) {
	for _, n := range p.names {
		v, _ := Float64s(p.byName[n])
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false, n
			}
		}
	}
	return true, ""
}
