package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// one32 returns a new float32 tensor of shape [1].
func one32(t *testing.T) *tensor.Dense {
	t.Helper()
	x, err := graph.FromFloat64s(tensor.Float32, []float64{1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func saveLoad(t *testing.T, c *Checkpoint) *Checkpoint {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.safetensors")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			c := sampleCheckpoint(t, dt)
			got := saveLoad(t, c)
			sameCheckpoint(t, c, got)
			// Loaded tensors are usable: a second round trip gives the same bytes.
			if !bytes.Equal(encode(t, c), encode(t, got)) {
				t.Error("re-encoding the loaded checkpoint gives other bytes")
			}
		})
	}
}

func TestRoundTripEmptyState(t *testing.T) {
	for _, state := range []map[string]*tensor.Dense{nil, {}} {
		c := smallCheckpoint(t)
		c.State = state
		c.Meta = Meta{Model: json.RawMessage(`{}`), Extra: map[string]string{}, RNG: []byte{}, Vocab: json.RawMessage{}}
		got := saveLoad(t, c)
		sameCheckpoint(t, c, got)
	}
}

func TestRoundTripEmptyParams(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		ps, _ := graph.NewParams(dt)
		c := &Checkpoint{Meta: Meta{Model: json.RawMessage(`null`), Step: -1, Epoch: -2}, Params: ps}
		sameCheckpoint(t, c, saveLoad(t, c))
	}
}

func TestRoundTripManyTensors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		ps, _ := graph.NewParams(dt)
		state := map[string]*tensor.Dense{}
		for i := range 300 {
			shape := []int{1 + rng.IntN(4), 1 + rng.IntN(3)}[:1+rng.IntN(2)]
			if i%3 == 0 {
				shape = []int{1} // 1-element tensors
			}
			// Names in an order that is neither sorted nor reverse-sorted.
			if err := ps.Add(fmt.Sprintf("p%03d", (i*37)%300), randTensor(t, rng, dt, shape...)); err != nil {
				t.Fatal(err)
			}
			state[fmt.Sprintf("s%d", i)] = randTensor(t, rng, dt, shape...)
		}
		c := &Checkpoint{Meta: Meta{Model: json.RawMessage(`[1,2]`)}, Params: ps, State: state}
		sameCheckpoint(t, c, saveLoad(t, c))
	}
}

// Views are stored by their values in row-major order.
func TestRoundTripViews(t *testing.T) {
	base := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	tr := base.Clone().(*tensor.Dense)
	if err := tr.T(); err != nil {
		t.Fatal(err)
	}
	row, err := base.Slice(tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	col, err := base.Slice(nil, tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := graph.NewParams(tensor.Float64)
	c := &Checkpoint{Meta: Meta{Model: json.RawMessage(`{}`)}, Params: ps, State: map[string]*tensor.Dense{
		"t": tr, "row": row.(*tensor.Dense), "col": col.(*tensor.Dense),
	}}
	got := saveLoad(t, c)
	for k, want := range map[string][]float64{"t": {1, 4, 2, 5, 3, 6}, "row": {4, 5, 6}, "col": {2, 5}} {
		v, err := graph.Float64s(got.State[k])
		if err != nil || fmt.Sprint(v) != fmt.Sprint(want) {
			t.Errorf("%s: %v %v, want %v", k, v, err, want)
		}
	}
	if s := got.State["t"].Shape(); fmt.Sprint(s) != "(3, 2)" {
		t.Errorf("transposed shape %v", s)
	}
}

// The same checkpoint always gives the same bytes, and the header is padded
// to 8 bytes.
func TestSaveDeterministic(t *testing.T) {
	a := encode(t, sampleCheckpoint(t, tensor.Float32))
	b := encode(t, sampleCheckpoint(t, tensor.Float32))
	if !bytes.Equal(a, b) {
		t.Error("two encodings differ")
	}
	if n := int(a[0]) | int(a[1])<<8 | int(a[2])<<16; (8+n)%8 != 0 || a[8] != '{' {
		t.Errorf("header length %d, first byte %q", n, a[8])
	}
}

func TestSaveRefuses(t *testing.T) {
	intTensor := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int64{1, 2}))
	cases := []struct {
		name   string
		change func(c *Checkpoint)
		want   string
	}{
		{"nil params", func(c *Checkpoint) { c.Params = nil }, "nil Params"},
		{"zero params", func(c *Checkpoint) { c.Params = &graph.Params{} }, "dtype <none>"},
		{"no model", func(c *Checkpoint) { c.Meta.Model = nil }, "Model is empty"},
		{"bad model", func(c *Checkpoint) { c.Meta.Model = json.RawMessage(`{"a":`) }, "Model is not valid JSON"},
		{"bad vocab", func(c *Checkpoint) { c.Meta.Vocab = json.RawMessage(`[1,`) }, "Vocab is not valid JSON"},
		{"non-UTF-8 model", func(c *Checkpoint) { c.Meta.Model = json.RawMessage("\"\xff\"") }, "Model is not valid JSON"},
		{"non-UTF-8 extra", func(c *Checkpoint) { c.Meta.Extra = map[string]string{"k": "\xff"} }, "valid UTF-8"},
		{"int64 state", func(c *Checkpoint) { c.State["i"] = intTensor }, "dtype int64"},
		{"nil state", func(c *Checkpoint) { c.State["n"] = nil }, "nil tensor"},
		{"zero-value state", func(c *Checkpoint) { c.State["z"] = &tensor.Dense{} }, "unsupported"},
		{"empty state name", func(c *Checkpoint) { c.State[""] = c.State["adam.m.w"] }, "empty tensor name"},
		{"zero-size state", func(c *Checkpoint) {
			c.State["e"] = tensor.New(tensor.WithShape(0, 2), tensor.Of(tensor.Float32))
		}, "dimensions must be positive"},
		{"reserved prefix", func(c *Checkpoint) { c.Params.Add("state/x", one32(t)) }, "reserved"},
		{"reserved name", func(c *Checkpoint) { c.Params.Add("__metadata__", one32(t)) }, "reserved"},
		{"non-UTF-8 name", func(c *Checkpoint) { c.Params.Add("w\xff", one32(t)) }, "valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.safetensors")
			c := smallCheckpoint(t)
			tc.change(c)
			err := Save(path, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("files written: %v", ents)
			}
		})
	}
	if err := Save(filepath.Join(t.TempDir(), "c"), nil); err == nil {
		t.Error("nil checkpoint saved")
	}
}

