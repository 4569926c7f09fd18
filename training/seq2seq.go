package training

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/metrics"
	"github.com/rnnkit/rnnkit/training/optim"
)

// Seq2SeqConfig is everything that defines a Seq2Seq training run.
type Seq2SeqConfig struct {
	Model         seq2seq.Config `json:"model"`
	Batch         int            `json:"batch"`
	Epochs        int            `json:"epochs"`
	Optimizer     string         `json:"optimizer"` // adam, sgd, momentum, rmsprop
	LR            float64        `json:"lr"`
	Clip          float64        `json:"clip"` // global-norm clip; 0: off
	Seed          uint64         `json:"seed"`
	ReverseSource bool           `json:"reverse_source"` // feed the question reversed (the book's trick)
	BucketWidth   int            `json:"bucket_width"`   // pad lengths up to a multiple of this (bounds the graph cache)
	Dtype         string         `json:"dtype"`          // float32 or float64
	EvalBatch     int            `json:"eval_batch"`     // sequences per decoding batch; 0: Batch
	// SkipNonFinite skips a batch whose loss or gradient is NaN or
	// infinite (its update is not applied, and Skipped counts it) instead
	// of stopping with ErrNonFinite. It is a policy, not part of the model:
	// a run may be resumed with another value.
	SkipNonFinite bool `json:"skip_nonfinite,omitempty"`
}

// Validate checks the config.
func (c Seq2SeqConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.Batch < 1 || c.Epochs < 0 || c.BucketWidth < 1:
		return errors.Errorf("training: batch %d, epochs %d and bucket width %d must be positive", c.Batch, c.Epochs, c.BucketWidth)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return errors.Errorf("training: learning rate %v must be positive", c.LR)
	case c.Clip < 0 || math.IsNaN(c.Clip):
		return errors.Errorf("training: clip %v must not be negative", c.Clip)
	}
	if _, err := c.dtype(); err != nil {
		return err
	}
	_, err := newOptimizer(c.Optimizer, c.LR)
	return err
}

func (c Seq2SeqConfig) dtype() (tensor.Dtype, error) {
	switch c.Dtype {
	case "", "float32":
		return tensor.Float32, nil
	case "float64":
		return tensor.Float64, nil
	}
	return tensor.Dtype{}, errors.Errorf("training: dtype %q (float32 or float64)", c.Dtype)
}

func newOptimizer(name string, lr float64) (optim.Optimizer, error) {
	switch name {
	case "", "adam":
		return optim.NewAdam(lr, 0.9, 0.999, 1e-8)
	case "sgd":
		return optim.NewSGD(lr)
	case "momentum":
		return optim.NewMomentum(lr, 0.9, false)
	case "rmsprop":
		return optim.NewRMSProp(lr, 0.99, 1e-8)
	}
	return nil, errors.Errorf("training: unknown optimizer %q (adam, sgd, momentum, rmsprop)", name)
}

