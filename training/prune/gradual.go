package prune

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Schedule is Zhu & Gupta's gradual pruning schedule (see the package
// doc), in optimiser steps.
type Schedule struct {
	// Final is the target sparsity s_f, Initial the first s_i (usually 0).
	Final   float64 `json:"final"`
	Initial float64 `json:"initial"`
	// Start is t₀, End t₀+n·Δt (the step at which Final is reached) and
	// Every Δt; End−Start must be a multiple of Every.
	Start int `json:"start"`
	End   int `json:"end"`
	Every int `json:"every"`
	// Global prunes with one threshold over all selected tensors.
	Global bool `json:"global,omitempty"`
}

// Validate checks the schedule; errors name the setting as train's flags
// do.
func (s Schedule) Validate() error {
	if err := checkSparsity("final sparsity (-prune)", s.Final); err != nil {
		return err
	}
	if err := checkSparsity("initial sparsity", s.Initial); err != nil {
		return err
	}
	switch {
	case s.Initial > s.Final:
		return errors.Errorf("prune: initial sparsity %v above the final %v", s.Initial, s.Final)
	case s.Start < 0:
		return errors.Errorf("prune: start step (-prune-start) %d must not be negative", s.Start)
	case s.Every < 1:
		return errors.Errorf("prune: pruning interval (-prune-every) %d must be at least 1", s.Every)
	case s.End < 1:
		return errors.Errorf("prune: end step (-prune-end) %d: the first step is 1", s.End)
	case s.End < s.Start:
		return errors.Errorf("prune: end step (-prune-end) %d before the start step %d", s.End, s.Start)
	case (s.End-s.Start)%s.Every != 0:
		return errors.Errorf("prune: -prune-end − -prune-start = %d is not a multiple of -prune-every %d", s.End-s.Start, s.Every)
	}
	return nil
}

// At returns the sparsity of step t and whether t is a pruning step
// (t₀ + k·Δt for k = 0 … n).
func (s Schedule) At(t int) (float64, bool) {
	if t < s.Start || t > s.End || (t-s.Start)%s.Every != 0 {
		return 0, false
	}
	if s.End == s.Start {
		return s.Final, true
	}
	r := 1 - float64(t-s.Start)/float64(s.End-s.Start)
	return s.Final + (s.Initial-s.Final)*r*r*r, true
}

// Gradual prunes during training by [Schedule]: it is the Trainer's
// training.StepHook. After every step it sets the weights its masks prune
// to zero (the optimiser moved them); at each pruning step it then
// computes new masks at the schedule's sparsity from the masked weights,
// so a weight once pruned stays pruned, and applies them.
type Gradual struct {
	Sched  Schedule
	Select Selection // nil: Weights
	masks  Masks
}

// NewGradual returns the hook of a valid schedule.
func NewGradual(s Schedule, sel Selection) (*Gradual, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &Gradual{Sched: s, Select: sel}, nil
}

// Masks returns the current masks (nil before the first pruning step).
func (g *Gradual) Masks() Masks { return g.masks }

// AfterStep implements training.StepHook.
func (g *Gradual) AfterStep(step int, ps *graph.Params) error {
	if g.masks != nil {
		if err := g.masks.Apply(ps); err != nil {
			return err
		}
	}
	s, ok := g.Sched.At(step)
	if !ok {
		return nil
	}
	m, err := Magnitude(ps, s, Options{Global: g.Sched.Global, Select: g.Select})
	if err != nil {
		return errors.Wrapf(err, "prune: step %d", step)
	}
	if err := m.Apply(ps); err != nil {
		return err
	}
	g.masks = m
	return nil
}

// maskPrefix prefixes the masks' names in the hook's state.
const maskPrefix = "mask."

// SaveState implements training.StepHook: each mask as a float32 tensor
// of ones and zeros, "mask.<parameter>", and the schedule as JSON.
func (g *Gradual) SaveState() (map[string]*tensor.Dense, string, error) {
	desc, err := g.describe()
	if err != nil {
		return nil, "", err
	}
	state := make(map[string]*tensor.Dense, len(g.masks))
	for n, m := range g.masks {
		v := make([]float32, len(m))
		for i, keep := range m {
			if keep {
				v[i] = 1
			}
		}
		state[maskPrefix+n] = tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))
	}
	return state, desc, nil
}

func (g *Gradual) describe() (string, error) {
	b, err := json.Marshal(struct {
		Prune Schedule `json:"prune"`
	}{g.Sched})
	return string(b), errors.Wrap(err, "prune: schedule")
}

// LoadState implements training.StepHook: the checkpoint must have been
// written under the same schedule, and its masks hold only ones and
// zeros.
func (g *Gradual) LoadState(state map[string]*tensor.Dense, extra string) (func(), error) {
	mine, err := g.describe()
	if err != nil {
		return nil, err
	}
	if extra != mine {
		if extra == "" {
			extra = "none"
		}
		return nil, errors.Errorf("prune: the checkpoint's pruning schedule (%.200s) is not this run's (%s)", extra, mine)
	}
	var masks Masks
	for k, t := range state {
		name, ok := strings.CutPrefix(k, maskPrefix)
		if !ok || name == "" || t == nil {
			return nil, errors.Errorf("prune: checkpoint state %.60q is not a mask", k)
		}
		v, err := graph.Float64s(t)
		if err != nil {
			return nil, errors.Wrapf(err, "prune: mask %q", name)
		}
		m := make([]bool, len(v))
		for i, x := range v {
			switch {
			case x == 1:
				m[i] = true
			case x != 0 || math.Signbit(x):
				return nil, errors.Errorf("prune: mask %q element %d is %v, not 0 or 1", name, i, x)
			}
		}
		if masks == nil {
			masks = Masks{}
		}
		masks[name] = m
	}
	return func() { g.masks = masks }, nil
}
