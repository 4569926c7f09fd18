package preset

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/optim"
)

// Family is a model family's part of the registry: its presets, and how it
// reads evaluation data.
type Family struct {
	// Kind is the family's model kind, training.Description.Kind.
	Kind string
	// Data says what a -data file holds for this family (help text).
	Data string
	// DataDir says that train's -data names a directory (which the
	// family's Prepare reads files from), not a file.
	DataDir bool
	// Presets are the family's named experiments.
	Presets []Preset
	// EvalData reads an evaluation data file for a model of the family
	// (opened from a checkpoint), as `rnnkit eval -data` does.
	EvalData func(m training.Model, path string) (training.Dataset, error)
}

// Preset is a named experiment.
type Preset struct {
	// Name is what `rnnkit train -preset` takes.
	Name string
	// About is one line for `rnnkit train -list`.
	About string
	// New returns the preset's settings, at its defaults.
	New func() Setup
}

// Setup is one run of a preset: its settings, which flags change, and the
// work that prepares the run.
type Setup interface {
	// Common returns the settings every family has.
	Common() *Common
	// Flags defines the family's own flags on fs, bound to the setup's
	// settings (their defaults are the preset's).
	Flags(fs *flag.FlagSet)
	// Validate checks the family's settings after the flags are parsed;
	// given holds the names of the flags the command line set, data is
	// -data's value ("" when absent). It reads no file, and its errors
	// name the flag.
	Validate(given map[string]bool, data string) error
	// Prepare reads the data at path (or, with "", makes the preset's)
	// and returns the model and its test data.
	Prepare(data string) (*Prepared, error)
}

// Prepared is what a Setup made ready to train.
type Prepared struct {
	Model training.Model
	Test  training.Dataset
	// Summary is one line about the data ("45000 train / 5000 test pairs,
	// vocabulary 59").
	Summary string
	// Info is recorded in the run's config.json (the sizes of the data).
	Info map[string]any
	// Report, when not nil, shows what the trained model does: plots into
	// dir, samples on w.
	Report func(tr *training.Trainer, dir string, w io.Writer) error
}

// Common is the part of every preset's settings that is not the model's:
// the Trainer's config and the schedule.
type Common struct {
	Train training.Config
	// LRStep multiplies the learning rate by LRGamma every LRStep epochs
	// (0: off).
	LRStep  int
	LRGamma float64
	// Plateau multiplies the learning rate by PlateauFactor after Plateau
	// epochs without a better test loss (0: off).
	Plateau       int
	PlateauFactor float64
	// EarlyStop stops after EarlyStop epochs without a better test loss
	// (0: off).
	EarlyStop int
	// InitEmbedding names a word-vector file (word2vec's text or binary
	// format, or safetensors) that the embedding starts from
	// (Trainer.InitEmbedding); "" for none.
	InitEmbedding string
}

// Limits on the sizes the flags take; beyond them a run could not fit in
// memory or finish.
const (
	MaxEpochs   = 1_000_000
	MaxWidth    = 1 << 13 // hidden and embedding sizes
	MaxLayers   = 64
	MaxBatch    = 1 << 16
	MaxExamples = 10_000_000
)

// Flag is a flag bound to a setting: Ptr is an *int, *uint64, *float64,
// *string or *bool, whose value is the flag's default.
type Flag struct {
	Name, Usage string
	Ptr         any
}

// Define defines the flags on fs.
func Define(fs *flag.FlagSet, flags ...Flag) {
	for _, f := range flags {
		switch p := f.Ptr.(type) {
		case *int:
			fs.IntVar(p, f.Name, *p, f.Usage)
		case *uint64:
			fs.Uint64Var(p, f.Name, *p, f.Usage)
		case *float64:
			fs.Float64Var(p, f.Name, *p, f.Usage)
		case *string:
			fs.StringVar(p, f.Name, *p, f.Usage)
		case *bool:
			fs.BoolVar(p, f.Name, *p, f.Usage)
		}
	}
}

// flags defines the common flags on fs.
func (c *Common) flags(fs *flag.FlagSet) {
	t := &c.Train
	Define(fs,
		Flag{"epochs", "epochs to train", &t.Epochs},
		Flag{"optimizer", "adam, sgd, momentum, rmsprop or adagrad", &t.Optimizer},
		Flag{"lr", "learning rate", &t.LR},
		Flag{"weight-decay", "adagrad's weight decay (L2 penalty; 0: none)", &t.WeightDecay},
		Flag{"clip", "global-norm gradient clip (0: off)", &t.Clip},
		Flag{"seed", "seed of every random choice", &t.Seed},
		Flag{"dtype", "float32 or float64", &t.Dtype},
		Flag{"skip-nonfinite", "skip a batch whose loss or gradient is NaN or infinite instead of stopping", &t.SkipNonFinite},
		Flag{"lr-step", "multiply the learning rate by -lr-gamma every N epochs (0: off)", &c.LRStep},
		Flag{"lr-gamma", "factor of -lr-step", &c.LRGamma},
		Flag{"plateau", "multiply the learning rate by -plateau-factor after N epochs without a better test loss (0: off)", &c.Plateau},
		Flag{"plateau-factor", "factor of -plateau", &c.PlateauFactor},
		Flag{"early-stop", "stop after N epochs without a better test loss (0: off)", &c.EarlyStop})
	fs.StringVar(&c.InitEmbedding, "init-embedding", "", "word vectors (word2vec text or binary, or safetensors; rnnkit word2vec writes them) to start the embedding from: rows of the vocabulary's words copied, the rest as initialised")
}

