package prune

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// BenchmarkCheckpointLM times the forward pass of the language-model
// checkpoints named in RNNKIT_BENCH_CHECKPOINTS (comma-separated paths;
// skipped when unset): batch 32 × 35 tokens and one sequence of 35, as
// docs/compression.md reports them.
func BenchmarkCheckpointLM(b *testing.B) {
	list := os.Getenv("RNNKIT_BENCH_CHECKPOINTS")
	if list == "" {
		b.Skip("set RNNKIT_BENCH_CHECKPOINTS to language-model checkpoint files")
	}
	for _, path := range strings.Split(list, ",") {
		c, err := checkpoint.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		tr, err := training.Open(c)
		if err != nil {
			b.Fatal(err)
		}
		m, ok := tr.Model.(*training.LM)
		if !ok {
			b.Fatalf("%s is no language model", path)
		}
		for _, bt := range [][2]int{{32, 35}, {1, 35}} {
			b.Run(filepath.Base(path)+"/B"+strconv.Itoa(bt[0]), func(b *testing.B) {
				benchForward(b, tr.Params, m.Cfg.Model, bt[0], bt[1])
			})
		}
		tr.Close()
	}
}