// seed mixes the run's seed with a purpose and a counter (SplitMix64).
func seed(base uint64, purpose, n uint64) uint64 {
	z := base + 0x9e3779b97f4a7c15*(purpose*1_000_003+n+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Seq2Seq trains a seq2seq.Config model on question–answer pairs.
type Seq2Seq struct {
	Cfg    Seq2SeqConfig
	Params *graph.Params
	Vocab  *data.Vocab
	Opt    optim.Optimizer
	// Epoch is the number of completed epochs; Step the number of
	// optimiser steps taken; StepInEpoch how many batches of the current
	// epoch are done.
	Epoch, Step, StepInEpoch int
	// Skipped counts the batches skipped for a non-finite loss or gradient
	// (Cfg.SkipNonFinite); they count in Step and StepInEpoch too.
	Skipped int
	loss    epochLoss // the current epoch's running training loss
	// Compiled records every graph built and compiled (one per batch shape
	// and mode, kept in a bounded cache), with the seconds it took.
	Compiled []CompileStat

	train, test data.Encoded
	trainQ      []data.Pair
	testPairs   []data.Pair
	graphs      *graph.Cache[[3]int, *s2sGraph]
	evals       *graph.Cache[[3]int, *s2sGraph]
	gen         *seq2seq.Generator  // for decoding; its graphs are compiled once
	decoding    sync.Mutex          // held by Evaluate, Translate, TranslateWith, Attention (they share gen and evals)
	damaged     string              // set when an update made a parameter non-finite
	fault       func(step int) bool // tests: a true result makes the loss of that step NaN
}

// generator returns the run's generator, created on first use. It binds
// the run's own parameters, so it always decodes with their current values.
func (t *Seq2Seq) generator() (*seq2seq.Generator, error) {
	if t.gen != nil {
		return t.gen, nil
	}
	gen, err := seq2seq.NewGenerator(t.Params, t.Cfg.Model)
	if err != nil {
		return nil, err
	}
	t.gen = gen
	return gen, nil
}

// s2sGraph is one compiled training or evaluation graph.
type s2sGraph struct {
	m      *seq2seq.TrainGraph
	vm     gorgonia.VM
	params gorgonia.Nodes
	lossV  gorgonia.Value
	attnV  []gorgonia.Value
}

func (s *s2sGraph) Close() error { return s.vm.Close() }

// NewSeq2Seq prepares a run: it encodes the pairs with vocab, creates the
// parameters from the seed (the model's Vocab is set from vocab) and the
// optimiser.
func NewSeq2Seq(cfg Seq2SeqConfig, vocab *data.Vocab, train, test []data.Pair) (*Seq2Seq, error) {
	if vocab == nil {
		return nil, errors.New("training: nil vocabulary")
	}
	cfg.Model.Vocab = vocab.Len()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, errors.New("training: no training pairs")
	}
	dt, _ := cfg.dtype()
	ps, err := graph.NewParams(dt)
	if err != nil {
		return nil, err
	}
	if err := cfg.Model.Init(ps, graph.NewSource(seed(cfg.Seed, 1, 0))); err != nil {
		return nil, err
	}
	t := &Seq2Seq{Cfg: cfg, Params: ps, Vocab: vocab, trainQ: train, testPairs: test}
	if t.Opt, err = newOptimizer(cfg.Optimizer, cfg.LR); err != nil {
		return nil, err
	}
	if t.train, err = data.EncodePairs(train, vocab, cfg.ReverseSource); err != nil {
		return nil, errors.Wrap(err, "training: encoding the training pairs")
	}
	if len(test) > 0 {
		if t.test, err = data.EncodePairs(test, vocab, cfg.ReverseSource); err != nil {
			return nil, errors.Wrap(err, "training: encoding the test pairs")
		}
	}
	if t.graphs, err = graph.NewCache[[3]int, *s2sGraph](8); err != nil {
		return nil, err
	}
	if t.evals, err = graph.NewCache[[3]int, *s2sGraph](8); err != nil {
		return nil, err
	}
	return t, nil
}

// Close releases the compiled machines.
func (t *Seq2Seq) Close() error {
	err := t.graphs.Close()
	if e := t.evals.Close(); err == nil {
		err = e
	}
	if t.gen != nil {
		if e := t.gen.Close(); err == nil {
			err = e
		}
	}
	return err
}

func (t *Seq2Seq) roundUp(n int) int {
	w := t.Cfg.BucketWidth
	return (n + w - 1) / w * w
}

func (t *Seq2Seq) getGraph(train bool, B, Ts, Tt int) (*s2sGraph, error) {
	cache := t.evals
	if train {
		cache = t.graphs
	}
	return cache.Get([3]int{B, Ts, Tt}, func() (*s2sGraph, error) {
		start := time.Now()
		defer func() {
			t.Compiled = append(t.Compiled, CompileStat{Train: train, B: B, Ts: Ts, Tt: Tt, Seconds: time.Since(start).Seconds()})
		}()
		g, s, err := graph.Build(t.Params, func(g *graph.Graph) (*s2sGraph, error) {
			m, err := seq2seq.BuildTrainGraph(g, t.Cfg.Model, B, Ts, Tt)
			if err != nil {
				return nil, err
			}
			s := &s2sGraph{m: m, params: m.G.Learnables()}
			if train {
				if _, err := gorgonia.Grad(m.Loss, s.params...); err != nil {
					return nil, errors.Wrap(err, "training: gradient")
				}
			} else if m.Dropout != nil {
				m.Dropout.SetTraining(false)
			}
			gorgonia.Read(m.Loss, &s.lossV)
			return s, nil
		})
		if err != nil {
			return nil, err
		}
		var opts []gorgonia.VMOpt
		if train {
			opts = append(opts, gorgonia.BindDualValues(s.params...))
		}
		if s.vm, err = graph.NewMachine(g, opts...); err != nil {
			return nil, err
		}
		return s, nil
	})
}

// batchOrder returns the epoch's batches (indices into the training set).
func (t *Seq2Seq) batchOrder(epoch int) [][]int {
	lengths := make([]int, len(t.train.SrcLen))
	for i := range lengths {
		lengths[i] = max(t.train.SrcLen[i], t.train.TgtLen[i])
	}
	return data.Buckets(lengths, t.Cfg.Batch, t.Cfg.BucketWidth, graph.NewSource(seed(t.Cfg.Seed, 2, uint64(epoch))))
}

func (t *Seq2Seq) padded(e data.Encoded, idx []int) (data.Encoded, int, int, error) {
	Ts, Tt := 0, 0
	for _, i := range idx {
		Ts, Tt = max(Ts, e.SrcLen[i]), max(Tt, e.TgtLen[i])
	}
	Ts, Tt = t.roundUp(Ts), t.roundUp(Tt)
	b, err := data.PadBatch(e, idx, Ts, Tt)
	return b, Ts, Tt, err
}

// StepStats reports one optimiser step.
type StepStats struct {
	Step, Of int
	Loss     float64
	GradNorm float64
	// Skipped is true when the batch was skipped for a non-finite loss or
	// gradient (SkipNonFinite); Loss and GradNorm are then NaN.
	Skipped bool
}

// CompileStat is one graph built, differentiated and compiled for a batch
// shape: B sequences, source length Ts, target length Tt (training or
// forward-only evaluation).
type CompileStat struct {
	Train     bool
	B, Ts, Tt int
	Seconds   float64
}

// CompileSeconds returns the graphs compiled so far and the seconds spent.
func (t *Seq2Seq) CompileSeconds() (graphs int, seconds float64) {
	for _, c := range t.Compiled {
		seconds += c.Seconds
	}
	return len(t.Compiled), seconds
}

// EpochStats reports one epoch.
type EpochStats struct {
	Epoch          int     `json:"epoch"`
	TrainLoss      float64 `json:"train_loss"`
	TestLoss       float64 `json:"test_loss"`
	TestExactMatch float64 `json:"test_exact_match"`
	TestTokenAcc   float64 `json:"test_token_accuracy"`
	EpochSeconds   float64 `json:"epoch_seconds"`
	Steps          int     `json:"steps"`
	// Graphs compiled during the epoch (new batch shapes) and the seconds
	// that took, included in EpochSeconds.
	GraphsCompiled int     `json:"graphs_compiled"`
	CompileSeconds float64 `json:"compile_seconds"`
}

// TrainEpoch runs the rest of the current epoch (all of it, unless resumed
// mid-epoch), calling onStep after every step, and after every step also
// stop (if not nil): when it returns true the epoch ends early and
// TrainEpoch returns with done = false (StepInEpoch says where). The
// returned loss is the mean training loss of the steps run (skipped
// batches left out).
//
// Parameters that already hold a NaN or an infinity are an error wrapping
// ErrDamaged (and ErrNonFinite) before anything runs. A non-finite loss or
// gradient is an error wrapping ErrNonFinite that names the epoch and step, and leaves the parameters, the optimiser state
// and the position as they were before the batch, unless Cfg.SkipNonFinite
// is set: then the batch is skipped (counted in Skipped) and training goes
// on.
func (t *Seq2Seq) TrainEpoch(ctx context.Context, onStep func(StepStats), stop func() bool) (loss float64, done bool, err error) {
	if err := checkBefore(t.Params); err != nil {
		return 0, false, err
	}
	order := t.batchOrder(t.Epoch)
	if t.StepInEpoch == 0 {
		t.loss = epochLoss{}
	}
	if t.StepInEpoch < 0 || t.StepInEpoch > len(order) {
		return 0, false, errors.Errorf("training: epoch %d resumes at batch %d of %d: not the data of the checkpoint", t.Epoch+1, t.StepInEpoch+1, len(order))
	}
	for t.StepInEpoch < len(order) {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		idx := order[t.StepInEpoch]
		b, Ts, Tt, err := t.padded(t.train, idx)
		if err != nil {
			return 0, false, err
		}
		g, err := t.getGraph(true, len(idx), Ts, Tt)
		if err != nil {
			return 0, false, err
		}
		if g.m.Dropout != nil {
			g.m.Dropout.Reseed(seed(t.Cfg.Seed, 3, uint64(t.Step)))
		}
		if err := g.m.Set(seq2seq.Batch(b)); err != nil {
			return 0, false, err
		}
		l, norm, err := t.update(g)
		skipped := false
		if err != nil {
			if !errors.Is(err, ErrNonFinite) || !t.Cfg.SkipNonFinite || t.damaged != "" {
				return 0, false, errors.Wrapf(err, "training: epoch %d, batch %d of %d (step %d)", t.Epoch+1, t.StepInEpoch+1, len(order), t.Step+1)
			}
			skipped, l, norm = true, math.NaN(), math.NaN()
			t.Skipped++
		}
		t.Step++
		t.StepInEpoch++
		if !skipped {
			t.loss.add(l)
		}
		if onStep != nil {
			onStep(StepStats{Step: t.StepInEpoch, Of: len(order), Loss: l, GradNorm: norm, Skipped: skipped})
		}
		if stop != nil && stop() && t.StepInEpoch < len(order) {
			return t.loss.mean(), false, nil
		}
	}
	t.Epoch++
	t.StepInEpoch = 0
	return t.loss.mean(), true, nil
}

// meanOf returns sum/n, NaN when n is 0.
func meanOf(sum float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// update runs one forward/backward pass and applies the optimiser. A
// non-finite loss or gradient is an error wrapping ErrNonFinite, and then
// nothing is changed (the gradients are zeroed for the next batch).
func (t *Seq2Seq) update(g *s2sGraph) (loss, norm float64, err error) {
	if t.damaged != "" {
		return 0, 0, errors.Wrap(ErrDamaged, t.damaged)
	}
	defer g.vm.Reset()
	if err := graph.Run(g.vm); err != nil {
		return 0, 0, err
	}
	lv, err := graph.ValueFloat64s(g.lossV)
	if err != nil {
		return 0, 0, err
	}
	if t.fault != nil && t.fault(t.Step) {
		lv[0] = math.NaN()
	}
	if math.IsNaN(lv[0]) || math.IsInf(lv[0], 0) {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, errors.Wrapf(ErrNonFinite, "loss %v; the update was not applied", lv[0])
	}
	grads, err := optim.GradsFrom(g.params)
	if err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, err
	}
	norm = math.NaN()
	if t.Cfg.Clip > 0 {
		if norm, err = optim.ClipGlobalNorm(grads, t.Cfg.Clip); err != nil {
			_ = optim.ZeroGrads(g.params)
			return 0, 0, nonFinite(err)
		}
	}
	if err := t.Opt.Step(t.Params, grads); err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, nonFinite(err)
	}
	if err := checkUpdated(t.Params, t.Opt.LR(), &t.damaged); err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, 0, err
	}
	return lv[0], norm, optim.ZeroGrads(g.params)
}

