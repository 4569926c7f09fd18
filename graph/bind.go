package graph

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Graph is one Gorgonia expression graph over a Params. Parameters become
// nodes on first use ([Graph.Param]) bound to the Params' own tensors, so a
// solver stepping this graph's machine updates the Params in place, and
// every other Graph over the same Params sees the update.
//
// A Graph is built for one input shape, by [Build] (which checks it for
// Gorgonia's hash collisions); compile it once ([NewMachine]) and run it
// for every batch of that shape.
type Graph struct {
	eg      *gorgonia.ExprGraph
	params  *Params
	bound   map[string]*gorgonia.Node
	inputs  map[string]*gorgonia.Node
	consts  map[float64]*gorgonia.Node
	counter int
	salt    int // leaves are named with it while Build builds (see saltName)
}

// New returns an empty Graph over p. A graph to be compiled should be made
// by [Build] instead, which calls New and checks what was built.
func New(p *Params) (*Graph, error) {
	if p == nil {
		return nil, errors.New("graph: nil params")
	}
	return &Graph{
		eg:     gorgonia.NewGraph(),
		params: p,
		bound:  map[string]*gorgonia.Node{},
		inputs: map[string]*gorgonia.Node{},
		consts: map[float64]*gorgonia.Node{},
	}, nil
}

// ExprGraph returns the underlying Gorgonia graph.
func (g *Graph) ExprGraph() *gorgonia.ExprGraph { return g.eg }

// Params returns the parameters the graph binds.
func (g *Graph) Params() *Params { return g.params }

// Dtype returns the graph's element type (its Params').
func (g *Graph) Dtype() tensor.Dtype { return g.params.dtype }

// Param returns the node of the parameter called name, creating it on first
// use, and checks that the parameter has the given shape.
func (g *Graph) Param(name string, shape ...int) (*gorgonia.Node, error) {
	t, err := g.params.Lookup(name, shape...)
	if err != nil {
		return nil, err
	}
	if n, ok := g.bound[name]; ok {
		return n, nil
	}
	if _, ok := g.inputs[name]; ok {
		return nil, errors.Wrapf(ErrDuplicate, "parameter %q is also an input name", name)
	}
	n := gorgonia.NewTensor(g.eg, g.params.dtype, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithName(g.saltName(name)), gorgonia.WithValue(t))
	g.bound[name] = n
	return n, nil
}

// Learnables returns the parameter nodes bound so far, in the Params' order.
func (g *Graph) Learnables() gorgonia.Nodes {
	var out gorgonia.Nodes
	for _, name := range g.params.names {
		if n, ok := g.bound[name]; ok {
			out = append(out, n)
		}
	}
	return out
}

// ParamNode returns the node bound for a parameter, if the graph uses it.
func (g *Graph) ParamNode(name string) (*gorgonia.Node, bool) {
	n, ok := g.bound[name]
	return n, ok
}

// Input creates an input node of the given shape, initialised to zeros;
// give it a value with gorgonia.Let before each run. Names must be unique
// within the graph (Gorgonia would silently merge two inputs of one name).
func (g *Graph) Input(name string, shape ...int) (*gorgonia.Node, error) {
	if name == "" {
		return nil, errors.New("graph: empty input name")
	}
	if err := checkDims(name, shape); err != nil {
		return nil, err
	}
	if _, ok := g.inputs[name]; ok {
		return nil, errors.Wrapf(ErrDuplicate, "input %q", name)
	}
	if _, ok := g.params.byName[name]; ok {
		return nil, errors.Wrapf(ErrDuplicate, "input %q is also a parameter name", name)
	}
	v := tensor.New(tensor.WithShape(shape...), tensor.Of(g.params.dtype))
	n := gorgonia.NewTensor(g.eg, g.params.dtype, len(shape), gorgonia.WithShape(shape...),
		gorgonia.WithName(g.saltName(name)), gorgonia.WithValue(v))
	g.inputs[name] = n
	return n, nil
}

// UniqueName returns prefix followed by a number not used before in this graph.
func (g *Graph) UniqueName(prefix string) string {
	for {
		g.counter++
		name := fmt.Sprintf("%s#%d", prefix, g.counter)
		if _, ok := g.inputs[name]; !ok {
			return name
		}
	}
}

// Scalar returns a constant scalar node of the graph's dtype.
func (g *Graph) Scalar(v float64) *gorgonia.Node {
	if n, ok := g.consts[v]; ok {
		return n
	}
	var n *gorgonia.Node
	if g.params.dtype == tensor.Float32 {
		n = gorgonia.NewConstant(float32(v), gorgonia.WithName(fmt.Sprintf("const_f32_%v", v)))
	} else {
		n = gorgonia.NewConstant(v, gorgonia.WithName(fmt.Sprintf("const_f64_%v", v)))
	}
	n = g.eg.AddNode(n)
	g.consts[v] = n
	return n
}

// Set gives an input node a value from row-major float64 data, converted to
// the graph's dtype, copying into the node's existing tensor. A NaN or an
// infinity in data is an error naming the node and the element (it would
// otherwise reach the loss several ops later); the node keeps its value.
func Set(n *gorgonia.Node, data []float64) error {
	if n == nil {
		return errors.New("graph: nil node")
	}
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Errorf("graph: setting %s: element %d is %v", n.Name(), i, v)
		}
	}
	t, ok := n.Value().(*tensor.Dense)
	if !ok {
		return errors.Errorf("graph: node %s has no tensor value", n.Name())
	}
	return errors.Wrapf(SetFloat64s(t, data), "setting %s", n.Name())
}

// ValueFloat64s returns a float64 copy of a Gorgonia value: a float32 or
// float64 tensor or scalar.
func ValueFloat64s(v gorgonia.Value) ([]float64, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("graph: nil value (was the machine run?)")
	case *gorgonia.F64:
		return []float64{float64(*x)}, nil
	case *gorgonia.F32:
		return []float64{float64(*x)}, nil
	case tensor.Tensor:
		return Float64s(x)
	default:
		return nil, errors.Errorf("graph: value of type %T is not a float tensor or scalar", v)
	}
}
