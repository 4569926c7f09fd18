package training

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

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

	train, test []data.Chunk
	g           *lmGraph
	carry       [][]float64 // the state values carried between windows
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
	m, err := lm.NewTrainGraph(t.Params, t.Cfg.Model, t.Cfg.Batch, t.Cfg.Steps)
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
	if g.vm, err = graph.NewMachine(m.G, gorgonia.BindDualValues(g.params...)); err != nil {
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

// TrainEpoch trains the rest of the current epoch, as Seq2Seq.TrainEpoch.
func (t *LM) TrainEpoch(ctx context.Context, onStep func(StepStats), stop func() bool) (loss float64, done bool, err error) {
	g, err := t.graph()
	if err != nil {
		return 0, false, err
	}
	if g.m.Dropout != nil {
		g.m.Dropout.SetTraining(true)
	}
	if t.StepInEpoch == 0 {
		t.carry = nil
	}
	sum, n := 0.0, 0
	for t.StepInEpoch < len(t.train) {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		if g.m.Dropout != nil {
			g.m.Dropout.Reseed(seed(t.Cfg.Seed, 3, uint64(t.Step)))
		}
		l, err := t.run(g, t.train[t.StepInEpoch])
		if err != nil {
			g.vm.Reset()
			return 0, false, err
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			g.vm.Reset()
			_ = optim.ZeroGrads(g.params)
			return 0, false, errors.Wrapf(ErrNonFinite, "step %d: loss %v", t.Step+1, l)
		}
		grads, err := optim.GradsFrom(g.params)
		if err == nil && t.Cfg.Clip > 0 {
			_, err = optim.ClipGlobalNorm(grads, t.Cfg.Clip)
		}
		if err == nil {
			err = t.Opt.Step(t.Params, grads)
		}
		if zerr := optim.ZeroGrads(g.params); err == nil {
			err = zerr
		}
		g.vm.Reset()
		if err != nil {
			return 0, false, errors.Wrapf(err, "step %d", t.Step+1)
		}
		t.Step++
		t.StepInEpoch++
		sum += l
		n++
		if onStep != nil {
			onStep(StepStats{Step: t.StepInEpoch, Of: len(t.train), Loss: l})
		}
		if stop != nil && stop() && t.StepInEpoch < len(t.train) {
			return sum / float64(n), false, nil
		}
	}
	t.Epoch++
	t.StepInEpoch = 0
	t.carry = nil
	return sum / float64(n), true, nil
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
func (t *LM) Checkpoint() (*checkpoint.Checkpoint, error) {
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
	return &checkpoint.Checkpoint{
		Meta: checkpoint.Meta{Model: model, Vocab: vocab, Step: t.Step, Epoch: t.Epoch, Seed: t.Cfg.Seed,
			Extra: map[string]string{"kind": "lm", "step_in_epoch": fmt.Sprint(t.StepInEpoch)}},
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
	cfg.Epochs = t.Cfg.Epochs
	if cfg != t.Cfg {
		return errors.Errorf("training: the checkpoint was written by another config")
	}
	for _, n := range t.Params.Names() {
		dst, _ := t.Params.Get(n)
		src, err := c.Params.Lookup(n, dst.Shape()...)
		if err != nil {
			return errors.Wrap(err, "training: checkpoint")
		}
		if err := graph.SetFloat64s(dst, mustFloat64s(src)); err != nil {
			return err
		}
	}
	opt := map[string]*tensor.Dense{}
	t.carry = nil
	for k, v := range c.State {
		var i int
		if _, err := fmt.Sscanf(k, "carry.%d", &i); err == nil {
			for len(t.carry) <= i {
				t.carry = append(t.carry, nil)
			}
			t.carry[i] = mustFloat64s(v)
			continue
		}
		opt[k] = v
	}
	if err := t.Opt.LoadState(opt); err != nil {
		return err
	}
	var sie int
	if _, err := fmt.Sscan(c.Meta.Extra["step_in_epoch"], &sie); err != nil {
		return errors.Wrap(err, "training: checkpoint step_in_epoch")
	}
	t.Step, t.Epoch, t.StepInEpoch = c.Meta.Step, c.Meta.Epoch, sie
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
