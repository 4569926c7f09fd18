package preset

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/vae"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// MaxSentenceBytes bounds one line of a sentence file.
const MaxSentenceBytes = 1 << 20

// The sentence family: the sentence VAE of Bowman et al. (2016) and its
// baseline, the same decoder without z, on any file of one sentence a
// line. The defaults follow Bowman et al. and timbmg/Sentence-VAE at a
// size that trains an epoch of Brown's sentences of up to 12 words (about
// 600 steps) in a few minutes on two cores: a GRU of 128, 64-d word
// vectors, a 2,000-token vocabulary, a 16-d code, word dropout 0.4,
// logistic KL annealing with β = ½ at step 600, Adam 1e-3, 3 epochs.
func init() {
	p := func(name, about string, latent int) Preset {
		return Preset{Name: name, About: about, New: func() Setup {
			s := &vaeSetup{vae: latent > 0, maxLen: 12, vocabSize: 2000, minCount: 1, model: training.VAEConfig{
				Model: vae.Config{Embed: 64, Hidden: 128, Latent: latent, Cell: cells.GRUKind},
				Batch: 32, Pad: 4, IWSamples: 5}}
			if latent > 0 {
				s.model.WordDropout = 0.4
				s.model.Anneal = vae.Anneal{Kind: vae.AnnealLogistic, Steps: 600, K: 0.006}
			} else {
				s.model.Anneal.Kind = vae.AnnealNone
			}
			s.common = Common{Train: training.Config{Epochs: 3, Optimizer: "adam", LR: 1e-3, Clip: 5, Seed: 1, Dtype: "float32"},
				LRGamma: 0.5, PlateauFactor: 0.5}
			return s
		}}
	}
	register(Family{
		Kind: training.VAEKind,
		Data: "one sentence a line, words separated by spaces (every 10th line is the validation set unless -valid names a file)",
		Presets: []Preset{
			p("sentence-vae", "sentence VAE (Bowman et al. 2016): KL annealing, word dropout, free bits; ELBO, IW bound, KL, active units", 16),
			p("sentence-lm", "the sentence VAE's decoder without z: a sentence language model, the VAE's baseline", 0),
		},
		EvalData: EvalData(func(m *training.VAE, path string) (training.Dataset, error) {
			lines, err := readSentenceFile(path)
			if err != nil {
				return nil, err
			}
			set, err := m.Sentences(encodeSentences(m.Vocab, lines))
			return set, errors.Wrapf(err, "-data %s", path)
		}),
	})
}

// vaeSetup is a run of a sentence preset.
type vaeSetup struct {
	Base
	model     training.VAEConfig
	vae       bool // the sentence-vae preset (a latent code)
	valid     string
	maxLen    int
	vocabSize int
	minCount  int
}

// VAEConfig returns the model's settings (as the flags left them).
func (s *vaeSetup) VAEConfig() training.VAEConfig { return s.model }

// Flags implements Setup.
func (s *vaeSetup) Flags(fs *flag.FlagSet) {
	m := &s.model
	Define(fs,
		Flag{"batch", "sentences per batch", &m.Batch},
		Flag{"hidden", "hidden size of the encoder and the decoder", &m.Model.Hidden},
		Flag{"embed", "word-vector size", &m.Model.Embed},
		Flag{"pad", "pad each batch's length to a multiple of this many words, so few graphs serve it", &m.Pad},
		Flag{"max-len", "drop sentences of more words from training and validation data", &s.maxLen},
		Flag{"vocab-size", "keep the most frequent words, up to this many tokens with the 4 special ones (the rest are <unk>)", &s.vocabSize},
		Flag{"min-count", "keep only words seen at least this often in the training sentences", &s.minCount},
		Flag{"valid", "validation sentences (default: every 10th line of -data)", &s.valid},
		Flag{"iw-samples", "samples of z per sentence in evaluation (the importance-weighted bound)", &m.IWSamples})
	fs.Func("cell", fmt.Sprintf("cell kind: %s (default %s)", cells.KindList(), m.Model.Cell), func(v string) error {
		m.Model.Cell = cells.Kind(v)
		return nil
	})
	if m.Model.Latent == 0 {
		return
	}
	Define(fs,
		Flag{"latent", "size of the latent code z", &m.Model.Latent},
		Flag{"z-input", "also join z to every decoder input", &m.Model.ZInput},
		Flag{"word-dropout", "probability of replacing each word the decoder reads by <unk> in training", &m.WordDropout},
		Flag{"anneal", "KL annealing: none, linear or logistic", &m.Anneal.Kind},
		Flag{"anneal-steps", "linear: steps until β = 1; logistic: the step where β = 0.5", &m.Anneal.Steps},
		Flag{"anneal-k", "logistic annealing's slope per step", &m.Anneal.K},
		Flag{"free-bits", "floor of each latent dimension's batch-mean KL in nats (0: off)", &m.FreeBits})
}

