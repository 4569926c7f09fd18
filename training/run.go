package training

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/optim"
	"github.com/rnnkit/rnnkit/training/plot"
)

// MetricsName and LossPlotName are the files Run writes into its
// directory besides the checkpoints.
const (
	MetricsName  = "metrics.jsonl"
	LossPlotName = "loss.png"
)

// Schedule is the learning-rate schedule and early stopping of a run,
// applied after each epoch of [Trainer.Run] to the test loss; its state is
// saved in every checkpoint, so a resumed run continues exactly. A nil
// field is off.
type Schedule struct {
	Step    *optim.StepLR          `json:"step,omitempty"`
	Plateau *optim.ReduceOnPlateau `json:"plateau,omitempty"`
	Early   *optim.EarlyStopping   `json:"early,omitempty"`
}

// extra returns the schedule as a checkpoint's Extra["schedule"] ("" when
// there is none).
func (s Schedule) extra() string {
	if s.Step == nil && s.Plateau == nil && s.Early == nil {
		return ""
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// clone returns a deep copy of s.
func (s Schedule) clone() Schedule {
	if s.Step != nil {
		c := *s.Step
		s.Step = &c
	}
	if s.Plateau != nil {
		c := *s.Plateau
		s.Plateau = &c
	}
	if s.Early != nil {
		c := *s.Early
		s.Early = &c
	}
	return s
}

// after applies the schedules at the end of an epoch and reports whether
// early stopping ends the run; messages go to w.
func (t *Trainer) afterEpoch(testLoss float64, w io.Writer) (bool, error) {
	s := t.Schedule
	if s.Step != nil {
		lr, err := s.Step.LR(t.Cfg.LR, t.Epoch)
		if err != nil {
			return false, err
		}
		t.Opt.SetLR(lr)
	}
	if s.Plateau != nil && !math.IsNaN(testLoss) {
		old := t.Opt.LR()
		lr, err := s.Plateau.Observe(testLoss, old)
		if err != nil {
			return false, err
		}
		if lr != old {
			fmt.Fprintf(w, "test loss on a plateau: learning rate %g → %g\n", old, lr)
		}
		t.Opt.SetLR(lr)
	}
	if s.Early != nil && !math.IsNaN(testLoss) {
		stop, err := s.Early.Observe(testLoss)
		if err != nil {
			return false, err
		}
		if stop {
			fmt.Fprintf(w, "no better test loss for %d epochs: stopping early\n", s.Early.Patience+1)
			return true, nil
		}
	}
	return false, nil
}

// EpochStats reports one epoch. In metrics.jsonl (its JSON form) the test
// metrics are fields of their own, "test_" and the metric's name:
//
//	{"epoch":1,"train_loss":1.2,"test_exact_match":0.1,"test_loss":1.1,…,"epoch_seconds":16.2,"steps":352,…}
//
// A NaN is written as null.
type EpochStats struct {
	Epoch     int
	TrainLoss float64
	// Test holds the model's metrics on the test data (nil: none).
	Test         Metrics
	EpochSeconds float64
	Steps        int
	// Graphs compiled during the epoch (new batch shapes) and the seconds
	// that took, included in EpochSeconds.
	GraphsCompiled int
	CompileSeconds float64
}

// TestLoss returns the test loss, NaN when there is none.
func (s EpochStats) TestLoss() float64 { return metricOr(s.Test, "loss") }

func metricOr(m Metrics, name string) float64 {
	if v, ok := m[name]; ok {
		return v
	}
	return math.NaN()
}

// MarshalJSON writes the metrics as a JSON object, a NaN or infinite
// value as null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	out := make(map[string]jsonFloat, len(m))
	for k, v := range m {
		out[k] = jsonFloat(v)
	}
	return json.Marshal(out)
}

// jsonFloat is a float64 that JSON writes as null when NaN or infinite.
type jsonFloat float64

// MarshalJSON writes the number, or null.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

// MarshalJSON writes the line of metrics.jsonl, fields in a fixed order.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	field := func(k string, v any) {
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	field("epoch", s.Epoch)
	field("train_loss", jsonFloat(s.TrainLoss))
	names := make([]string, 0, len(s.Test))
	for k := range s.Test {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		field("test_"+k, jsonFloat(s.Test[k]))
	}
	field("epoch_seconds", jsonFloat(s.EpochSeconds))
	field("steps", s.Steps)
	field("graphs_compiled", s.GraphsCompiled)
	field("compile_seconds", jsonFloat(s.CompileSeconds))
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *EpochStats) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var out EpochStats
	for k, raw := range m {
		var f jsonFloat
		var err error
		switch {
		case k == "epoch":
			err = json.Unmarshal(raw, &out.Epoch)
		case k == "steps":
			err = json.Unmarshal(raw, &out.Steps)
		case k == "graphs_compiled":
			err = json.Unmarshal(raw, &out.GraphsCompiled)
		default:
			if err = json.Unmarshal(raw, &f); err != nil {
				break
			}
			switch {
			case k == "train_loss":
				out.TrainLoss = float64(f)
			case k == "epoch_seconds":
				out.EpochSeconds = float64(f)
			case k == "compile_seconds":
				out.CompileSeconds = float64(f)
			case strings.HasPrefix(k, "test_"):
				if out.Test == nil {
					out.Test = Metrics{}
				}
				out.Test[strings.TrimPrefix(k, "test_")] = float64(f)
			}
		}
		if err != nil {
			return errors.Wrapf(err, "training: metrics field %q", k)
		}
	}
	*s = out
	return nil
}

