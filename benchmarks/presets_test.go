package benchmarks

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/data"
)

// TestPresetDataExport writes the data the date-attention and
// addition(-reversed) presets generate (50,000 examples from seed 1) into
// the directory named by RNNKIT_PRESET_DATA, as date.txt and addition.txt
// in the book's layout, for `rnnkit train -data` and
// benchmarks/torch_presets.py to train on the same file.
func TestPresetDataExport(t *testing.T) {
	dir := os.Getenv("RNNKIT_PRESET_DATA")
	if dir == "" {
		t.Skip("set RNNKIT_PRESET_DATA to a directory to write the presets' data")
	}
	for _, f := range []struct {
		name           string
		pairs          []data.Pair
		qWidth, aWidth int
	}{
		{"date.txt", data.Dates(50000, graph.NewSource(1)), 29, 10},
		{"addition.txt", data.Addition(50000, graph.NewSource(1)), 7, 4},
	} {
		w, err := os.Create(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := data.WritePairs(w, f.pairs, f.qWidth, f.aWidth); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		back, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := data.ReadPairs(bytes.NewReader(back))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(f.pairs) || got[0] != f.pairs[0] || got[len(got)-1] != f.pairs[len(got)-1] {
			t.Fatalf("%s does not read back as written", f.name)
		}
	}
}