// Validate implements Setup.
func (s *vaeSetup) Validate(given map[string]bool, data string) error {
	if data == "" {
		return errors.New("the sentence presets need -data FILE (one sentence a line)")
	}
	if given["valid"] {
		if err := vaeRegularFile("valid", s.valid); err != nil {
			return err
		}
	}
	return s.validateModel()
}

// validateModel is Validate but for the data.
func (s *vaeSetup) validateModel() error {
	m := s.model
	for _, x := range []struct {
		name    string
		v, l, h int
	}{
		{"batch", m.Batch, 1, MaxBatch}, {"hidden", m.Model.Hidden, 1, MaxWidth}, {"embed", m.Model.Embed, 1, MaxWidth},
		{"latent", m.Model.Latent, 0, MaxWidth}, {"pad", m.Pad, 1, MaxWidth}, {"max-len", s.maxLen, 1, 1000},
		{"vocab-size", s.vocabSize, data.NumSpecial + 1, 10_000_000}, {"min-count", s.minCount, 1, 1 << 30},
		{"iw-samples", m.IWSamples, 1, 10_000}, {"anneal-steps", m.Anneal.Steps, 0, 1 << 30},
	} {
		if err := IntIn(x.name, x.v, x.l, x.h); err != nil {
			return err
		}
	}
	if s.vae && m.Model.Latent == 0 {
		return errors.New("-latent 0: the sentence-vae preset needs a latent code (the sentence-lm preset has none)")
	}
	if err := (cells.Config{Kind: m.Model.Cell, InputSize: 1, HiddenSize: 1}).Validate(); err != nil {
		return errors.Errorf("-cell %q: want one of %v", m.Model.Cell, cells.Kinds())
	}
	if !(m.WordDropout >= 0 && m.WordDropout <= 1) {
		return errors.Errorf("-word-dropout %v: want a probability from 0 to 1", m.WordDropout)
	}
	if !(m.FreeBits >= 0 && m.FreeBits <= 1000) {
		return errors.Errorf("-free-bits %v: want a value from 0 to 1000 nats", m.FreeBits)
	}
	if m.Anneal.Kind == "" {
		return errors.New("-anneal \"\": want none, linear or logistic")
	}
	if err := m.Anneal.Validate(); err != nil {
		switch {
		case m.Anneal.Kind != vae.AnnealNone && m.Anneal.Kind != vae.AnnealLinear && m.Anneal.Kind != vae.AnnealLogistic:
			return errors.Errorf("-anneal %q: want none, linear or logistic", m.Anneal.Kind)
		case m.Anneal.Kind == vae.AnnealLinear:
			return errors.Errorf("-anneal-steps %d: linear annealing needs at least 1", m.Anneal.Steps)
		}
		return errors.Errorf("-anneal-k %v: logistic annealing needs a positive, finite slope", m.Anneal.K)
	}
	m.Model.Vocab = 1 // set from the data; validated with a placeholder here
	return m.Validate()
}

// regularFile checks that path names a regular file; errors name the flag.
func vaeRegularFile(flag, path string) error {
	if path == "" {
		return errors.Errorf("-%s: empty file name", flag)
	}
	st, err := os.Stat(path)
	if err != nil {
		return errors.Wrapf(err, "-%s", flag)
	}
	if !st.Mode().IsRegular() {
		return errors.Errorf("-%s %s: not a regular file", flag, path)
	}
	return nil
}

// ReadSentences reads one sentence a line: each line's words are
// separated by white space; blank lines are skipped; a line of more than
// MaxSentenceBytes bytes or of invalid UTF-8 is an error naming the line.
// It returns the sentences (each its words joined by one space) and the
// line number of each.
func ReadSentences(r io.Reader) (sents []string, lines []int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxSentenceBytes)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if !utf8.Valid(b) {
			return nil, nil, errors.Wrapf(data.ErrFormat, "line %d: invalid UTF-8", n)
		}
		w := strings.Fields(string(b))
		if len(w) == 0 {
			continue
		}
		sents = append(sents, strings.Join(w, " "))
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, errors.Wrapf(data.ErrFormat, "line %d: longer than %d bytes", n+1, MaxSentenceBytes)
		}
		return nil, nil, err
	}
	return sents, lines, nil
}

