package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/hred"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/preset"
)

// openCheckpoint loads a checkpoint and rebuilds its model and trainer.
func openCheckpoint(path string) (*training.Trainer, *checkpoint.Checkpoint, error) {
	if path == "" {
		return nil, nil, usageError{"-checkpoint FILE is required"}
	}
	if err := inputFile("checkpoint", path); err != nil {
		return nil, nil, err
	}
	c, err := loadAnyCheckpoint(path) // int8 files too (quantize.go)
	if err != nil {
		return nil, nil, errors.Wrap(err, "-checkpoint")
	}
	tr, err := openTrainer(path, c)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "-checkpoint %s", path)
	}
	return tr, c, nil
}

// evalResult is what eval -json prints.
type evalResult struct {
	Model    string           `json:"model"`
	Preset   string           `json:"preset"`
	Examples int              `json:"examples"`
	Metrics  training.Metrics `json:"metrics"`
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "", "Evaluates any checkpoint of rnnkit train on a data file in its model family's format\n"+
		"(question_answer lines for Seq2Seq models, UTF-8 text for language models) and prints\n"+
		"the family's metrics (docs/models.md, \"Metrics\"). With -json it prints one JSON object:\n"+
		"{\"model\": kind, \"preset\": name, \"examples\": N, \"metrics\": {name: value, ...}}.", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	dataPath := fs.String("data", "", "evaluation data file")
	asJSON := fs.Bool("json", false, "print one JSON object on standard output")
	iw := fs.Int("iw-samples", 0, "samples of z per example for the importance-weighted bound (a vhred or sentence-vae checkpoint; default: its own setting)")
	if help, err := parseOnlyFlags(fs, args, "eval"); help || err != nil {
		return err
	}
	iwGiven := false
	fs.Visit(func(f *flag.Flag) { iwGiven = iwGiven || f.Name == "iw-samples" })
	cs := []error{nonEmpty("checkpoint", *ckpt), nonEmpty("data", *dataPath)}
	if iwGiven {
		cs = append(cs, intIn("iw-samples", *iw, 1, training.MaxIWSamples))
	}
	if err := checks("eval", cs...); err != nil {
		return err
	}
	if err := inputFile("data", *dataPath); err != nil {
		return errors.Wrap(err, "eval")
	}
	tr, c, err := openCheckpoint(*ckpt)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	defer tr.Close()
	if iwGiven && !setIWSamples(tr.Model, *iw) {
		return usageError{fmt.Sprintf("eval: -iw-samples applies to a checkpoint with a latent variable (vhred, sentence-vae), not a %s model", tr.Model.Describe().Kind)}
	}
	d := tr.Model.Describe()
	fam, ok := preset.FamilyOf(d.Kind)
	if !ok {
		return errors.Errorf("eval: no family reads data for %q models", d.Kind)
	}
	ds, err := fam.EvalData(tr.Model, *dataPath)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	ms, err := evaluateAny(ctx, *ckpt, tr, ds) // int8 LMs on the int8 engine (quantize.go)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	if *asJSON {
		b, err := json.Marshal(evalResult{Model: d.Kind, Preset: c.Meta.Extra[training.PresetKey], Examples: ds.Examples(), Metrics: ms})
		if err != nil {
			return errors.Wrap(err, "eval")
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	line := fmt.Sprintf("%d examples", ds.Examples())
	for i, m := range d.Metrics {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		line += sep + training.FormatMetric(m, ms[m.Name])
	}
	fmt.Fprintln(stdout, line)
	return nil
}

// setIWSamples sets the importance samples of a model with a latent
// variable (a VHRED, a sentence VAE with a latent code) and reports
// whether m is one.
func setIWSamples(m training.Model, k int) bool {
	switch x := m.(type) {
	case *training.Dialog:
		if x.Cfg.Model.Kind == hred.VHRED {
			x.Cfg.IWSamples = k
			return true
		}
	case *training.VAE:
		if x.Cfg.Model.Latent > 0 {
			x.Cfg.IWSamples = k
			return true
		}
	}
	return false
}

func runTranslate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("translate", "", "Reads questions from standard input, one per line, and writes the answers of a\n"+
		"trained Seq2Seq checkpoint: greedy by default, beam search with -beam, sampling with\n"+
		"-temperature (and -topk, -topp, -seed).", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	beam := fs.Int("beam", 0, "beam width (0: greedy or sampling)")
	maxLen := fs.Int("maxlen", 0, "longest answer (0: 4 × the question + 8)")
	var smp sampling
	smp.flags(fs, 0, "sample at this temperature (0: greedy)", "tokens")
	if help, err := parseOnlyFlags(fs, args, "translate"); help || err != nil {
		return err
	}
	if err := checks("translate", append(smp.check(), intIn("beam", *beam, 0, maxBeam), intIn("maxlen", *maxLen, 0, maxDecode))...); err != nil {
		return err
	}
	so := smp.options(true)
	if *beam > 0 && so != nil {
		return usageError{"translate: -beam and sampling flags exclude each other"}
	}
	tr, m, err := openModel[translator]("translate", *ckpt, "a Seq2Seq model")
	if err != nil {
		return err
	}
	defer tr.Close()
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		if err := ctx.Err(); err != nil {
			return err
		}
		q := strings.TrimRight(sc.Text(), " \r")
		if q == "" {
			fmt.Fprintln(stdout)
			continue
		}
		out, err := m.TranslateWith(q, decode.Options{MaxLen: *maxLen}, so, *beam)
		if err != nil {
			return errors.Wrapf(err, "translate: line %d", line)
		}
		fmt.Fprintln(stdout, out[0])
	}
	return errors.Wrap(sc.Err(), "translate: reading standard input")
}