// Evaluate returns the mean test loss over the given encoded pairs (on
// forward-only machines) and the exact match and token accuracy of greedy
// decoding.
func (t *Seq2Seq) Evaluate(e data.Encoded) (loss, exact, tokenAcc float64, preds [][]int, err error) {
	t.decoding.Lock()
	defer t.decoding.Unlock()
	n := len(e.Src)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN(), nil, nil
	}
	B := t.Cfg.EvalBatch
	if B <= 0 {
		B = t.Cfg.Batch
	}
	total, weight := 0.0, 0
	gen, err := t.generator()
	if err != nil {
		return 0, 0, 0, nil, err
	}
	maxLen := 0
	for _, l := range e.TgtLen {
		maxLen = max(maxLen, l)
	}
	var refs [][]int
	for start := 0; start < n; start += B {
		idx := make([]int, 0, B)
		for i := start; i < min(n, start+B); i++ {
			idx = append(idx, i)
		}
		b, Ts, Tt, err := t.padded(e, idx)
		if err != nil {
			return 0, 0, 0, nil, err
		}
		g, err := t.getGraph(false, len(idx), Ts, Tt)
		if err != nil {
			return 0, 0, 0, nil, err
		}
		if err := g.m.Set(seq2seq.Batch(b)); err != nil {
			return 0, 0, 0, nil, err
		}
		if err := graph.Run(g.vm); err != nil {
			return 0, 0, 0, nil, err
		}
		g.vm.Reset()
		lv, err := graph.ValueFloat64s(g.lossV)
		if err != nil {
			return 0, 0, 0, nil, err
		}
		w := 0
		for _, l := range b.TgtLen {
			w += l
		}
		total += lv[0] * float64(w)
		weight += w
		srcs := make([][]int, len(idx))
		for k, i := range idx {
			srcs[k] = e.Src[i][:e.SrcLen[i]]
			refs = append(refs, e.TgtOut[i][:e.TgtLen[i]-1]) // without EOS
		}
		s0, err := gen.Encode(srcs)
		if err != nil {
			return 0, 0, 0, nil, err
		}
		out, err := decode.Greedy(gen, s0, decode.Options{BOS: data.BOS, EOS: data.EOS, MaxLen: maxLen})
		if err != nil {
			return 0, 0, 0, nil, err
		}
		preds = append(preds, out...)
	}
	if exact, err = metrics.ExactMatch(preds, refs); err != nil {
		return 0, 0, 0, nil, err
	}
	if tokenAcc, err = metrics.TokenAccuracy(preds, refs); err != nil {
		return 0, 0, 0, nil, err
	}
	return total / float64(weight), exact, tokenAcc, preds, nil
}

