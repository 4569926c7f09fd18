package distributed

import (
	"github.com/pkg/errors"
)

// Comm is a group of processes (ranks) that train together. Every
// collective (AllreduceSum, AllreduceSum32, Broadcast, Barrier) must be
// called by all ranks, in the same order, with buffers of the same length;
// it returns when all have called it. A Comm is used by one goroutine at a
// time.
type Comm interface {
	// Rank is this process's number in [0, Size).
	Rank() int
	// Size is the number of ranks.
	Size() int
	// AllreduceSum replaces x on every rank by the element-wise sum of
	// all ranks' x.
	AllreduceSum(x []float64) error
	// AllreduceSum32 is AllreduceSum for float32.
	AllreduceSum32(x []float32) error
	// Broadcast replaces x on every rank by root's x.
	Broadcast(x []float64, root int) error
	// Barrier returns when every rank has called it.
	Barrier() error
	// Abort stops the whole group with the exit code (MPI_Abort): every
	// rank's pending and later collectives fail. It is for errors one
	// rank cannot recover from.
	Abort(code int) error
}

// ErrAborted is wrapped by the errors of collectives of a group that was
// aborted or timed out.
var ErrAborted = errors.New("distributed: the group was aborted")

// single is the group of one process.
type single struct{}

// Single returns the group of one process: its collectives return at once
// and change nothing, and Abort is an error that says so (there is no one
// to stop).
func Single() Comm { return single{} }

func (single) Rank() int                        { return 0 }
func (single) Size() int                        { return 1 }
func (single) AllreduceSum(x []float64) error   { return nil }
func (single) AllreduceSum32(x []float32) error { return nil }
func (single) Barrier() error                   { return nil }

func (single) Broadcast(x []float64, root int) error {
	if root != 0 {
		return errors.Errorf("distributed: broadcast from rank %d in a group of 1", root)
	}
	return nil
}

func (single) Abort(code int) error {
	return errors.Wrapf(ErrAborted, "distributed: abort with code %d", code)
}
