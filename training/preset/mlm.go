package preset

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/mlm"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// MaxVocab bounds -max-vocab.
const MaxVocab = 1 << 20

// The masked-language-model family: an encoder-only Transformer
// (models/mlm) trained with BERT's masking on any text, one sentence (or
// line) at a time.
//
// The recipe: pre-norm layers with GELU (BERT's activation; pre-norm
// trains without a learning-rate warm-up), E 128, 4 heads, feed-forward
// 512, 2 layers, dropout 0.1, the output layer tied to the embedding,
// Glorot-uniform matrices, Adam 1e-3, clip 1, batches of 32 sequences of
// at most 48 words (longer lines cut), lowercased, the words seen at least
// twice, at most 20,000 of them.
func init() {
	register(Family{
		Kind: training.MLMKind,
		Data: "text, one sentence (or line) at a time; every 10th line is validation data unless -valid FILE names it",
		Presets: []Preset{{
			Name: "mlm", About: "masked language model (BERT's masking) of the -data text, encoder-only Transformer",
			New: func() Setup {
				s := &mlmSetup{model: training.MLMConfig{
					Model: mlm.Config{Layers: 2, MaxLen: 48, Tied: true,
						Layer: transformer.LayerConfig{Embed: 128, Heads: 4, FF: 512, Activation: transformer.GELU, NormFirst: true, Dropout: 0.1}},
					Masking: mlm.BERT(), Batch: 32, BucketWidth: 8, EvalSeed: 1, Lower: true, Xavier: true,
				}, minCount: 2, maxVocab: 20000}
				s.common = Common{Train: training.Config{Epochs: 5, Optimizer: "adam", LR: 1e-3, Clip: 1, Seed: 1, Dtype: "float32"},
					LRGamma: 0.5, PlateauFactor: 0.5}
				return s
			},
		}},
		EvalData: EvalData(func(m *training.MLM, path string) (training.Dataset, error) {
			lines, err := readLines("data", path)
			if err != nil {
				return nil, err
			}
			seqs := m.Text(lines)
			if len(seqs) == 0 {
				return nil, errors.Errorf("-data %s: no line holds a word of the model's vocabulary", path)
			}
			set, err := m.Sequences(seqs)
			return set, errors.Wrapf(err, "-data %s", path)
		}),
	})
}

// mlmSetup is a run of the mlm preset.
type mlmSetup struct {
	Base
	model              training.MLMConfig
	minCount, maxVocab int
	valid              string
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
		Flag{"tied", "the output layer's weight is the embedding table", &m.Tied},
		Flag{"max-len", "longest sequence in words: longer lines are cut into pieces", &m.MaxLen},
		Flag{"bucket", "pad each batch's length to a multiple of this many words", &s.model.BucketWidth},
		Flag{"mask-rate", "share of each sequence's words selected for prediction (BERT: 0.15)", &s.model.Masking.Rate},
		Flag{"lower", "lowercase every word", &s.model.Lower},
		Flag{"min-count", "keep the words seen at least this often in the training lines", &s.minCount},
		Flag{"max-vocab", "keep at most this many words, the most frequent (0: all)", &s.maxVocab},
		Flag{"valid", "validation text (one sentence a line) instead of every 10th line of -data", &s.valid},
		Flag{"definition", "train the op-by-op graph instead of the fused attention and LayerNorm ops (slow; for checking)", &s.model.Definition})
	fs.Func("activation", fmt.Sprintf("feed-forward activation: relu or gelu (default %s)", l.Activation), func(v string) error {
		l.Activation = transformer.Activation(v)
		return nil
	})
}

// Validate implements Setup.
func (s *mlmSetup) Validate(given map[string]bool, data string) error {
	if data == "" {
		return errors.New("the mlm preset needs -data FILE (text, one sentence a line)")
	}
	return s.validateModel(given)
}

// validateModel is Validate but for the data.
func (s *mlmSetup) validateModel(given map[string]bool) error {
	m := &s.model.Model
	l := m.Layer
	for _, x := range []struct {
		name    string
		v, l, h int
	}{
		{"batch", s.model.Batch, 1, MaxBatch}, {"embed", l.Embed, 1, MaxWidth}, {"heads", l.Heads, 1, MaxWidth},
		{"ff", l.FF, 1, 4 * MaxWidth}, {"layers", m.Layers, 1, MaxLayers}, {"max-len", m.MaxLen, 1, transformer.DefaultMaxLen},
		{"bucket", s.model.BucketWidth, 1, transformer.DefaultMaxLen}, {"min-count", s.minCount, 1, MaxExamples},
		{"max-vocab", s.maxVocab, 0, MaxVocab},
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
	if r := s.model.Masking.Rate; !(r > 0 && r <= 1) {
		return errors.Errorf("-mask-rate %v: want a share above 0, at most 1", r)
	}
	if given["valid"] && s.valid == "" {
		return errors.New("-valid: empty file name")
	}
	c := s.model
	c.Model.Vocab = 1 // set from the data; validated with a placeholder here
	return c.Validate()
}

// readLines reads a text file (data.ReadCorpus: UTF-8, at most
// data.MaxCorpusBytes) as lines; errors name the flag.
func readLines(flagName, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrapf(err, "-%s", flagName)
	}
	defer f.Close()
	text, err := data.ReadCorpus(f)
	if err != nil {
		return nil, errors.Wrapf(err, "-%s %s", flagName, path)
	}
	return strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), nil
}

