package graph

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/internal/opkit"
)

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrDuplicate is returned when a name is registered twice.
	ErrDuplicate = errors.New("graph: duplicate name")
	// ErrNotFound is returned when a parameter name is unknown.
	ErrNotFound = errors.New("graph: no such parameter")
	// ErrDtype is returned for a dtype other than float32 or float64, or
	// for a tensor whose dtype differs from its Params'. It is
	// internal/opkit's, which the ops of every package return.
	ErrDtype = opkit.ErrDtype
	// ErrMachine is returned when Gorgonia fails to compile or run a graph.
	ErrMachine = errors.New("graph: machine failed")
	// ErrHashCollision is returned by NewMachine for a graph in which two
	// different nodes share a hash (Gorgonia's compiler would read one
	// node's value for the other's), and by Build when its builds never
	// agree without one.
	ErrHashCollision = errors.New("graph: two nodes share a hash")
)

// ShapeError reports a tensor whose shape is not the one required.
type ShapeError struct {
	Name string // what was checked: a parameter or input name
	Want []int
	Got  []int
}

// Error implements error.
func (e *ShapeError) Error() string {
	return fmt.Sprintf("graph: %s: shape %v, want %v", e.Name, e.Got, e.Want)
}

func checkDims(name string, dims []int) error {
	if len(dims) == 0 {
		return errors.Errorf("graph: %s: no dimensions", name)
	}
	for _, d := range dims {
		if d <= 0 {
			return errors.Errorf("graph: %s: dimension %d in %v must be positive", name, d, dims)
		}
	}
	return nil
}
