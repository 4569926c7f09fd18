package interop_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/interop"
	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training"
)

// lmParams returns the parameters of a small LSTM language model.
func lmParams(t *testing.T, dt tensor.Dtype, tied bool) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	embed := 3
	if tied {
		embed = 4
	}
	if err := (lm.Config{Vocab: 6, Embed: embed, Hidden: 4, Cell: cells.LSTMKind, Tied: tied}).Init(ps, graph.NewSource(1)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// stateDictOf returns a state_dict holding a tensor for every parameter of
// ps, its values i/100 + k, under the names rename gives (a name renamed
// to "" is left out).
func stateDictOf(ps *graph.Params, rename func(string) string) *torch.StateDict {
	sd := &torch.StateDict{Format: "zip"}
	for k, n := range ps.Names() {
		p, _ := ps.Get(n)
		name := rename(n)
		if name == "" {
			continue
		}
		v := make([]float64, p.Shape().TotalSize())
		for i := range v {
			v[i] = float64(i)/100 + float64(k)
		}
		sd.Tensors = append(sd.Tensors, torch.Tensor{Name: name, Shape: []int(p.Shape().Clone()), DType: "float32", Data: v})
	}
	return sd
}

func same(s string) string { return s }

// snapshot returns every parameter's values.
func snapshot(t *testing.T, ps *graph.Params) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, n := range ps.Names() {
		p, _ := ps.Get(n)
		v, err := graph.Float64s(p)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

// A state_dict that fits loads every value, converted to the parameters'
// dtype, and Load reports each key's parameter.
func TestLoadFits(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		ps := lmParams(t, dt, false)
		sd := stateDictOf(ps, same)
		ms, err := interop.Load(ps, sd, interop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != ps.Len() {
			t.Fatalf("%d matches for %d parameters", len(ms), ps.Len())
		}
		got := snapshot(t, ps)
		for _, tt := range sd.Tensors {
			for i, v := range tt.Data {
				if want := tensorValue(dt, v); got[tt.Name][i] != want {
					t.Fatalf("%v %s[%d] = %v, want %v", dt, tt.Name, i, got[tt.Name][i], want)
				}
			}
		}
	}
}

// tensorValue is v as a tensor of dtype dt holds it.
func tensorValue(dt tensor.Dtype, v float64) float64 {
	if dt == tensor.Float32 {
		return float64(float32(v))
	}
	return v
}

// Missing and unexpected keys and size mismatches are reported together,
// in PyTorch's words, and nothing is loaded.
func TestLoadStrictErrors(t *testing.T) {
	ps := lmParams(t, tensor.Float32, false)
	before := snapshot(t, ps)
	sd := stateDictOf(ps, func(n string) string {
		switch n {
		case "fc.weight", "fc.bias":
			return "out." + strings.TrimPrefix(n, "fc.")
		case "rnn.bias_hh_l0":
			return ""
		}
		return n
	})
	sd.Tensors[1].Shape, sd.Tensors[1].Data = []int{16, 2}, sd.Tensors[1].Data[:32] // rnn.weight_ih_l0 is [16, 3]
	_, err := interop.Load(ps, sd, interop.Options{Model: "LM"})
	var le *interop.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T), want a *LoadError", err, err)
	}
	want := "interop: Error(s) in loading state_dict for LM:\n" +
		"\tMissing key(s) in state_dict: \"rnn.bias_hh_l0\", \"fc.weight\", \"fc.bias\". \n" +
		"\tUnexpected key(s) in state_dict: \"out.weight\", \"out.bias\". \n" +
		"\tsize mismatch for rnn.weight_ih_l0: copying a param with shape [16, 2] from checkpoint, the shape in current model is [16, 3]."
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if !reflect.DeepEqual(before, snapshot(t, ps)) {
		t.Error("a failed Load changed the parameters")
	}
}

// Prefixes rename keys by the longest prefix that matches; two keys that
// name one parameter are an error naming both.
func TestLoadPrefixes(t *testing.T) {
	ps := lmParams(t, tensor.Float64, false)
	sd := stateDictOf(ps, func(n string) string {
		n = strings.Replace(n, "embedding.", "module.encoder.", 1)
		n = strings.Replace(n, "fc.", "module.decoder.", 1)
		return strings.Replace(n, "rnn.", "module.rnn.", 1)
	})
	opt := interop.Options{Prefixes: map[string]string{"module.": "", "module.encoder.": "embedding.", "module.decoder.": "fc."}}
	ms, err := interop.Load(ps, sd, opt)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Key != "module.encoder.weight" || ms[0].Param != "embedding.weight" {
		t.Errorf("first match %+v", ms[0])
	}
	sd.Tensors = append(sd.Tensors, torch.Tensor{Name: "embedding.weight", Shape: []int{6, 3}, DType: "float32", Data: make([]float64, 18)})
	_, err = interop.Load(ps, sd, opt)
	if err == nil || !strings.Contains(err.Error(), `keys "module.encoder.weight" and "embedding.weight" both name parameter "embedding.weight"`) {
		t.Errorf("two keys for one parameter: %v", err)
	}
}

