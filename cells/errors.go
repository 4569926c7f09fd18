package cells

import (
	"fmt"

	"github.com/pkg/errors"
)

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrConfig is returned for an invalid Config.
	ErrConfig = errors.New("cells: invalid config")
	// ErrEmpty is returned when a sequence has no time steps.
	ErrEmpty = errors.New("cells: empty sequence")
	// ErrState is returned for a state with the wrong number of tensors.
	ErrState = errors.New("cells: wrong state")
)

// ShapeError reports a node whose shape is not the one a cell requires.
type ShapeError struct {
	Cell string // the cell's parameter suffix and kind, e.g. "lstm_l0"
	What string // "x", "h", "c" …
	Want []int  // −1 where any size is accepted
	Got  []int
}

// Error implements error.
func (e *ShapeError) Error() string {
	return fmt.Sprintf("cells: %s: %s has shape %v, want %v", e.Cell, e.What, e.Got, e.Want)
}

// ErrSpec is returned by Register for a malformed or duplicate Spec.
var ErrSpec = errors.New("cells: invalid cell spec")
