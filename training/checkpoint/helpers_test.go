package checkpoint

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// specials are float64 values whose bits must survive a round trip.
var specials = []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.NaN(),
	math.Float64frombits(0x7ff0000000000001), // a signalling NaN with a payload
	math.SmallestNonzeroFloat64, math.MaxFloat64, 1.0 / 3}

// specials32 are their float32 counterparts, with payloads of their own.
var specials32 = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	math.Float32frombits(0x7fc00001), math.Float32frombits(0xffa00003), math.SmallestNonzeroFloat32,
	math.MaxFloat32, 1.0 / 3}

// randTensor returns a tensor of the given dtype and shape (shape () for a
// scalar) whose first elements are the special values and the rest random.
func randTensor(t testing.TB, rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	t.Helper()
	n := 1
	for _, d := range shape {
		n *= d
	}
	if dt == tensor.Float32 {
		v := make([]float32, n)
		for i := range v {
			if i < len(specials32) {
				v[i] = specials32[(i+rng.IntN(3))%len(specials32)]
			} else {
				v[i] = float32(rng.NormFloat64())
			}
		}
		if len(shape) == 0 {
			return tensor.New(tensor.FromScalar(v[0]))
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	v := make([]float64, n)
	for i := range v {
		if i < len(specials) {
			v[i] = specials[(i+rng.IntN(3))%len(specials)]
		} else {
			v[i] = rng.NormFloat64()
		}
	}
	if len(shape) == 0 {
		return tensor.New(tensor.FromScalar(v[0]))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// sampleMeta returns metadata that uses every field, with characters JSON
// must escape.
func sampleMeta(t testing.TB) Meta {
	t.Helper()
	pcg := rand.NewPCG(1, 2)
	pcg.Uint64()
	rngState, err := pcg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return Meta{
		Model: json.RawMessage(`{"kind":"lstm","hidden":64,"note":"<tag> & \"quotes\" é \u2028"}`),
		Vocab: json.RawMessage(`["<pad>","a","b","ключ"]`),
		Step:  1234, Epoch: 3, Seed: math.MaxUint64,
		RNG:   rngState,
		Extra: map[string]string{"loss": "0.125", "git": "abc123", "unicode ключ": "значение\n\t\"", "": "empty key", "sep": "a\u2028b<>&\x00"},
	}
}

// sampleCheckpoint returns a checkpoint with the given dtype: a few
// parameters in an order that is not sorted, and state in both dtypes
// including a scalar.
func sampleCheckpoint(t testing.TB, dt tensor.Dtype) *Checkpoint {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name  string
		shape []int
	}{{"weight_ih_l0", []int{8, 3}}, {"weight_hh_l0", []int{8, 2}}, {"bias_ih_l0", []int{8}}, {"bias_hh_l0", []int{8}}, {"a.one", []int{1}}, {"embed/weight \"é\"", []int{2, 1, 3}}} {
		if err := ps.Add(p.name, randTensor(t, rng, dt, p.shape...)); err != nil {
			t.Fatal(err)
		}
	}
	return &Checkpoint{
		Meta:   sampleMeta(t),
		Params: ps,
		State: map[string]*tensor.Dense{
			"adam.m.weight_ih_l0": randTensor(t, rng, dt, 8, 3),
			"adam.v.weight_ih_l0": randTensor(t, rng, tensor.Float64, 8, 3),
			"adam.t":              randTensor(t, rng, tensor.Float32),
			"adam.one":            randTensor(t, rng, dt, 1),
		},
	}
}

// smallCheckpoint returns a checkpoint small enough to damage byte by byte.
func smallCheckpoint(t testing.TB) *Checkpoint {
	t.Helper()
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := graph.FromFloat64s(tensor.Float32, []float64{1, -2, 3.5, 0.25}, 2, 2)
	b, _ := graph.FromFloat64s(tensor.Float32, []float64{0.5}, 1)
	if err := ps.Add("w", w); err != nil {
		t.Fatal(err)
	}
	if err := ps.Add("b", b); err != nil {
		t.Fatal(err)
	}
	m, _ := graph.FromFloat64s(tensor.Float64, []float64{1e-3, -7}, 2)
	return &Checkpoint{
		Meta:   Meta{Model: json.RawMessage(`{"h":2}`), Step: 12, Epoch: 1, Seed: 5, RNG: []byte{1, 2, 3}, Extra: map[string]string{"loss": "1.5"}},
		Params: ps,
		State:  map[string]*tensor.Dense{"adam.m.w": m},
	}
}

// encode returns the bytes Save writes for c.
func encode(t testing.TB, c *Checkpoint) []byte {
	t.Helper()
	l, err := plan(c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := l.write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decodeBytes decodes a file held in memory.
func decodeBytes(b []byte) (*Checkpoint, error) {
	return decode(bytes.NewReader(b), int64(len(b)))
}

// bitsOf returns a tensor's shape and the bits of its elements, and whether
// it is float32.
func bitsOf(t testing.TB, d *tensor.Dense) ([]int, []uint64, bool) {
	t.Helper()
	if d.IsMaterializable() {
		d = d.Materialize().(*tensor.Dense)
	}
	shape := d.Shape().Clone()
	n := 1
	for _, s := range shape {
		n *= s
	}
	var out []uint64
	switch v := d.Data().(type) {
	case []float32:
		for _, x := range v[:n] {
			out = append(out, uint64(math.Float32bits(x)))
		}
		return shape, out, true
	case float32:
		return shape, []uint64{uint64(math.Float32bits(v))}, true
	case []float64:
		for _, x := range v[:n] {
			out = append(out, math.Float64bits(x))
		}
	case float64:
		out = []uint64{math.Float64bits(v)}
	default:
		t.Fatalf("data of type %T", v)
	}
	return shape, out, false
}

func sameTensor(t testing.TB, what string, want, got *tensor.Dense) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing", what)
		return
	}
	ws, wb, w32 := bitsOf(t, want)
	gs, gb, g32 := bitsOf(t, got)
	if w32 != g32 {
		t.Errorf("%s: float32 %v, want %v", what, g32, w32)
	}
	if !slices.Equal(ws, gs) {
		t.Errorf("%s: shape %v, want %v", what, gs, ws)
	}
	if !slices.Equal(wb, gb) {
		t.Errorf("%s: bits %x, want %x", what, gb, wb)
	}
}

// sameCheckpoint fails t unless got holds exactly want's contents.
func sameCheckpoint(t testing.TB, want, got *Checkpoint) {
	t.Helper()
	if got == nil {
		t.Fatal("nil checkpoint")
	}
	wm, gm := want.Meta, got.Meta
	if !bytes.Equal(wm.Model, gm.Model) || !bytes.Equal(wm.Vocab, gm.Vocab) || !bytes.Equal(wm.RNG, gm.RNG) ||
		wm.Step != gm.Step || wm.Epoch != gm.Epoch || wm.Seed != gm.Seed || len(wm.Extra) != len(gm.Extra) {
		t.Errorf("meta %+v, want %+v", gm, wm)
	}
	if len(wm.Vocab) == 0 && gm.Vocab != nil || len(wm.RNG) == 0 && gm.RNG != nil || len(wm.Extra) == 0 && gm.Extra != nil {
		t.Errorf("empty fields should load as nil: %+v", gm)
	}
	for k, v := range wm.Extra {
		if g, ok := gm.Extra[k]; !ok || g != v {
			t.Errorf("Extra[%q] = %q, %v; want %q", k, g, ok, v)
		}
	}
	if got.Params.Dtype() != want.Params.Dtype() {
		t.Errorf("params dtype %v, want %v", got.Params.Dtype(), want.Params.Dtype())
	}
	if !slices.Equal(got.Params.Names(), want.Params.Names()) {
		t.Fatalf("names %q, want %q", got.Params.Names(), want.Params.Names())
	}
	for _, n := range want.Params.Names() {
		w, _ := want.Params.Get(n)
		g, _ := got.Params.Get(n)
		sameTensor(t, "param "+n, w, g)
	}
	if len(got.State) != len(want.State) {
		t.Errorf("%d state tensors, want %d", len(got.State), len(want.State))
	}
	if len(want.State) == 0 && got.State != nil {
		t.Errorf("empty state should load as nil")
	}
	for k, w := range want.State {
		sameTensor(t, "state "+k, w, got.State[k])
	}
}

// tempFiles lists the leftovers of Save in dir.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}
