package optim

import "github.com/pkg/errors"

// Sentinel errors of this package; test for them with errors.Is. Errors about
// parameters reuse the graph package's: a gradient for a name the Params lack
// wraps graph.ErrNotFound, a gradient of another dtype wraps graph.ErrDtype,
// and a gradient of another shape is a *graph.ShapeError.
var (
	// ErrNonFinite is returned when a gradient (or a gradient norm, or an
	// observed metric) is NaN or infinite. The call that returns it changes
	// nothing.
	ErrNonFinite = errors.New("optim: non-finite value")
	// ErrConfig is returned for a hyperparameter out of range: a negative or
	// non-finite learning rate, a beta outside [0, 1), a schedule with a
	// step size below 1, an unknown mode, …
	ErrConfig = errors.New("optim: invalid configuration")
	// ErrState is returned by LoadState for a state map that this optimiser
	// could not have written (unknown or missing names, wrong shapes or
	// dtypes, non-finite values, other hyperparameters), and by Step when a
	// loaded state does not fit the parameters it is applied to.
	ErrState = errors.New("optim: invalid optimiser state")
)
