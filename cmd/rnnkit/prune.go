package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/preset"
	"github.com/rnnkit/rnnkit/training/prune"
)

func init() {
	commands["prune"] = command{"prune a checkpoint's weights by magnitude (or its hidden units: -structured)", runPrune}
}

const pruneAbout = "Prunes the weight matrices of any checkpoint of rnnkit train by magnitude to -sparsity\n" +
	"(the smallest weights of each matrix, or with -global of all of them, set to zero; biases\n" +
	"and embeddings are kept) and writes the result to -out, printing each tensor's sparsity.\n" +
	"With -data (the family's evaluation format, as eval reads it) it prints the model's\n" +
	"metrics before and after. With -structured it drops the hidden units of smallest weight\n" +
	"norm from every layer of a language model instead (the matrices shrink, so it runs faster)\n" +
	"and writes a smaller model that eval, sample and train -resume read as it is. See\n" +
	"docs/compression.md."

func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prune", "", pruneAbout, stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	out := fs.String("out", "", "pruned checkpoint to write")
	sparsity := fs.Float64("sparsity", 0.8, "share of the weights to prune, in [0, 1)")
	global := fs.Bool("global", false, "one magnitude threshold over all weight matrices instead of the same sparsity in each")
	dataPath := fs.String("data", "", "evaluation data file: print the metrics before and after")
	structured := fs.Bool("structured", false, "drop this share of each layer's hidden units (language models) instead of single weights")
	if help, err := parseOnlyFlags(fs, args, "prune"); help || err != nil {
		return err
	}
	errs := []error{nonEmpty("checkpoint", *ckpt), nonEmpty("out", *out), sparsityIn("sparsity", *sparsity)}
	if *dataPath != "" || flagGiven(fs, "data") {
		errs = append(errs, nonEmpty("data", *dataPath))
	}
	if *structured && *global {
		errs = append(errs, errors.New("-global applies to magnitude pruning, not -structured"))
	}
	if err := checks("prune", errs...); err != nil {
		return err
	}
	if filepath.Clean(*out) == filepath.Clean(*ckpt) {
		return usageError{"prune: -out must not be the -checkpoint file (it would be overwritten)"}
	}
	if err := outputFile("out", *out); err != nil {
		return errors.Wrap(err, "prune")
	}
	if *dataPath != "" {
		if err := inputFile("data", *dataPath); err != nil {
			return errors.Wrap(err, "prune")
		}
	}
	tr, c, err := openCheckpoint(*ckpt)
	if err != nil {
		return errors.Wrap(err, "prune")
	}
	defer tr.Close()
	eval, err := evaluator(ctx, tr, *dataPath)
	if err != nil {
		return errors.Wrap(err, "prune")
	}
	before, err := eval()
	if err != nil {
		return errors.Wrap(err, "prune: evaluating before")
	}
	if *structured {
		return pruneUnits(ctx, tr, c, *sparsity, *dataPath, *out, before, stdout)
	}
	masks, err := prune.Magnitude(tr.Params, *sparsity, prune.Options{Global: *global})
	if err != nil {
		return errors.Wrap(err, "prune")
	}
	if err := masks.Apply(tr.Params); err != nil {
		return errors.Wrap(err, "prune")
	}
	after, err := eval()
	if err != nil {
		return errors.Wrap(err, "prune: evaluating after")
	}
	if err := printSparsity(stdout, tr.Params); err != nil {
		return err
	}
	printMetrics(stdout, tr.Model.Describe(), before, after)
	return writePruned(tr, c, *out, stdout)
}

// pruneUnits is prune -structured.
func pruneUnits(ctx context.Context, tr *training.Trainer, c *checkpoint.Checkpoint, s float64, dataPath, out string,
	before training.Metrics, stdout io.Writer) error {
	small, layers, err := prune.ShrinkLM(tr, s)
	if err != nil {
		return errors.Wrap(err, "prune")
	}
	defer small.Close()
	eval, err := evaluator(ctx, small, dataPath)
	if err != nil {
		return errors.Wrap(err, "prune")
	}
	after, err := eval()
	if err != nil {
		return errors.Wrap(err, "prune: evaluating after")
	}
	for _, l := range layers {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "parameters: %d before, %d after\n", countParams(tr.Params), countParams(small.Params))
	printMetrics(stdout, tr.Model.Describe(), before, after)
	return writePruned(small, c, out, stdout)
}

// flagGiven reports whether the command line set the flag.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// sparsityIn is an error naming the flag when s is not in [0, 1).
func sparsityIn(flag string, s float64) error {
	if !(s >= 0 && s < 1) {
		return errors.Errorf("-%s %v: want a sparsity in [0, 1)", flag, s)
	}
	return nil
}

