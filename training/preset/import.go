package preset

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// Importer is implemented by a Setup whose model can be made without
// training data, to hold weights trained elsewhere (rnnkit import). The
// Seq2Seq and language-model presets implement it.
type Importer interface {
	// ModelConfig returns a pointer to the family's model settings, the
	// value config.json records as "model_config"; rnnkit import decodes a
	// JSON -config into it.
	ModelConfig() any
	// Vocab returns the vocabulary of the preset's own data: the one
	// rnnkit train -preset builds without -data, with the same -seed and
	// -examples. It is nil for a preset without data of its own.
	Vocab() (*data.Vocab, error)
	// NewModel returns the model of the settings over vocab, without
	// data.
	NewModel(vocab *data.Vocab) (training.Model, error)
}

// ModelConfig implements Importer.
func (s *s2sSetup) ModelConfig() any { return &s.model }

// generated returns the preset's own pairs (addition or dates).
func (s *s2sSetup) generated() []data.Pair {
	src := graph.NewSource(s.common.Train.Seed)
	if s.task == "addition" {
		return data.Addition(s.examples, src)
	}
	return data.Dates(s.examples, src)
}

// Vocab implements Importer: the characters of the generated pairs.
func (s *s2sSetup) Vocab() (*data.Vocab, error) {
	pairs := s.generated()
	if len(pairs) == 0 {
		return nil, errors.Errorf("preset: %d examples of %s make no data", s.examples, s.task)
	}
	return pairVocab(pairs), nil
}

// pairVocab returns the vocabulary of the characters of pairs, as Prepare
// builds it.
func pairVocab(pairs []data.Pair) *data.Vocab {
	texts := make([]string, 0, 2*len(pairs))
	for _, q := range pairs {
		texts = append(texts, q.Question, q.Answer)
	}
	return data.NewCharVocab(texts)
}

// NewModel implements Importer.
func (s *s2sSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewSeq2Seq(s.model, vocab, nil)
}

// ModelConfig implements Importer.
func (s *lmSetup) ModelConfig() any { return &s.model }

// Vocab implements Importer: none (a language model's vocabulary is its
// text's).
func (s *lmSetup) Vocab() (*data.Vocab, error) { return nil, nil }

// NewModel implements Importer.
func (s *lmSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewLM(s.model, vocab, nil)
}

// ValidateImport checks every setting of an Importer's setup after its
// flags are parsed, as Validate does, for a model made without data;
// errors name the flag.
func ValidateImport(s Setup, given map[string]bool) error {
	if _, ok := s.(Importer); !ok {
		return errors.Errorf("preset: a %T cannot make its model without data", s)
	}
	if err := s.Common().validate(given); err != nil {
		return err
	}
	if v, ok := s.(interface{ validateModel() error }); ok { // a family that reads its data: everything but the data
		return v.validateModel()
	}
	if m, ok := s.(*mlmSetup); ok {
		return m.validateModel(given)
	}
	if d, ok := s.(*dialogSetup); ok {
		return d.validateModel()
	}
	return s.Validate(given, "")
}

// validateModel is Validate but for the data.
func (s *lmSetup) validateModel() error {
	if err := s.Net.Validate(); err != nil {
		return err
	}
	if err := IntIn("bptt", s.model.Steps, 1, MaxBPTT); err != nil {
		return err
	}
	c := s.model
	c.Model.Vocab = 1 // set from the vocabulary; validated with a placeholder here
	return c.Validate()
}

// ModelConfig implements Importer.
func (s *treeSetup) ModelConfig() any { return &s.model }

// Vocab implements Importer: none (a tree model's vocabulary is its
// treebank's words; rnnkit import takes it from -vocab).
func (s *treeSetup) Vocab() (*data.Vocab, error) { return nil, nil }

// NewModel implements Importer.
func (s *treeSetup) NewModel(vocab *data.Vocab) (training.Model, error) {
	return training.NewTree(s.model, vocab, nil)
}
