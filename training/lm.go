package training

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/optim"
)

// LMConfig is everything that defines a language-model run.
type LMConfig struct {
	Model     lm.Config `json:"model"`
	Batch     int       `json:"batch"` // parallel streams
	Steps     int       `json:"steps"` // truncated-BPTT window
	Epochs    int       `json:"epochs"`
	Optimizer string    `json:"optimizer"`
	LR        float64   `json:"lr"`
	Clip      float64   `json:"clip"`
	Seed      uint64    `json:"seed"`
	Dtype     string    `json:"dtype"`
	// SkipNonFinite skips a window whose loss or gradient is NaN or
	// infinite instead of stopping, as Seq2SeqConfig.SkipNonFinite; the
	// next window then starts from a zero state.
	SkipNonFinite bool `json:"skip_nonfinite,omitempty"`
}

// Validate checks the config.
func (c LMConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	s := Seq2SeqConfig{Batch: c.Batch, Epochs: c.Epochs, BucketWidth: 1, LR: c.LR, Clip: c.Clip, Optimizer: c.Optimizer, Dtype: c.Dtype}
	if c.Steps < 1 {
		return errors.Errorf("training: BPTT window %d must be positive", c.Steps)
	}
	if _, err := s.dtype(); err != nil {
		return err
	}
	if c.Batch < 1 || c.Epochs < 0 || !(c.LR > 0) || c.Clip < 0 {
		return errors.Errorf("training: batch %d, epochs %d, lr %v, clip %v out of range", c.Batch, c.Epochs, c.LR, c.Clip)
	}
	_, err := newOptimizer(c.Optimizer, c.LR)
	return err
}

// LM trains a character (or word) language model by truncated
// backpropagation through time: the corpus is cut into Batch parallel
// streams walked in windows of Steps tokens; each window starts from the
// state the previous window ended in, as a value (no gradient flows into
// the past). Each epoch walks the streams from the start with a zero state.
type LM struct {
	Cfg    LMConfig
	Params *graph.Params
	Vocab  *data.Vocab
	Opt    optim.Optimizer
	// Epoch: completed epochs; Step: optimiser steps; StepInEpoch: windows
	// done in the current epoch.
	Epoch, Step, StepInEpoch int
	// Skipped counts the windows skipped for a non-finite loss or gradient
	// (Cfg.SkipNonFinite).
	Skipped int
	loss    epochLoss // the current epoch's running training loss

	train, test []data.Chunk
	g           *lmGraph
	carry       [][]float64         // the state values carried between windows
	damaged     string              // set when an update made a parameter non-finite
	fault       func(step int) bool // tests: a true result makes the loss of that step NaN
}

type lmGraph struct {
	m      *lm.TrainGraph
	vm     gorgonia.VM
	params gorgonia.Nodes
	lossV  gorgonia.Value
	finalV []gorgonia.Value
}

// NewLM prepares a run over the token ids of a training and a test corpus.
func NewLM(cfg LMConfig, vocab *data.Vocab, train, test []int) (*LM, error) {
	if vocab == nil {
		return nil, errors.New("training: nil vocabulary")
	}
	cfg.Model.Vocab = vocab.Len()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &LM{Cfg: cfg, Vocab: vocab}
	var err error
	if t.train, err = fullChunks(train, cfg.Batch, cfg.Steps); err != nil {
		return nil, errors.Wrap(err, "training: training corpus")
	}
	if len(test) > 0 {
		if t.test, err = fullChunks(test, cfg.Batch, cfg.Steps); err != nil {
			return nil, errors.Wrap(err, "training: test corpus")
		}
	}
	dt, _ := Seq2SeqConfig{Dtype: cfg.Dtype}.dtype()
	if t.Params, err = graph.NewParams(dt); err != nil {
		return nil, err
	}
	if err := cfg.Model.Init(t.Params, graph.NewSource(seed(cfg.Seed, 1, 0))); err != nil {
		return nil, err
	}
	if t.Opt, err = newOptimizer(cfg.Optimizer, cfg.LR); err != nil {
		return nil, err
	}
	return t, nil
}