// atomicCase saves a good checkpoint at path, runs a Save that must fail,
// and checks the first file is byte-identical and no temporary file is left.
func atomicCase(t *testing.T, dir string, fail func(path string) error) {
	t.Helper()
	path := filepath.Join(dir, "c.safetensors")
	if err := Save(path, smallCheckpoint(t)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = fail(path)
	if err == nil {
		t.Fatal("the second Save succeeded")
	}
	t.Logf("error: %v", err)
	after, rerr := os.ReadFile(path)
	if rerr != nil || !bytes.Equal(before, after) {
		t.Errorf("the previous file changed (%v)", rerr)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("the previous file no longer loads: %v", err)
	}
}

func TestSaveAtomicUnsupportedDtype(t *testing.T) {
	atomicCase(t, t.TempDir(), func(path string) error {
		c := sampleCheckpoint(t, tensor.Float64)
		c.State["zz"] = tensor.New(tensor.WithShape(2), tensor.WithBacking([]int32{1, 2}))
		return Save(path, c)
	})
}

func TestSaveAtomicReadOnlyDir(t *testing.T) {
	dir := t.TempDir()
	atomicCase(t, dir, func(path string) error {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if f, err := os.CreateTemp(dir, "probe"); err == nil { // root ignores permissions
			f.Close()
			os.Remove(f.Name())
			t.Skip("the directory stays writable (running as root?)")
		}
		return Save(path, sampleCheckpoint(t, tensor.Float32))
	})
}

// A failure after the temporary file is complete (here injected just before
// the rename) removes it and leaves the old file.
func TestSaveAtomicLateFailure(t *testing.T) {
	dir := t.TempDir()
	atomicCase(t, dir, func(path string) error {
		var sawTmp bool
		hookBeforeRename = func(tmp string) error {
			_, err := os.Stat(tmp)
			sawTmp = err == nil && filepath.Dir(tmp) == dir
			return errors.New("injected failure")
		}
		defer func() { hookBeforeRename = nil }()
		err := Save(path, sampleCheckpoint(t, tensor.Float32))
		if !sawTmp {
			t.Error("no temporary file in the target directory before the rename")
		}
		return err
	})
}

// failingWriter fails once n bytes are written, as a full disk would.
type failingWriter struct {
	w io.Writer
	n int
}

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k, _ := f.w.Write(b[:f.n])
		f.n = 0
		return k, syscall.ENOSPC
	}
	f.n -= len(b)
	return f.w.Write(b)
}

// A write that fails part-way (the disk is full) removes the partial file.
func TestSaveAtomicWriteFailure(t *testing.T) {
	size := len(encode(t, sampleCheckpoint(t, tensor.Float64)))
	for _, n := range []int{0, 8, 100, size / 2, size - 1} {
		atomicCase(t, t.TempDir(), func(path string) error {
			hookWriter = func(w io.Writer) io.Writer { return &failingWriter{w, n} }
			defer func() { hookWriter = nil }()
			err := Save(path, sampleCheckpoint(t, tensor.Float64))
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("after %d bytes: %v", n, err)
			}
			return err
		})
	}
}

// Saving over a directory fails at the rename.
func TestSaveOverDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.safetensors")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, smallCheckpoint(t)); err == nil {
		t.Fatal("saved over a directory")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := Save(filepath.Join(dir, "missing", "c.safetensors"), smallCheckpoint(t)); err == nil {
		t.Error("saved into a missing directory")
	}
}

// Save replaces an existing checkpoint.
func TestSaveReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.safetensors")
	a, b := smallCheckpoint(t), sampleCheckpoint(t, tensor.Float64)
	for _, c := range []*Checkpoint{a, b} {
		if err := Save(path, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sameCheckpoint(t, b, got)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
}
