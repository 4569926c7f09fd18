package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/preset"
)

// runFlags are the flags of train that are no setting of the model or the
// trainer: where the run lives and how it reports.
type runFlags struct {
	preset, data, out       string
	list, resume, overwrite bool
	keep, every, logEvery   int
	given                   map[string]bool // the flags the command line set
	setup                   preset.Setup
	presetEntry             preset.Preset
	presetFamily            preset.Family
	dist                    distFlags
	prune                   pruneFlags // -prune and its schedule (prune.go)
	ext                     *trainExt  // another command's part (distill.go); nil for train
}

func (r *runFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&r.preset, "preset", "", "the experiment (rnnkit train -list shows them)")
	fs.BoolVar(&r.list, "list", false, "list the presets and exit")
	fs.StringVar(&r.data, "data", "", "data file to train on, in the model family's format, instead of the preset's")
	fs.StringVar(&r.out, "out", "", "run directory (default runs/<preset>-<seed>)")
	fs.BoolVar(&r.resume, "resume", false, "continue from the newest checkpoint in -out")
	fs.BoolVar(&r.overwrite, "overwrite", false, "start afresh in an -out that holds another run's checkpoints, removing them")
	fs.IntVar(&r.keep, "keep", 3, "step checkpoints to keep")
	fs.IntVar(&r.every, "checkpoint-every", 0, "also checkpoint every N steps (0: at the end of each epoch only)")
	fs.IntVar(&r.logEvery, "log-every", 50, "print a progress line every N steps (when not on a terminal)")
	r.dist.define(fs)
	r.prune.define(fs)
	if r.ext != nil {
		r.ext.define(fs)
	}
}

const trainAbout = "Trains a preset experiment and writes into -out: config.json, metrics.jsonl (one line per\n" +
	"epoch), checkpoints (ckpt-*.safetensors, best.safetensors by the model's best metric),\n" +
	"loss.png and what the model family shows (attention-*.png for attention models). Every\n" +
	"setting can be changed by a flag; a flag the preset has not is an error. SIGINT or SIGTERM\n" +
	"stops after the current step and saves a checkpoint that -resume continues from."

// addAllPresetFlags defines on fs every flag any preset has (each once),
// so that a first parse can find -preset whatever else is given.
func addAllPresetFlags(fs *flag.FlagSet) {
	for _, e := range preset.All() {
		pfs := flag.NewFlagSet("", flag.ContinueOnError)
		preset.DefineFlags(pfs, e.New())
		pfs.VisitAll(func(f *flag.Flag) {
			if fs.Lookup(f.Name) == nil {
				fs.Var(f.Value, f.Name, f.Usage)
			}
		})
	}
}

// parseTrain parses train's command line: first with every preset's flags,
// to find -preset, then with the preset's own (so that a flag it has not
// is an error naming it, and -h shows its defaults).
func parseTrain(args []string, stdout io.Writer) (*runFlags, bool, error) {
	return parseTrainWith(args, stdout, nil)
}

// parseTrainWith is parseTrain with another command's flags (ext).
func parseTrainWith(args []string, stdout io.Writer, ext *trainExt) (*runFlags, bool, error) {
	all := flag.NewFlagSet("rnnkit train", flag.ContinueOnError)
	all.SetOutput(io.Discard)
	r := runFlags{ext: ext}
	r.define(all)
	addAllPresetFlags(all)
	err := all.Parse(args)
	help := errors.Is(err, flag.ErrHelp)
	if err != nil && !help {
		return nil, false, usageError{"train: " + err.Error()}
	}
	if r.list && !help {
		return &r, false, nil
	}
	if r.preset == "" {
		if help {
			trainHelp(stdout, &r, nil)
			return nil, true, nil
		}
		return nil, false, usageError{"train: -preset NAME is required (rnnkit train -list shows the presets)"}
	}
	p, fam, ok := preset.Lookup(r.preset)
	if !ok {
		return nil, false, usageError{fmt.Sprintf("train: unknown preset %q for -preset (%s)", r.preset, strings.Join(preset.Names(), ", "))}
	}
	fs := flag.NewFlagSet("rnnkit train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	r = runFlags{presetEntry: p, presetFamily: fam, setup: p.New(), ext: ext}
	r.define(fs)
	preset.DefineFlags(fs, r.setup)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		trainHelp(stdout, &r, fs)
		return nil, true, nil
	} else if err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
			return nil, false, usageError{fmt.Sprintf("train: %s does not apply to the %s preset", name, p.Name)}
		}
		return nil, false, usageError{"train: " + err.Error()}
	}
	if fs.NArg() != 0 {
		return nil, false, usageError{fmt.Sprintf("train: unexpected argument %q", fs.Arg(0))}
	}
	r.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { r.given[f.Name] = true })
	return &r, false, nil
}

