package benchmarks

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/cputime"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training"
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

// BenchmarkPresetEpoch runs training epochs of the date-attention preset's
// model and trainer (embedding 16, LSTM 128, dot attention, batch 128,
// Adam, clip 5) over 2,560 generated pairs (20 batches), for profiling the
// trainer's per-batch cost: go test ./benchmarks -run '^$' -bench
// PresetEpoch -cpuprofile cpu.out. Reports training pairs/s.
func BenchmarkPresetEpoch(b *testing.B) {
	pairs := data.Dates(2560, graph.NewSource(1))
	texts := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	cfg := training.Seq2SeqConfig{
		Model: seq2seq.Config{Embed: 16, Hidden: 128, Cell: cells.LSTMKind, Decoder: seq2seq.Attention, Score: seq2seq.Dot},
		Batch: 128, BucketWidth: 4,
	}
	m, err := training.NewSeq2Seq(cfg, data.NewCharVocab(texts), pairs)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := training.New(training.Config{Epochs: b.N + 1, Optimizer: "adam", LR: 1e-3, Clip: 5, Seed: 1, Dtype: "float32"}, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	if _, _, err := tr.TrainEpoch(ctx, nil, nil); err != nil { // compile the graphs
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.TrainEpoch(ctx, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cputime.Seconds() - cpu0
	b.ReportMetric(float64(len(pairs)*b.N)/b.Elapsed().Seconds(), "pairs/s")
	if cpu0 >= 0 && cpu > 0 {
		b.ReportMetric(float64(len(pairs)*b.N)/cpu, "pairs/cpu-s")
	}
}
