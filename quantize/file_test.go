package quantize

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

func testFile(t testing.TB) *File {
	ck := lmCheckpoint(t, lm.Config{Vocab: 9, Embed: 4, Hidden: 5, Cell: cells.GRUKind}, 2)
	f, err := FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A file saved and loaded comes back the same, byte for byte when saved
// again; its dequantized checkpoint holds Scale·Q and the kept floats.
func TestFileRoundTrip(t *testing.T) {
	f := testFile(t)
	path := filepath.Join(t.TempDir(), "q.safetensors")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	if !IsInt8(path) {
		t.Fatal("IsInt8 is false for an int8 checkpoint")
	}
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Marshal()
	b, _ := g.Marshal()
	if !bytes.Equal(a, b) {
		t.Fatal("a loaded file marshals to other bytes")
	}
	if g.Meta.Step != 7 || g.Meta.Extra["kind"] != "lm" || len(g.Names) != len(f.Names) {
		t.Errorf("metadata %+v, names %v", g.Meta, g.Names)
	}
	ck, err := g.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range g.Names {
		v, _ := ck.Params.Get(name)
		got, _ := graph.Float64s(v)
		var want []float32
		if w, ok := g.Int8[name]; ok {
			want = w.Dequantize()
		} else {
			want = g.Float[name].Data
		}
		for i := range want {
			if got[i] != float64(want[i]) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	// The float checkpoint reader refuses the int8 file.
	if _, err := checkpoint.Load(path); err == nil {
		t.Error("checkpoint.Load read an int8 checkpoint")
	}
}

// Every damage is an error wrapping ErrCorrupt, never a panic or a
// quietly different model.
func TestFileDamage(t *testing.T) {
	b, err := testFile(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(b[:len(b)-1]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: %v", err)
	}
	flipped := append([]byte(nil), b...)
	flipped[len(b)-3] ^= 1
	if _, err := Unmarshal(flipped); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a flipped data bit: %v", err)
	}
	if _, err := Unmarshal([]byte{1, 2}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("two bytes: %v", err)
	}
	ck, _ := testFile(t).Checkpoint()
	path := filepath.Join(t.TempDir(), "f.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	if IsInt8(path) {
		t.Error("IsInt8 is true for a float checkpoint")
	}
	fb, _ := os.ReadFile(path)
	if _, err := Unmarshal(fb); !errors.Is(err, ErrNotInt8) {
		t.Errorf("a float checkpoint read as int8: %v", err)
	}
}

// The file holds about a byte per matrix weight.
func TestFileSize(t *testing.T) {
	c := lm.Config{Vocab: 200, Embed: 32, Hidden: 64, Cell: cells.LSTMKind, Layers: 2}
	ck := lmCheckpoint(t, c, 1)
	f, _ := FromCheckpoint(ck)
	b, _ := f.Marshal()
	floats := 0
	for _, name := range ck.Params.Names() {
		v, _ := ck.Params.Get(name)
		floats += v.Shape().TotalSize()
	}
	if r := float64(len(b)) / float64(4*floats); r > 0.3 || math.IsNaN(r) {
		t.Errorf("the int8 file is %.2f of the float32 parameters' bytes", r)
	}
}

// FuzzUnmarshal: any bytes give a File or an error, never a panic.
func FuzzUnmarshal(f *testing.F) {
	b, err := testFile(f).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:100])
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Unmarshal(data)
		if err != nil {
			return
		}
		if _, err := g.Marshal(); err != nil {
			t.Fatalf("a loaded file does not marshal: %v", err)
		}
	})
}
