package torch

import (
	"strings"

	"github.com/pkg/errors"
)

// Keys returns the names of the floating-point tensors, in the file's
// order.
func (sd *StateDict) Keys() []string {
	keys := make([]string, len(sd.Tensors))
	for i, t := range sd.Tensors {
		keys[i] = t.Name
	}
	return keys
}

// Get returns the floating-point tensor named name. A key the file holds
// with another dtype gives an error wrapping ErrNotFloat that names the
// key and the dtype; a key it does not hold, one wrapping ErrMissing.
func (sd *StateDict) Get(name string) (Tensor, error) {
	for _, t := range sd.Tensors {
		if t.Name == name {
			return t, nil
		}
	}
	for _, s := range sd.Skipped {
		if s.Name == name {
			return Tensor{}, errors.Wrapf(ErrNotFloat, "tensor %q is %s", name, s.DType)
		}
	}
	return Tensor{}, errors.Wrapf(ErrMissing, "tensor %q", name)
}

// CheckFloat returns nil when every tensor of the file is a floating-point
// one, and otherwise an error wrapping ErrNotFloat naming the first key
// skipped and its dtype (and how many there are), for callers that take a
// non-float tensor as a mistake rather than a buffer to leave out.
func (sd *StateDict) CheckFloat() error {
	if len(sd.Skipped) == 0 {
		return nil
	}
	s := sd.Skipped[0]
	return errors.Wrapf(ErrNotFloat, "tensor %q is %s (%d non-float tensors in all)", s.Name, s.DType, len(sd.Skipped))
}

// Rename returns a copy of the state_dict whose keys are f(key), for
// floating-point and skipped tensors alike; an empty name leaves the
// tensor out. Two keys renamed to one give an error naming both. The
// tensors' values are shared with sd, not copied.
func (sd *StateDict) Rename(f func(name string) string) (*StateDict, error) {
	out := &StateDict{Format: sd.Format, Tensors: []Tensor{}, Skipped: []Skipped{}}
	from := map[string]string{}
	claim := func(old, name string) error {
		if prev, ok := from[name]; ok {
			return errors.Errorf("torch: renaming %q and %q both give %q", prev, old, name)
		}
		from[name] = old
		return nil
	}
	for _, t := range sd.Tensors {
		name := f(t.Name)
		if name == "" {
			continue
		}
		if err := claim(t.Name, name); err != nil {
			return nil, err
		}
		t.Name = name
		out.Tensors = append(out.Tensors, t)
	}
	for _, s := range sd.Skipped {
		name := f(s.Name)
		if name == "" {
			continue
		}
		if err := claim(s.Name, name); err != nil {
			return nil, err
		}
		s.Name = name
		out.Skipped = append(out.Skipped, s)
	}
	return out, nil
}

// Strip returns a copy of the state_dict with prefix removed from the keys
// that start with it (for example "module." from a model wrapped in
// torch.nn.DataParallel); the other keys are kept as they are. A key that
// is the prefix itself, or two keys that become one, give an error.
func (sd *StateDict) Strip(prefix string) (*StateDict, error) {
	var bad string
	out, err := sd.Rename(func(name string) string {
		if name == prefix && prefix != "" {
			bad = name
		}
		return strings.TrimPrefix(name, prefix)
	})
	if err != nil {
		return nil, errors.Wrapf(err, "stripping %q", prefix)
	}
	if bad != "" {
		return nil, errors.Errorf("torch: stripping %q leaves key %q empty", prefix, bad)
	}
	return out, nil
}
