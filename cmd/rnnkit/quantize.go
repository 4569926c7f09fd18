package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/quantize"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/metrics"
	"github.com/rnnkit/rnnkit/training/preset"
)

func init() {
	commands["quantize"] = command{"int8 post-training dynamic quantization of a checkpoint, with its metrics before and after on -data", runQuantize}
}

// quantizeResult is what quantize -json prints.
type quantizeResult struct {
	Model      string           `json:"model"`
	Out        string           `json:"out"`
	Matrices   int              `json:"int8_matrices"`
	Vectors    int              `json:"float32_tensors"`
	FloatBytes int64            `json:"float_file_bytes"`
	ParamBytes int64            `json:"float32_param_bytes"`
	Int8Bytes  int64            `json:"int8_file_bytes"`
	Examples   int              `json:"examples,omitempty"`
	Before     training.Metrics `json:"before,omitempty"`
	After      training.Metrics `json:"after,omitempty"`
	Engine     string           `json:"after_engine,omitempty"`
}

func runQuantize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("quantize", "", "Quantizes a trained checkpoint to int8 after training (dynamic quantization, as\n"+
		"PyTorch's quantize_dynamic): every weight matrix int8 with a float32 scale per row,\n"+
		"biases float32, activations quantized per row at run time; the file layout is in\n"+
		"docs/compression.md. With -data it evaluates the model before and after (language\n"+
		"models on the int8 engine, other families on the dequantized weights) and prints both.\n"+
		"eval, sample, translate and classify read the int8 file as they read a float one.", stderr)
	ckpt := fs.String("checkpoint", "", "float checkpoint to quantize (.safetensors)")
	out := fs.String("out", "", "int8 checkpoint to write (.safetensors)")
	dataPath := fs.String("data", "", "evaluation data file in the model family's format (optional)")
	asJSON := fs.Bool("json", false, "print one JSON object on standard output")
	if help, err := parseOnlyFlags(fs, args, "quantize"); help || err != nil {
		return err
	}
	if err := checks("quantize", nonEmpty("checkpoint", *ckpt), nonEmpty("out", *out)); err != nil {
		return err
	}
	if err := inputFile("checkpoint", *ckpt); err != nil {
		return errors.Wrap(err, "quantize")
	}
	if *dataPath != "" {
		if err := inputFile("data", *dataPath); err != nil {
			return errors.Wrap(err, "quantize")
		}
	}
	if err := outputFile("out", *out); err != nil {
		return errors.Wrap(err, "quantize")
	}
	if a, b := absPath(*ckpt), absPath(*out); a == b {
		return usageError{"quantize: -out is the -checkpoint file; write the int8 checkpoint elsewhere"}
	}
	if quantize.IsInt8(*ckpt) {
		return errors.Errorf("quantize: -checkpoint %s is already an int8 checkpoint", *ckpt)
	}
	tr, c, err := openCheckpoint(*ckpt)
	if err != nil {
		return errors.Wrap(err, "quantize")
	}
	defer tr.Close()
	f, err := quantize.FromCheckpoint(c)
	if err != nil {
		return errors.Wrapf(err, "quantize: -checkpoint %s", *ckpt)
	}
	b, err := f.Marshal()
	if err != nil {
		return errors.Wrap(err, "quantize")
	}
	d := tr.Model.Describe()
	res := quantizeResult{Model: d.Kind, Out: *out, Matrices: len(f.Int8), Vectors: len(f.Float), Int8Bytes: int64(len(b))}
	if fi, err := os.Stat(*ckpt); err == nil {
		res.FloatBytes = fi.Size()
	}
	for _, name := range c.Params.Names() {
		t, _ := c.Params.Get(name)
		res.ParamBytes += 4 * int64(t.Shape().TotalSize())
	}
	if *dataPath != "" {
		fam, ok := preset.FamilyOf(d.Kind)
		if !ok {
			return errors.Errorf("quantize: no family reads data for %q models", d.Kind)
		}
		ds, err := fam.EvalData(tr.Model, *dataPath)
		if err != nil {
			return errors.Wrap(err, "quantize")
		}
		res.Examples = ds.Examples()
		if res.Before, err = tr.Evaluate(ctx, ds); err != nil {
			return errors.Wrap(err, "quantize: evaluating the float model")
		}
		if res.After, res.Engine, err = evaluateInt8(ctx, f, *dataPath); err != nil {
			return errors.Wrap(err, "quantize: evaluating the int8 model")
		}
	}
	if err := f.Save(*out); err != nil {
		return err
	}
	if *asJSON {
		jb, err := json.Marshal(res)
		if err != nil {
			return errors.Wrap(err, "quantize")
		}
		fmt.Fprintf(stdout, "%s\n", jb)
		return nil
	}
	fmt.Fprintf(stdout, "%s: %d matrices int8 (a float32 scale per row), %d tensors float32: %s, %.2f× the float32 parameters' %s (the float checkpoint file, optimiser state included: %s)\n",
		*out, res.Matrices, res.Vectors, mib(res.Int8Bytes), float64(res.Int8Bytes)/float64(max(res.ParamBytes, 1)), mib(res.ParamBytes), mib(res.FloatBytes))
	if *dataPath != "" {
		for _, row := range []struct {
			name string
			ms   training.Metrics
		}{{"float", res.Before}, {"int8", res.After}} {
			line := fmt.Sprintf("  %-5s %d examples", row.name, res.Examples)
			for i, m := range d.Metrics {
				sep := ", "
				if i == 0 {
					sep = ": "
				}
				line += sep + training.FormatMetric(m, row.ms[m.Name])
			}
			fmt.Fprintln(stdout, line)
		}
		fmt.Fprintf(stdout, "  (int8 evaluated %s)\n", res.Engine)
	}
	return nil
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// loadAnyCheckpoint loads a float checkpoint, or an int8 one as the float
// checkpoint of its dequantized weights (so every command that opens a
// checkpoint opens an int8 one).
func loadAnyCheckpoint(path string) (*checkpoint.Checkpoint, error) {
	if !quantize.IsInt8(path) {
		return checkpoint.Load(path)
	}
	f, err := quantize.Load(path)
	if err != nil {
		return nil, err
	}
	return f.Checkpoint()
}

