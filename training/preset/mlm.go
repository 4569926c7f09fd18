package preset

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// The masked-language-model family: an encoder-only Transformer trained
// with BERT's masking on the lines of any text file (-data).
func init() {
	register(Family{
		Kind: training.MLMKind,
		Data: "UTF-8 text, one sentence (or passage) a line, words separated by white space",
		Presets: []Preset{{Name: "mlm", About: "masked language model (BERT's masking) of the -data text, encoder-only Transformer", New: func() Setup {
			s := &mlmSetup{model: training.MLMConfig{
				Model: transformer.MLMConfig{Layers: 2, MaxLen: 32,
					Layer: transformer.LayerConfig{Embed: 128, Heads: 4, FF: 512, Activation: transformer.GELU, NormFirst: true, Dropout: 0.1}},
				Batch: 32, BucketWidth: 4, Xavier: true,
			}, minCount: 2}
			s.common = Common{Train: training.Config{Epochs: 10, Optimizer: "adam", LR: 5e-4, Clip: 5, Seed: 1, Dtype: "float32"},
				LRGamma: 0.5, PlateauFactor: 0.5}
			return s
		}}},
		EvalData: EvalData(func(m *training.MLM, path string) (training.Dataset, error) {
			lines, err := readLines(path)
			if err != nil {
				return nil, err
			}
			return m.Sequences(lines)
		}),
	})
}

// mlmSetup is a run of the mlm preset.
type mlmSetup struct {
	Base
	model    training.MLMConfig
	minCount int
}

// Flags implements Setup.
func (s *mlmSetup) Flags(fs *flag.FlagSet) {
	m := &s.model.Model
	l := &m.Layer
	Define(fs,
		Flag{"batch", "sequences per batch", &s.model.Batch},
		Flag{"embed", "model width E (d_model)", &l.Embed},
		Flag{"heads", "attention heads (must divide -embed)", &l.Heads},
		Flag{"ff", "feed-forward width", &l.FF},
		Flag{"layers", "encoder layers", &m.Layers},
		Flag{"dropout", "dropout probability", &l.Dropout},
		Flag{"norm-first", "pre-norm layers (LayerNorm before each sub-layer)", &l.NormFirst},
		Flag{"seqlen", "longest sequence (longer lines are cut into pieces); the positional table", &m.MaxLen},
		Flag{"min-count", "words seen fewer times are <unk>", &s.minCount})
	fs.Func("activation", fmt.Sprintf("feed-forward activation: relu or gelu (default %s)", l.Activation), func(v string) error {
		l.Activation = transformer.Activation(v)
		return nil
	})
}

// Validate implements Setup.
func (s *mlmSetup) Validate(given map[string]bool, data string) error {
	m := s.model.Model
	l := m.Layer
	for _, x := range []struct {
		name    string
		v, l, h int
	}{
		{"batch", s.model.Batch, 1, MaxBatch}, {"embed", l.Embed, 1, MaxWidth}, {"heads", l.Heads, 1, MaxWidth},
		{"ff", l.FF, 1, 4 * MaxWidth}, {"layers", m.Layers, 1, MaxLayers}, {"seqlen", m.MaxLen, 1, 4096},
		{"min-count", s.minCount, 1, MaxExamples},
	} {
		if err := IntIn(x.name, x.v, x.l, x.h); err != nil {
			return err
		}
	}
	if l.Embed%l.Heads != 0 {
		return errors.Errorf("-embed %d is not divisible by -heads %d", l.Embed, l.Heads)
	}
	if l.Activation != transformer.ReLU && l.Activation != transformer.GELU {
		return errors.Errorf("-activation %q: want relu or gelu", l.Activation)
	}
	if !(l.Dropout >= 0 && l.Dropout < 1) {
		return errors.Errorf("-dropout %v: want a probability in [0, 1)", l.Dropout)
	}
	c := s.model
	c.Model.Vocab = 1
	return c.Validate()
}

// readLines reads a UTF-8 text file's non-blank lines.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "-data")
	}
	defer f.Close()
	text, err := data.ReadCorpus(f)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// Prepare implements Setup: the lines of the file, shuffled by -seed,
// 90% to train and 10% to test; the vocabulary of the training lines'
// words seen -min-count times, plus [MASK].
func (s *mlmSetup) Prepare(path string) (*Prepared, error) {
	if path == "" {
		return nil, errors.New("-data: the mlm preset trains on a text file of yours (it has no data of its own)")
	}
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	if len(lines) < 2 {
		return nil, errors.Errorf("-data %s: %d non-blank lines: need at least 2", path, len(lines))
	}
	graph.NewSource(s.common.Train.Seed).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	cut := max(1, len(lines)*9/10)
	if cut == len(lines) {
		cut--
	}
	train, test := lines[:cut], lines[cut:]
	words := data.NewWordVocab(train, s.minCount)
	vocab, err := data.NewVocab(append(words.Tokens(), training.MaskToken))
	if err != nil {
		return nil, err
	}
	seqs := training.Chunks(vocab, train, s.model.Model.MaxLenOr())
	m, err := training.NewMLM(s.model, vocab, seqs)
	if err != nil {
		return nil, err
	}
	ts, err := m.Sequences(test)
	if err != nil {
		return nil, err
	}
	return &Prepared{
		Model: m, Test: ts,
		Info:    map[string]any{"train_lines": len(train), "test_lines": len(test), "train_sequences": len(seqs)},
		Summary: fmt.Sprintf("%d train / %d test lines (%d / %d sequences), vocabulary %d", len(train), len(test), len(seqs), len(ts.Seqs), vocab.Len()),
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			// Three test lines with one word masked, and the model's fillers.
			fmt.Fprintln(w, "\nfillers for a masked word of test lines:")
			for i := 0; i < 3 && i < len(test); i++ {
				ws := strings.Fields(test[i])
				if len(ws) > s.model.Model.MaxLenOr() {
					ws = ws[:s.model.Model.MaxLenOr()]
				}
				j := len(ws) / 2
				want := ws[j]
				ws[j] = training.MaskToken
				q := strings.Join(ws, " ")
				f, err := m.Fill(q, 3)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "  %s\n    (%s):", q, want)
				for _, c := range f[0] {
					fmt.Fprintf(w, " %s %.3f", c.Word, c.Prob)
				}
				fmt.Fprintln(w)
			}
			return nil
		},
	}, nil
}

// ModelConfig implements Importer.
func (s *mlmSetup) ModelConfig() any { return &s.model }

// Vocab implements Importer: none (the vocabulary is the text's).
func (s *mlmSetup) Vocab() (*data.Vocab, error) { return nil, nil }

// NewModel implements Importer.
func (s *mlmSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewMLM(s.model, vocab, nil)
}
