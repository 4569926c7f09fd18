package preset

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training"
)

// SSTClasses is the number of sentiment classes of the Stanford Sentiment
// Treebank's labels (0 very negative … 4 very positive).
const SSTClasses = 5

// The tree family: sentiment over the Stanford Sentiment Treebank's parse
// trees, with the tree networks of models/tree and a BiLSTM baseline. The
// settings are those of Tai et al. (2015) and of DGL's Tree-LSTM example:
// random 300-d word vectors, Adagrad 0.05 with weight decay 1e-4, batches
// of 25 trees, dropout 0.5 before the classifier.
func init() {
	p := func(name, about, net string, embed, hidden int) Preset {
		return Preset{Name: name, About: about, New: func() Setup {
			s := &treeSetup{model: training.TreeConfig{Net: net, Embed: embed, Hidden: hidden, Classes: SSTClasses,
				Dropout: 0.5, Batch: 25, Pad: 64}}
			if net == training.TreeNetBiLSTM {
				s.model.Pad = 8
			}
			s.common = Common{Train: training.Config{Epochs: 10, Optimizer: "adagrad", LR: 0.05, WeightDecay: 1e-4, Seed: 1, Dtype: "float32"},
				LRGamma: 0.5, PlateauFactor: 0.5}
			return s
		}}
	}
	register(Family{
		Kind:    training.TreeKind,
		Data:    "a directory holding train.txt and dev.txt, PTB bracket trees one a line with a label 0-4 on every node (SST's trainDevTestTrees_PTB); eval -data takes one such file",
		DataDir: true,
		Presets: []Preset{
			p("sst-treelstm", "SST sentiment, binary Tree-LSTM (Tai et al. 2015), loss on every node", training.TreeNetLSTM, 300, 150),
			p("sst-rnn", "SST sentiment, recursive neural network (tanh), loss on every node", training.TreeNetRNN, 300, 300),
			p("sst-bilstm", "SST sentiment, a BiLSTM over the sentence's words (no tree), loss on the sentence", training.TreeNetBiLSTM, 300, 150),
		},
		EvalData: EvalData(func(m *training.Tree, path string) (training.Dataset, error) {
			trees, err := tree.ReadFile(path, m.Cfg.Classes)
			if err != nil {
				return nil, errors.Wrap(err, "-data")
			}
			set, err := m.Phrases(trees)
			return set, errors.Wrapf(err, "-data %s", path)
		}),
	})
}

// treeSetup is a run of a tree preset.
type treeSetup struct {
	Base
	model training.TreeConfig
}

// TreeConfig returns the model's settings (as the flags left them).
func (s *treeSetup) TreeConfig() training.TreeConfig { return s.model }

// Flags implements Setup.
func (s *treeSetup) Flags(fs *flag.FlagSet) {
	Define(fs,
		Flag{"batch", "trees per batch", &s.model.Batch},
		Flag{"hidden", "hidden size (per direction for the BiLSTM)", &s.model.Hidden},
		Flag{"embed", "word-vector size (the recursive net's must equal -hidden)", &s.model.Embed},
		Flag{"dropout", "dropout before the classifier", &s.model.Dropout},
		Flag{"pad", "pad each batch to a multiple of this many leaves (the BiLSTM: steps), so few graphs serve it", &s.model.Pad})
}

// Validate implements Setup.
func (s *treeSetup) Validate(given map[string]bool, data string) error {
	if data == "" {
		return errors.New("the sst presets need -data DIR, a directory holding train.txt and dev.txt (SST's PTB trees)")
	}
	return s.validateModel()
}

// validateModel is Validate but for the data.
func (s *treeSetup) validateModel() error {
	m := s.model
	for _, x := range []struct {
		name    string
		v, l, h int
	}{{"batch", m.Batch, 1, MaxBatch}, {"hidden", m.Hidden, 1, MaxWidth}, {"embed", m.Embed, 1, MaxWidth}, {"pad", m.Pad, 1, MaxWidth}} {
		if err := IntIn(x.name, x.v, x.l, x.h); err != nil {
			return err
		}
	}
	if !(m.Dropout >= 0 && m.Dropout < 1) {
		return errors.Errorf("-dropout %v: want a probability from 0 to below 1", m.Dropout)
	}
	if m.Net == training.TreeNetRNN && m.Embed != m.Hidden {
		return errors.Errorf("-embed %d: the recursive net's word vectors are its hidden states, want -hidden's %d", m.Embed, m.Hidden)
	}
	m.Vocab = 1 // set from the data; validated with a placeholder here
	return m.Validate()
}

// readSplit reads dir's split file name.
func readSplit(dir, name string) ([]*tree.Node, error) {
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return nil, errors.Wrapf(err, "-data %s: no %s", dir, name)
	}
	trees, err := tree.ReadFile(path, SSTClasses)
	if err != nil {
		return nil, errors.Wrap(err, "-data")
	}
	if len(trees) == 0 {
		return nil, errors.Errorf("-data %s holds no trees", path)
	}
	return trees, nil
}

// Prepare implements Setup: train.txt trains, dev.txt is the test data
// (the best epoch on it is best.safetensors).
func (s *treeSetup) Prepare(dir string) (*Prepared, error) {
	train, err := readSplit(dir, "train.txt")
	if err != nil {
		return nil, err
	}
	dev, err := readSplit(dir, "dev.txt")
	if err != nil {
		return nil, err
	}
	vocab, err := training.TreeVocab(train)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", dir)
	}
	m, err := training.NewTree(s.model, vocab, train)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", filepath.Join(dir, "train.txt"))
	}
	test, err := m.Trees(dev)
	if err != nil {
		return nil, errors.Wrapf(err, "-data %s", filepath.Join(dir, "dev.txt"))
	}
	return &Prepared{
		Model: m, Test: test,
		Info:    map[string]any{"train_trees": len(train), "dev_trees": len(dev), "vocabulary": vocab.Len()},
		Summary: fmt.Sprintf("%d train / %d dev trees, vocabulary %d", len(train), len(dev), vocab.Len()),
		Report: func(tr *training.Trainer, dir string, w io.Writer) error {
			return treeSamples(test, w, 5)
		},
	}, nil
}

// SentimentNames are SST's five classes.
var SentimentNames = [SSTClasses]string{"very negative", "negative", "neutral", "positive", "very positive"}

// treeSamples prints the predictions of the last evaluation for the first
// n dev sentences.
func treeSamples(set *training.TreeSet, w io.Writer, n int) error {
	fmt.Fprintln(w, "\ndev sentences (the last epoch's model; gold → predicted):")
	for i := 0; i < n && i < len(set.Trees); i++ {
		ps := set.Probs(i)
		if len(ps) == 0 || ps[len(ps)-1] == nil {
			return nil
		}
		p := ps[len(ps)-1]
		k := 0
		for j := range p {
			if p[j] > p[k] {
				k = j
			}
		}
		t := set.Trees[i]
		mark := "✗"
		if k == t.Label {
			mark = "✓"
		}
		fmt.Fprintf(w, "  %s %-13s → %-13s %s\n", mark, SentimentNames[t.Label], SentimentNames[k], clipWords(t.Words(), 12))
	}
	return nil
}

// clipWords joins words, the first n of them and "…" after.
func clipWords(ws []string, n int) string {
	if len(ws) > n {
		return strings.Join(ws[:n], " ") + " …"
	}
	return strings.Join(ws, " ")
}