// Base is what a family's Setup embeds: the common settings (its Common
// method) and the network's (Net, which the Setup points at its
// settings).
type Base struct {
	common Common
	Net    Net
}

// Common implements Setup.
func (b *Base) Common() *Common { return &b.common }

// Net points at the settings every recurrent family has; its flags are
// -batch, -hidden, -embed, -layers and -cell.
type Net struct {
	Batch, Hidden, Embed, Layers *int
	Cell                         *cells.Kind
	// BatchUsage and LayersUsage say what -batch and -layers mean in the
	// family.
	BatchUsage, LayersUsage string
}

// Flags defines the flags of n on fs.
func (n Net) Flags(fs *flag.FlagSet) {
	*n.Layers = max(*n.Layers, 1)
	Define(fs,
		Flag{"batch", n.BatchUsage, n.Batch},
		Flag{"hidden", "hidden size", n.Hidden},
		Flag{"embed", "embedding size", n.Embed},
		Flag{"layers", n.LayersUsage, n.Layers})
	fs.Func("cell", fmt.Sprintf("cell kind: %s (default %s)", cells.KindList(), *n.Cell), func(v string) error {
		*n.Cell = cells.Kind(v)
		return nil
	})
}

// Validate checks the settings of n; errors name the flag.
func (n Net) Validate() error {
	for _, x := range []struct {
		name    string
		v, l, h int
	}{
		{"batch", *n.Batch, 1, MaxBatch}, {"hidden", *n.Hidden, 1, MaxWidth}, {"embed", *n.Embed, 1, MaxWidth},
		{"layers", *n.Layers, 1, MaxLayers},
	} {
		if err := IntIn(x.name, x.v, x.l, x.h); err != nil {
			return err
		}
	}
	if err := (cells.Config{Kind: *n.Cell, InputSize: 1, HiddenSize: 1}).Validate(); err != nil {
		return errors.Errorf("-cell %q: want one of %v", *n.Cell, cells.Kinds())
	}
	return nil
}

// EvalData returns a Family.EvalData for models of type M, which read
// reads data for.
func EvalData[M training.Model](read func(m M, path string) (training.Dataset, error)) func(training.Model, string) (training.Dataset, error) {
	return func(m training.Model, path string) (training.Dataset, error) {
		x, ok := m.(M)
		if !ok {
			return nil, errors.Errorf("preset: a %T is not a %T", m, x)
		}
		return read(x, path)
	}
}

// validate checks the common settings; errors name the flag.
func (c *Common) validate(given map[string]bool) error {
	t := c.Train
	if err := IntIn("epochs", t.Epochs, 1, MaxEpochs); err != nil {
		return err
	}
	switch t.Optimizer {
	case "adam", "sgd", "momentum", "rmsprop", "adagrad":
	default:
		return errors.Errorf("-optimizer %q: want adam, sgd, momentum, rmsprop or adagrad", t.Optimizer)
	}
	if !(t.WeightDecay >= 0 && t.WeightDecay <= 1) {
		return errors.Errorf("-weight-decay %v: want a value from 0 to 1", t.WeightDecay)
	}
	if t.WeightDecay != 0 && t.Optimizer != "adagrad" {
		return errors.Errorf("-weight-decay applies only to -optimizer adagrad, not %s", t.Optimizer)
	}
	if !(t.LR > 0) || math.IsInf(t.LR, 0) {
		return errors.Errorf("-lr %v: the learning rate must be positive and finite", t.LR)
	}
	if !(t.Clip >= 0) || math.IsInf(t.Clip, 0) {
		return errors.Errorf("-clip %v: want a finite value, at least 0", t.Clip)
	}
	switch t.Dtype {
	case "float32", "float64":
	default:
		return errors.Errorf("-dtype %q: want float32 or float64", t.Dtype)
	}
	for _, x := range []struct {
		name string
		v    int
	}{{"lr-step", c.LRStep}, {"plateau", c.Plateau}, {"early-stop", c.EarlyStop}} {
		if err := IntIn(x.name, x.v, 0, MaxEpochs); err != nil {
			return err
		}
	}
	if !(c.LRGamma > 0) || math.IsInf(c.LRGamma, 0) {
		return errors.Errorf("-lr-gamma %v: want a finite factor above 0", c.LRGamma)
	}
	if !(c.PlateauFactor > 0 && c.PlateauFactor < 1) {
		return errors.Errorf("-plateau-factor %v: want a factor between 0 and 1", c.PlateauFactor)
	}
	if given["init-embedding"] {
		if c.InitEmbedding == "" {
			return errors.New("-init-embedding: empty file name")
		}
		st, err := os.Stat(c.InitEmbedding)
		if err != nil {
			return errors.Wrap(err, "-init-embedding")
		}
		if !st.Mode().IsRegular() {
			return errors.Errorf("-init-embedding %s: not a regular file", c.InitEmbedding)
		}
	}
	if given["lr-gamma"] && c.LRStep == 0 {
		return errors.New("-lr-gamma applies only with -lr-step")
	}
	if given["plateau-factor"] && c.Plateau == 0 {
		return errors.New("-plateau-factor applies only with -plateau")
	}
	return t.Validate()
}