// TestSet returns the encoded test pairs.
func (t *Seq2Seq) TestSet() data.Encoded { return t.test }

// TestPairs returns the test pairs.
func (t *Seq2Seq) TestPairs() []data.Pair { return t.testPairs }

// RunEpoch trains one whole epoch (or its rest) and evaluates on the test
// set.
func (t *Seq2Seq) RunEpoch(ctx context.Context, onStep func(StepStats)) (EpochStats, error) {
	start := time.Now()
	steps := t.Step
	g0, c0 := t.CompileSeconds()
	loss, _, err := t.TrainEpoch(ctx, onStep, nil)
	if err != nil {
		return EpochStats{}, err
	}
	st := EpochStats{Epoch: t.Epoch, TrainLoss: loss, Steps: t.Step - steps}
	if len(t.test.Src) > 0 {
		if st.TestLoss, st.TestExactMatch, st.TestTokenAcc, _, err = t.Evaluate(t.test); err != nil {
			return st, err
		}
	}
	g1, c1 := t.CompileSeconds()
	st.EpochSeconds, st.GraphsCompiled, st.CompileSeconds = time.Since(start).Seconds(), g1-g0, c1-c0
	return st, nil
}

// Checkpoint returns the run's state for checkpoint.Save.
//
// When a parameter is NaN or infinite (after an update overflowed, say) it
// returns an error wrapping ErrDamaged instead, so a damaged run never
// overwrites a good checkpoint.
func (t *Seq2Seq) Checkpoint(extra map[string]string) (*checkpoint.Checkpoint, error) {
	if err := t.checkSavable(); err != nil {
		return nil, err
	}
	model, err := json.Marshal(t.Cfg)
	if err != nil {
		return nil, err
	}
	vocab, err := json.Marshal(t.Vocab)
	if err != nil {
		return nil, err
	}
	x := map[string]string{"step_in_epoch": fmt.Sprint(t.StepInEpoch), "kind": "seq2seq"}
	if t.Skipped > 0 {
		x["skipped"] = fmt.Sprint(t.Skipped)
	}
	t.loss.save(x)
	for k, v := range extra {
		x[k] = v
	}
	return &checkpoint.Checkpoint{
		Meta:   checkpoint.Meta{Model: model, Vocab: vocab, Step: t.Step, Epoch: t.Epoch, Seed: t.Cfg.Seed, Extra: x},
		Params: t.Params,
		State:  t.Opt.State(),
	}, nil
}

