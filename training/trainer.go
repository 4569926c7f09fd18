package training

import (
	"context"
	"io"
	"math"
	"sync"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/optim"
)

// Config is the Trainer's part of a run's settings, the same for every
// model.
type Config struct {
	// Epochs is the number of epochs [Trainer.Run] trains to.
	Epochs int `json:"epochs"`
	// Optimizer is adam (also ""), sgd, momentum, rmsprop or adagrad.
	Optimizer string `json:"optimizer"`
	// LR is the learning rate (the base of the schedules).
	LR float64 `json:"lr"`
	// WeightDecay is Adagrad's weight decay (an L2 penalty whose gradient
	// wd·p is added to each gradient before the update, as
	// torch.optim.Adagrad's weight_decay); 0: none. The other optimisers
	// take none.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// Clip is the global norm gradients are clipped to; 0: off.
	Clip float64 `json:"clip"`
	// Seed seeds every random choice: the parameters, each epoch's batches,
	// each step's dropout masks.
	Seed uint64 `json:"seed"`
	// Dtype is the parameters' type: float32 (also "") or float64.
	Dtype string `json:"dtype"`
	// SkipNonFinite skips a batch whose loss or gradient is NaN or
	// infinite (its update is not applied, and Skipped counts it) instead
	// of stopping with ErrNonFinite. It is a policy, not part of the model:
	// a run may be resumed with another value.
	SkipNonFinite bool `json:"skip_nonfinite,omitempty"`
}

// Validate checks the config.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 0:
		return errors.Errorf("training: epochs %d must not be negative", c.Epochs)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return errors.Errorf("training: learning rate %v must be positive and finite", c.LR)
	case !(c.Clip >= 0) || math.IsInf(c.Clip, 0):
		return errors.Errorf("training: clip %v must be finite and not negative", c.Clip)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return errors.Errorf("training: weight decay %v must be finite and not negative", c.WeightDecay)
	case c.WeightDecay != 0 && c.Optimizer != "adagrad":
		return errors.Errorf("training: weight decay %v applies only to the adagrad optimizer, not %q", c.WeightDecay, c.Optimizer)
	}
	if _, err := c.dtype(); err != nil {
		return err
	}
	_, err := c.newOptimizer()
	return err
}

func (c Config) dtype() (tensor.Dtype, error) {
	switch c.Dtype {
	case "", "float32":
		return tensor.Float32, nil
	case "float64":
		return tensor.Float64, nil
	}
	return tensor.Dtype{}, errors.Errorf("training: dtype %q (float32 or float64)", c.Dtype)
}

// newOptimizer returns the optimiser of the config (its name, learning
// rate and weight decay; PyTorch's defaults for the rest, but for Adagrad's
// eps, which is 1e-10 as PyTorch's).
func (c Config) newOptimizer() (optim.Optimizer, error) {
	name, lr := c.Optimizer, c.LR
	switch name {
	case "", "adam":
		return optim.NewAdam(lr, 0.9, 0.999, 1e-8)
	case "sgd":
		return optim.NewSGD(lr)
	case "momentum":
		return optim.NewMomentum(lr, 0.9, false)
	case "rmsprop":
		return optim.NewRMSProp(lr, 0.99, 1e-8)
	case "adagrad":
		return optim.NewAdagrad(lr, c.WeightDecay, 1e-10)
	}
	return nil, errors.Errorf("training: unknown optimizer %q (adam, sgd, momentum, rmsprop, adagrad)", name)
}

// Purposes of the seeds drawn from a run's seed.
const (
	seedParams  = 1 // the parameters' initial values
	seedBatches = 2 // each epoch's batches (by epoch)
	seedStep    = 3 // each step's random choices (by step)
)

