package mpi

import (
	"os"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/distributed"
)

// World is MPI_COMM_WORLD: a distributed.Comm that is finalised at the
// end.
type World interface {
	distributed.Comm
	// Finalize ends MPI (MPI_Finalize); call it once, after the last
	// collective, on every rank.
	Finalize() error
}

// ErrNotBuilt is wrapped by Init's error in a build without the tag mpi.
var ErrNotBuilt = errors.New("mpi: rnnkit was built without MPI (rebuild with: go build -tags mpi ./cmd/rnnkit; it needs Open MPI's libopenmpi-dev)")

// ErrNotLaunched is wrapped by Init's error when the process was not
// started by an MPI launcher (mpirun, mpiexec).
var ErrNotLaunched = errors.New("mpi: not launched by mpirun (start it as: mpirun -np N rnnkit …)")

// Launched reports whether the process was started by an MPI launcher:
// Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers PMIX_RANK,
// MPICH's Hydra PMI_RANK.
func Launched() bool {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"} {
		if _, ok := os.LookupEnv(k); ok {
			return true
		}
	}
	return false
}
