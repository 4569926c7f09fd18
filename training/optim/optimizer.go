package optim

import (
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Optimizer updates a [graph.Params] in place from gradients. The
// implementations are [SGD], [Momentum], [Adam], [RMSProp] and [Adagrad];
// each follows the single-tensor (foreach=False) code path of PyTorch
// 1.13's torch.optim with maximize = False, weight_decay = 0 (but for
// Adagrad's) and, where they exist, dampening = 0, amsgrad = False,
// centered = False and no RMSprop momentum.
//
// An Optimizer is not safe for concurrent use.
type Optimizer interface {
	// Step applies one update to every parameter of ps that has a gradient
	// in g; parameters without a gradient are left alone, and so is their
	// optimiser state (as PyTorch skips a parameter whose .grad is None).
	// Step checks everything before it changes anything: a gradient for a
	// name ps lacks (graph.ErrNotFound), a nil gradient, a gradient of
	// another dtype (graph.ErrDtype) or shape (*graph.ShapeError), a state
	// loaded for another shape or dtype (ErrState), a learning rate set
	// negative or non-finite with SetLR (ErrConfig), and a NaN or infinite
	// gradient element (ErrNonFinite) are errors, and then no parameter and
	// no state is changed.
	Step(ps *graph.Params, g Grads) error
	// LR returns the learning rate the next Step uses.
	LR() float64
	// SetLR sets the learning rate of the following Steps (for schedules).
	// A negative or non-finite value makes the next Step fail with ErrConfig.
	SetLR(lr float64)
	// State returns a copy of every piece of state as a named tensor:
	// per-parameter tensors are named "<kind>.<slot>.<param name>" with
	// PyTorch's slot names and the parameter's shape and dtype; scalars
	// (the learning rate, the other hyperparameters, per-parameter step
	// counts) are float64 tensors of shape [1], named "<kind>.<name>" or,
	// for a step count, "<kind>.step.<param name>". Each implementation's
	// doc lists its names. The map is the caller's: later Steps do not
	// change it.
	State() map[string]*tensor.Dense
	// LoadState replaces the whole state with a copy of one that State
	// returned, bit for bit, so that the Steps that follow are those the
	// saved optimiser would have taken; this includes the learning rate.
	// It validates the map first and changes nothing on an error
	// (ErrState): an unknown or missing name, a nil tensor, a scalar that
	// is not a finite float64 of shape [1], a step count that is not a
	// whole number ≥ 1, per-parameter tensors of different shapes or
	// dtypes, a non-finite (or, for a running mean of squares, negative)
	// element, or a hyperparameter other than this optimiser's (the state
	// of an optimiser built with other betas, say). Shapes are checked
	// against the parameters at the next Step.
	LoadState(state map[string]*tensor.Dense) error
}

// job is one parameter to update: its tensor and a contiguous gradient.
type job struct {
	name string
	p, g *tensor.Dense
}

// checkLR returns ErrConfig for a negative or non-finite learning rate.
func checkLR(lr float64) error {
	if !finite(lr) || lr < 0 {
		return errors.Wrapf(ErrConfig, "learning rate %v (want a finite value ≥ 0)", lr)
	}
	return nil
}

// checkUnit returns ErrConfig unless 0 ≤ v < 1.
func checkUnit(name string, v float64) error {
	if !(v >= 0 && v < 1) {
		return errors.Wrapf(ErrConfig, "%s %v (want 0 ≤ %s < 1)", name, v, name)
	}
	return nil
}

// checkEps returns ErrConfig for a negative or non-finite epsilon.
func checkEps(eps float64) error {
	if !finite(eps) || eps < 0 {
		return errors.Wrapf(ErrConfig, "eps %v (want a finite value ≥ 0)", eps)
	}
	return nil
}

// prepare checks the inputs of a step and returns the parameters to update
// in the Params' order.
func prepare(ps *graph.Params, g Grads, lr float64) ([]job, error) {
	if ps == nil {
		return nil, errors.New("optim: nil params")
	}
	if err := checkLR(lr); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(g))
	for name := range g {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := ps.Get(name); !ok {
			return nil, errors.Wrapf(graph.ErrNotFound, "optim: gradient for %q", name)
		}
	}
	var jobs []job
	for _, name := range ps.Names() {
		gt, ok := g[name]
		if !ok {
			continue
		}
		p, _ := ps.Get(name)
		if gt == nil {
			return nil, errors.Errorf("optim: gradient of %q is nil", name)
		}
		if gt.Dtype() != p.Dtype() {
			return nil, errors.Wrapf(graph.ErrDtype, "optim: gradient of %q is %v, parameter is %v",
				name, gt.Dtype(), p.Dtype())
		}
		if !sameShape(gt.Shape(), p.Shape()) {
			return nil, &graph.ShapeError{Name: "gradient of " + name, Want: p.Shape().Clone(), Got: gt.Shape().Clone()}
		}
		if p.RequiresIterator() {
			return nil, errors.Errorf("optim: parameter %q is a non-contiguous view; cannot update it in place", name)
		}
		gc, err := contiguous(gt)
		if err != nil {
			return nil, errors.Wrapf(err, "optim: gradient of %q", name)
		}
		if i := firstNonFinite(gc); i >= 0 {
			v, _ := graph.Float64s(gc)
			return nil, errors.Wrapf(ErrNonFinite, "optim: gradient of %q, element %d is %v", name, i, v[i])
		}
		jobs = append(jobs, job{name: name, p: p, g: gc})
	}
	return jobs, nil
}