// Line returns the epoch's report as Run prints it: the losses, the
// model's metrics in the order d gives them, the time.
func (s EpochStats) Line(d Description) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d: train loss %.4f", s.Epoch, s.TrainLoss)
	for _, m := range d.Metrics {
		v, ok := s.Test[m.Name]
		if !ok {
			continue
		}
		b.WriteString(", test " + FormatMetric(m, v))
	}
	fmt.Fprintf(&b, ", %.1f s", s.EpochSeconds)
	if s.GraphsCompiled > 0 {
		fmt.Fprintf(&b, " (%d graphs for new batch shapes compiled in %.0f ms)", s.GraphsCompiled, 1000*s.CompileSeconds)
	}
	return b.String()
}

// RunOptions are the settings of [Trainer.Run].
type RunOptions struct {
	// Dir is the run directory: step checkpoints (ckpt-*.safetensors),
	// best.safetensors, metrics.jsonl and loss.png.
	Dir string
	// Keep is the number of step checkpoints kept (0: all).
	Keep int
	// CheckpointEvery, when positive, also checkpoints every that many
	// steps (besides the end of each epoch).
	CheckpointEvery int
	// Extra is metadata written into every checkpoint (Extra[PresetKey]).
	Extra map[string]string
	// OnStep is called after every step (a progress bar).
	OnStep func(StepStats)
	// Stdout receives a line per epoch and the schedules' messages, Stderr
	// warnings (a skipped batch, a plot that failed); nil: discarded.
	Stdout, Stderr io.Writer
}

// Manager returns the checkpoint manager of the run directory; the reasons
// for skipping damaged checkpoints go to Stderr.
func (o RunOptions) Manager() *checkpoint.Manager {
	w := o.Stderr
	if w == nil {
		w = io.Discard
	}
	return &checkpoint.Manager{Dir: o.Dir, KeepLast: o.Keep, Logf: func(format string, args ...any) {
		fmt.Fprintf(w, "training: "+format+"\n", args...)
	}}
}

// Resume restores the newest loadable checkpoint of o.Dir (skipping
// damaged ones, each with its reason to o.Stderr) and returns its path.
func (t *Trainer) Resume(o RunOptions) (string, error) {
	c, path, err := o.Manager().Latest()
	if err != nil {
		return "", err
	}
	if err := t.Restore(c); err != nil {
		return "", errors.Wrapf(err, "resuming from %s", path)
	}
	return path, nil
}

// Run trains from the current position to Cfg.Epochs epochs, or until the
// schedule stops it early. After each epoch it evaluates on Test, appends
// a line to metrics.jsonl (first cut back to the epochs done: a resumed
// run's file holds no epoch twice, a fresh run's starts empty), prints it,
// applies the schedule, saves a step checkpoint and, when the model's Best
// metric improved, best.safetensors, and redraws loss.png.
//
// A non-finite loss or gradient (see TrainEpoch) stops the run with an
// error that names the last good checkpoint, which is left as it was. When
// ctx is cancelled the run stops after the current step and saves a
// checkpoint of it, from which Resume continues; the error says so.
func (t *Trainer) Run(ctx context.Context, o RunOptions) error {
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	lead := t.lead() // in a group, rank 0 alone writes and prints
	if !lead {
		stdout = io.Discard
	}
	if o.Dir == "" {
		return errors.New("training: Run needs a directory")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return errors.Wrap(err, "training")
	}
	mgr := o.Manager()
	metricsPath := filepath.Join(o.Dir, MetricsName)
	var history []EpochStats
	if lead {
		var err error
		if history, err = trimMetrics(metricsPath, t.Epoch); err != nil {
			return err
		}
	}
	d := t.Model.Describe()
	saved := -1
	save := func() error {
		c, err := t.Checkpoint(o.Extra)
		if err != nil || !lead {
			saved = t.Step
			return err
		}
		if _, err = mgr.Save(c); err == nil {
			saved = t.Step
		}
		return err
	}
	onStep := func(s StepStats) {
		if s.Skipped {
			fmt.Fprintf(stderr, "training: epoch %d, batch %d of %d (step %d): non-finite loss or gradient, batch skipped (SkipNonFinite)\n", t.Epoch+1, s.Step, s.Of, t.Step)
		}
		if o.OnStep != nil {
			o.OnStep(s)
		}
	}
	stop := func() bool {
		if o.CheckpointEvery > 0 && t.Step%o.CheckpointEvery == 0 {
			if err := save(); err != nil {
				fmt.Fprintln(stderr, "training: checkpoint:", err)
			}
		}
		return false
	}
	for t.Epoch < t.Cfg.Epochs {
		recorded := t.Epoch
		st, err := t.epoch(ctx, onStep, stop)
		if err != nil {
			if (ctx.Err() != nil && errors.Is(err, ctx.Err())) || errors.Is(err, errGroupStopped) {
				if t.Epoch != recorded {
					return errors.Wrapf(err, "training: interrupted while evaluating after epoch %d; the newest checkpoint is from before it", t.Epoch)
				}
				return t.interrupted(err, save, saved)
			}
			return stopped(err, mgr)
		}
		history = append(history, st)
		if lead {
			if err := appendMetrics(metricsPath, st); err != nil {
				return err
			}
		}
		fmt.Fprintln(stdout, st.Line(d))
		early, err := t.afterEpoch(st.TestLoss(), stdout)
		if err != nil {
			return err
		}
		if err := save(); err != nil {
			return err
		}
		best := d.metric(d.Best)
		if score := metricOr(st.Test, best.Name); !math.IsNaN(score) {
			c, err := t.Checkpoint(o.Extra)
			if err != nil {
				return err
			}
			if lead {
				if _, err := mgr.SaveBest(c, score, !best.Lower); err != nil {
					return err
				}
			}
		}
		if lead {
			if err := lossPlot(filepath.Join(o.Dir, LossPlotName), history); err != nil {
				fmt.Fprintln(stderr, "training: loss.png:", err)
			}
		}
		if early {
			break
		}
	}
	return nil
}