// Restore loads a checkpoint written by Checkpoint into t: parameters (by
// name, same shapes), optimiser state and position. The run's config must
// equal the checkpoint's.
func (t *Seq2Seq) Restore(c *checkpoint.Checkpoint) error {
	var cfg Seq2SeqConfig
	if err := json.Unmarshal(c.Meta.Model, &cfg); err != nil {
		return errors.Wrap(err, "training: checkpoint config")
	}
	// The number of epochs may grow on resume, and the non-finite policy
	// may change; everything else must match.
	cfg.Epochs, cfg.SkipNonFinite = t.Cfg.Epochs, t.Cfg.SkipNonFinite
	if cfg != t.Cfg {
		return errors.Errorf("training: the checkpoint was written by another config:\n  checkpoint %+v\n  this run   %+v", cfg, t.Cfg)
	}
	srcs, err := checkedParams(c, t.Params)
	if err != nil {
		return err
	}
	pos, err := readPosition(c)
	if err != nil {
		return err
	}
	// Everything is checked; LoadState checks its map and changes nothing
	// on an error, and then nothing else can fail.
	if err := t.Opt.LoadState(c.State); err != nil {
		return errors.Wrap(err, "training: checkpoint optimiser state")
	}
	copyParams(t.Params, srcs)
	t.Step, t.Epoch, t.StepInEpoch, t.Skipped, t.loss = c.Meta.Step, c.Meta.Epoch, pos.stepInEpoch, pos.skipped, pos.loss
	return nil
}

