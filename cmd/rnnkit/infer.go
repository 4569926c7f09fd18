package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/preset"
)

// openCheckpoint loads a checkpoint and rebuilds its model and trainer.
func openCheckpoint(path string) (*training.Trainer, *checkpoint.Checkpoint, error) {
	if path == "" {
		return nil, nil, usageError{"-checkpoint FILE is required"}
	}
	c, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, errors.Wrap(err, "-checkpoint")
	}
	tr, err := training.Open(c)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "-checkpoint %s", path)
	}
	return tr, c, nil
}

// evalResult is what eval -json prints.
type evalResult struct {
	Model    string                `json:"model"`
	Preset   string                `json:"preset"`
	Examples int                   `json:"examples"`
	Metrics  map[string]*jsonFloat `json:"metrics"`
}

// jsonFloat is a number that JSON writes as null when NaN or infinite.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if v := float64(f); math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "", "Evaluates any checkpoint of rnnkit train on a data file in its model family's format\n"+
		"(question_answer lines for Seq2Seq models, UTF-8 text for language models) and prints\n"+
		"the family's metrics (docs/models.md, \"Metrics\"). With -json it prints one JSON object:\n"+
		"{\"model\": kind, \"preset\": name, \"examples\": N, \"metrics\": {name: value, ...}}.", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	dataPath := fs.String("data", "", "evaluation data file")
	asJSON := fs.Bool("json", false, "print one JSON object on standard output")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("eval: unexpected argument %q", fs.Arg(0))}
	}
	if *ckpt == "" || *dataPath == "" {
		return usageError{"eval: -checkpoint FILE and -data FILE are required"}
	}
	tr, c, err := openCheckpoint(*ckpt)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	defer tr.Close()
	d := tr.Model.Describe()
	fam, ok := preset.FamilyOf(d.Kind)
	if !ok {
		return errors.Errorf("eval: no family reads data for %q models", d.Kind)
	}
	ds, err := fam.EvalData(tr.Model, *dataPath)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	ms, err := tr.Evaluate(ctx, ds)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	if *asJSON {
		res := evalResult{Model: d.Kind, Preset: c.Meta.Extra[training.PresetKey], Examples: ds.Examples(), Metrics: map[string]*jsonFloat{}}
		for k, v := range ms {
			f := jsonFloat(v)
			res.Metrics[k] = &f
		}
		b, err := json.Marshal(res)
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

func runTranslate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("translate", "", "Reads questions from standard input, one per line, and writes the answers of a\n"+
		"trained Seq2Seq checkpoint: greedy by default, beam search with -beam, sampling with\n"+
		"-temperature (and -topk, -topp, -seed).", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	beam := fs.Int("beam", 0, "beam width (0: greedy or sampling)")
	temp := fs.Float64("temperature", 0, "sample at this temperature (0: greedy)")
	topk := fs.Int("topk", 0, "sample from the k most likely tokens (0: all)")
	topp := fs.Float64("topp", 0, "sample from the smallest set of tokens whose probability reaches p (0: all)")
	seed := fs.Uint64("seed", 1, "seed of the sampler")
	maxLen := fs.Int("maxlen", 0, "longest answer (0: 4 × the question + 8)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("translate: unexpected argument %q", fs.Arg(0))}
	}
	if *beam < 0 || *temp < 0 || *topk < 0 || *topp < 0 || *topp > 1 || *maxLen < 0 {
		return usageError{"translate: -beam, -temperature, -topk, -maxlen must not be negative and -topp must be in [0, 1]"}
	}
	if *beam > 0 && (*temp > 0 || *topk > 0 || *topp > 0) {
		return usageError{"translate: -beam and sampling flags exclude each other"}
	}
	tr, _, err := openCheckpoint(*ckpt)
	if err != nil {
		return errors.Wrap(err, "translate")
	}
	defer tr.Close()
	m, ok := tr.Model.(*training.Seq2Seq)
	if !ok {
		return errors.Errorf("translate: %s holds a %q model, not a Seq2Seq one", *ckpt, tr.Model.Describe().Kind)
	}
	var so *decode.SampleOptions
	if *temp > 0 || *topk > 0 || *topp > 0 {
		t := *temp
		if t == 0 {
			t = 1
		}
		so = &decode.SampleOptions{Temperature: t, TopK: *topk, TopP: *topp, Source: graph.NewSource(*seed)}
	}
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

// stdin is where translate reads questions (a variable for tests).
var stdin io.Reader = os.Stdin

func runSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", "", "Generates text from a trained language model checkpoint (rnnkit train -preset charlm).", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	prime := fs.String("prime", "The ", "text to start from")
	length := fs.Int("length", 300, "characters to generate")
	temp := fs.Float64("temperature", 0.8, "sampling temperature (0: greedy)")
	topk := fs.Int("topk", 0, "sample from the k most likely characters (0: all)")
	topp := fs.Float64("topp", 0, "nucleus sampling threshold (0: off)")
	seed := fs.Uint64("seed", 1, "seed of the sampler")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 || *ckpt == "" {
		return usageError{"sample: -checkpoint FILE is required, and no arguments"}
	}
	switch {
	case *length < 1 || *length > maxSample:
		return usageError{fmt.Sprintf("sample: -length %d: want 1 to %d", *length, maxSample)}
	case !(*temp >= 0) || math.IsInf(*temp, 0):
		return usageError{fmt.Sprintf("sample: -temperature %v: want a finite value, at least 0", *temp)}
	case *topk < 0:
		return usageError{fmt.Sprintf("sample: -topk %d must not be negative", *topk)}
	case !(*topp >= 0 && *topp <= 1):
		return usageError{fmt.Sprintf("sample: -topp %v: want a value in [0, 1]", *topp)}
	case *prime == "":
		return usageError{"sample: -prime is empty"}
	}
	tr, _, err := openCheckpoint(*ckpt)
	if err != nil {
		return errors.Wrap(err, "sample")
	}
	defer tr.Close()
	m, ok := tr.Model.(*training.LM)
	if !ok {
		return errors.Errorf("sample: %s holds a %q model, not a language model", *ckpt, tr.Model.Describe().Kind)
	}
	var so *decode.SampleOptions
	if *temp > 0 {
		so = &decode.SampleOptions{Temperature: *temp, TopK: *topk, TopP: *topp, Source: graph.NewSource(*seed)}
	}
	s, err := m.Sample(*prime, *length, so)
	if err != nil {
		return errors.Wrap(err, "sample")
	}
	fmt.Fprintln(stdout, *prime+s)
	return nil
}

// maxSample bounds sample's -length.
const maxSample = 1 << 20
