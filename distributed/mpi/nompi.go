//go:build !mpi

package mpi

import (
	"time"

	"github.com/rnnkit/rnnkit/distributed"
)

// Built reports whether this build has the MPI binding (the build tag
// mpi).
const Built = false

// Init would join the MPI world; in this build (without the tag mpi) it
// returns an error wrapping ErrNotBuilt.
func Init(timeout time.Duration) (World, error) { return nil, ErrNotBuilt }

// World is MPI_COMM_WORLD: a distributed.Comm that is finalised at the
// end.
type World interface {
	distributed.Comm
	// Finalize ends MPI (MPI_Finalize); call it once, after the last
	// collective, on every rank.
	Finalize() error
}