// hyper is a hyperparameter saved with the state and checked on load.
type hyper struct {
	name string
	v    float64
}

// pstate is the state of one parameter.
type pstate struct {
	bufs []*tensor.Dense // one per slot, the parameter's shape and dtype
	step float64         // updates of this parameter so far
}

// core is what every optimiser shares: the learning rate and the
// per-parameter state.
type core struct {
	kind    string
	slots   []string // names of the per-parameter tensors
	nonneg  []bool   // per slot: elements must be ≥ 0 (running means of squares)
	counted bool     // a per-parameter step count is saved as "<kind>.step.<name>"
	lr      float64
	state   map[string]*pstate
}

func newCore(kind string, lr float64, counted bool, slots []string, nonneg []bool) core {
	return core{kind: kind, slots: slots, nonneg: nonneg, counted: counted, lr: lr, state: map[string]*pstate{}}
}

func (c *core) stateful() bool { return len(c.slots) > 0 || c.counted }

// step validates a step and then calls update for each parameter with its
// state (nil for a stateless optimiser), created as zeros on the
// parameter's first update (first = true), with the step count already
// incremented. update must not fail: everything has been checked.
func (c *core) step(ps *graph.Params, g Grads, update func(j job, st *pstate, first bool)) error {
	jobs, err := prepare(ps, g, c.lr)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		st := c.state[j.name]
		if st == nil {
			continue
		}
		for i, b := range st.bufs {
			if b.Dtype() != j.p.Dtype() || !sameShape(b.Shape(), j.p.Shape()) {
				return errors.Wrapf(ErrState, "%s.%s.%s is %v %v, the parameter is %v %v",
					c.kind, c.slots[i], j.name, b.Dtype(), b.Shape(), j.p.Dtype(), j.p.Shape())
			}
		}
	}
	for _, j := range jobs {
		st := c.state[j.name]
		first := st == nil
		if first && c.stateful() {
			st = &pstate{bufs: make([]*tensor.Dense, len(c.slots))}
			for i := range c.slots {
				st.bufs[i] = zerosLike(j.p)
			}
			c.state[j.name] = st
		}
		if st != nil {
			st.step++
		}
		update(j, st, first)
	}
	return nil
}

// save returns the state map (copies).
func (c *core) save(hs []hyper) map[string]*tensor.Dense {
	m := map[string]*tensor.Dense{c.kind + ".lr": scalar(c.lr)}
	for _, h := range hs {
		m[c.kind+"."+h.name] = scalar(h.v)
	}
	for name, st := range c.state {
		for i, s := range c.slots {
			b, _ := cloneDense(st.bufs[i]) // cannot fail: a contiguous float tensor of ours
			m[c.kind+"."+s+"."+name] = b
		}
		if c.counted {
			m[c.kind+".step."+name] = scalar(st.step)
		}
	}
	return m
}

// maxStep is the largest step count float64 holds exactly (2⁵³).
const maxStep = 1 << 53