func (t *Seq2Seq) checkSavable() error {
	return savable(t.Params, t.damaged)
}

// checkedParams returns the checkpoint's tensor of each parameter of ps, in
// ps's order, after checking that the checkpoint holds exactly ps's names,
// shapes and dtype, all finite.
func checkedParams(c *checkpoint.Checkpoint, ps *graph.Params) ([]*tensor.Dense, error) {
	if c == nil || c.Params == nil {
		return nil, errors.New("training: empty checkpoint")
	}
	if c.Params.Dtype() != ps.Dtype() {
		return nil, errors.Errorf("training: checkpoint params are %v, the run's %v", c.Params.Dtype(), ps.Dtype())
	}
	names := ps.Names()
	if len(names) != c.Params.Len() {
		return nil, errors.Errorf("training: checkpoint has %d parameters, the model %d", c.Params.Len(), len(names))
	}
	srcs := make([]*tensor.Dense, len(names))
	for i, n := range names {
		dst, _ := ps.Get(n)
		src, err := c.Params.Lookup(n, dst.Shape()...)
		if err != nil {
			return nil, errors.Wrap(err, "training: checkpoint")
		}
		srcs[i] = src
	}
	if err := checkRestored(c); err != nil {
		return nil, err
	}
	return srcs, nil
}

// copyParams copies srcs (checked by checkedParams) into ps.
func copyParams(ps *graph.Params, srcs []*tensor.Dense) {
	for i, n := range ps.Names() {
		dst, _ := ps.Get(n)
		_ = graph.SetFloat64s(dst, mustFloat64s(srcs[i]))
	}
}

// position is where a checkpoint stands within its epoch.
type position struct {
	stepInEpoch int       // batches of the epoch done
	skipped     int       // batches skipped for non-finite values (0 when absent)
	loss        epochLoss // the epoch's running training loss (zero when absent)
}

