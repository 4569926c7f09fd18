package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/cputime"
	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/preset"
)

// sstDir is where SST's train.txt is read from (RNNKIT_SST overrides).
func sstDir() string {
	if d := os.Getenv("RNNKIT_SST"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data", "sst")
}

// benchTreeTraining trains a tree preset's model (the preset's settings:
// for sst-treelstm E 300, H 150, batch 25, Adagrad 0.05 with weight decay
// 1e-4, dropout 0.5, float32) on SST's training trees through the Trainer:
// every step is what rnnkit train does (padding, forward, backward,
// Adagrad update, checks). Each iteration is 100 batches (2,500 trees) in
// the order of epoch 1, after a warm-up of 10 batches that compiles the
// graphs; it reports training trees/s. It skips without SST.
func benchTreeTraining(b *testing.B, name string) {
	trees, err := tree.ReadFile(filepath.Join(sstDir(), "train.txt"), preset.SSTClasses)
	if err != nil {
		b.Skipf("SST: %v", err)
	}
	p, _, ok := preset.Lookup(name)
	if !ok {
		b.Fatalf("no preset %s", name)
	}
	s := p.New()
	cfg := s.Common().Train
	mc := treeModelConfig(b, s)
	v, err := training.TreeVocab(trees)
	if err != nil {
		b.Fatal(err)
	}
	m, err := training.NewTree(mc, v, trees)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := training.New(cfg, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	run := func(n int) int {
		done := 0
		for done < n {
			if _, _, err := tr.TrainEpoch(ctx, func(training.StepStats) { done++ }, func() bool { return done >= n }); err != nil {
				b.Fatal(err)
			}
		}
		return done
	}
	run(10)
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	steps := 0
	for range b.N {
		steps += run(100)
	}
	b.StopTimer()
	b.ReportMetric(float64(steps*mc.Batch)/b.Elapsed().Seconds(), "trees/s")
	if cpu := cputime.Seconds() - cpu0; cpu > 0 {
		// per CPU-second of the process (every thread's, spinning workers
		// included): on a shared machine, less bent by the other work
		b.ReportMetric(float64(steps*mc.Batch)/cpu, "trees/cpu-s")
	}
}

// treeModelConfig returns a tree preset's model settings at its defaults.
func treeModelConfig(b *testing.B, s preset.Setup) training.TreeConfig {
	c, ok := s.(interface{ TreeConfig() training.TreeConfig })
	if !ok {
		b.Fatalf("%T is not a tree preset", s)
	}
	return c.TreeConfig()
}

// BenchmarkSSTTreeLSTM is sst-treelstm's training step; benchmarks/torch_tree.py
// is PyTorch's.
func BenchmarkSSTTreeLSTM(b *testing.B) { benchTreeTraining(b, "sst-treelstm") }

// BenchmarkSSTRNN is sst-rnn's training step.
func BenchmarkSSTRNN(b *testing.B) { benchTreeTraining(b, "sst-rnn") }