// trainHelp prints train's usage: the preset's flags with its defaults,
// or without a preset the run's flags and the presets.
func trainHelp(w io.Writer, r *runFlags, fs *flag.FlagSet) {
	cmd, about := "train", trainAbout
	if r.ext != nil {
		cmd, about = r.ext.name, r.ext.about+"\n\n"+trainAbout
	}
	if fs == nil {
		fmt.Fprintf(w, "usage: rnnkit %s -preset NAME [flags]\n\n%s\n\nflags of every preset:\n", cmd, about)
		fs = flag.NewFlagSet("", flag.ContinueOnError)
		(&runFlags{ext: r.ext}).define(fs)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fmt.Fprintln(w, "\npresets (rnnkit train -preset NAME -h shows each one's flags and defaults):")
		listPresets(w)
		return
	}
	fmt.Fprintf(w, "usage: rnnkit %s -preset %s [flags]\n\n%s\n\n%s: %s; -data: %s.\n\nflags:\n",
		cmd, r.presetEntry.Name, about, r.presetEntry.Name, r.presetEntry.About, r.presetFamily.Data)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// listPresets prints each preset with its family and a line about it.
func listPresets(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, e := range preset.All() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.Name, e.Kind, e.About)
	}
	tw.Flush()
}

// validate checks the run's flags and paths before any work.
func (r *runFlags) validate() error {
	if r.resume && r.overwrite {
		return usageError{"train: -resume and -overwrite exclude each other"}
	}
	var errs []error
	if r.given["data"] {
		errs = append(errs, nonEmpty("data", r.data))
	}
	if r.given["out"] {
		errs = append(errs, nonEmpty("out", r.out))
	}
	errs = append(errs, r.prune.check(r.given)...)
	if r.ext != nil {
		errs = append(errs, r.ext.check(r)...)
	}
	cmd := "train"
	if r.ext != nil {
		cmd = r.ext.name
	}
	if err := checks(cmd, append(errs,
		intIn("keep", r.keep, 1, maxKeep), intIn("checkpoint-every", r.every, 0, maxEvery), intIn("log-every", r.logEvery, 1, maxEvery),
		preset.Validate(r.setup, r.given, r.data))...); err != nil {
		return err
	}
	if r.out == "" {
		r.out = filepath.Join("runs", fmt.Sprintf("%s-%d", r.presetEntry.Name, r.setup.Common().Train.Seed))
	}
	return nil
}

// checkPaths checks that -data is a file (a directory for a family whose
// data is one) and -out, if it exists, a directory.
func (r *runFlags) checkPaths() error {
	if r.data != "" {
		check := inputFile
		if r.presetFamily.DataDir {
			check = inputDir
		}
		if err := check("data", r.data); err != nil {
			return errors.Wrap(err, "train")
		}
	}
	return errors.Wrap(outputDir("out", r.out), "train")
}

// runConfig is what config.json records.
type runConfig struct {
	Preset    string            `json:"preset"`
	Model     string            `json:"model"`
	Data      string            `json:"data,omitempty"`
	Train     training.Config   `json:"train"`
	Schedule  training.Schedule `json:"schedule"`
	Config    any               `json:"model_config"`
	GoVersion string            `json:"go_version"`
	Revision  string            `json:"git_revision"`
	Started   string            `json:"started"`
	Info      map[string]any    `json:"data_info,omitempty"`
}

func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		rev += "-dirty"
	}
	return rev
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runTrainWith(ctx, args, stdout, stderr, nil)
}