// readPosition returns the checkpoint's position within its epoch.
func readPosition(c *checkpoint.Checkpoint) (position, error) {
	var p position
	var err error
	s := c.Meta.Extra["step_in_epoch"]
	if p.stepInEpoch, err = strconv.Atoi(s); err != nil || p.stepInEpoch < 0 {
		return p, errors.Errorf("training: checkpoint step_in_epoch %.20q is not a count", s)
	}
	if p.skipped, err = readSkipped(c); err != nil {
		return p, err
	}
	p.loss, err = readEpochLoss(c)
	return p, err
}

// readSkipped returns the checkpoint's count of skipped batches (0 when
// absent).
func readSkipped(c *checkpoint.Checkpoint) (int, error) {
	s, ok := c.Meta.Extra["skipped"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.Errorf("training: checkpoint skipped count %.20q is not a count", s)
	}
	return n, nil
}

func mustFloat64s(t *tensor.Dense) []float64 {
	v, _ := graph.Float64s(t)
	return v
}

// encodeQuestion returns the model's source ids for a question.
func (t *Seq2Seq) encodeQuestion(q string) ([]int, error) {
	return encodeQuestion(t.Vocab, t.Cfg.ReverseSource, q)
}

func encodeQuestion(v *data.Vocab, reverse bool, q string) ([]int, error) {
	e, err := data.EncodePairs([]data.Pair{{Question: q, Answer: "x"}}, v, reverse)
	if err != nil {
		return nil, errors.Wrap(err, "training: question")
	}
	return e.Src[0][:e.SrcLen[0]], nil
}

// Translate answers one question by greedy decoding. Like TranslateWith it
// is safe for concurrent use, but the calls take turns on the run's one
// generator; for decoding in parallel give each goroutine a Translator
// (NewTranslator).
func (t *Seq2Seq) Translate(q string) (string, error) {
	out, err := t.TranslateWith(q, decode.Options{}, nil, 0)
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// TranslateWith answers a question by greedy decoding (so == nil and
// beam == 0), by sampling (so != nil) or by beam search (beam > 0, the
// best hypothesis). opt.MaxLen 0 means 4 × the question's length + 8; BOS
// and EOS are the vocabulary's.
//
// Calls of TranslateWith, Translate, Attention and Evaluate may come from
// several goroutines at once: they take turns (a mutex guards the run's
// generator). None may run at the same time as TrainEpoch, RunEpoch or
// Restore, which change the parameters.
func (t *Seq2Seq) TranslateWith(q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	t.decoding.Lock()
	defer t.decoding.Unlock()
	gen, err := t.generator()
	if err != nil {
		return nil, err
	}
	return translate(gen, t.Vocab, t.Cfg.ReverseSource, q, opt, so, beam)
}

// translate is TranslateWith on a given generator.
func translate(gen *seq2seq.Generator, v *data.Vocab, reverse bool, q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	src, err := encodeQuestion(v, reverse, q)
	if err != nil {
		return nil, err
	}
	s0, err := gen.Encode([][]int{src})
	if err != nil {
		return nil, err
	}
	opt.BOS, opt.EOS = data.BOS, data.EOS
	if opt.MaxLen == 0 {
		opt.MaxLen = 4*len(src) + 8
	}
	var ids []int
	switch {
	case beam > 0:
		hs, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: beam})
		if err != nil {
			return nil, err
		}
		ids = hs[0][0].Tokens
	case so != nil:
		out, err := decode.Sample(gen, s0, opt, *so)
		if err != nil {
			return nil, err
		}
		ids = out[0]
	default:
		out, err := decode.Greedy(gen, s0, opt)
		if err != nil {
			return nil, err
		}
		ids = out[0]
	}
	return []string{v.Decode(ids, "")}, nil
}