// evaluator returns a function that evaluates tr on the data file path
// (nil metrics without one).
func evaluator(ctx context.Context, tr *training.Trainer, path string) (func() (training.Metrics, error), error) {
	if path == "" {
		return func() (training.Metrics, error) { return nil, nil }, nil
	}
	d := tr.Model.Describe()
	fam, ok := preset.FamilyOf(d.Kind)
	if !ok {
		return nil, errors.Errorf("no family reads data for %q models", d.Kind)
	}
	ds, err := fam.EvalData(tr.Model, path)
	if err != nil {
		return nil, err
	}
	return func() (training.Metrics, error) { return tr.Evaluate(ctx, ds) }, nil
}

// printSparsity prints each weight matrix's share of zeros and the total.
func printSparsity(w io.Writer, ps *graph.Params) error {
	rep, total, err := prune.Report(ps, nil)
	if err != nil {
		return err
	}
	for _, r := range rep {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w, total)
	return nil
}

// printMetrics prints the metrics before and after (nothing without).
func printMetrics(w io.Writer, d training.Description, before, after training.Metrics) {
	if before == nil {
		return
	}
	f := func(m training.Metric, v float64) string {
		if m.Percent {
			return fmt.Sprintf("%.2f%%", 100*v)
		}
		return fmt.Sprintf("%.4f", v)
	}
	for _, m := range d.Metrics {
		fmt.Fprintf(w, "%-16s before %s, after %s\n", m.Name, f(m, before[m.Name]), f(m, after[m.Name]))
	}
}

// writePruned writes tr's parameters as a checkpoint at path, keeping the
// metadata of the checkpoint c it came from.
func writePruned(tr *training.Trainer, c *checkpoint.Checkpoint, path string, stdout io.Writer) error {
	extra := map[string]string{}
	if p := c.Meta.Extra[training.PresetKey]; p != "" {
		extra[training.PresetKey] = p
	}
	out, err := tr.Checkpoint(extra)
	if err != nil {
		return errors.Wrap(err, "prune")
	}
	if err := checkpoint.Save(path, out); err != nil {
		return errors.Wrap(err, "prune: -out")
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// pruneFlags are train's gradual-pruning flags (training/prune.Schedule).
type pruneFlags struct {
	final             float64
	start, end, every int
	global            bool
}

func (p *pruneFlags) define(fs *flag.FlagSet) {
	fs.Float64Var(&p.final, "prune", 0, "prune weight matrices by magnitude during training to this sparsity in (0, 1) (Zhu & Gupta's schedule; 0: off)")
	fs.IntVar(&p.start, "prune-start", 0, "step at which -prune starts (t0)")
	fs.IntVar(&p.end, "prune-end", 0, "step at which -prune reaches its sparsity (default: about 3/4 of the run, on a multiple of -prune-every)")
	fs.IntVar(&p.every, "prune-every", 10, "steps between pruning steps")
	fs.BoolVar(&p.global, "prune-global", false, "prune with one threshold over all weight matrices")
}

// check validates the flags the command line set.
func (p *pruneFlags) check(given map[string]bool) []error {
	if !given["prune"] {
		for _, f := range []string{"prune-start", "prune-end", "prune-every", "prune-global"} {
			if given[f] {
				return []error{errors.Errorf("-%s applies only with -prune", f)}
			}
		}
		return nil
	}
	if !(p.final > 0 && p.final < 1) {
		return []error{errors.Errorf("-prune %v: want a sparsity in (0, 1)", p.final)}
	}
	errs := []error{intIn("prune-start", p.start, 0, maxEvery), intIn("prune-every", p.every, 1, maxEvery)}
	if given["prune-end"] {
		errs = append(errs, intIn("prune-end", p.end, p.start, maxEvery), p.schedule().Validate())
	}
	return errs
}

func (p *pruneFlags) schedule() prune.Schedule {
	return prune.Schedule{Final: p.final, Start: p.start, End: p.end, Every: p.every, Global: p.global}
}

// hook returns the pruning hook of the flags (nil without -prune); a run
// of epochs epochs of m's batches sets the default -prune-end.
func (p *pruneFlags) hook(given map[string]bool, m training.Model, epochs int) (training.StepHook, error) {
	if !given["prune"] {
		return nil, nil
	}
	s := p.schedule()
	if !given["prune-end"] {
		bs, err := m.Batches(0, graph.NewSource(0))
		if err != nil {
			return nil, err
		}
		total := epochs * len(bs) * 3 / 4
		s.End = s.Start + max(1, (total-s.Start)/s.Every)*s.Every
	}
	g, err := prune.NewGradual(s, nil)
	if err != nil {
		return nil, usageError{"train: " + err.Error()}
	}
	return g, nil
}
