package tree

import (
	"math"

	"github.com/pkg/errors"
)

// Options are the training options of a level-batched graph
// ([BuildLevelGraphWith]).
type Options struct {
	// Dropout is the probability of zeroing each element of every node's h
	// before the classifier (the kept ones scaled by 1/(1−p), as
	// torch.nn.Dropout), in [0, 1); 0 is none. The recurrence up the tree
	// sees h undropped: only what the classifier reads is dropped. The
	// masks are drawn from the graph's TrainGraph.Dropout, seeded by Seed
	// until the caller reseeds it.
	Dropout float64
	Seed    uint64
}

func (o Options) validate() error {
	if !(o.Dropout >= 0 && o.Dropout < 1) || math.IsNaN(o.Dropout) {
		return errors.Wrapf(ErrConfig, "dropout %v outside [0, 1)", o.Dropout)
	}
	return nil
}