// readSentenceFile reads a sentence file; errors name it, and a file
// without a sentence is one.
func readSentenceFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "-data")
	}
	defer f.Close()
	sents, _, err := ReadSentences(f)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", path)
	}
	if len(sents) == 0 {
		return nil, errors.Errorf("%s holds no sentence", path)
	}
	return sents, nil
}

func encodeSentences(v *data.Vocab, sents []string) [][]int {
	out := make([][]int, len(sents))
	for i, s := range sents {
		out[i] = v.EncodeWords(s)
	}
	return out
}

// shortSentences keeps the sentences of at most n words; it returns them
// and how many were dropped.
func shortSentences(sents []string, n int) ([]string, int) {
	var out []string
	for _, s := range sents {
		if len(strings.Fields(s)) <= n {
			out = append(out, s)
		}
	}
	return out, len(sents) - len(out)
}

// Prepare implements Setup: -data's sentences, every 10th line (the 10th,
// 20th, … sentence) held out for validation unless -valid names a file;
// sentences over -max-len words are dropped from both; the vocabulary is
// the training sentences' most frequent words.
func (s *vaeSetup) Prepare(path string) (*Prepared, error) {
	all, err := readSentenceFile(path)
	if err != nil {
		return nil, err
	}
	var train, valid []string
	if s.valid != "" {
		train = all
		if valid, err = readSentenceFile(s.valid); err != nil {
			return nil, errors.Wrap(err, "-valid")
		}
	} else {
		for i, x := range all {
			if i%10 == 9 {
				valid = append(valid, x)
			} else {
				train = append(train, x)
			}
		}
	}
	train, dropTrain := shortSentences(train, s.maxLen)
	valid, dropValid := shortSentences(valid, s.maxLen)
	if len(train) == 0 || len(valid) == 0 {
		return nil, errors.Errorf("-data %s: %d training and %d validation sentences of at most %d words (-max-len); want some of each", path, len(train), len(valid), s.maxLen)
	}
	toks := data.NewWordVocab(train, s.minCount).Tokens()
	vocab, err := data.NewVocab(toks[:min(len(toks), s.vocabSize)])
	if err != nil {
		return nil, err
	}
	m, err := training.NewVAE(s.model, vocab, encodeSentences(vocab, train))
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	test, err := m.Sentences(encodeSentences(vocab, valid))
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", path)
	}
	seed := s.common.Train.Seed
	return &Prepared{
		Model: m, Test: test,
		Info: map[string]any{"train_sentences": len(train), "valid_sentences": len(valid), "dropped_over_max_len": dropTrain + dropValid,
			"vocabulary": vocab.Len()},
		Summary: fmt.Sprintf("%d train / %d validation sentences of at most %d words (%d longer dropped), vocabulary %d",
			len(train), len(valid), s.maxLen, dropTrain+dropValid, vocab.Len()),
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			return vaeReport(m, valid, seed, w)
		},
	}, nil
}

// vaeReport prints samples from the prior and, for a VAE, reconstructions
// and an interpolation of validation sentences.
func vaeReport(m *training.VAE, valid []string, seed uint64, w io.Writer) error {
	o := training.VAEGenOptions{MaxLen: training.VAEMaxLen, NoUNK: true}
	greedy, err := m.SamplePrior(5, o, graph.NewSource(seed))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nfrom the prior (greedy, <unk> never generated):")
	for _, s := range greedy {
		fmt.Fprintln(w, "  "+s)
	}
	if m.Cfg.Model.Latent == 0 || len(valid) < 2 {
		return nil
	}
	fmt.Fprintln(w, "reconstructions (posterior mean, greedy):")
	for _, s := range valid[:min(3, len(valid))] {
		r, err := m.Reconstruct(s, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s\n  → %s\n", s, r)
	}
	path, err := m.Interpolate(valid[0], valid[1], 5, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "interpolation between the first two validation sentences:")
	for _, s := range path {
		fmt.Fprintln(w, "  "+s)
	}
	return nil
}

// ModelConfig implements Importer.
func (s *vaeSetup) ModelConfig() any { return &s.model }

// Vocab implements Importer: none (the vocabulary is the sentences').
func (s *vaeSetup) Vocab() (*data.Vocab, error) { return nil, nil }

// NewModel implements Importer.
func (s *vaeSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewVAE(s.model, vocab, nil)
}
