package optim

import (
	"math"

	"github.com/pkg/errors"
)

// StepLR decays the learning rate by Gamma every StepSize epochs, as
// torch.optim.lr_scheduler.StepLR in its closed form:
//
//	lr(epoch) = base · Gamma^⌊epoch / StepSize⌋
//
// StepSize must be ≥ 1 and Gamma finite and > 0 (PyTorch's default Gamma
// is 0.1). A StepLR holds no state: the epoch is the caller's.
type StepLR struct {
	StepSize int
	Gamma    float64
}

// Validate returns ErrConfig for a StepSize below 1 or a Gamma that is not
// finite and positive.
func (s StepLR) Validate() error {
	if s.StepSize < 1 {
		return errors.Wrapf(ErrConfig, "StepLR: step size %d (want ≥ 1)", s.StepSize)
	}
	if !finite(s.Gamma) || s.Gamma <= 0 {
		return errors.Wrapf(ErrConfig, "StepLR: gamma %v (want a finite value > 0)", s.Gamma)
	}
	return nil
}

// LR returns base·Gamma^⌊epoch/StepSize⌋, the learning rate of an epoch
// (counted from 0). A bad StepLR, a negative epoch and a negative or
// non-finite base are ErrConfig.
func (s StepLR) LR(base float64, epoch int) (float64, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	if err := checkLR(base); err != nil {
		return 0, errors.Wrap(err, "StepLR: base")
	}
	if epoch < 0 {
		return 0, errors.Wrapf(ErrConfig, "StepLR: epoch %d (want ≥ 0)", epoch)
	}
	return base * powInt(s.Gamma, float64(epoch/s.StepSize)), nil
}

// ReduceOnPlateau lowers the learning rate when a metric stops improving,
// as torch.optim.lr_scheduler.ReduceLROnPlateau (with its eps = 1e-8).
// After each epoch pass the metric and the current learning rate to
// [ReduceOnPlateau.Observe], which returns the learning rate to use next:
//
//	better  = metric < best·(1 − Threshold)   (Mode "min", ThresholdMode "rel")
//	          metric < best − Threshold       (Mode "min", ThresholdMode "abs")
//	          metric > best·(1 + Threshold)   (Mode "max", ThresholdMode "rel")
//	          metric > best + Threshold       (Mode "max", ThresholdMode "abs")
//	if better: best = metric, NumBadEpochs = 0; else NumBadEpochs++
//	if CooldownCounter > 0: CooldownCounter--, NumBadEpochs = 0
//	if NumBadEpochs > Patience:
//	    new = max(lr·Factor, MinLR); if lr − new > 1e−8: lr = new
//	    CooldownCounter = Cooldown, NumBadEpochs = 0
//
// best starts at +∞ (Mode "min") or −∞ ("max"), so the first metric is
// always an improvement. PyTorch's defaults are Factor 0.1, Patience 10,
// Threshold 1e-4, ThresholdMode "rel", Cooldown 0, MinLR 0.
//
// The fields below the configuration are the scheduler's state, exported
// so that a checkpoint can save and restore them; the zero state is a
// fresh scheduler.
type ReduceOnPlateau struct {
	Factor        float64 // 0 < Factor < 1
	Patience      int     // ≥ 0: bad epochs tolerated before a reduction
	MinLR         float64 // ≥ 0: the learning rate never goes below it
	Mode          string  // "min" (the metric should fall, a loss) or "max" (an accuracy)
	Threshold     float64 // ≥ 0: the least improvement that counts
	ThresholdMode string  // "rel" (or "", PyTorch's default) or "abs"
	Cooldown      int     // ≥ 0: epochs after a reduction during which bad epochs are not counted

	// State.
	HasBest         bool    // whether Best holds an observed metric (false: best is ±∞)
	Best            float64 // the best metric so far
	NumBadEpochs    int     // epochs since the last improvement (reset by a reduction and in cooldown)
	CooldownCounter int     // epochs of cooldown left
	Epochs          int     // metrics observed so far (PyTorch's last_epoch)
}

// Validate returns ErrConfig for a configuration out of range.
func (r *ReduceOnPlateau) Validate() error {
	switch {
	case !(r.Factor > 0 && r.Factor < 1):
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: factor %v (want 0 < factor < 1)", r.Factor)
	case r.Patience < 0:
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: patience %d (want ≥ 0)", r.Patience)
	case !finite(r.MinLR) || r.MinLR < 0:
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: min lr %v (want a finite value ≥ 0)", r.MinLR)
	case r.Mode != "min" && r.Mode != "max":
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: mode %q (want \"min\" or \"max\")", r.Mode)
	case !finite(r.Threshold) || r.Threshold < 0:
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: threshold %v (want a finite value ≥ 0)", r.Threshold)
	case r.ThresholdMode != "" && r.ThresholdMode != "rel" && r.ThresholdMode != "abs":
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: threshold mode %q (want \"rel\" or \"abs\")", r.ThresholdMode)
	case r.Cooldown < 0:
		return errors.Wrapf(ErrConfig, "ReduceOnPlateau: cooldown %d (want ≥ 0)", r.Cooldown)
	case r.NumBadEpochs < 0 || r.CooldownCounter < 0 || r.Epochs < 0 || (r.HasBest && math.IsNaN(r.Best)):
		return errors.Wrap(ErrConfig, "ReduceOnPlateau: invalid state")
	}
	return nil
}

