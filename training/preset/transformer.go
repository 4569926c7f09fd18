package preset

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/plot"
)

// The Transformer family: the Seq2Seq Transformer of models/transformer on
// the same generated tasks, splits (90% train, 10% test of 50,000
// examples) and exact-match metric as the recurrent presets
// date-attention and addition-reversed, so the two compare per epoch.
//
// The recipe: pre-norm layers (norm_first), which train without a
// learning-rate warm-up, E 64, 4 heads, feed-forward 256, 2 + 2 layers,
// dropout 0.1, Glorot-uniform matrices as the PyTorch tutorial, Adam
// 1e-3, clip 5, batches of 128.
func init() {
	p := func(name, about, task string, reverse bool, epochs int) Preset {
		return Preset{Name: name, About: about, New: func() Setup {
			s := &tfSetup{
				model: training.TransformerConfig{
					Model: transformer.Config{EncoderLayers: 2, DecoderLayers: 2, MaxLen: 256,
						Layer: transformer.LayerConfig{Embed: 64, Heads: 4, FF: 256, Activation: transformer.ReLU, NormFirst: true, Dropout: 0.1}},
					Batch: 128, ReverseSource: reverse, BucketWidth: 4, Xavier: true,
				},
				task: task, examples: 50000,
			}
			s.common = Common{Train: training.Config{Epochs: epochs, Optimizer: "adam", LR: 1e-3, Clip: 5, Seed: 1, Dtype: "float32"},
				LRGamma: 0.5, PlateauFactor: 0.5}
			return s
		}}
	}
	register(Family{
		Kind: training.TransformerKind,
		Data: "lines of question_answer (the book's format)",
		Presets: []Preset{
			p("date-transformer", "human-written dates → YYYY-MM-DD, Seq2Seq Transformer", "date", false, 10),
			p("addition-transformer", "a+b → sum, reversed question, Seq2Seq Transformer", "addition", true, 25),
		},
		EvalData: EvalData(func(m *training.Transformer, path string) (training.Dataset, error) {
			pairs, err := readPairs(path)
			if err != nil {
				return nil, err
			}
			return m.Pairs(pairs)
		}),
	})
}

// tfSetup is a run of a Transformer preset.
type tfSetup struct {
	Base
	model    training.TransformerConfig
	task     string // "addition" or "date"
	examples int
}

// Flags implements Setup.
func (s *tfSetup) Flags(fs *flag.FlagSet) {
	m := &s.model.Model
	l := &m.Layer
	Define(fs,
		Flag{"batch", "sequences per batch", &s.model.Batch},
		Flag{"embed", "model width E (d_model)", &l.Embed},
		Flag{"heads", "attention heads (must divide -embed)", &l.Heads},
		Flag{"ff", "feed-forward width", &l.FF},
		Flag{"layers", "encoder layers, and decoder layers", &m.EncoderLayers},
		Flag{"dropout", "dropout probability", &l.Dropout},
		Flag{"norm-first", "pre-norm layers (LayerNorm before each sub-layer)", &l.NormFirst},
		Flag{"reverse", "feed the question reversed", &s.model.ReverseSource},
		Flag{"examples", "examples to generate (90% train, 10% test); not with -data", &s.examples},
		Flag{"definition", "train the op-by-op graph instead of the fused attention and LayerNorm ops (slow; for checking)", &s.model.Definition})
	fs.Func("activation", fmt.Sprintf("feed-forward activation: relu or gelu (default %s)", l.Activation), func(v string) error {
		l.Activation = transformer.Activation(v)
		return nil
	})
}

