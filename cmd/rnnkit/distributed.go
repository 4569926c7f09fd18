package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/distributed"
	"github.com/rnnkit/rnnkit/distributed/mpi"
	"github.com/rnnkit/rnnkit/training"
)

// distFlags are train's flags for data-parallel training over MPI.
type distFlags struct {
	on      bool
	timeout time.Duration
}

func (d *distFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&d.on, "distributed", false, "train data-parallel as one rank of an MPI group: mpirun -np N rnnkit train … -distributed (needs a build with -tags mpi)")
	fs.DurationVar(&d.timeout, "distributed-timeout", 30*time.Minute, "with -distributed: stop the group when a rank waits longer than this for the others (0: never)")
}

// group is a train run's MPI group (nil: the run is alone).
type group struct {
	w mpi.World
}

// join joins the MPI group when -distributed is set; nil when it is not.
func (d distFlags) join() (*group, error) {
	if d.timeout < 0 {
		return nil, usageError{fmt.Sprintf("train: -distributed-timeout %v must not be negative", d.timeout)}
	}
	if !d.on {
		return nil, nil
	}
	if !mpi.Built {
		return nil, errors.Wrap(mpi.ErrNotBuilt, "train: -distributed")
	}
	if !mpi.Launched() {
		return nil, errors.Wrap(mpi.ErrNotLaunched, "train: -distributed")
	}
	w, err := mpi.Init(d.timeout)
	if err != nil {
		return nil, errors.Wrap(err, "train: -distributed")
	}
	return &group{w: w}, nil
}

// lead reports whether this process writes the run's files and prints its
// report: alone, or rank 0.
func (g *group) lead() bool { return g == nil || g.w.Rank() == 0 }

// stdout is where this process prints: nowhere but on rank 0.
func (g *group) stdout(w io.Writer) io.Writer {
	if g.lead() {
		return w
	}
	return io.Discard
}

// attach puts tr into the group (after a resume) and says so on rank 0.
func (g *group) attach(tr *training.Trainer, stdout io.Writer) error {
	if g == nil {
		return nil
	}
	if err := distributed.Attach(tr, g.w); err != nil {
		return errors.Wrap(err, "train: -distributed")
	}
	fmt.Fprintf(stdout, "distributed: %d ranks, each training its part of every batch\n", g.w.Size())
	return nil
}

// end finishes MPI after a run that ended with err: MPI_Finalize when it
// succeeded; otherwise the error, with the rank, is returned and the
// process exits without finalising, which makes mpirun stop the others.
func (g *group) end(err error) error {
	if g == nil {
		return err
	}
	if err != nil {
		return errors.Wrapf(err, "rank %d of %d", g.w.Rank(), g.w.Size())
	}
	return g.w.Finalize()
}
