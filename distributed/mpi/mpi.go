//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <stdlib.h>
#include <mpi.h>

static int rk_init(int *provided) {
	int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int rk_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int rk_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int rk_sum64(double *x, int n) { return MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); }
static int rk_sum32(float *x, int n) { return MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }
static int rk_bcast(double *x, int n, int root) { return MPI_Bcast(x, n, MPI_DOUBLE, root, MPI_COMM_WORLD); }
static int rk_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int rk_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int rk_finalize(void) { return MPI_Finalize(); }
static int rk_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static int rk_error_string(int code, char *buf, int *len) { return MPI_Error_string(code, buf, len); }
static int rk_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
*/
import "C"

import (
	"fmt"
	"math"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/distributed"
)

// Built reports whether this build has the MPI binding (the build tag
// mpi).
const Built = true

var initOnce struct {
	sync.Mutex
	done bool
}

// Init joins the MPI world (MPI_Init_thread; once per process) of a
// process started by mpirun; otherwise it returns an error wrapping
// ErrNotLaunched. A collective that waits longer than timeout for the
// other ranks (0: no limit) prints why and exits the process with status
// 3, so that mpirun stops the group.
func Init(timeout time.Duration) (World, error) {
	if !Launched() {
		return nil, ErrNotLaunched
	}
	if timeout < 0 {
		return nil, errors.Errorf("mpi: negative timeout %v", timeout)
	}
	initOnce.Lock()
	defer initOnce.Unlock()
	if initOnce.done {
		return nil, errors.New("mpi: Init called twice")
	}
	var provided C.int
	if rc := C.rk_init(&provided); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Init_thread", rc)
	}
	initOnce.done = true
	if provided < C.rk_thread_serialized() {
		C.rk_finalize()
		return nil, errors.Errorf("mpi: this MPI gives thread level %d, rnnkit needs MPI_THREAD_SERIALIZED", int(provided))
	}
	var rank, size C.int
	if rc := C.rk_rank(&rank); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_rank", rc)
	}
	if rc := C.rk_size(&size); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_size", rc)
	}
	return &world{rank: int(rank), size: int(size), timeout: timeout}, nil
}

// world is MPI_COMM_WORLD.
type world struct {
	mu         sync.Mutex
	rank, size int
	timeout    time.Duration
	finalized  bool
}

func mpiError(call string, rc C.int) error {
	buf := make([]byte, int(C.rk_max_error_string())+1)
	var n C.int
	msg := fmt.Sprintf("error code %d", int(rc))
	if C.rk_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n) == C.MPI_SUCCESS && n > 0 {
		msg = string(buf[:int(n)])
	}
	return errors.Errorf("mpi: %s: %s", call, msg)
}

// call runs one MPI call under the mutex and the watchdog.
func (w *world) call(op string, f func() C.int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finalized {
		return errors.Errorf("mpi: %s after Finalize", op)
	}
	if w.timeout > 0 {
		t := time.AfterFunc(w.timeout, func() {
			fmt.Fprintf(os.Stderr, "rnnkit: mpi: rank %d of %d waited more than %v in %s for the other ranks (one has died or hangs); exiting so that mpirun stops the group\n",
				w.rank, w.size, w.timeout, op)
			os.Exit(3)
		})
		defer t.Stop()
	}
	if rc := f(); rc != C.MPI_SUCCESS {
		return errors.Wrapf(distributed.ErrAborted, "%v (rank %d of %d)", mpiError(op, rc), w.rank, w.size)
	}
	return nil
}

func (w *world) Rank() int { return w.rank }
func (w *world) Size() int { return w.size }

func count(n int) (C.int, error) {
	if n > math.MaxInt32 {
		return 0, errors.Errorf("mpi: %d values in one call (at most %d)", n, math.MaxInt32)
	}
	return C.int(n), nil
}

func (w *world) AllreduceSum(x []float64) error {
	n, err := count(len(x))
	if err != nil || n == 0 {
		return err
	}
	return w.call("MPI_Allreduce", func() C.int { return C.rk_sum64((*C.double)(unsafe.Pointer(&x[0])), n) })
}

func (w *world) AllreduceSum32(x []float32) error {
	n, err := count(len(x))
	if err != nil || n == 0 {
		return err
	}
	return w.call("MPI_Allreduce", func() C.int { return C.rk_sum32((*C.float)(unsafe.Pointer(&x[0])), n) })
}

func (w *world) Broadcast(x []float64, root int) error {
	if root < 0 || root >= w.size {
		return errors.Errorf("mpi: broadcast from rank %d in a group of %d", root, w.size)
	}
	n, err := count(len(x))
	if err != nil || n == 0 {
		return err
	}
	return w.call("MPI_Bcast", func() C.int { return C.rk_bcast((*C.double)(unsafe.Pointer(&x[0])), n, C.int(root)) })
}

func (w *world) Barrier() error {
	return w.call("MPI_Barrier", func() C.int { return C.rk_barrier() })
}

// Abort stops every rank of the world with the exit code (MPI_Abort); it
// returns only if MPI could not.
func (w *world) Abort(code int) error {
	rc := C.rk_abort(C.int(code))
	return mpiError("MPI_Abort", rc)
}

func (w *world) Finalize() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finalized {
		return nil
	}
	w.finalized = true
	if rc := C.rk_finalize(); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Finalize", rc)
	}
	return nil
}
