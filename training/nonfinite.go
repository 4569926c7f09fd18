package training

import (
	"fmt"
	"math"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/vmath"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/optim"
)

// ErrNonFinite is returned when a loss or gradient is NaN or infinite: the
// batch's update is not applied and training stops (unless the run's
// SkipNonFinite is set, and then the batch is skipped and training goes
// on). It is also returned, and then training stops even with
// SkipNonFinite, when an update applied to finite gradients made a
// parameter non-finite (an overflow, from a learning rate far too high):
// the parameters are then damaged, and the trainer refuses to write a
// checkpoint of them, so the last one saved stays the last good one.
var ErrNonFinite = errors.New("training: non-finite loss or gradient")

// ErrDamaged is returned by Checkpoint when a parameter is NaN or infinite
// (after an update overflowed, see ErrNonFinite, or set so from outside),
// and by TrainEpoch after an update damaged the parameters: such
// parameters must not overwrite a good checkpoint.
var ErrDamaged = errors.New("training: the parameters are damaged (non-finite)")

// nonFinite wraps err (an optimiser's or the clipper's refusal of a
// non-finite gradient) in ErrNonFinite; other errors are returned as they
// are.
func nonFinite(err error) error {
	if errors.Is(err, optim.ErrNonFinite) {
		return errors.Wrapf(ErrNonFinite, "%v; the update was not applied", err)
	}
	return err
}

// firstNonFinite returns the name and index of the first NaN or infinite
// element of ps, in its order, and the element; ok is false when there is
// one. It reads the tensors in place (no copy).
func firstNonFinite(ps *graph.Params) (name string, i int, v float64, ok bool) {
	for _, n := range ps.Names() {
		t, _ := ps.Get(n)
		switch d := t.Data().(type) {
		case []float32:
			if i := vmath.FirstNonFinite32(d); i >= 0 {
				return n, i, float64(d[i]), false
			}
		case []float64:
			if i := vmath.FirstNonFinite64(d); i >= 0 {
				return n, i, d[i], false
			}
		case float32:
			if f := float64(d); math.IsNaN(f) || math.IsInf(f, 0) {
				return n, 0, f, false
			}
		case float64:
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return n, 0, d, false
			}
		}
	}
	return "", 0, 0, true
}

// checkBefore refuses to train on parameters that already hold a NaN or an
// infinity (set so from outside): the error is both ErrNonFinite and
// ErrDamaged.
func checkBefore(ps *graph.Params) error {
	if name, i, v, ok := firstNonFinite(ps); !ok {
		return damagedError(fmt.Sprintf("non-finite parameter before training: %q element %d is %v", name, i, v))
	}
	return nil
}

// checkUpdated checks the parameters after an optimiser step: a
// non-finite element is an error wrapping ErrNonFinite, and *damaged is
// set to say what happened.
func checkUpdated(ps *graph.Params, lr float64, damaged *string) error {
	name, i, v, ok := firstNonFinite(ps)
	if ok {
		return nil
	}
	*damaged = fmt.Sprintf("non-finite parameter: %q element %d became %v after an update with learning rate %g", name, i, v, lr)
	return damagedError(*damaged + " (too high a learning rate?); no checkpoint of these parameters will be written")
}

// damagedError is the error of an update that made a parameter
// non-finite: it is both ErrNonFinite and ErrDamaged.
type damagedError string

func (e damagedError) Error() string { return string(e) }

func (e damagedError) Is(target error) bool { return target == ErrNonFinite || target == ErrDamaged }

// savable returns an error wrapping ErrDamaged when the parameters must not
// be checkpointed: an update damaged them, or one of them is not finite.
func savable(ps *graph.Params, damaged string) error {
	if damaged != "" {
		return errors.Wrap(ErrDamaged, damaged)
	}
	if name, i, v, ok := firstNonFinite(ps); !ok {
		return errors.Wrapf(ErrDamaged, "parameter %q element %d is %v", name, i, v)
	}
	return nil
}

// checkRestored refuses a checkpoint whose parameters hold a NaN or an
// infinity: training from them cannot work, and decoding gives garbage.
func checkRestored(c *checkpoint.Checkpoint) error {
	if name, i, v, ok := firstNonFinite(c.Params); !ok {
		return errors.Errorf("training: checkpoint parameter %q element %d is %v", name, i, v)
	}
	return nil
}
