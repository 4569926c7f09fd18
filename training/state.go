package training

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

// Keys of a checkpoint's Meta.Extra that the Trainer writes.
const (
	// KindKey holds the model family (Description.Kind).
	KindKey = "kind"
	// PresetKey holds the name of the preset a run was started from, when
	// the caller gives one (Trainer.Checkpoint's extra).
	PresetKey = "preset"
	// carryPrefix prefixes the carried state's entries in a checkpoint's
	// State.
	carryPrefix = "carry."
)

// runConfig is a checkpoint's Meta.Model: the Trainer's config and the
// model's, side by side.
type runConfig struct {
	Train Config          `json:"train"`
	Model json.RawMessage `json:"model"`
}

// Checkpoint returns the run's state for checkpoint.Save: parameters,
// optimiser state, the carried state of a [Carrier], the position within
// the epoch, the schedule's state, the Hook's state (see [StepHook]), and
// in Meta.Model the Trainer's and the model's config (with the model's
// kind in Extra[KindKey]); extra adds metadata of the caller's (such as
// Extra[PresetKey]).
//
// When a parameter is NaN or infinite (after an update overflowed, say) it
// returns an error wrapping ErrDamaged instead, so a damaged run never
// overwrites a good checkpoint.
func (t *Trainer) Checkpoint(extra map[string]string) (*checkpoint.Checkpoint, error) {
	if err := savable(t.Params, t.damaged); err != nil {
		return nil, err
	}
	d := t.Model.Describe()
	mc, err := json.Marshal(d.Config)
	if err != nil {
		return nil, errors.Wrap(err, "training: model config")
	}
	model, err := json.Marshal(runConfig{Train: t.Cfg, Model: mc})
	if err != nil {
		return nil, err
	}
	var vocab []byte
	if d.Vocab != nil {
		if vocab, err = json.Marshal(d.Vocab); err != nil {
			return nil, err
		}
	}
	state := t.Opt.State()
	if c, ok := t.Model.(Carrier); ok {
		carry, err := t.carried(c)
		if err != nil {
			return nil, err
		}
		for i, v := range carry {
			s, err := graph.FromFloat64s(t.Params.Dtype(), v, len(v))
			if err != nil {
				return nil, err
			}
			state[fmt.Sprintf("%s%d", carryPrefix, i)] = s
		}
	}
	x := map[string]string{"step_in_epoch": fmt.Sprint(t.StepInEpoch), KindKey: d.Kind}
	if t.Skipped > 0 {
		x["skipped"] = fmt.Sprint(t.Skipped)
	}
	if s := t.Schedule.extra(); s != "" {
		x["schedule"] = s
	}
	t.loss.save(x)
	if err := t.saveHook(state, x); err != nil {
		return nil, err
	}
	for k, v := range extra {
		x[k] = v
	}
	return &checkpoint.Checkpoint{
		Meta:   checkpoint.Meta{Model: model, Vocab: vocab, Step: t.Step, Epoch: t.Epoch, Seed: t.Cfg.Seed, Extra: x},
		Params: t.Params,
		State:  state,
	}, nil
}

// readRunConfig returns a checkpoint's configs.
func readRunConfig(c *checkpoint.Checkpoint) (runConfig, error) {
	var rc runConfig
	if c == nil || c.Params == nil {
		return rc, errors.New("training: empty checkpoint")
	}
	if err := json.Unmarshal(c.Meta.Model, &rc); err != nil {
		return rc, errors.Wrap(err, "training: checkpoint config")
	}
	if len(rc.Model) == 0 {
		return rc, errors.New(`training: checkpoint config has no "model" (a checkpoint of an older rnnkit?)`)
	}
	return rc, nil
}

// Restore loads a checkpoint written by Checkpoint into t: parameters (by
// name, same shapes, all finite), optimiser state, carried state, schedule
// state, the Hook's state (see [StepHook]) and position. The checkpoint's
// model kind and configs must equal the run's, except Epochs and
// SkipNonFinite, which a resumed run may change. On an error nothing
// changes.
func (t *Trainer) Restore(c *checkpoint.Checkpoint) error {
	return t.restore(c, false)
}