// openTrainer opens the checkpoint c loaded from path: an int8 one has no
// optimiser state.
func openTrainer(path string, c *checkpoint.Checkpoint) (*training.Trainer, error) {
	if quantize.IsInt8(path) {
		return training.OpenWeights(c)
	}
	return training.Open(c)
}

// evaluateAny evaluates the checkpoint at path on ds: an int8 language
// model on the int8 engine, anything else with the trainer.
func evaluateAny(ctx context.Context, path string, tr *training.Trainer, ds training.Dataset) (training.Metrics, error) {
	if lmm, ok := tr.Model.(*training.LM); ok && quantize.IsInt8(path) {
		if ts, ok := ds.(*training.TextSet); ok {
			f, err := quantize.Load(path)
			if err != nil {
				return nil, err
			}
			m, err := quantize.NewLM(f, lmm.Cfg.Model)
			if err == nil {
				return lmMetrics(ctx, m, ts)
			}
			if !errors.Is(err, quantize.ErrUnsupported) {
				return nil, err
			}
		}
	}
	return tr.Evaluate(ctx, ds)
}

// lmMetrics is training.LM.Evaluate's metrics computed by the int8 engine.
func lmMetrics(ctx context.Context, m *quantize.LM, ts *training.TextSet) (training.Metrics, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	loss, err := m.Loss(ts.Chunks())
	if err != nil {
		return nil, err
	}
	return training.Metrics{training.MetricLoss: loss, training.MetricPerplexity: metrics.Perplexity(loss),
		training.MetricBitsPerChar: metrics.BitsPerToken(loss)}, nil
}

// evaluateInt8 evaluates the int8 file f on the data file: a language
// model on the int8 engine, other models on the dequantized weights.
func evaluateInt8(ctx context.Context, f *quantize.File, dataPath string) (training.Metrics, string, error) {
	c, err := f.Checkpoint()
	if err != nil {
		return nil, "", err
	}
	tr, err := training.OpenWeights(c)
	if err != nil {
		return nil, "", err
	}
	defer tr.Close()
	fam, _ := preset.FamilyOf(tr.Model.Describe().Kind)
	ds, err := fam.EvalData(tr.Model, dataPath)
	if err != nil {
		return nil, "", err
	}
	if lmm, ok := tr.Model.(*training.LM); ok {
		m, err := quantize.NewLM(f, lmm.Cfg.Model)
		if err == nil {
			ms, err := lmMetrics(ctx, m, ds.(*training.TextSet))
			return ms, "on the int8 engine (int8 products)", err
		}
		if !errors.Is(err, quantize.ErrUnsupported) {
			return nil, "", err
		}
	}
	ms, err := tr.Evaluate(ctx, ds)
	return ms, "with its weights dequantized (float products)", err
}
