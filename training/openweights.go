package training

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// OpenWeights is [Open] for a checkpoint that holds a model's parameters
// but no optimiser state — an int8 checkpoint's dequantized weights
// (package quantize), for evaluation and inference: the optimiser starts
// from its initial state. A checkpoint with optimiser state opens as Open
// opens it.
func OpenWeights(c *checkpoint.Checkpoint) (*Trainer, error) {
	if c == nil {
		return nil, errors.New("training: nil checkpoint")
	}
	if len(c.State) != 0 {
		return Open(c)
	}
	rc, err := readRunConfig(c)
	if err != nil {
		return nil, err
	}
	kind := c.Meta.Extra[KindKey]
	openersMu.RLock()
	open := openers[kind]
	openersMu.RUnlock()
	if open == nil {
		return nil, errors.Errorf("training: checkpoint of an unknown model kind %q", kind)
	}
	m, err := open(rc.Model, c.Meta.Vocab)
	if err != nil {
		return nil, err
	}
	t, err := New(rc.Train, m, nil)
	if err != nil {
		return nil, err
	}
	withState := *c
	withState.State = t.Opt.State()
	if err := t.Restore(&withState); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}