// load validates m and, if it is good, replaces the learning rate and the
// per-parameter state with copies of m's.
func (c *core) load(m map[string]*tensor.Dense, hs []hyper) error {
	if m == nil {
		return errors.Wrapf(ErrState, "%s: nil state map", c.kind)
	}
	prefix := c.kind + "."
	isScalar := map[string]bool{"lr": true}
	for _, h := range hs {
		isScalar[h.name] = true
	}
	scalars := map[string]float64{}
	type entry struct {
		bufs    []*tensor.Dense
		step    float64
		hasStep bool
	}
	per := map[string]*entry{}
	var dt tensor.Dtype
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		t := m[key]
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			return errors.Wrapf(ErrState, "%q is not a %s state entry", key, c.kind)
		}
		if isScalar[rest] {
			v, err := readScalar(key, t)
			if err != nil {
				return err
			}
			scalars[rest] = v
			continue
		}
		slot, pname, ok := strings.Cut(rest, ".")
		if !ok || pname == "" {
			return errors.Wrapf(ErrState, "%q: unknown %s state entry", key, c.kind)
		}
		e := per[pname]
		if e == nil {
			e = &entry{bufs: make([]*tensor.Dense, len(c.slots))}
			per[pname] = e
		}
		if slot == "step" && c.counted {
			v, err := readScalar(key, t)
			if err != nil {
				return err
			}
			if v < 1 || v > maxStep || v != math.Trunc(v) {
				return errors.Wrapf(ErrState, "%q: step count %v (want a whole number ≥ 1)", key, v)
			}
			e.step, e.hasStep = v, true
			continue
		}
		idx := -1
		for i, s := range c.slots {
			if s == slot {
				idx = i
			}
		}
		if idx < 0 {
			return errors.Wrapf(ErrState, "%q: unknown %s slot %q", key, c.kind, slot)
		}
		tc, err := cloneDense(t)
		if err != nil {
			return errors.Wrapf(ErrState, "%q: %v", key, err)
		}
		if dt == (tensor.Dtype{}) {
			dt = tc.Dtype()
		} else if tc.Dtype() != dt {
			return errors.Wrapf(ErrState, "%q is %v, other state tensors are %v", key, tc.Dtype(), dt)
		}
		if i := firstNonFinite(tc); i >= 0 {
			return errors.Wrapf(ErrState, "%q: element %d is not finite", key, i)
		}
		if c.nonneg[idx] && anyNegative(tc) {
			return errors.Wrapf(ErrState, "%q: a running mean of squares has a negative element", key)
		}
		e.bufs[idx] = tc
	}
	lr, ok := scalars["lr"]
	if !ok {
		return errors.Wrapf(ErrState, "%s: %q missing", c.kind, prefix+"lr")
	}
	if err := checkLR(lr); err != nil {
		return errors.Wrapf(ErrState, "%q: %v", prefix+"lr", err)
	}
	for _, h := range hs {
		v, ok := scalars[h.name]
		if !ok {
			return errors.Wrapf(ErrState, "%s: %q missing", c.kind, prefix+h.name)
		}
		if v != h.v {
			return errors.Wrapf(ErrState, "%q is %v, this optimiser's is %v", prefix+h.name, v, h.v)
		}
	}
	state := make(map[string]*pstate, len(per))
	for pname, e := range per {
		for i, b := range e.bufs {
			if b == nil {
				return errors.Wrapf(ErrState, "%s: %q missing (parameter %q has other state)",
					c.kind, prefix+c.slots[i]+"."+pname, pname)
			}
			if !sameShape(b.Shape(), e.bufs[0].Shape()) {
				return errors.Wrapf(ErrState, "%s: %q has shape %v, %q has %v", c.kind,
					prefix+c.slots[i]+"."+pname, b.Shape(), prefix+c.slots[0]+"."+pname, e.bufs[0].Shape())
			}
		}
		if c.counted && !e.hasStep {
			return errors.Wrapf(ErrState, "%s: %q missing (parameter %q has other state)",
				c.kind, prefix+"step."+pname, pname)
		}
		state[pname] = &pstate{bufs: e.bufs, step: e.step}
	}
	c.lr = lr
	c.state = state
	return nil
}
