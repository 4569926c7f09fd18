//go:build !mpi

package mpi

import "time"

// Built reports whether this build has the MPI binding (the build tag
// mpi).
const Built = false

// Init would join the MPI world; in this build (without the tag mpi) it
// returns an error wrapping ErrNotBuilt.
func Init(timeout time.Duration) (World, error) { return nil, ErrNotBuilt }