// Validate implements Setup.
func (s *tfSetup) Validate(given map[string]bool, data string) error {
	m := &s.model.Model
	m.DecoderLayers = m.EncoderLayers
	l := m.Layer
	for _, x := range []struct {
		name    string
		v, l, h int
	}{
		{"batch", s.model.Batch, 1, MaxBatch}, {"embed", l.Embed, 1, MaxWidth}, {"heads", l.Heads, 1, MaxWidth},
		{"ff", l.FF, 1, 4 * MaxWidth}, {"layers", m.EncoderLayers, 1, MaxLayers}, {"examples", s.examples, 2, MaxExamples},
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
	if given["examples"] && data != "" {
		return errors.New("-examples applies only to generated data, not with -data")
	}
	c := s.model
	c.Model.Vocab = 1 // set from the data; validated with a placeholder here
	return c.Validate()
}

// Prepare implements Setup: the data of the recurrent presets (the same
// generator, seed, split and character vocabulary).
func (s *tfSetup) Prepare(path string) (*Prepared, error) {
	var pairs []data.Pair
	var err error
	info := map[string]any{}
	switch {
	case path != "":
		if pairs, err = readPairs(path); err != nil {
			return nil, err
		}
	case s.task == "addition":
		pairs = data.Addition(s.examples, graph.NewSource(s.common.Train.Seed))
		info["examples"] = s.examples
	default:
		pairs = data.Dates(s.examples, graph.NewSource(s.common.Train.Seed))
		info["examples"] = s.examples
	}
	if len(pairs) < 2 {
		return nil, errors.Errorf("-data %s: %d examples: need at least 2", path, len(pairs))
	}
	train, test := data.Split(pairs, 0.9)
	texts := make([]string, 0, 2*len(pairs))
	longest := 0
	for _, q := range pairs {
		texts = append(texts, q.Question, q.Answer)
		longest = max(longest, len(q.Question), len(q.Answer)+1)
	}
	if longest > s.model.Model.MaxLenOr() {
		return nil, errors.Wrapf(transformer.ErrTooLong, "-data %s: a sequence of %d characters, the positional table holds %d", path, longest, s.model.Model.MaxLenOr())
	}
	vocab := data.NewCharVocab(texts)
	m, err := training.NewTransformer(s.model, vocab, train)
	if err != nil {
		return nil, err
	}
	ts, err := m.Pairs(test)
	if err != nil {
		return nil, err
	}
	info["train_pairs"], info["test_pairs"] = len(train), len(test)
	return &Prepared{
		Model: m, Test: ts, Info: info,
		Summary: fmt.Sprintf("%d train / %d test pairs, vocabulary %d", len(train), len(test), vocab.Len()),
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			if len(test) == 0 {
				return nil
			}
			if err := transformerPlots(m, test[0], dir); err != nil {
				fmt.Fprintln(w, "attention plots:", err)
			}
			fmt.Fprintln(w, "\nsample translations from the test split:")
			for i := 0; i < 5 && i < len(test); i++ {
				got, err := m.Translate(test[i].Question)
				if err != nil {
					return err
				}
				mark := "✗"
				if got == test[i].Answer {
					mark = "✓"
				}
				fmt.Fprintf(w, "  %s %-32q → %q (want %q)\n", mark, test[i].Question, got, test[i].Answer)
			}
			return nil
		},
	}, nil
}

// ModelConfig implements Importer.
func (s *tfSetup) ModelConfig() any { return &s.model }

// Vocab implements Importer: the characters of the generated pairs, as
// Prepare builds the vocabulary.
func (s *tfSetup) Vocab() (*data.Vocab, error) {
	src := graph.NewSource(s.common.Train.Seed)
	var pairs []data.Pair
	if s.task == "addition" {
		pairs = data.Addition(s.examples, src)
	} else {
		pairs = data.Dates(s.examples, src)
	}
	if len(pairs) == 0 {
		return nil, errors.Errorf("preset: %d examples of %s make no data", s.examples, s.task)
	}
	return pairVocab(pairs), nil
}

// NewModel implements Importer.
func (s *tfSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewTransformer(s.model, vocab, nil)
}

// transformerPlots draws the decoder's attention over the source for one
// test pair, one heat map per layer and head
// (attention-layer{l}-head{h}.png).
func transformerPlots(m *training.Transformer, p data.Pair, dir string) error {
	weights, src, out, err := m.Attention(p)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	for l := range weights {
		for h := range weights[l] {
			title := fmt.Sprintf("%q → %q, decoder layer %d, head %d", p.Question, strings.Join(out, ""), l, h)
			path := filepath.Join(dir, fmt.Sprintf("attention-layer%d-head%d.png", l, h))
			if err := plot.Heatmap(path, title, weights[l][h], out, src); err != nil {
				return err
			}
		}
	}
	return nil
}
