package interop

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/training"
)

// TorchNamer is implemented by a model whose PyTorch counterparts may name
// their modules otherwise than rnnkit does (training.LM and
// training.Seq2Seq implement it).
type TorchNamer interface {
	// TorchNames maps PyTorch module prefixes to rnnkit's
	// (Options.Prefixes).
	TorchNames() map[string]string
}

// TorchTier is implemented by a model one of whose parameters stands for
// two of its PyTorch counterpart's (tied weights, Options.Tied).
type TorchTier interface {
	// TorchTied maps the key PyTorch saves the second copy under to the
	// parameter it must equal.
	TorchTied() map[string]string
}

// OptionsFor returns the Options that load a state_dict into the model m:
// its TorchNames and TorchTied where it implements them, and the caller's
// prefixes, which win over the model's for the same prefix. name names the
// model in errors.
func OptionsFor(m any, name string, prefixes map[string]string) Options {
	o := Options{Prefixes: map[string]string{}, Tied: map[string]string{}, Model: name}
	if n, ok := m.(TorchNamer); ok {
		for k, v := range n.TorchNames() {
			o.Prefixes[k] = v
		}
	}
	if t, ok := m.(TorchTier); ok {
		for k, v := range t.TorchTied() {
			o.Tied[k] = v
		}
	}
	for k, v := range prefixes {
		o.Prefixes[k] = v
	}
	return o
}

// Import returns a Trainer of the model m, as training.New makes it from
// cfg (cfg.Dtype is the parameters' dtype), whose parameters hold the
// state_dict sd, loaded by Load with OptionsFor(m, kind, prefixes). Its
// Checkpoint (with training.PresetKey among the extras, where a preset
// describes m) is an ordinary rnnkit checkpoint at step 0, which rnnkit
// eval, translate and sample read.
// On an error no Trainer is returned (a *LoadError when sd does not fit).
func Import(cfg training.Config, m training.Model, sd *torch.StateDict, prefixes map[string]string) (*training.Trainer, []Match, error) {
	if m == nil || sd == nil {
		return nil, nil, errors.New("interop: Import needs a model and a state_dict")
	}
	tr, err := training.New(cfg, m, nil)
	if err != nil {
		return nil, nil, errors.Wrap(err, "interop: making the model")
	}
	matches, err := Load(tr.Params, sd, OptionsFor(m, m.Describe().Kind, prefixes))
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	return tr, matches, nil
}

// TreeNames returns the PyTorch module prefixes of the tree models'
// (models/tree) state_dicts: DGL's Tree-LSTM example keeps the cell's
// parameters under "cell." (cell.W_iou.weight, …), which rnnkit names at
// the top level (W_iou.weight, …). Give it to Load as Options.Prefixes.
func TreeNames() map[string]string { return map[string]string{"cell.": ""} }