// Prepare implements Setup: the lines of -data (less every 10th, the
// validation lines, unless -valid names them), a vocabulary of the
// training lines' words, the lines cut into sequences.
func (s *mlmSetup) Prepare(path string) (*Prepared, error) {
	lines, err := readLines("data", path)
	if err != nil {
		return nil, err
	}
	var train, valid []string
	if s.valid != "" {
		train = lines
		if valid, err = readLines("valid", s.valid); err != nil {
			return nil, err
		}
	} else {
		for i, l := range lines {
			if i%10 == 9 {
				valid = append(valid, l)
			} else {
				train = append(train, l)
			}
		}
	}
	vocab, err := training.MLMVocab(train, s.model.Lower, s.minCount, s.maxVocab)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	if vocab.Len() <= training.MaskID+1 {
		return nil, errors.Errorf("-data %s: no word occurs -min-count %d times in the training lines", path, s.minCount)
	}
	seqs := training.MLMSequences(train, vocab, s.model.Lower, s.model.Model.MaxLen)
	if len(seqs) == 0 {
		return nil, errors.Errorf("-data %s: no training line holds a word of the vocabulary", path)
	}
	m, err := training.NewMLM(s.model, vocab, seqs)
	if err != nil {
		return nil, err
	}
	validSeqs := m.Text(valid)
	validName := s.valid
	if validName == "" {
		validName = path + " (every 10th line)"
	}
	if len(validSeqs) == 0 {
		return nil, errors.Errorf("-data: the validation lines of %s hold no word of the vocabulary", validName)
	}
	test, err := m.Sequences(validSeqs)
	if err != nil {
		return nil, err
	}
	tokens := 0
	for _, q := range seqs {
		tokens += len(q)
	}
	return &Prepared{
		Model: m, Test: test,
		Info: map[string]any{"train_sequences": len(seqs), "train_tokens": tokens, "valid_sequences": len(validSeqs), "vocabulary": vocab.Len()},
		Summary: fmt.Sprintf("%d train sequences (%d words) / %d validation sequences, vocabulary %d",
			len(seqs), tokens, len(validSeqs), vocab.Len()),
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			return mlmSamples(tr, m, test, w, 5)
		},
	}, nil
}

// mlmSamples masks the middle word of the first n validation sequences
// of 5 or more words and prints the model's three best fillers.
func mlmSamples(tr *training.Trainer, m *training.MLM, test *training.MaskedSet, w io.Writer, n int) error {
	var queries [][]int
	var truth []int
	for _, s := range test.Seqs {
		if len(queries) == n {
			break
		}
		mid := len(s) / 2
		if len(s) < 5 || s[mid] <= training.MaskID {
			continue
		}
		q := append([]int(nil), s...)
		truth = append(truth, q[mid])
		q[mid] = training.MaskID
		queries = append(queries, q)
	}
	if len(queries) == 0 {
		return nil
	}
	set, err := m.Queries(queries)
	if err != nil {
		return err
	}
	if _, err := tr.Evaluate(context.Background(), set); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nvalidation sentences, the middle word masked (the last epoch's model; truth → best three):")
	for i, q := range queries {
		top := m.Fillers(set.Probs(i)[0], 3)
		var fills []string
		for _, c := range top {
			tok, _ := m.Vocab.Token(c.ID)
			fills = append(fills, fmt.Sprintf("%s %.2f", tok, c.P))
		}
		want, _ := m.Vocab.Token(truth[i])
		fmt.Fprintf(w, "  %s\n    %s → %s\n", clipWords(strings.Fields(m.Vocab.Decode(q, " ")), 20), want, strings.Join(fills, ", "))
	}
	return nil
}

// ModelConfig implements Importer.
func (s *mlmSetup) ModelConfig() any { return &s.model }

// Vocab implements Importer: none (a masked language model's vocabulary
// is its text's; rnnkit import takes it from -vocab, [MASK] at id
// training.MaskID).
func (s *mlmSetup) Vocab() (*data.Vocab, error) { return nil, nil }

// NewModel implements Importer.
func (s *mlmSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewMLM(s.model, vocab, nil)
}
