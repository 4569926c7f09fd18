package prune

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training"
)

// ShrinkLM prunes share s of every hidden layer's units of the language
// model tr trains ([Units], [Shrink]) and returns a new Trainer of the
// smaller model: same training config, vocabulary and windows, hidden size
// H − round(s·H), a fresh optimiser at step 0. Its checkpoint
// (Trainer.Checkpoint) is an ordinary language-model checkpoint, which
// eval, sample and train -resume read as they are.
func ShrinkLM(tr *training.Trainer, s float64) (*training.Trainer, []LayerUnits, error) {
	m, ok := tr.Model.(*training.LM)
	if !ok {
		return nil, nil, errors.Errorf("prune: structured pruning takes a language model (lm), not a %s model", tr.Model.Describe().Kind)
	}
	layers, err := Units(tr.Params, m.Cfg.Model, s)
	if err != nil {
		return nil, nil, err
	}
	small, sc, err := Shrink(tr.Params, m.Cfg.Model, layers)
	if err != nil {
		return nil, nil, err
	}
	cfg := m.Cfg
	cfg.Model = sc
	sm, err := training.NewLM(cfg, m.Vocab, nil)
	if err != nil {
		return nil, nil, err
	}
	out, err := training.New(tr.Cfg, sm, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := copyInto(out.Params, small); err != nil {
		out.Close()
		return nil, nil, err
	}
	return out, layers, nil
}

// copyInto copies every parameter of src into dst, by name; the two must
// hold the same names and sizes.
func copyInto(dst, src *graph.Params) error {
	if dst.Len() != src.Len() {
		return errors.Errorf("prune: %d parameters for a model of %d", src.Len(), dst.Len())
	}
	for _, n := range dst.Names() {
		d, _ := dst.Get(n)
		s, ok := src.Get(n)
		if !ok {
			return errors.Errorf("prune: no parameter %q", n)
		}
		v, err := graph.Float64s(s)
		if err != nil {
			return err
		}
		if err := graph.SetFloat64s(d, v); err != nil {
			return errors.Wrapf(err, "prune: %q", n)
		}
	}
	return nil
}