// Attention decodes a pair's question greedily and returns the attention
// weights of each output token over the source tokens, with the source and
// output tokens as labels (nil weights unless the decoder attends).
func (t *Seq2Seq) Attention(p data.Pair) (weights [][]float64, src, out []string, err error) {
	t.decoding.Lock()
	defer t.decoding.Unlock()
	if t.Cfg.Model.Decoder != seq2seq.Attention {
		return nil, nil, nil, nil
	}
	ids, err := t.encodeQuestion(p.Question)
	if err != nil {
		return nil, nil, nil, err
	}
	gen, err := t.generator()
	if err != nil {
		return nil, nil, nil, err
	}
	s0, err := gen.Encode([][]int{ids})
	if err != nil {
		return nil, nil, nil, err
	}
	var st decode.State = s0
	tok := data.BOS
	for step := 0; step < 4*len(ids)+8; step++ {
		logits, next, err := gen.Step(st, []int{tok})
		if err != nil {
			return nil, nil, nil, err
		}
		best := 0
		for k, v := range logits[0] {
			if v > logits[0][best] {
				best = k
			}
		}
		if best == data.EOS {
			break
		}
		s, _ := t.Vocab.Token(best)
		out = append(out, s)
		weights = append(weights, append([]float64(nil), next.(*seq2seq.State).Attention[0]...))
		st, tok = next, best
	}
	for _, id := range ids {
		s, _ := t.Vocab.Token(id)
		src = append(src, s)
	}
	return weights, src, out, nil
}

// FromCheckpoint rebuilds a trained model for evaluation and translation
// from a checkpoint written by Seq2Seq.Checkpoint; it has no training data
// (use Evaluate on data encoded with its Vocab).
func FromCheckpoint(c *checkpoint.Checkpoint) (*Seq2Seq, error) {
	if c == nil || c.Params == nil {
		return nil, errors.New("training: empty checkpoint")
	}
	if kind := c.Meta.Extra["kind"]; kind != "seq2seq" {
		return nil, errors.Errorf("training: checkpoint of kind %q, want seq2seq", kind)
	}
	var cfg Seq2SeqConfig
	if err := json.Unmarshal(c.Meta.Model, &cfg); err != nil {
		return nil, errors.Wrap(err, "training: checkpoint config")
	}
	v := &data.Vocab{}
	if err := json.Unmarshal(c.Meta.Vocab, v); err != nil {
		return nil, errors.Wrap(err, "training: checkpoint vocabulary")
	}
	if v.Len() != cfg.Model.Vocab {
		return nil, errors.Errorf("training: checkpoint vocabulary of %d tokens for a model of %d", v.Len(), cfg.Model.Vocab)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The checkpoint's parameters must be exactly the model's.
	dt, _ := cfg.dtype()
	want, err := graph.NewParams(dt)
	if err != nil {
		return nil, err
	}
	if err := cfg.Model.Init(want, graph.NewSource(0)); err != nil {
		return nil, err
	}
	if want.Len() != c.Params.Len() || c.Params.Dtype() != dt {
		return nil, errors.Errorf("training: checkpoint holds %d %v parameters, the model %d %v", c.Params.Len(), c.Params.Dtype(), want.Len(), dt)
	}
	for _, n := range want.Names() {
		w, _ := want.Get(n)
		if _, err := c.Params.Lookup(n, w.Shape()...); err != nil {
			return nil, errors.Wrap(err, "training: checkpoint")
		}
	}
	if err := checkRestored(c); err != nil {
		return nil, err
	}
	t := &Seq2Seq{Cfg: cfg, Params: c.Params, Vocab: v, Epoch: c.Meta.Epoch, Step: c.Meta.Step}
	if t.Opt, err = newOptimizer(cfg.Optimizer, cfg.LR); err != nil {
		return nil, err
	}
	if t.graphs, err = graph.NewCache[[3]int, *s2sGraph](8); err != nil {
		return nil, err
	}
	if t.evals, err = graph.NewCache[[3]int, *s2sGraph](8); err != nil {
		return nil, err
	}
	return t, nil
}

// Encode encodes pairs with the run's vocabulary and source direction.
func (t *Seq2Seq) Encode(pairs []data.Pair) (data.Encoded, error) {
	return data.EncodePairs(pairs, t.Vocab, t.Cfg.ReverseSource)
}
