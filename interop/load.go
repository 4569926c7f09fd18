package interop

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/interop/torch"
)

// Options says how the keys of a PyTorch state_dict name rnnkit's
// parameters.
type Options struct {
	// Prefixes maps PyTorch module prefixes to rnnkit's: a key that starts
	// with one of them has the longest that matches replaced ("emb." →
	// "embedding." makes "emb.weight" the parameter "embedding.weight"); a
	// key that matches none names the parameter of its own name. A prefix
	// may map to "" ("module." of torch.nn.DataParallel).
	Prefixes map[string]string
	// Tied lists parameters that rnnkit shares and PyTorch saves twice: a
	// key (after Prefixes) that rnnkit has no parameter of, mapped to the
	// parameter whose values it must hold (a language model with tied
	// weights: "fc.weight" → "embedding.weight"). Such a key is checked
	// and then left out; one with other values or another shape is an
	// error.
	Tied map[string]string
	// Model names the model in errors, as PyTorch names the module's class
	// ("Error(s) in loading state_dict for LM"); "" says "model".
	Model string
}

// rename returns the rnnkit name of a state_dict key.
func (o Options) rename(key string) string {
	best, found := "", false
	for p := range o.Prefixes {
		if strings.HasPrefix(key, p) && (!found || len(p) > len(best)) {
			best, found = p, true
		}
	}
	if !found {
		return key
	}
	return o.Prefixes[best] + key[len(best):]
}

// Match is one tensor of a state_dict loaded into a parameter.
type Match struct {
	// Key is the state_dict key, Param the rnnkit parameter it was loaded
	// into (the same unless Options.Prefixes renamed it).
	Key, Param string
	// DType is the tensor's dtype in the file ("float32", "float64",
	// "float16" or "bfloat16"); the values were converted to the
	// parameters' dtype.
	DType string
}

// Load copies the floating-point tensors of sd into the parameters ps, by
// name after opt's renaming, as PyTorch's strict load_state_dict does:
// every parameter of ps must receive a tensor of its shape (a
// float16/bfloat16/float32/float64 tensor converted to ps's dtype), and
// every key of sd must name a parameter (or be a tied copy,
// Options.Tied). Values must be finite, and fit in float32 when ps is
// float32.
//
// On any failure Load returns a *LoadError listing every missing and
// unexpected key and every size mismatch, in PyTorch's words, and ps is
// unchanged: everything is checked before anything is copied.
func Load(ps *graph.Params, sd *torch.StateDict, opt Options) ([]Match, error) {
	if ps == nil || sd == nil {
		return nil, errors.New("interop: Load needs params and a state_dict")
	}
	le := &LoadError{Model: opt.Model}
	byParam := map[string]torch.Tensor{}
	var matches []Match
	var tied []torch.Tensor
	seen := map[string]string{} // parameter → the key that named it
	for _, t := range sd.Tensors {
		name := opt.rename(t.Name)
		if prev, ok := seen[name]; ok {
			le.Other = append(le.Other, fmt.Sprintf("keys %q and %q both name parameter %q.", prev, t.Name, name))
			continue
		}
		seen[name] = t.Name
		dst, ok := ps.Get(name)
		if !ok {
			if _, isTied := opt.Tied[name]; isTied {
				tied = append(tied, t)
				continue
			}
			le.Unexpected = append(le.Unexpected, t.Name)
			continue
		}
		if !sameShape(t.Shape, dst.Shape()) {
			le.Mismatched = append(le.Mismatched, Mismatch{Key: t.Name, File: t.Shape, Model: []int(dst.Shape().Clone())})
			continue
		}
		if msg := checkValues(t, ps.Dtype()); msg != "" {
			le.Other = append(le.Other, msg)
			continue
		}
		byParam[name] = t
		matches = append(matches, Match{Key: t.Name, Param: name, DType: t.DType})
	}
	for _, s := range sd.Skipped {
		name := opt.rename(s.Name)
		dst, ok := ps.Get(name)
		if !ok {
			le.Unexpected = append(le.Unexpected, s.Name)
			continue
		}
		if prev, ok := seen[name]; ok {
			le.Other = append(le.Other, fmt.Sprintf("keys %q and %q both name parameter %q.", prev, s.Name, name))
			continue
		}
		seen[name] = s.Name
		le.Other = append(le.Other, fmt.Sprintf("dtype mismatch for %s: copying a param of dtype %s with shape %s from checkpoint, "+
			"the param in current model is %v with shape %s.", s.Name, s.DType, shapeString(s.Shape), ps.Dtype(), shapeString(dst.Shape())))
	}
	for _, n := range ps.Names() {
		if _, ok := seen[n]; !ok {
			le.Missing = append(le.Missing, n)
		}
	}
	for _, t := range tied {
		name := opt.rename(t.Name)
		if msg := checkTied(t, opt.Tied[name], byParam); msg != "" {
			le.Other = append(le.Other, msg)
		}
	}
	if le.failed() {
		return nil, le
	}
	for _, m := range matches {
		dst, _ := ps.Get(m.Param)
		if err := graph.SetFloat64s(dst, byParam[m.Param].Data); err != nil {
			return nil, errors.Wrapf(err, "interop: %s", m.Key) // not reached: the shape was checked
		}
	}
	return matches, nil
}