// restore is Restore; ignoreHook lets a run without a StepHook restore a
// checkpoint that holds one's state (Open).
func (t *Trainer) restore(c *checkpoint.Checkpoint, ignoreHook bool) error {
	rc, err := readRunConfig(c)
	if err != nil {
		return err
	}
	d := t.Model.Describe()
	if kind := c.Meta.Extra[KindKey]; kind != d.Kind {
		return errors.Errorf("training: the checkpoint holds a %q model, this run a %q one", kind, d.Kind)
	}
	mine, err := json.Marshal(d.Config)
	if err != nil {
		return err
	}
	train := rc.Train
	train.Epochs, train.SkipNonFinite = t.Cfg.Epochs, t.Cfg.SkipNonFinite
	if train != t.Cfg || !bytes.Equal(compactJSON(rc.Model), compactJSON(mine)) {
		return errors.Errorf("training: the checkpoint was written by another config:\n  checkpoint %+v %s\n  this run   %+v %s", rc.Train, rc.Model, t.Cfg, mine)
	}
	srcs, err := checkedParams(c, t.Params)
	if err != nil {
		return err
	}
	pos, err := readPosition(c)
	if err != nil {
		return err
	}
	sched := t.Schedule.clone()
	if js := c.Meta.Extra["schedule"]; js != "" {
		if err := json.Unmarshal([]byte(js), &sched); err != nil {
			return errors.Wrap(err, "training: checkpoint schedule state")
		}
	}
	state, hs := splitHook(c.State)
	commitHook, err := t.loadHook(hs, c.Meta.Extra[HookKey], ignoreHook)
	if err != nil {
		return err
	}
	opt, carried, err := splitState(state)
	if err != nil {
		return err
	}
	carrier, _ := t.Model.(Carrier)
	if carried != nil && carrier == nil {
		return errors.Errorf("training: the checkpoint carries state (%s0 …), which a %s model does not", carryPrefix, d.Kind)
	}
	var oldCarry [][]float64
	if carrier != nil {
		oldCarry = carrier.Carry()
		if err := carrier.SetCarry(carried); err != nil {
			return errors.Wrap(err, "training: checkpoint carried state")
		}
	}
	// Everything else is checked; LoadState checks its map and changes
	// nothing on an error, and then nothing else can fail.
	if err := t.Opt.LoadState(opt); err != nil {
		if carrier != nil {
			_ = carrier.SetCarry(oldCarry)
		}
		return errors.Wrap(err, "training: checkpoint optimiser state")
	}
	copyParams(t.Params, srcs)
	commitHook()
	t.Schedule = sched
	t.Step, t.Epoch, t.StepInEpoch, t.Skipped, t.loss = c.Meta.Step, c.Meta.Epoch, pos.stepInEpoch, pos.skipped, pos.loss
	return nil
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// splitState parts a checkpoint's State into the optimiser's entries and
// the carried state ("carry.0", "carry.1", … without gaps, all finite).
func splitState(state map[string]*tensor.Dense) (opt map[string]*tensor.Dense, carried [][]float64, err error) {
	opt = map[string]*tensor.Dense{}
	carry := map[int][]float64{}
	for k, v := range state {
		if !strings.HasPrefix(k, carryPrefix) {
			opt[k] = v
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(k, carryPrefix))
		if err != nil || i < 0 || i >= len(state) || v == nil {
			return nil, nil, errors.Errorf("training: checkpoint state %.40q is not a carried state tensor", k)
		}
		f := mustFloat64s(v)
		for j, x := range f {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, nil, errors.Errorf("training: checkpoint state %s element %d is %v", k, j, x)
			}
		}
		carry[i] = f
	}
	for i := range len(carry) {
		f, ok := carry[i]
		if !ok {
			keys := make([]int, 0, len(carry))
			for k := range carry {
				keys = append(keys, k)
			}
			sort.Ints(keys)
			return nil, nil, errors.Errorf("training: checkpoint carries state tensors %s%v but not %s%d", carryPrefix, keys, carryPrefix, i)
		}
		carried = append(carried, f)
	}
	return opt, carried, nil
}

// An Opener rebuilds a model of its family, without training data, from
// the config and vocabulary JSON a checkpoint holds (Description.Config
// and Vocab, as Trainer.Checkpoint stored them; vocab is nil when there is
// none).
type Opener func(config, vocab json.RawMessage) (Model, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes a model family's Opener known to [Open] under its kind
// (Description.Kind). Registering a kind twice, an empty kind or a nil
// Opener is an error.
func Register(kind string, open Opener) error {
	if kind == "" || open == nil {
		return errors.New("training: Register needs a kind and an Opener")
	}
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, ok := openers[kind]; ok {
		return errors.Errorf("training: model kind %q registered twice", kind)
	}
	openers[kind] = open
	return nil
}

// Kinds returns the registered model kinds, sorted.
func Kinds() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	out := make([]string, 0, len(openers))
	for k := range openers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Open rebuilds a Trainer from any checkpoint Trainer.Checkpoint wrote:
// the model (by its kind's [Opener]; it has no training data), the
// parameters, the optimiser state and the position. Use it to evaluate
// ([Trainer.Evaluate] on data the model makes) or to decode with
// Trainer.Model.
func Open(c *checkpoint.Checkpoint) (*Trainer, error) {
	rc, err := readRunConfig(c)
	if err != nil {
		return nil, err
	}
	kind := c.Meta.Extra[KindKey]
	openersMu.RLock()
	open := openers[kind]
	openersMu.RUnlock()
	if open == nil {
		return nil, errors.Errorf("training: checkpoint of an unknown model kind %q (known: %s)", kind, strings.Join(Kinds(), ", "))
	}
	m, err := open(rc.Model, c.Meta.Vocab)
	if err != nil {
		return nil, err
	}
	t, err := New(rc.Train, m, nil)
	if err != nil {
		return nil, err
	}
	if err := t.restore(c, true); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// opener returns the Opener of a family whose config is a C: it decodes
// the config and the vocabulary, checks the vocabulary's size, and builds
// the model.
func opener[C interface{ vocabSize() int }](build func(C, *data.Vocab) (Model, error)) Opener {
	return func(config, vocab json.RawMessage) (Model, error) {
		var cfg C
		if err := json.Unmarshal(config, &cfg); err != nil {
			return nil, errors.Wrap(err, "training: checkpoint config")
		}
		v := &data.Vocab{}
		if err := json.Unmarshal(vocab, v); err != nil {
			return nil, errors.Wrap(err, "training: checkpoint vocabulary")
		}
		if v.Len() != cfg.vocabSize() {
			return nil, errors.Errorf("training: checkpoint vocabulary of %d tokens for a model of %d", v.Len(), cfg.vocabSize())
		}
		return build(cfg, v)
	}
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
