package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training"
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
	name    string // the command, in error messages
	define  func(fs *flag.FlagSet)
	check   func(r *runFlags) []error
	prepare func(p *preset.Prepared, stdout io.Writer) error
}

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
	ext := &trainExt{
		name: "distill",
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
			if r.resume {
				errs = append(errs, errors.New("-resume: a distillation run is not resumed (its checkpoints do not hold the teacher's state)"))
			}
			if r.given["beam"] && !d.sequenceLevel {
				errs = append(errs, errors.New("-beam applies only with -sequence-level"))
			}
			if d.sequenceLevel && r.presetFamily.Kind != training.Seq2SeqKind {
				errs = append(errs, errors.Errorf("-sequence-level applies to Seq2Seq presets, not %s (%s)", r.presetEntry.Name, r.presetFamily.Kind))
			}
			return append(errs, intIn("beam", d.beam, 0, maxBeam))
		},
		prepare: func(p *preset.Prepared, stdout io.Writer) error {
			var err error
			if teacher, _, err = openCheckpoint(d.teacher); err != nil {
				return errors.Wrap(err, "distill: -teacher")
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
				fmt.Fprintf(stdout, "sequence-level: the teacher's beam-%d answers replace %d of %d training answers\n", d.beam, n, s.TrainingPairs())
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
