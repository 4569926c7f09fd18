package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/metrics"
	"github.com/rnnkit/rnnkit/training/plot"
)

// lmEpoch is one line of a language model's metrics.jsonl.
type lmEpoch struct {
	Epoch          int     `json:"epoch"`
	TrainLoss      float64 `json:"train_loss"`
	TestLoss       float64 `json:"test_loss"`
	TestPerplexity float64 `json:"test_perplexity"`
	TestBitsPerCh  float64 `json:"test_bits_per_char"`
	EpochSeconds   float64 `json:"epoch_seconds"`
	Steps          int     `json:"steps"`
}

func runTrainLM(ctx context.Context, fs *flag.FlagSet, o *overrides, dataPath, out string, resume, overwrite bool, keep, every, logEvery int, stdout, stderr io.Writer) error {
	if dataPath == "" {
		return usageError{"train: the charlm preset needs -data FILE (any UTF-8 text)"}
	}
	cfg := charlmPreset()
	given := o.set(fs, fields{&cfg.Epochs, &cfg.Batch, &cfg.Model.Hidden, &cfg.Model.Embed, &cfg.Model.Layers,
		&cfg.LR, &cfg.Clip, &cfg.Seed, &cfg.Optimizer, &cfg.Dtype, &cfg.Model.Cell})
	for _, name := range []string{"decoder", "score", "reverse"} {
		if given[name] {
			return usageError{fmt.Sprintf("train: -%s does not apply to the charlm preset", name)}
		}
	}
	cfg.Model.Vocab = 1
	cfg.SkipNonFinite = o.skipNonFinite
	if cfg.Epochs < 1 {
		return usageError{fmt.Sprintf("train: -epochs %d must be at least 1", cfg.Epochs)}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{"train: " + err.Error()}
	}
	if out == "" {
		out = filepath.Join("runs", fmt.Sprintf("charlm-%d", cfg.Seed))
	}
	old, err := checkFreshStart(out, resume, overwrite)
	if err != nil {
		return err
	}
	f, err := os.Open(dataPath)
	if err != nil {
		return errors.Wrap(err, "train")
	}
	text, err := data.ReadCorpus(f)
	f.Close()
	if err != nil {
		return errors.Wrapf(err, "train: %s", dataPath)
	}
	vocab := data.NewCharVocab([]string{text})
	ids := vocab.EncodeChars(text)
	cut := len(ids) * 9 / 10
	tr, err := training.NewLM(cfg, vocab, ids[:cut], ids[cut:])
	if err != nil {
		return errors.Wrapf(err, "train: %s", dataPath)
	}
	defer tr.Close()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return errors.Wrap(err, "train")
	}
	mgr := newManager(out, keep, stderr)
	metricsPath := filepath.Join(out, "metrics.jsonl")
	var history []lmEpoch
	if resume {
		c, path, err := mgr.Latest()
		if err != nil {
			return errors.Wrap(err, "train: -resume")
		}
		if err := tr.Restore(c); err != nil {
			return errors.Wrapf(err, "train: resuming from %s", path)
		}
		fmt.Fprintf(stdout, "resumed from %s: epoch %d, step %d\n", path, tr.Epoch, tr.Step)
	} else {
		rc := map[string]any{"preset": "charlm", "data": dataPath, "train": tr.Cfg, "go_version": runtime.Version(),
			"git_revision": gitRevision(), "started": time.Now().UTC().Format(time.RFC3339), "train_tokens": cut, "test_tokens": len(ids) - cut}
		if err := removeAll(old); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(rc, "", "  ")
		if err := os.WriteFile(filepath.Join(out, "config.json"), append(b, '\n'), 0o644); err != nil {
			return errors.Wrap(err, "train")
		}
		os.Remove(metricsPath)
	}
	fmt.Fprintf(stdout, "charlm: %s, %d characters (vocabulary %d), %d parameters, %s\n", dataPath, len(ids), vocab.Len(), countParams(tr.Params), out)
	save := func() error {
		c, err := tr.Checkpoint()
		if err != nil {
			return err
		}
		_, err = mgr.Save(c)
		return err
	}
	for tr.Epoch < cfg.Epochs {
		start := time.Now()
		steps0 := tr.Step
		sum, n := 0.0, 0
		bar := newProgress(stdout, logEvery)
		onStep := func(s training.StepStats) {
			if s.Skipped {
				fmt.Fprintf(stderr, "rnnkit train: epoch %d, window %d of %d (step %d): non-finite loss or gradient, window skipped (-skip-nonfinite)\n", tr.Epoch+1, s.Step, s.Of, tr.Step)
			} else {
				sum += s.Loss
				n++
			}
			bar.step(tr.Epoch+1, s.Step, s.Of, sum/float64(max(n, 1)))
		}
		stop := func() bool {
			if every > 0 && tr.Step%every == 0 {
				if err := save(); err != nil {
					fmt.Fprintln(stderr, "rnnkit train: checkpoint:", err)
				}
			}
			return false
		}
		loss, _, err := tr.TrainEpoch(ctx, onStep, stop)
		if err != nil {
			return trainingStopped(err, mgr)
		}
		test, err := tr.Evaluate()
		if err != nil {
			return err
		}
		st := lmEpoch{Epoch: tr.Epoch, TrainLoss: loss, TestLoss: test, TestPerplexity: metrics.Perplexity(test),
			TestBitsPerCh: metrics.BitsPerToken(test), EpochSeconds: time.Since(start).Seconds(), Steps: tr.Step - steps0}
		history = append(history, st)
		b, _ := json.Marshal(st)
		mf, err := os.OpenFile(metricsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return errors.Wrap(err, "metrics")
		}
		_, err = mf.Write(append(b, '\n'))
		if cerr := mf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return errors.Wrap(err, "metrics")
		}
		fmt.Fprintf(stdout, "epoch %d: train loss %.4f, test loss %.4f (%.3f bits/char, perplexity %.2f), %.1f s\n",
			st.Epoch, st.TrainLoss, st.TestLoss, st.TestBitsPerCh, st.TestPerplexity, st.EpochSeconds)
		if err := save(); err != nil {
			return err
		}
		c, err := tr.Checkpoint()
		if err != nil {
			return err
		}
		if _, err := mgr.SaveBest(c, -test, true); err != nil {
			return err
		}
		var x, y1, y2 []float64
		for _, h := range history {
			if !math.IsNaN(h.TestLoss) {
				x, y1, y2 = append(x, float64(h.Epoch)), append(y1, h.TrainLoss), append(y2, h.TestLoss)
			}
		}
		if len(x) > 0 {
			if err := plot.Lines(filepath.Join(out, "loss.png"), "loss", "epoch", "nats per character", []plot.Series{{Name: "train", X: x, Y: y1}, {Name: "test", X: x, Y: y2}}, false); err != nil {
				fmt.Fprintln(stderr, "rnnkit train: loss.png:", err)
			}
		}
	}
	body := []rune(strings.TrimSpace(text))
	prime := string(body[:min(len(body), 16)])
	s, err := tr.Sample(prime, 200, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(cfg.Seed)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nsample (temperature 0.8) after %q:\n%s\n", prime, s)
	return nil
}

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
	if *length < 1 || *temp < 0 || *topk < 0 || *topp < 0 || *topp > 1 {
		return usageError{"sample: -length must be positive, -temperature and -topk not negative, -topp in [0, 1]"}
	}
	c, err := checkpoint.Load(*ckpt)
	if err != nil {
		return err
	}
	if kind := c.Meta.Extra["kind"]; kind != "lm" {
		return errors.Errorf("sample: %s holds a %q model, not a language model", *ckpt, kind)
	}
	var cfg training.LMConfig
	if err := json.Unmarshal(c.Meta.Model, &cfg); err != nil {
		return errors.Wrap(err, "sample: checkpoint config")
	}
	v := &data.Vocab{}
	if err := json.Unmarshal(c.Meta.Vocab, v); err != nil {
		return errors.Wrap(err, "sample: checkpoint vocabulary")
	}
	if v.Len() != cfg.Model.Vocab {
		return errors.Errorf("sample: vocabulary of %d for a model of %d", v.Len(), cfg.Model.Vocab)
	}
	var so *decode.SampleOptions
	if *temp > 0 {
		so = &decode.SampleOptions{Temperature: *temp, TopK: *topk, TopP: *topp, Source: graph.NewSource(*seed)}
	}
	s, err := training.SampleLM(c.Params, cfg.Model, v, *prime, *length, so)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, *prime+s)
	return nil
}