// fullChunks keeps the windows of full length, so one graph serves them all.
func fullChunks(ids []int, batch, steps int) ([]data.Chunk, error) {
	cs, err := data.Chunks(ids, batch, steps)
	if err != nil {
		return nil, err
	}
	var out []data.Chunk
	for _, c := range cs {
		if c.Lengths[0] == steps {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.Errorf("training: %d tokens make no full window of %d×%d", len(ids), batch, steps)
	}
	return out, nil
}

func (t *LM) graph() (*lmGraph, error) {
	if t.g != nil {
		return t.g, nil
	}
	eg, g, err := graph.Build(t.Params, func(eg *graph.Graph) (*lmGraph, error) {
		m, err := lm.BuildTrainGraph(eg, t.Cfg.Model, t.Cfg.Batch, t.Cfg.Steps)
		if err != nil {
			return nil, err
		}
		g := &lmGraph{m: m, params: m.G.Learnables()}
		if _, err := gorgonia.Grad(m.Loss, g.params...); err != nil {
			return nil, err
		}
		gorgonia.Read(m.Loss, &g.lossV)
		g.finalV = make([]gorgonia.Value, len(m.Final))
		for i, n := range m.Final {
			gorgonia.Read(n, &g.finalV[i])
		}
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	if g.vm, err = graph.NewMachine(eg, gorgonia.BindDualValues(g.params...)); err != nil {
		return nil, err
	}
	t.g = g
	return g, nil
}

// Close releases the compiled machine.
func (t *LM) Close() error {
	if t.g == nil {
		return nil
	}
	return t.g.vm.Close()
}

// run sets a window and the carried state, runs the machine and returns
// the loss; the final state is carried on.
func (t *LM) run(g *lmGraph, c data.Chunk) (float64, error) {
	if err := g.m.Set(c.Seqs, c.Lengths); err != nil {
		return 0, err
	}
	H := t.Cfg.Model.Hidden
	for i, n := range g.m.Init {
		v := make([]float64, t.Cfg.Batch*H)
		if t.carry != nil {
			copy(v, t.carry[i])
		}
		if err := graph.Set(n, v); err != nil {
			return 0, err
		}
	}
	if err := graph.Run(g.vm); err != nil {
		return 0, err
	}
	lv, err := graph.ValueFloat64s(g.lossV)
	if err != nil {
		return 0, err
	}
	t.carry = make([][]float64, len(g.finalV))
	for i, v := range g.finalV {
		if t.carry[i], err = graph.ValueFloat64s(v); err != nil {
			return 0, err
		}
	}
	return lv[0], nil
}

// TrainEpoch trains the rest of the current epoch, as Seq2Seq.TrainEpoch,
// non-finite losses and gradients included: the error wraps ErrNonFinite
// and nothing changes, the carried state included, unless
// Cfg.SkipNonFinite is set.
func (t *LM) TrainEpoch(ctx context.Context, onStep func(StepStats), stop func() bool) (loss float64, done bool, err error) {
	if t.damaged != "" {
		return 0, false, errors.Wrap(ErrDamaged, t.damaged)
	}
	if err := checkBefore(t.Params); err != nil {
		return 0, false, err
	}
	g, err := t.graph()
	if err != nil {
		return 0, false, err
	}
	if g.m.Dropout != nil {
		g.m.Dropout.SetTraining(true)
	}
	if t.StepInEpoch == 0 {
		t.carry = nil
		t.loss = epochLoss{}
	}
	for t.StepInEpoch < len(t.train) {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		if g.m.Dropout != nil {
			g.m.Dropout.Reseed(seed(t.Cfg.Seed, 3, uint64(t.Step)))
		}
		before := t.carry
		l, err := t.update(g, t.train[t.StepInEpoch])
		skipped := false
		if err != nil {
			if !errors.Is(err, ErrNonFinite) || !t.Cfg.SkipNonFinite || t.damaged != "" {
				if t.damaged == "" {
					t.carry = before
				}
				return 0, false, errors.Wrapf(err, "training: epoch %d, window %d of %d (step %d)", t.Epoch+1, t.StepInEpoch+1, len(t.train), t.Step+1)
			}
			skipped, l = true, math.NaN()
			t.carry = nil
			t.Skipped++
		}
		t.Step++
		t.StepInEpoch++
		if !skipped {
			t.loss.add(l)
		}
		if onStep != nil {
			onStep(StepStats{Step: t.StepInEpoch, Of: len(t.train), Loss: l, GradNorm: math.NaN(), Skipped: skipped})
		}
		if stop != nil && stop() && t.StepInEpoch < len(t.train) {
			return t.loss.mean(), false, nil
		}
	}
	t.Epoch++
	t.StepInEpoch = 0
	t.carry = nil
	return t.loss.mean(), true, nil
}

// update runs one window forward and backward and applies the optimiser;
// a non-finite loss or gradient is an error wrapping ErrNonFinite, and
// then neither the parameters nor the optimiser state change.
func (t *LM) update(g *lmGraph, c data.Chunk) (float64, error) {
	defer g.vm.Reset()
	l, err := t.run(g, c)
	if err != nil {
		_ = optim.ZeroGrads(g.params)
		return 0, err
	}
	if t.fault != nil && t.fault(t.Step) {
		l = math.NaN()
	}
	if math.IsNaN(l) || math.IsInf(l, 0) {
		_ = optim.ZeroGrads(g.params)
		return 0, errors.Wrapf(ErrNonFinite, "loss %v; the update was not applied", l)
	}
	grads, err := optim.GradsFrom(g.params)
	if err == nil && t.Cfg.Clip > 0 {
		_, err = optim.ClipGlobalNorm(grads, t.Cfg.Clip)
	}
	if err == nil {
		err = t.Opt.Step(t.Params, grads)
	}
	if err == nil {
		err = checkUpdated(t.Params, t.Opt.LR(), &t.damaged)
	}
	if zerr := optim.ZeroGrads(g.params); err == nil {
		err = zerr
	}
	return l, nonFinite(err)
}

// Evaluate returns the mean cross-entropy (nats per token) over the test
// windows, walked with the state carried as in training, without updating
// anything (the gradients it computes are zeroed).
func (t *LM) Evaluate() (float64, error) {
	if len(t.test) == 0 {
		return math.NaN(), nil
	}
	g, err := t.graph()
	if err != nil {
		return 0, err
	}
	if g.m.Dropout != nil {
		g.m.Dropout.SetTraining(false)
		defer g.m.Dropout.SetTraining(true)
	}
	saved := t.carry
	t.carry = nil
	defer func() { t.carry = saved }()
	sum := 0.0
	for _, c := range t.test {
		l, err := t.run(g, c)
		g.vm.Reset()
		if err != nil {
			return 0, err
		}
		sum += l
	}
	return sum / float64(len(t.test)), optim.ZeroGrads(g.params)
}

// Checkpoint returns the run's state for checkpoint.Save. The carried
// state is stored so a run resumed mid-epoch continues exactly.
//
// When a parameter is NaN or infinite it returns an error wrapping
// ErrDamaged instead.
func (t *LM) Checkpoint() (*checkpoint.Checkpoint, error) {
	if err := savable(t.Params, t.damaged); err != nil {
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
	state := t.Opt.State()
	for i, v := range t.carry {
		s, err := graph.FromFloat64s(t.Params.Dtype(), v, len(v))
		if err != nil {
			return nil, err
		}
		state[fmt.Sprintf("carry.%d", i)] = s
	}
	extra := map[string]string{"kind": "lm", "step_in_epoch": fmt.Sprint(t.StepInEpoch)}
	if t.Skipped > 0 {
		extra["skipped"] = fmt.Sprint(t.Skipped)
	}
	t.loss.save(extra)
	return &checkpoint.Checkpoint{
		Meta: checkpoint.Meta{Model: model, Vocab: vocab, Step: t.Step, Epoch: t.Epoch, Seed: t.Cfg.Seed,
			Extra: extra},
		Params: t.Params,
		State:  state,
	}, nil
}

// Restore loads a checkpoint written by Checkpoint.
func (t *LM) Restore(c *checkpoint.Checkpoint) error {
	var cfg LMConfig
	if err := json.Unmarshal(c.Meta.Model, &cfg); err != nil {
		return errors.Wrap(err, "training: checkpoint config")
	}
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
	if pos.stepInEpoch > len(t.train) {
		return errors.Errorf("training: checkpoint at window %d of an epoch of %d: not this corpus", pos.stepInEpoch, len(t.train))
	}
	opt := map[string]*tensor.Dense{}
	carry := map[int][]float64{}
	// One carried tensor per state tensor of each layer, [Batch×Hidden].
	maxCarry, width := 2*max(t.Cfg.Model.Layers, 1), t.Cfg.Batch*t.Cfg.Model.Hidden
	for k, v := range c.State {
		if !strings.HasPrefix(k, "carry.") {
			opt[k] = v
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(k, "carry."))
		if err != nil || i < 0 || i >= maxCarry || v == nil {
			return errors.Errorf("training: checkpoint state %.40q is not a carried state tensor", k)
		}
		f := mustFloat64s(v)
		if len(f) != width {
			return errors.Errorf("training: checkpoint state %s holds %d values, want batch × hidden = %d", k, len(f), width)
		}
		for j, x := range f {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return errors.Errorf("training: checkpoint state %s element %d is %v", k, j, x)
			}
		}
		carry[i] = f
	}
	var carried [][]float64
	for i := range len(carry) {
		f, ok := carry[i]
		if !ok {
			return errors.Errorf("training: checkpoint carries state tensors %d but not %d", len(carry), i)
		}
		carried = append(carried, f)
	}
	if err := t.Opt.LoadState(opt); err != nil {
		return errors.Wrap(err, "training: checkpoint optimiser state")
	}
	copyParams(t.Params, srcs)
	t.carry = carried
	t.Step, t.Epoch, t.StepInEpoch, t.Skipped, t.loss = c.Meta.Step, c.Meta.Epoch, pos.stepInEpoch, pos.skipped, pos.loss
	return nil
}

// Sample generates n tokens after the prime text (at least one character),
// sampling with so (greedy when so is nil).
func (t *LM) Sample(prime string, n int, so *decode.SampleOptions) (string, error) {
	return SampleLM(t.Params, t.Cfg.Model, t.Vocab, prime, n, so)
}

// SampleLM generates n tokens from a language model after prime.
func SampleLM(ps *graph.Params, c lm.Config, v *data.Vocab, prime string, n int, so *decode.SampleOptions) (string, error) {
	ids := v.EncodeChars(prime)
	if len(ids) == 0 {
		return "", errors.New("training: empty prime text")
	}
	if n < 1 {
		return "", errors.Errorf("training: %d tokens to sample", n)
	}
	gen, err := lm.NewGenerator(ps, c)
	if err != nil {
		return "", err
	}
	defer gen.Close()
	st, last, err := gen.Prime([][]int{ids})
	if err != nil {
		return "", err
	}
	opt := decode.Options{BOS: last[0], EOS: data.EOS, MaxLen: n}
	var out [][]int
	if so != nil {
		out, err = decode.Sample(gen, st, opt, *so)
	} else {
		out, err = decode.Greedy(gen, st, opt)
	}
	if err != nil {
		return "", err
	}
	return v.Decode(out[0], ""), nil
}