// seed mixes the run's seed with a purpose and a counter (SplitMix64).
func seed(base uint64, purpose, n uint64) uint64 {
	z := base + 0x9e3779b97f4a7c15*(purpose*1_000_003+n+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Trainer trains a [Model]: one loop for every model family.
//
// Each step takes the epoch's next batch, runs the compiled training graph
// of its shape (one per shape, cached), reads the loss, checks that loss
// and gradients are finite, clips the gradients to Cfg.Clip and applies the
// optimiser. A run is a function of its config and seed (see the package
// doc), so one stopped after any step and resumed from its checkpoint
// ([Trainer.Checkpoint], [Trainer.Restore]) ends bit for bit as one never
// stopped.
//
// A Trainer is not safe for concurrent use, except that Evaluate takes
// turns with itself.
type Trainer struct {
	// Cfg is the run's config, Model the model trained.
	Cfg   Config
	Model Model
	// Params are the model's parameters (made by Model.Init), Opt the
	// optimiser that updates them.
	Params *graph.Params
	Opt    optim.Optimizer
	// Test is the data Run evaluates after each epoch (nil: none).
	Test Dataset
	// Schedule changes the learning rate and stops early after each epoch
	// of Run; checkpoints keep its state.
	Schedule Schedule
	// Hook, when not nil, is called after every step (see [StepHook]);
	// checkpoints keep its state.
	Hook StepHook
	// Epoch is the number of completed epochs; Step the number of
	// optimiser steps taken; StepInEpoch how many batches of the current
	// epoch are done.
	Epoch, Step, StepInEpoch int
	// Skipped counts the batches skipped for a non-finite loss or gradient
	// (Cfg.SkipNonFinite); they count in Step and StepInEpoch too.
	Skipped int
	// Compiled records every graph built and compiled (one per batch shape
	// and mode, kept in a bounded cache), with the seconds it took.
	Compiled []CompileStat
	// Group is the data-parallel group the Trainer trains in (nil:
	// alone); see [Group]. Package distributed sets it.
	Group Group

	loss    epochLoss // the current epoch's running training loss
	train   *graph.Cache[Shape, *compiled]
	eval    *graph.Cache[Shape, *compiled]
	evalMu  sync.Mutex          // Evaluate takes turns
	damaged string              // set when an update made a parameter non-finite
	fault   func(step int) bool // tests: a true result makes the loss of that step NaN
}

// compiled is one compiled training or evaluation graph.
type compiled struct {
	g      Graph
	vm     gorgonia.VM
	params gorgonia.Nodes
	lossV  gorgonia.Value
}

// Close releases the machine (the caches call it on eviction).
func (c *compiled) Close() error { return c.vm.Close() }

// StepStats reports one optimiser step.
type StepStats struct {
	// Step is the batch of the epoch just done (from 1), Of their number.
	Step, Of int
	Loss     float64
	// GradNorm is the gradients' global norm before clipping (NaN when
	// Clip is off).
	GradNorm float64
	// Skipped is true when the batch was skipped for a non-finite loss or
	// gradient (SkipNonFinite); Loss and GradNorm are then NaN.
	Skipped bool
}

// CompileStat is one graph built, differentiated and compiled for a batch
// shape, for training or forward-only evaluation.
type CompileStat struct {
	Train   bool
	Shape   Shape
	Seconds float64
}

// New returns a Trainer of m: it creates the parameters (m.Init, seeded
// by cfg.Seed) and the optimiser. test is the data Run evaluates on after
// each epoch (nil: none).
func New(cfg Config, m Model, test Dataset) (*Trainer, error) {
	if m == nil {
		return nil, errors.New("training: nil model")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dt, _ := cfg.dtype()
	ps, err := graph.NewParams(dt)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ps, graph.NewSource(seed(cfg.Seed, seedParams, 0))); err != nil {
		return nil, err
	}
	t := &Trainer{Cfg: cfg, Model: m, Params: ps, Test: test}
	if t.Opt, err = cfg.newOptimizer(); err != nil {
		return nil, err
	}
	if t.train, err = graph.NewCache[Shape, *compiled](8); err != nil {
		return nil, err
	}
	if t.eval, err = graph.NewCache[Shape, *compiled](8); err != nil {
		return nil, err
	}
	return t, nil
}

// Close releases the compiled machines, and the model's resources when it
// is an io.Closer.
func (t *Trainer) Close() error {
	err := t.train.Close()
	if e := t.eval.Close(); err == nil {
		err = e
	}
	if c, ok := t.Model.(io.Closer); ok {
		if e := c.Close(); err == nil {
			err = e
		}
	}
	return err
}

// CompileSeconds returns the graphs compiled so far and the seconds spent.
func (t *Trainer) CompileSeconds() (graphs int, seconds float64) {
	for _, c := range t.Compiled {
		seconds += c.Seconds
	}
	return len(t.Compiled), seconds
}

// graph returns the compiled graph of b's shape, building it on first use.
func (t *Trainer) graph(b Batch, train bool) (*compiled, error) {
	cache := t.eval
	if train {
		cache = t.train
	}
	shape := b.Shape()
	return cache.Get(shape, func() (*compiled, error) {
		start := time.Now()
		defer func() {
			t.Compiled = append(t.Compiled, CompileStat{Train: train, Shape: shape, Seconds: time.Since(start).Seconds()})
		}()
		g, c, err := graph.Build(t.Params, func(g *graph.Graph) (*compiled, error) {
			mg, err := t.Model.Build(g, b, train)
			if err != nil {
				return nil, err
			}
			c := &compiled{g: mg, params: g.Learnables()}
			if train {
				c.params = withoutRows(c.params, mg, g)
				if _, err := gorgonia.Grad(mg.Loss(), c.params...); err != nil {
					return nil, errors.Wrap(err, "training: gradient")
				}
			}
			gorgonia.Read(mg.Loss(), &c.lossV)
			return c, nil
		})
		if err != nil {
			return nil, err
		}
		var opts []gorgonia.VMOpt
		if train {
			opts = append(opts, gorgonia.BindDualValues(c.params...))
		}
		if c.vm, err = graph.NewMachine(g, opts...); err != nil {
			return nil, err
		}
		return c, nil
	})
}

// run sets b, runs the machine, reads the loss and calls the graph's
// After; the caller resets the machine.
func (c *compiled) run(b Batch, seed uint64) (float64, error) {
	if err := c.g.Set(b, seed); err != nil {
		return 0, err
	}
	if err := graph.Run(c.vm); err != nil {
		return 0, err
	}
	lv, err := graph.ValueFloat64s(c.lossV)
	if err != nil {
		return 0, err
	}
	if len(lv) != 1 {
		return 0, errors.Errorf("training: the loss holds %d values, want a scalar", len(lv))
	}
	return lv[0], c.g.After()
}

// TrainEpoch runs the rest of the current epoch (all of it, unless resumed
// mid-epoch), calling onStep after every step, and after every step also
// stop (if not nil): when it returns true the epoch ends early and
// TrainEpoch returns with done = false (StepInEpoch says where). The
// returned loss is the mean training loss of the epoch's steps (those run
// before a resume included, skipped batches left out).
//
// Parameters that already hold a NaN or an infinity are an error wrapping
// ErrDamaged (and ErrNonFinite) before anything runs. A non-finite loss or
// gradient is an error wrapping ErrNonFinite that names the epoch and
// batch, and leaves the parameters, the optimiser state, the carried state
// and the position as they were before the batch, unless Cfg.SkipNonFinite
// is set: then the batch is skipped (counted in Skipped; a carried state
// starts again from zeros) and training goes on.
func (t *Trainer) TrainEpoch(ctx context.Context, onStep func(StepStats), stop func() bool) (loss float64, done bool, err error) {
	if t.damaged != "" {
		return 0, false, errors.Wrap(ErrDamaged, t.damaged)
	}
	if err := checkBefore(t.Params); err != nil {
		return 0, false, err
	}
	batches, err := t.Model.Batches(t.Epoch, graph.NewSource(seed(t.Cfg.Seed, seedBatches, uint64(t.Epoch))))
	if err != nil {
		return 0, false, err
	}
	if len(batches) == 0 {
		return 0, false, errors.Errorf("training: epoch %d has no batches", t.Epoch+1)
	}
	if t.StepInEpoch < 0 || t.StepInEpoch > len(batches) {
		return 0, false, errors.Errorf("training: epoch %d resumes at batch %d of %d: not the data of the checkpoint", t.Epoch+1, t.StepInEpoch+1, len(batches))
	}
	carrier, _ := t.Model.(Carrier)
	if t.StepInEpoch == 0 {
		t.loss = epochLoss{}
		if carrier != nil {
			_ = carrier.SetCarry(nil)
		}
	}
	for t.StepInEpoch < len(batches) {
		if err := ctx.Err(); err != nil && t.Group == nil { // a group stops together (updateShared)
			return 0, false, err
		}
		var before [][]float64
		if carrier != nil {
			before = carrier.Carry()
		}
		l, norm, err := t.updateIn(ctx, batches[t.StepInEpoch])
		skipped := false
		if err != nil {
			if !errors.Is(err, ErrNonFinite) || !t.Cfg.SkipNonFinite || t.damaged != "" {
				if carrier != nil {
					_ = carrier.SetCarry(before)
				}
				return 0, false, errors.Wrapf(err, "training: epoch %d, batch %d of %d (step %d)", t.Epoch+1, t.StepInEpoch+1, len(batches), t.Step+1)
			}
			skipped, l, norm = true, math.NaN(), math.NaN()
			if carrier != nil {
				_ = carrier.SetCarry(nil)
			}
			t.Skipped++
		}
		t.Step++
		t.StepInEpoch++
		if t.Hook != nil {
			if err := t.Hook.AfterStep(t.Step, t.Params); err != nil {
				return 0, false, errors.Wrapf(err, "training: epoch %d, after step %d", t.Epoch+1, t.Step)
			}
		}
		if !skipped {
			t.loss.add(l)
		}
		if onStep != nil {
			onStep(StepStats{Step: t.StepInEpoch, Of: len(batches), Loss: l, GradNorm: norm, Skipped: skipped})
		}
		if stop != nil && stop() && t.StepInEpoch < len(batches) {
			return t.loss.mean(), false, nil
		}
	}
	t.Epoch++
	t.StepInEpoch = 0
	if carrier != nil {
		_ = carrier.SetCarry(nil)
	}
	return t.loss.mean(), true, nil
}

// update runs one batch forward and backward and applies the optimiser. A
// non-finite loss or gradient is an error wrapping ErrNonFinite, and then
// nothing is changed (the gradients are zeroed for the next batch).
func (t *Trainer) update(b Batch) (loss, norm float64, err error) {
	if t.damaged != "" {
		return 0, 0, errors.Wrap(ErrDamaged, t.damaged)
	}
	g, err := t.graph(b, true)
	if err != nil {
		return 0, 0, err
	}
	defer g.vm.Reset()
	l, err := g.run(b, seed(t.Cfg.Seed, seedStep, uint64(t.Step)))
	if err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, err
	}
	if t.fault != nil && t.fault(t.Step) {
		l = math.NaN()
	}
	if math.IsNaN(l) || math.IsInf(l, 0) {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, errors.Wrapf(ErrNonFinite, "loss %v; the update was not applied", l)
	}
	grads, err := optim.GradsOf(g.params) // the dual values themselves: zeroed below in any case
	if err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, nonFinite(err)
	}
	if norm, err = t.stepRows(g, grads); err != nil { // clips to Cfg.Clip, then steps
		_ = optim.ZeroGrads(g.params)
		return 0, 0, nonFinite(err)
	}
	if err := checkUpdated(t.Params, t.Opt.LR(), &t.damaged); err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, err
	}
	return l, norm, optim.ZeroGrads(g.params)
}

