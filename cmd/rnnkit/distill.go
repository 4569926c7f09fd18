package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/distill"
	"github.com/rnnkit/rnnkit/training/preset"
)

func init() {
	commands["distill"] = command{"train a smaller student preset from a trained teacher checkpoint (knowledge distillation)", runDistill}
}

// trainExt is another command's part in train's flow: flags of its own,
// their checks, and what it does to the prepared run (distill wraps the
// preset's model).
type trainExt struct {
	name    string // the command, in error messages and its usage
	about   string // what the command does, before train's own text in its usage
	define  func(fs *flag.FlagSet)
	check   func(r *runFlags) []error
	prepare func(r *runFlags, p *preset.Prepared, stdout io.Writer) error
	extra   map[string]string // written into every checkpoint's Meta.Extra
}

// distillKey is the Meta.Extra key under which a distillation run's
// checkpoints record its settings and its teacher's checksum.
const distillKey = "distill"

// distillFlags are distill's own flags.
type distillFlags struct {
	teacher       string
	cfg           distill.Config
	sequenceLevel bool
	beam          int
}

func runDistill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := distillFlags{cfg: distill.Config{Alpha: 0.5, Temperature: 2}, beam: 5}
	var teacher *training.Trainer
	defer func() {
		if teacher != nil {
			teacher.Close()
		}
	}()
	var ext *trainExt
	ext = &trainExt{
		name: "distill",
		about: "Trains the preset's model as a student of -teacher (a trained checkpoint of the same family and\n" +
			"vocabulary): word-level distillation mixes the teacher's softened distribution (-alpha,\n" +
			"-temperature) into the loss; -sequence-level trains on the teacher's beam answers instead.\n" +
			"Everything else is rnnkit train's:",
		define: func(fs *flag.FlagSet) {
			fs.StringVar(&d.teacher, "teacher", "", "the teacher: a checkpoint of rnnkit train of the preset's family, trained on the same data (distill)")
			fs.Float64Var(&d.cfg.Alpha, "alpha", d.cfg.Alpha, "weight of the teacher's softened distribution against the data, in [0, 1] (distill)")
			fs.Float64Var(&d.cfg.Temperature, "temperature", d.cfg.Temperature, "temperature T of the softened distributions, > 0 (distill)")
			fs.BoolVar(&d.sequenceLevel, "sequence-level", false, "train on the teacher's beam-search answers instead of the references (Seq2Seq presets; distill)")
			fs.IntVar(&d.beam, "beam", d.beam, "beam width of -sequence-level (0: greedy; distill)")
		},
		check: func(r *runFlags) []error {
			errs := []error{nonEmpty("teacher", d.teacher), floatIn("alpha", d.cfg.Alpha, 0, 1), positive("temperature", d.cfg.Temperature),
				floatIn("temperature", d.cfg.Temperature, 0, maxTemperature)}
			if r.given["beam"] && !d.sequenceLevel {
				errs = append(errs, errors.New("-beam applies only with -sequence-level"))
			}
			if d.sequenceLevel && r.presetFamily.Kind != training.Seq2SeqKind {
				errs = append(errs, errors.Errorf("-sequence-level applies to Seq2Seq presets, not %s (%s)", r.presetEntry.Name, r.presetFamily.Kind))
			}
			return append(errs, intIn("beam", d.beam, 0, maxBeam))
		},
		prepare: func(r *runFlags, p *preset.Prepared, stdout io.Writer) error {
			var err error
			if teacher, _, err = openCheckpoint(d.teacher); err != nil {
				return errors.Wrap(err, "distill: -teacher")
			}
			if ext.extra, err = d.record(); err != nil {
				return err
			}
			if r.resume {
				if err := sameDistillation(r.out, ext.extra[distillKey]); err != nil {
					return err
				}
			}
			if d.sequenceLevel {
				s, ok := p.Model.(*training.Seq2Seq)
				if !ok {
					return errors.Errorf("distill: -sequence-level needs a Seq2Seq student, not %s", p.Model.Describe().Kind)
				}
				n, err := distill.Relabel(s, teacher, d.beam)
				if err != nil {
					return errors.Wrap(err, "distill: -teacher")
				}
				how := fmt.Sprintf("beam-%d", d.beam)
				if d.beam == 0 {
					how = "greedy"
				}
				fmt.Fprintf(stdout, "sequence-level: the teacher's %s answers replace %d of %d training answers\n", how, n, s.TrainingPairs())
			}
			m, err := distill.New(p.Model, teacher, d.cfg)
			if err != nil {
				return errors.Wrap(err, "distill: -teacher")
			}
			p.Model = m
			fmt.Fprintf(stdout, "distilling from %s (%d parameters): alpha %g, temperature %g\n", d.teacher, countParams(teacher.Params), d.cfg.Alpha, d.cfg.Temperature)
			return nil
		},
	}
	return runTrainWith(ctx, args, stdout, stderr, ext)
}

// maxTemperature bounds -temperature: the soft term is scaled by T².
const maxTemperature = 100

// record returns what a distillation run's checkpoints record of it: its
// settings and the teacher file's SHA-256.
func (d *distillFlags) record() (map[string]string, error) {
	b, err := os.ReadFile(d.teacher)
	if err != nil {
		return nil, errors.Wrap(err, "distill: -teacher")
	}
	js, err := json.Marshal(struct {
		distill.Config
		SequenceLevel bool   `json:"sequence_level,omitempty"`
		Beam          int    `json:"beam,omitempty"`
		Teacher       string `json:"teacher_sha256"`
	}{d.cfg, d.sequenceLevel, d.beam, fmt.Sprintf("%x", sha256.Sum256(b))})
	if err != nil {
		return nil, err
	}
	return map[string]string{distillKey: string(js)}, nil
}

// sameDistillation checks that the newest checkpoint in dir was written
// by a distillation with the settings and teacher recorded in want.
func sameDistillation(dir, want string) error {
	c, path, err := (&checkpoint.Manager{Dir: dir}).Latest()
	if err != nil {
		return errors.Wrap(err, "distill: -resume")
	}
	if got := c.Meta.Extra[distillKey]; got != want {
		if got == "" {
			got = "none: not a distillation run"
		}
		return errors.Errorf("distill: -resume: %s was written by another distillation (%.300s); this run: %s", path, got, want)
	}
	return nil
}