// reducePlateauEps is PyTorch's eps: a reduction smaller than it is ignored.
const reducePlateauEps = 1e-8

// Observe records the metric of one epoch and returns the learning rate to
// use from now on, given the current one (lr, finite and ≥ 0), following
// the rules in the type's doc. A NaN metric is ErrNonFinite (PyTorch would
// count it a bad epoch); an infinite one is allowed. On an error the state
// is unchanged.
func (r *ReduceOnPlateau) Observe(metric, lr float64) (float64, error) {
	if err := r.Validate(); err != nil {
		return lr, err
	}
	if err := checkLR(lr); err != nil {
		return lr, errors.Wrap(err, "ReduceOnPlateau")
	}
	if math.IsNaN(metric) {
		return lr, errors.Wrap(ErrNonFinite, "ReduceOnPlateau: metric is NaN")
	}
	r.Epochs++
	if r.better(metric) {
		r.Best, r.HasBest = metric, true
		r.NumBadEpochs = 0
	} else {
		r.NumBadEpochs++
	}
	if r.CooldownCounter > 0 {
		r.CooldownCounter--
		r.NumBadEpochs = 0
	}
	if r.NumBadEpochs > r.Patience {
		if n := math.Max(lr*r.Factor, r.MinLR); lr-n > reducePlateauEps {
			lr = n
		}
		r.CooldownCounter = r.Cooldown
		r.NumBadEpochs = 0
	}
	return lr, nil
}

func (r *ReduceOnPlateau) better(a float64) bool {
	if !r.HasBest {
		// best is ±∞: PyTorch's comparisons with ∞ are true for any finite
		// metric and false for a metric of ±∞ itself.
		if r.Mode == "min" {
			return a < math.Inf(1)
		}
		return a > math.Inf(-1)
	}
	best := r.Best
	switch {
	case r.Mode == "min" && r.ThresholdMode != "abs":
		return a < best*(1-r.Threshold)
	case r.Mode == "min":
		return a < best-r.Threshold
	case r.ThresholdMode != "abs":
		return a > best*(r.Threshold+1)
	default:
		return a > best+r.Threshold
	}
}

// EarlyStopping tells a training loop to stop when a metric has not
// improved for Patience epochs in a row (as PyTorch Lightning's
// EarlyStopping callback, with its min_delta):
//
//	better = metric < Best − MinDelta   (Mode "min")
//	         metric > Best + MinDelta   (Mode "max")
//	if better: Best = metric, BadEpochs = 0, stop = false
//	else:      BadEpochs++, stop = BadEpochs ≥ Patience
//
// Best starts at +∞ (Mode "min") or −∞ ("max"), so the first finite
// metric is an improvement; Patience 0 stops at the first epoch without
// one.
//
// The fields below the configuration are its state, exported for
// checkpoints; the zero state is fresh.
type EarlyStopping struct {
	Patience int     // ≥ 0: epochs without improvement tolerated
	Mode     string  // "min" or "max"
	MinDelta float64 // ≥ 0: the least improvement that counts (0 by default)

	// State.
	HasBest   bool    // whether Best holds an observed metric
	Best      float64 // the best metric so far
	BadEpochs int     // epochs since the last improvement
}

// Validate returns ErrConfig for a configuration out of range.
func (e *EarlyStopping) Validate() error {
	switch {
	case e.Patience < 0:
		return errors.Wrapf(ErrConfig, "EarlyStopping: patience %d (want ≥ 0)", e.Patience)
	case e.Mode != "min" && e.Mode != "max":
		return errors.Wrapf(ErrConfig, "EarlyStopping: mode %q (want \"min\" or \"max\")", e.Mode)
	case !finite(e.MinDelta) || e.MinDelta < 0:
		return errors.Wrapf(ErrConfig, "EarlyStopping: min delta %v (want a finite value ≥ 0)", e.MinDelta)
	case e.BadEpochs < 0 || (e.HasBest && math.IsNaN(e.Best)):
		return errors.Wrap(ErrConfig, "EarlyStopping: invalid state")
	}
	return nil
}

// Observe records the metric of one epoch and reports whether training
// should stop. A bad configuration is ErrConfig (and stop is false). A NaN
// metric returns stop = true with ErrNonFinite and leaves the state
// unchanged: a loss that has become NaN will not recover.
func (e *EarlyStopping) Observe(metric float64) (stop bool, err error) {
	if err := e.Validate(); err != nil {
		return false, err
	}
	if math.IsNaN(metric) {
		return true, errors.Wrap(ErrNonFinite, "EarlyStopping: metric is NaN")
	}
	best := e.Best
	if !e.HasBest {
		best = math.Inf(1)
		if e.Mode == "max" {
			best = math.Inf(-1)
		}
	}
	var better bool
	if e.Mode == "min" {
		better = metric < best-e.MinDelta
	} else {
		better = metric > best+e.MinDelta
	}
	if better {
		e.Best, e.HasBest, e.BadEpochs = metric, true, 0
		return false, nil
	}
	e.BadEpochs++
	return e.BadEpochs >= e.Patience, nil
}