// sampling is the flags of a command that samples.
type sampling struct {
	temp, topp float64
	topk       int
	seed       uint64
}

// flags defines -temperature (with its default and usage), -topk, -topp
// and -seed on fs; unit names what is sampled.
func (s *sampling) flags(fs *flag.FlagSet, temp float64, tempUsage, unit string) {
	fs.Float64Var(&s.temp, "temperature", temp, tempUsage)
	fs.IntVar(&s.topk, "topk", 0, "sample from the k most likely "+unit+" (0: all)")
	fs.Float64Var(&s.topp, "topp", 0, "sample from the smallest set of "+unit+" whose probability reaches p (0: all)")
	fs.Uint64Var(&s.seed, "seed", 1, "seed of the sampler")
}

// check returns the errors of the flags' values.
func (s *sampling) check() []error {
	return []error{floatIn("temperature", s.temp, 0, math.MaxFloat64), intIn("topk", s.topk, 0, math.MaxInt), floatIn("topp", s.topp, 0, 1)}
}

// options returns the sampling options, nil for greedy decoding: when
// the temperature is 0 and, unless anyFlag, whatever -topk and -topp say
// (with anyFlag, -topk or -topp alone sample at temperature 1).
func (s *sampling) options(anyFlag bool) *decode.SampleOptions {
	t := s.temp
	if t == 0 && anyFlag && (s.topk > 0 || s.topp > 0) {
		t = 1
	}
	if t == 0 {
		return nil
	}
	return &decode.SampleOptions{Temperature: t, TopK: s.topk, TopP: s.topp, Source: graph.NewSource(s.seed)}
}

// openModel opens a checkpoint whose model must be an M (what names it).
func openModel[M training.Model](cmd, path, what string) (*training.Trainer, M, error) {
	var none M
	tr, _, err := openCheckpoint(path)
	if err != nil {
		return nil, none, errors.Wrap(err, cmd)
	}
	m, ok := tr.Model.(M)
	if !ok {
		kind := tr.Model.Describe().Kind
		tr.Close()
		return nil, none, errors.Errorf("%s: %s holds a %q model, not %s", cmd, path, kind, what)
	}
	return tr, m, nil
}

// translator is a model translate can answer with: a recurrent Seq2Seq
// (training.Seq2Seq) or a Transformer (training.Transformer).
type translator interface {
	training.Model
	TranslateWith(q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error)
}

// stdin is where translate reads questions (a variable for tests).
var stdin io.Reader = os.Stdin

func runSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", "", "Generates text from a trained language model checkpoint (rnnkit train -preset charlm or wordlm).", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	prime := fs.String("prime", "The ", "text to start from")
	length := fs.Int("length", 300, "characters (a word model: words and line ends) to generate")
	var smp sampling
	smp.flags(fs, 0.8, "sampling temperature (0: greedy)", "characters")
	if help, err := parseOnlyFlags(fs, args, "sample"); help || err != nil {
		return err
	}
	if err := checks("sample", append(smp.check(), intIn("length", *length, 1, maxSample), nonEmpty("prime", *prime))...); err != nil {
		return err
	}
	tr, m, err := openModel[*training.LM]("sample", *ckpt, "a language model")
	if err != nil {
		return err
	}
	defer tr.Close()
	s, err := m.Sample(*prime, *length, smp.options(false))
	if err != nil {
		return errors.Wrap(err, "sample")
	}
	fmt.Fprintln(stdout, *prime+s)
	return nil
}
