package preset

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
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

// The language-model family: a character or a word model on any text.
func init() {
	register(Family{
		Kind: training.LMKind,
		Data: "UTF-8 text (the first 90% trains, the last 10% tests; wordlm: words split on white space, by lines)",
		Presets: []Preset{{
			Name: "charlm", About: "character language model of the -data text, truncated BPTT",
			New: func() Setup {
				return newLMSetup(training.LMConfig{Model: lm.Config{Embed: 32, Hidden: 128, Cell: cells.LSTMKind, Layers: 1}, Batch: 32, Steps: 35})
			},
		}, {
			Name: "wordlm", About: "word language model of the -data text (each line ends with </s>; the -max-vocab most frequent words), truncated BPTT",
			New: func() Setup {
				s := newLMSetup(training.LMConfig{Model: lm.Config{Embed: 128, Hidden: 256, Cell: cells.LSTMKind, Layers: 2, Dropout: 0.2},
					Batch: 32, Steps: 35, Words: true})
				s.maxVocab, s.minCount = 10_000-data.NumSpecial, 1
				return s
			},
		}},
		EvalData: EvalData(func(m *training.LM, path string) (training.Dataset, error) {
			text, err := readText(path)
			if err != nil {
				return nil, err
			}
			ts, err := m.Text(m.Encode(text))
			return ts, errors.Wrapf(err, "-data %s", path)
		}),
	})
}

// newLMSetup returns a run of a language-model preset with model c.
func newLMSetup(c training.LMConfig) *lmSetup {
	s := &lmSetup{model: c}
	s.common = Common{Train: training.Config{Epochs: 5, Optimizer: "adam", LR: 2e-3, Clip: 5, Seed: 1, Dtype: "float32"},
		LRGamma: 0.5, PlateauFactor: 0.5}
	m := &s.model.Model
	s.Net = Net{Batch: &s.model.Batch, Hidden: &m.Hidden, Embed: &m.Embed, Layers: &m.Layers, Cell: &m.Cell,
		BatchUsage: "parallel streams", LayersUsage: "depth"}
	return s
}

// lmSetup is a run of a language-model preset.
type lmSetup struct {
	Base
	model              training.LMConfig
	maxVocab, minCount int // wordlm
}

// Flags implements Setup.
func (s *lmSetup) Flags(fs *flag.FlagSet) {
	s.Net.Flags(fs)
	Define(fs, Flag{"bptt", "truncated-BPTT window: tokens per stream per step", &s.model.Steps},
		Flag{"dropout", "probability of dropping each output of a layer below the top one (training only)", &s.model.Model.Dropout})
	if s.model.Words {
		Define(fs, Flag{"max-vocab", "keep at most this many words, the most frequent of the training lines (0: all); the rest are <unk>", &s.maxVocab},
			Flag{"min-count", "keep the words seen at least this often in the training lines", &s.minCount})
	}
}

// name is the preset's name, for messages.
func (s *lmSetup) name() string {
	if s.model.Words {
		return "wordlm"
	}
	return "charlm"
}

// Validate implements Setup.
func (s *lmSetup) Validate(given map[string]bool, data string) error {
	if data == "" {
		return errors.Errorf("the %s preset needs -data FILE (any UTF-8 text)", s.name())
	}
	if err := s.Net.Validate(); err != nil {
		return err
	}
	if err := IntIn("bptt", s.model.Steps, 1, MaxBPTT); err != nil {
		return err
	}
	if !(s.model.Model.Dropout >= 0 && s.model.Model.Dropout < 1) {
		return errors.Errorf("-dropout %v: want a probability from 0 to below 1", s.model.Model.Dropout)
	}
	if s.model.Words {
		if err := IntIn("max-vocab", s.maxVocab, 0, MaxVocab); err != nil {
			return err
		}
		if err := IntIn("min-count", s.minCount, 1, MaxExamples); err != nil {
			return err
		}
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
	var vocab *data.Vocab
	var trainIDs, testIDs []int
	var summary, prime string
	if s.model.Words {
		// The first 90% of the lines train; the vocabulary is theirs.
		lines := slices.Collect(strings.Lines(text))
		cut := max(1, len(lines)*9/10)
		train, test := strings.Join(lines[:min(cut, len(lines))], ""), strings.Join(lines[min(cut, len(lines)):], "")
		vocab = data.NewWordVocab([]string{train}, s.minCount)
		if s.maxVocab > 0 {
			vocab = vocab.Top(data.NumSpecial + s.maxVocab)
		}
		trainIDs, testIDs = training.EncodeWordLines(vocab, train), training.EncodeWordLines(vocab, test)
		if len(trainIDs) == 0 {
			return nil, errors.Errorf("-data %s: no words in the first %d of its %d lines (the training split)", path, cut, len(lines))
		}
		summary = fmt.Sprintf("%d words and line ends (vocabulary %d)", len(trainIDs)+len(testIDs), vocab.Len())
		words := strings.Fields(train)
		prime = strings.Join(words[:min(len(words), 3)], " ")
	} else {
		vocab = data.NewCharVocab([]string{text})
		ids := vocab.EncodeChars(text)
		cut := len(ids) * 9 / 10
		trainIDs, testIDs = ids[:cut], ids[cut:]
		summary = fmt.Sprintf("%d characters (vocabulary %d)", len(ids), vocab.Len())
		body := []rune(strings.TrimSpace(text))
		prime = string(body[:min(len(body), 16)])
	}
	m, err := training.NewLM(s.model, vocab, trainIDs)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	test, err := m.Text(testIDs)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	seed := s.common.Train.Seed
	n := 200
	if s.model.Words {
		n = 50
	}
	return &Prepared{
		Model: m, Test: test,
		Info:    map[string]any{"train_tokens": len(trainIDs), "test_tokens": len(testIDs)},
		Summary: summary,
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			out, err := m.Sample(prime, n, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(seed)})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nsample (temperature 0.8) after %q:\n%s\n", prime, out)
			return nil
		},
	}, nil
}