// A non-float tensor for a parameter, a non-finite value and a float64
// value beyond float32 are errors naming the key; a non-float tensor of no
// parameter is an unexpected key.
func TestLoadBadValues(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(sd *torch.StateDict)
		want string
	}{
		{"int64 parameter", func(sd *torch.StateDict) {
			sd.Skipped = append(sd.Skipped, torch.Skipped{Name: "fc.bias", Shape: []int{6}, DType: "int64"})
			sd.Tensors = sd.Tensors[:len(sd.Tensors)-1]
		}, "dtype mismatch for fc.bias: copying a param of dtype int64 with shape [6] from checkpoint, the param in current model is float32 with shape [6]."},
		{"int64 buffer", func(sd *torch.StateDict) {
			sd.Skipped = append(sd.Skipped, torch.Skipped{Name: "bn.num_batches_tracked", DType: "int64"})
		}, `Unexpected key(s) in state_dict: "bn.num_batches_tracked".`},
		{"NaN", func(sd *torch.StateDict) { sd.Tensors[2].Data[5] = math.NaN() }, "non-finite value for rnn.weight_hh_l0: element 5 is NaN."},
		{"-Inf", func(sd *torch.StateDict) { sd.Tensors[0].Data[0] = math.Inf(-1) }, "non-finite value for embedding.weight: element 0 is -Inf."},
		{"float32 range", func(sd *torch.StateDict) { sd.Tensors[3].Data[1] = 1e39 }, "value out of float32 range for rnn.bias_ih_l0: element 1 is 1e+39."},
	} {
		ps := lmParams(t, tensor.Float32, false)
		before := snapshot(t, ps)
		sd := stateDictOf(ps, same)
		c.edit(sd)
		_, err := interop.Load(ps, sd, interop.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v\nwant it to say %q", c.name, err, c.want)
		}
		if !reflect.DeepEqual(before, snapshot(t, ps)) {
			t.Errorf("%s: a failed Load changed the parameters", c.name)
		}
	}
}

// A tied language model takes PyTorch's second copy of the embedding
// (decoder.weight in PyTorch's word_language_model) when it equals the
// embedding, and refuses one that differs.
func TestLoadTied(t *testing.T) {
	ps := lmParams(t, tensor.Float32, true)
	m, err := training.NewLM(training.LMConfig{Model: lm.Config{Embed: 4, Hidden: 4, Cell: cells.LSTMKind, Tied: true}, Batch: 1, Steps: 1}, charVocab(6), nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := interop.OptionsFor(m, "LM", nil)
	sd := stateDictOf(ps, func(n string) string {
		return strings.NewReplacer("embedding.", "encoder.", "fc.", "decoder.").Replace(n)
	})
	emb := sd.Tensors[0]
	sd.Tensors = append(sd.Tensors, torch.Tensor{Name: "decoder.weight", Shape: emb.Shape, DType: emb.DType, Data: append([]float64(nil), emb.Data...)})
	if _, err := interop.Load(ps, sd, opt); err != nil {
		t.Fatal(err)
	}
	sd.Tensors[len(sd.Tensors)-1].Data[7] += 1
	_, err = interop.Load(ps, sd, opt)
	if err == nil || !strings.Contains(err.Error(), "tied weights differ for decoder.weight: the model ties it to embedding.weight, but element 7") {
		t.Errorf("differing tied copy: %v", err)
	}
}

// Load of nothing into something, or into nothing, is an error, not a
// panic.
func TestLoadNil(t *testing.T) {
	if _, err := interop.Load(nil, &torch.StateDict{}, interop.Options{}); err == nil {
		t.Error("nil params: no error")
	}
	if _, err := interop.Load(lmParams(t, tensor.Float32, false), nil, interop.Options{}); err == nil {
		t.Error("nil state_dict: no error")
	}
	if _, _, err := interop.Import(training.Config{}, nil, &torch.StateDict{}, nil); err == nil {
		t.Error("nil model: no error")
	}
}