// interrupted saves a checkpoint of the position a cancelled run stopped
// at (unless one was just saved) and returns the error that says so.
func (t *Trainer) interrupted(err error, save func() error, saved int) error {
	at := fmt.Sprintf("epoch %d, batch %d (step %d)", t.Epoch+1, t.StepInEpoch, t.Step)
	if t.Step == 0 {
		return errors.Wrapf(err, "training: interrupted before the first step; nothing saved")
	}
	if saved != t.Step {
		if serr := save(); serr != nil {
			return errors.Wrapf(err, "training: interrupted at %s; its checkpoint failed: %v", at, serr)
		}
	}
	return errors.Wrapf(err, "training: interrupted at %s; checkpoint %s holds it (resume to continue)", at, checkpoint.StepName(t.Step))
}

// stopped adds to a failed step's error, when the failure is a non-finite
// loss or gradient, which checkpoint is the last good one and how to go
// on.
func stopped(err error, mgr *checkpoint.Manager) error {
	if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrDamaged) {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(mgr.Dir, "ckpt-*.safetensors"))
	last := "no checkpoint of this run had been written yet"
	if len(files) > 0 {
		sort.Strings(files)
		last = fmt.Sprintf("the newest checkpoint, %s, is the last good state and was not touched", files[len(files)-1])
	}
	if errors.Is(err, ErrDamaged) {
		return errors.Errorf("%v\ntraining stopped: %s; start again with a lower -lr (or -lr-gamma) or a -clip", err, last)
	}
	return errors.Errorf("%v\ntraining stopped: %s; resume with -resume -skip-nonfinite to skip such batches, "+
		"or start again with a lower -lr or a -clip", err, last)
}

func appendMetrics(path string, st EpochStats) error {
	b, err := json.Marshal(st)
	if err != nil {
		return errors.Wrap(err, "metrics")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return errors.Wrap(err, "metrics")
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return errors.Wrap(err, "metrics")
}

// trimMetrics returns the first n epochs of a metrics.jsonl and cuts the
// file back to them (removing it when n is 0); a file that needs no change
// is not touched, a missing one is no error.
func trimMetrics(path string, n int) ([]EpochStats, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Wrap(err, "metrics")
	}
	if n == 0 {
		return nil, errors.Wrap(os.Remove(path), "metrics")
	}
	var out []EpochStats
	var buf strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var st EpochStats
		if json.Unmarshal([]byte(line), &st) == nil && st.Epoch >= 1 && st.Epoch <= n {
			out = append(out, st)
			buf.WriteString(line + "\n")
		}
	}
	if buf.String() == string(b) {
		return out, nil
	}
	return out, errors.Wrap(os.WriteFile(path, []byte(buf.String()), 0o644), "metrics")
}

func lossPlot(path string, h []EpochStats) error {
	var x, tr, te []float64
	for _, st := range h {
		if math.IsNaN(st.TrainLoss) || math.IsNaN(st.TestLoss()) {
			continue
		}
		x, tr, te = append(x, float64(st.Epoch)), append(tr, st.TrainLoss), append(te, st.TestLoss())
	}
	if len(x) == 0 {
		return nil
	}
	return plot.Lines(path, "loss", "epoch", "mean loss", []plot.Series{{Name: "train", X: x, Y: tr}, {Name: "test", X: x, Y: te}}, false)
}

// FormatMetric returns "name value" as the epoch line prints a metric: a
// percentage for a fraction, four decimals otherwise.
func FormatMetric(m Metric, v float64) string {
	if m.Percent {
		return fmt.Sprintf("%s %.2f%%", m.label(), 100*v)
	}
	return fmt.Sprintf("%s %.4f", m.label(), v)
}