// runTrainWith is runTrain with another command's part (ext): its flags,
// their checks, and the model it makes of the preset's.
func runTrainWith(ctx context.Context, args []string, stdout, stderr io.Writer, ext *trainExt) (err error) {
	if err := preset.Check(); err != nil {
		return err
	}
	r, help, err := parseTrainWith(args, stdout, ext)
	if help || err != nil {
		return err
	}
	if r.list {
		listPresets(stdout)
		return nil
	}
	if err := r.validate(); err != nil {
		return err
	}
	grp, err := r.dist.join() // nil without -distributed
	if err != nil {
		return err
	}
	defer func() { err = grp.end(err) }()
	stdout = grp.stdout(stdout)
	old, err := checkFreshStart(r.out, r.resume, r.overwrite)
	if err != nil {
		return err
	}
	if err := r.checkPaths(); err != nil {
		return err
	}
	common := r.setup.Common()
	prep, err := r.setup.Prepare(r.data)
	if err != nil {
		return errors.Wrap(err, "train")
	}
	if r.ext != nil {
		if err := r.ext.prepare(r, prep, stdout); err != nil {
			return err
		}
	}
	tr, err := training.New(common.Train, prep.Model, prep.Test)
	if err != nil {
		return errors.Wrap(err, "train")
	}
	defer tr.Close()
	tr.Schedule = common.Schedule()
	if tr.Hook, err = r.prune.hook(r.given, prep.Model, common.Train.Epochs); err != nil {
		return err
	}
	opts := training.RunOptions{Dir: r.out, Keep: r.keep, CheckpointEvery: r.every, Stdout: stdout, Stderr: stderr,
		Extra: map[string]string{training.PresetKey: r.presetEntry.Name}, OnStep: progressOf(tr, stdout, r.logEvery)}
	if r.ext != nil {
		for k, v := range r.ext.extra {
			opts.Extra[k] = v
		}
	}
	if r.resume {
		path, err := tr.Resume(opts)
		if err != nil {
			return errors.Wrap(err, "train: -resume")
		}
		fmt.Fprintf(stdout, "resumed from %s: epoch %d, step %d\n", path, tr.Epoch, tr.Step)
	} else if grp.lead() {
		if common.InitEmbedding != "" {
			n, v, err := tr.InitEmbedding(common.InitEmbedding)
			if err != nil {
				return errors.Wrap(err, "train")
			}
			fmt.Fprintf(stdout, "init-embedding: %d of %d vocabulary rows copied from %s\n", n, v, common.InitEmbedding)
		}
		if err := os.MkdirAll(r.out, 0o755); err != nil {
			return errors.Wrap(err, "train: -out")
		}
		if err := removeAll(old); err != nil {
			return err
		}
		rc := runConfig{Preset: r.presetEntry.Name, Model: r.presetFamily.Kind, Data: r.data, Train: tr.Cfg, Schedule: tr.Schedule,
			Config: prep.Model.Describe().Config, GoVersion: runtime.Version(), Revision: gitRevision(),
			Started: time.Now().UTC().Format(time.RFC3339), Info: prep.Info}
		b, _ := json.MarshalIndent(rc, "", "  ")
		if err := os.WriteFile(filepath.Join(r.out, "config.json"), append(b, '\n'), 0o644); err != nil {
			return errors.Wrap(err, "train")
		}
	}
	if err := grp.attach(tr, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s; %s, %d parameters, %s\n", r.presetEntry.Name, r.presetEntry.About, prep.Summary, countParams(tr.Params), r.out)
	if err := tr.Run(ctx, opts); err != nil {
		return err
	}
	if tr.Hook != nil {
		if err := printSparsity(stdout, tr.Params); err != nil {
			return err
		}
	}
	if prep.Report == nil || !grp.lead() {
		return nil
	}
	return prep.Report(tr, r.out, stdout)
}

// progressOf returns the OnStep of a run: a progress bar (or lines) per
// epoch with the epoch's running mean loss.
func progressOf(tr *training.Trainer, w io.Writer, every int) func(training.StepStats) {
	var bar *progress
	last, sum, n := 0, 0.0, 0
	return func(s training.StepStats) {
		if bar == nil || s.Step <= last {
			bar, sum, n = newProgress(w, every), 0, 0
		}
		last = s.Step
		if !s.Skipped {
			sum += s.Loss
			n++
		}
		bar.step(tr.Epoch+1, s.Step, s.Of, sum/float64(max(n, 1)))
	}
}

// checkFreshStart refuses to start a run afresh in a directory that holds
// another run's checkpoints (their pruning would delete that run's work),
// unless overwrite is set: then it returns those files, for removal once
// the new run is ready to write.
func checkFreshStart(dir string, resume, overwrite bool) ([]string, error) {
	if resume {
		return nil, nil
	}
	old, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.safetensors"))
	if _, err := os.Stat(filepath.Join(dir, checkpoint.BestName)); err == nil {
		old = append(old, filepath.Join(dir, checkpoint.BestName))
	}
	if len(old) == 0 || overwrite {
		return old, nil
	}
	return nil, errors.Errorf("train: %s already holds the checkpoints of a run (%d files, %s among them): "+
		"pass -resume to continue that run, or -overwrite to start afresh and remove them", dir, len(old), filepath.Base(old[0]))
}

func removeAll(paths []string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return errors.Wrap(err, "train: -overwrite")
		}
	}
	return nil
}