// checkValues returns what is wrong with a tensor's values for parameters
// of dtype dt, "" if nothing.
func checkValues(t torch.Tensor, dt tensor.Dtype) string {
	for i, v := range t.Data {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Sprintf("non-finite value for %s: element %d is %v.", t.Name, i, v)
		case dt == tensor.Float32 && math.Abs(v) > math.MaxFloat32:
			return fmt.Sprintf("value out of float32 range for %s: element %d is %v.", t.Name, i, v)
		}
	}
	return ""
}

// checkTied returns what is wrong with the tied copy t of parameter of,
// "" if nothing.
func checkTied(t torch.Tensor, of string, byParam map[string]torch.Tensor) string {
	src, ok := byParam[of]
	if !ok {
		return "" // the parameter itself is missing or wrong, and said so
	}
	if !sameShape(t.Shape, src.Shape) {
		return fmt.Sprintf("size mismatch for %s: the model ties it to %s, of shape %s in checkpoint, but it has shape %s.",
			t.Name, of, shapeString(src.Shape), shapeString(t.Shape))
	}
	for i := range t.Data {
		if t.Data[i] != src.Data[i] && !(math.IsNaN(t.Data[i]) && math.IsNaN(src.Data[i])) {
			return fmt.Sprintf("tied weights differ for %s: the model ties it to %s, but element %d is %v, not %v.",
				t.Name, of, i, t.Data[i], src.Data[i])
		}
	}
	return ""
}

func sameShape(a []int, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shapeString writes a shape as "[a, b]", as PyTorch's errors do (without
// "torch.Size(…)").
func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Mismatch is a key whose tensor has another shape than the parameter it
// names.
type Mismatch struct {
	Key         string
	File, Model []int
}

// LoadError is what Load returns when a state_dict does not fit the
// model: the lists of PyTorch's strict load_state_dict, and what else is
// wrong (a non-float tensor for a parameter, a non-finite value, a tied
// copy that differs).
type LoadError struct {
	// Model names the model, as Options.Model.
	Model string
	// Missing are the parameters no key named (rnnkit's names, which are
	// PyTorch's for the model's own modules); Unexpected the keys that
	// name no parameter, as the file has them.
	Missing, Unexpected []string
	// Mismatched are the keys whose shapes differ from their parameters'.
	Mismatched []Mismatch
	// Other holds the other problems, one sentence each.
	Other []string
}

func (e *LoadError) failed() bool {
	return len(e.Missing)+len(e.Unexpected)+len(e.Mismatched)+len(e.Other) > 0
}

// Error writes the problems as PyTorch does:
//
//	interop: Error(s) in loading state_dict for LM:
//		Missing key(s) in state_dict: "fc.weight", "fc.bias".
//		Unexpected key(s) in state_dict: "decoder.weight".
//		size mismatch for rnn.weight_ih_l0: copying a param with shape [16, 3] from checkpoint, the shape in current model is [16, 8].
func (e *LoadError) Error() string {
	var lines []string
	quote := func(keys []string) string {
		q := make([]string, len(keys))
		for i, k := range keys {
			q[i] = fmt.Sprintf("%q", k)
		}
		return strings.Join(q, ", ")
	}
	if len(e.Missing) > 0 {
		lines = append(lines, fmt.Sprintf("Missing key(s) in state_dict: %s. ", quote(e.Missing)))
	}
	if len(e.Unexpected) > 0 {
		lines = append(lines, fmt.Sprintf("Unexpected key(s) in state_dict: %s. ", quote(e.Unexpected)))
	}
	for _, m := range e.Mismatched {
		lines = append(lines, fmt.Sprintf("size mismatch for %s: copying a param with shape %s from checkpoint, the shape in current model is %s.",
			m.Key, shapeString(m.File), shapeString(m.Model)))
	}
	lines = append(lines, e.Other...)
	model := e.Model
	if model == "" {
		model = "model"
	}
	return fmt.Sprintf("interop: Error(s) in loading state_dict for %s:\n\t%s", model, strings.Join(lines, "\n\t"))
}
