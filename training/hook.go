package training

import (
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// StepHook is called by the [Trainer] after each optimiser step (a skipped
// batch's too), with the number of steps taken so far and the parameters:
// gradual magnitude pruning (training/prune) sets weights to zero there.
// Its state goes into every checkpoint, so a resumed run continues with
// it, bit for bit.
//
// Checkpoints keep a hook's tensors among the run's state under
// "hook.<name>" and its description (a JSON config, say) in
// Meta.Extra["hook"]. [Trainer.Restore] hands both back to LoadState,
// which checks them and returns a function that installs them: on an
// error anywhere in Restore nothing changes. A checkpoint with hook state
// restores into a run without a hook only through [Open] (to evaluate or
// decode: the hook's effect is in the weights already); [Trainer.Restore]
// refuses it, so a resumed run never drops its hook by accident.
type StepHook interface {
	// AfterStep runs after step (counted from 1) has updated ps. An error
	// stops training.
	AfterStep(step int, ps *graph.Params) error
	// SaveState returns the hook's tensors and its description.
	SaveState() (state map[string]*tensor.Dense, extra string, err error)
	// LoadState checks a checkpoint's hook tensors and description (both
	// empty when the checkpoint has none) and returns the function that
	// makes them the hook's; it changes nothing itself.
	LoadState(state map[string]*tensor.Dense, extra string) (commit func(), err error)
}

// Keys under which checkpoints keep a StepHook's state.
const (
	// HookKey is the Meta.Extra key of the hook's description.
	HookKey = "hook"
	// hookPrefix prefixes the hook's tensors in a checkpoint's State.
	hookPrefix = "hook."
)

// saveHook adds the hook's state to a checkpoint's state and extra.
func (t *Trainer) saveHook(state map[string]*tensor.Dense, extra map[string]string) error {
	if t.Hook == nil {
		return nil
	}
	hs, desc, err := t.Hook.SaveState()
	if err != nil {
		return errors.Wrap(err, "training: hook state")
	}
	for k, v := range hs {
		state[hookPrefix+k] = v
	}
	if desc != "" {
		extra[HookKey] = desc
	}
	return nil
}

// splitHook takes the hook's entries out of a checkpoint's state (a new
// map is returned; state is not changed).
func splitHook(state map[string]*tensor.Dense) (rest, hook map[string]*tensor.Dense) {
	rest = make(map[string]*tensor.Dense, len(state))
	for k, v := range state {
		if name, ok := strings.CutPrefix(k, hookPrefix); ok {
			if hook == nil {
				hook = map[string]*tensor.Dense{}
			}
			hook[name] = v
			continue
		}
		rest[k] = v
	}
	return rest, hook
}

// loadHook checks a checkpoint's hook state against t.Hook and returns the
// function that installs it (a no-op when there is nothing to install).
// ignore lets a run without a hook open a checkpoint that has one.
func (t *Trainer) loadHook(hs map[string]*tensor.Dense, desc string, ignore bool) (func(), error) {
	if t.Hook == nil {
		if (len(hs) > 0 || desc != "") && !ignore {
			return nil, errors.Errorf("training: the checkpoint was written with a step hook (%.200s); resume it with the same one (train's -prune flags)", desc)
		}
		return func() {}, nil
	}
	commit, err := t.Hook.LoadState(hs, desc)
	if err != nil {
		return nil, errors.Wrap(err, "training: checkpoint hook state")
	}
	return commit, nil
}
