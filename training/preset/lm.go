package preset

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// MaxBPTT bounds the truncated-BPTT window (-bptt).
const MaxBPTT = 1 << 14

// The language-model family: a character model on any text.
func init() {
	register(Family{
		Kind: training.LMKind,
		Data: "UTF-8 text (the first 90% trains, the last 10% tests)",
		Presets: []Preset{{
			Name: "charlm", About: "character language model of the -data text, truncated BPTT",
			New: func() Setup {
				s := &lmSetup{model: training.LMConfig{Model: lm.Config{Embed: 32, Hidden: 128, Cell: cells.LSTMKind, Layers: 1}, Batch: 32, Steps: 35}}
				s.common = Common{Train: training.Config{Epochs: 5, Optimizer: "adam", LR: 2e-3, Clip: 5, Seed: 1, Dtype: "float32"},
					LRGamma: 0.5, PlateauFactor: 0.5}
				m := &s.model.Model
				s.Net = Net{Batch: &s.model.Batch, Hidden: &m.Hidden, Embed: &m.Embed, Layers: &m.Layers, Cell: &m.Cell,
					BatchUsage: "parallel streams", LayersUsage: "depth"}
				return s
			},
		}},
		EvalData: EvalData(func(m *training.LM, path string) (training.Dataset, error) {
			text, err := readText(path)
			if err != nil {
				return nil, err
			}
			ts, err := m.Text(m.Vocab.EncodeChars(text))
			return ts, errors.Wrapf(err, "-data %s", path)
		}),
	})
}

// lmSetup is a run of a language-model preset.
type lmSetup struct {
	Base
	model training.LMConfig
}

// Flags implements Setup.
func (s *lmSetup) Flags(fs *flag.FlagSet) {
	s.Net.Flags(fs)
	Define(fs, Flag{"bptt", "truncated-BPTT window: tokens per stream per step", &s.model.Steps})
}

// Validate implements Setup.
func (s *lmSetup) Validate(given map[string]bool, data string) error {
	if data == "" {
		return errors.New("the charlm preset needs -data FILE (any UTF-8 text)")
	}
	if err := s.Net.Validate(); err != nil {
		return err
	}
	if err := IntIn("bptt", s.model.Steps, 1, MaxBPTT); err != nil {
		return err
	}
	c := s.model
	c.Model.Vocab = 1 // set from the data; validated with a placeholder here
	return c.Validate()
}

// readText reads a UTF-8 text file.
func readText(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", errors.Wrap(err, "-data")
	}
	defer f.Close()
	text, err := data.ReadCorpus(f)
	return text, errors.Wrapf(err, "-data %s", path)
}

// Prepare implements Setup.
func (s *lmSetup) Prepare(path string) (*Prepared, error) {
	text, err := readText(path)
	if err != nil {
		return nil, err
	}
	vocab := data.NewCharVocab([]string{text})
	ids := vocab.EncodeChars(text)
	cut := len(ids) * 9 / 10
	m, err := training.NewLM(s.model, vocab, ids[:cut])
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	test, err := m.Text(ids[cut:])
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	seed := s.common.Train.Seed
	return &Prepared{
		Model: m, Test: test,
		Info:    map[string]any{"train_tokens": cut, "test_tokens": len(ids) - cut},
		Summary: fmt.Sprintf("%d characters (vocabulary %d)", len(ids), vocab.Len()),
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			body := []rune(strings.TrimSpace(text))
			prime := string(body[:min(len(body), 16)])
			out, err := m.Sample(prime, 200, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(seed)})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nsample (temperature 0.8) after %q:\n%s\n", prime, out)
			return nil
		},
	}, nil
}
