package vae

import (
	"math"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
)

// The KL annealing schedules.
const (
	AnnealNone     = "none"     // β = 1 from the first step
	AnnealLinear   = "linear"   // β = min(1, step/Steps)
	AnnealLogistic = "logistic" // β = 1/(1 + exp(−K·(step − Steps)))
)

// Anneal is a KL annealing schedule: the weight β of the KL term as a
// function of the optimiser step (from 0). Bowman et al. (2016) raise β
// from 0 to 1 so that the decoder first learns to use z before the KL
// term pushes q(z | x) onto the prior.
type Anneal struct {
	// Kind is AnnealNone (also ""), AnnealLinear or AnnealLogistic.
	Kind string `json:"kind"`
	// Steps is where β reaches 1 (linear) or ½ (logistic, the midpoint).
	Steps int `json:"steps,omitempty"`
	// K is the logistic schedule's slope per step.
	K float64 `json:"k,omitempty"`
}

// Validate checks the schedule.
func (a Anneal) Validate() error {
	switch a.Kind {
	case "", AnnealNone:
		return nil
	case AnnealLinear:
		if a.Steps < 1 {
			return errors.Wrapf(ErrConfig, "linear annealing over %d steps, want at least 1", a.Steps)
		}
		return nil
	case AnnealLogistic:
		if a.Steps < 0 || !(a.K > 0) || math.IsInf(a.K, 0) {
			return errors.Wrapf(ErrConfig, "logistic annealing: midpoint %d must not be negative, slope %v positive and finite", a.Steps, a.K)
		}
		return nil
	}
	return errors.Wrapf(ErrConfig, "annealing %q (want %s, %s or %s)", a.Kind, AnnealNone, AnnealLinear, AnnealLogistic)
}

// Beta returns β at step (counted from 0).
func (a Anneal) Beta(step int) float64 {
	switch a.Kind {
	case AnnealLinear:
		return math.Min(1, float64(step)/float64(a.Steps))
	case AnnealLogistic:
		return 1 / (1 + math.Exp(-a.K*float64(step-a.Steps)))
	}
	return 1
}

// WordDropout returns the decoder inputs of sents with each word replaced
// by UNK with probability p, drawn from src (Bowman et al. 2016: the
// decoder must then rely on z for what it cannot see). p = 0 returns
// copies.
func WordDropout(sents [][]int, p float64, src graph.Source) [][]int {
	out := make([][]int, len(sents))
	for i, s := range sents {
		out[i] = append([]int(nil), s...)
		if p <= 0 {
			continue
		}
		for j := range out[i] {
			if src.Float64() < p {
				out[i][j] = UNK
			}
		}
	}
	return out
}
