package training

import (
	"math"
	"strconv"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// epochLoss is the running training loss of the current epoch. Checkpoints
// keep it, so that an epoch resumed after a stop reports the mean over all
// its batches, as a run never stopped does (and not NaN when the stop came
// after its last batch).
type epochLoss struct {
	sum float64
	n   int
}

func (e *epochLoss) add(l float64) { e.sum += l; e.n++ }

// mean returns the mean loss, NaN when no batch counted.
func (e epochLoss) mean() float64 {
	if e.n == 0 {
		return math.NaN()
	}
	return e.sum / float64(e.n)
}

// save records the running loss in a checkpoint's extra metadata, exactly.
func (e epochLoss) save(x map[string]string) {
	x["epoch_loss_sum"] = strconv.FormatFloat(e.sum, 'g', -1, 64)
	x["epoch_loss_batches"] = strconv.Itoa(e.n)
}

// readEpochLoss reads what save wrote (zero when absent: older checkpoints).
func readEpochLoss(c *checkpoint.Checkpoint) (epochLoss, error) {
	s, ok1 := c.Meta.Extra["epoch_loss_sum"]
	k, ok2 := c.Meta.Extra["epoch_loss_batches"]
	if !ok1 && !ok2 {
		return epochLoss{}, nil
	}
	sum, err1 := strconv.ParseFloat(s, 64)
	n, err2 := strconv.Atoi(k)
	if err1 != nil || err2 != nil || n < 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return epochLoss{}, errors.Errorf("training: checkpoint epoch loss %.20q over %.20q batches is not a finite sum and a count", s, k)
	}
	return epochLoss{sum: sum, n: n}, nil
}