// Evaluate returns the model's metrics on d, computed on forward-only
// machines (gradients never accumulate, dropout is off). It changes no
// parameter. Calls take turns.
func (t *Trainer) Evaluate(ctx context.Context, d Dataset) (Metrics, error) {
	if d == nil {
		return nil, errors.New("training: Evaluate on no data")
	}
	t.evalMu.Lock()
	defer t.evalMu.Unlock()
	return t.Model.Evaluate(ctx, d, t.forward)
}

// forward is the Forward that Evaluate hands the model.
func (t *Trainer) forward(b Batch) (float64, error) {
	g, err := t.graph(b, false)
	if err != nil {
		return 0, err
	}
	defer g.vm.Reset()
	return g.run(b, 0)
}

// RunEpoch trains one whole epoch (or its rest) and evaluates on Test.
func (t *Trainer) RunEpoch(ctx context.Context, onStep func(StepStats)) (EpochStats, error) {
	return t.epoch(ctx, onStep, nil)
}

// epoch is RunEpoch with a stop function (see TrainEpoch): training errors
// come back unwrapped, and an epoch stopped early gets no statistics.
func (t *Trainer) epoch(ctx context.Context, onStep func(StepStats), stop func() bool) (EpochStats, error) {
	start := time.Now()
	steps := t.Step
	g0, c0 := t.CompileSeconds()
	loss, _, err := t.TrainEpoch(ctx, onStep, stop)
	if err != nil {
		return EpochStats{}, err
	}
	st := EpochStats{Epoch: t.Epoch, TrainLoss: loss, Steps: t.Step - steps}
	if t.Test != nil {
		if st.Test, err = t.evaluateTest(ctx); err != nil {
			return st, errors.Wrapf(err, "training: evaluating after epoch %d", t.Epoch)
		}
	}
	g1, c1 := t.CompileSeconds()
	st.EpochSeconds, st.GraphsCompiled, st.CompileSeconds = time.Since(start).Seconds(), g1-g0, c1-c0
	return st, nil
}