// Schedule returns the training schedule of the settings.
func (c *Common) Schedule() training.Schedule {
	var s training.Schedule
	if c.LRStep > 0 {
		s.Step = &optim.StepLR{StepSize: c.LRStep, Gamma: c.LRGamma}
	}
	if c.Plateau > 0 {
		s.Plateau = &optim.ReduceOnPlateau{Factor: c.PlateauFactor, Patience: c.Plateau - 1, Mode: "min", Threshold: 1e-4}
	}
	if c.EarlyStop > 0 {
		s.Early = &optim.EarlyStopping{Patience: c.EarlyStop - 1, Mode: "min"}
	}
	return s
}

// DefineFlags defines every flag of s on fs: the common ones and the
// family's.
func DefineFlags(fs *flag.FlagSet, s Setup) {
	s.Common().flags(fs)
	s.Flags(fs)
}

// Validate checks every setting of s after its flags are parsed (see
// Setup.Validate); errors name the flag.
func Validate(s Setup, given map[string]bool, data string) error {
	if err := s.Common().validate(given); err != nil {
		return err
	}
	return s.Validate(given, data)
}

// IntIn returns an error naming the flag when v is not in [lo, hi].
func IntIn(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return errors.Errorf("-%s %d: want %d to %d", flag, v, lo, hi)
	}
	return nil
}

var (
	mu       sync.RWMutex
	families = map[string]Family{}
	byName   = map[string]string{} // preset name → family kind
	initErr  error                 // a registration of this package that failed
)

// Register adds a family and its presets to the registry. A kind or a
// preset name registered before, an empty one, or a preset without New is
// an error, and then nothing is registered.
func Register(f Family) error {
	mu.Lock()
	defer mu.Unlock()
	if f.Kind == "" || f.EvalData == nil {
		return errors.New("preset: a family needs a kind and EvalData")
	}
	if _, ok := families[f.Kind]; ok {
		return errors.Errorf("preset: family %q registered twice", f.Kind)
	}
	seen := map[string]bool{}
	for _, p := range f.Presets {
		if p.Name == "" || p.New == nil || seen[p.Name] {
			return errors.Errorf("preset: family %q: preset %q unnamed, without New, or twice", f.Kind, p.Name)
		}
		if k, ok := byName[p.Name]; ok {
			return errors.Errorf("preset: %q registered by families %q and %q", p.Name, k, f.Kind)
		}
		seen[p.Name] = true
	}
	families[f.Kind] = f
	for _, p := range f.Presets {
		byName[p.Name] = f.Kind
	}
	return nil
}

// register registers a family of this package; a failure is kept for
// Check.
func register(f Family) {
	if err := Register(f); err != nil && initErr == nil {
		initErr = err
	}
}

// Check returns the error of a built-in registration that failed (nil
// normally; a test makes sure).
func Check() error { return initErr }

// Lookup returns the preset of that name and its family.
func Lookup(name string) (Preset, Family, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := families[byName[name]]
	if !ok {
		return Preset{}, Family{}, false
	}
	for _, p := range f.Presets {
		if p.Name == name {
			return p, f, true
		}
	}
	return Preset{}, Family{}, false
}

// FamilyOf returns the family of a model kind.
func FamilyOf(kind string) (Family, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := families[kind]
	return f, ok
}

// All returns every preset, sorted by name, each with its family's kind.
func All() []Entry {
	mu.RLock()
	defer mu.RUnlock()
	var out []Entry
	for _, f := range families {
		for _, p := range f.Presets {
			out = append(out, Entry{Preset: p, Kind: f.Kind})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Entry is a preset with its family's kind.
type Entry struct {
	Preset
	Kind string
}

// Names returns the names of every preset, sorted.
func Names() []string {
	var out []string
	for _, e := range All() {
		out = append(out, e.Name)
	}
	return out
}
