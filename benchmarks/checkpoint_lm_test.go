package benchmarks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/cputime"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/quantize"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// BenchmarkCheckpointEngines times the forward pass of the trained
// language-model checkpoints named in RNNKIT_BENCH_CHECKPOINTS
// (comma-separated; skipped when unset), for docs/compression.md's one
// table: batch 32 × 35 tokens and one sequence of 35. A float checkpoint
// runs models/lm's Gorgonia graph (forward and loss, "fp32-graph") and the
// quantize engine with its float32 weights ("fp32-engine", logits); an int8
// checkpoint runs the int8 engine (logits, the active qgemm path). Each
// reports tokens/s and tokens per CPU-second; -count N repeats the whole
// list, so the checkpoints alternate from round to round.
func BenchmarkCheckpointEngines(b *testing.B) {
	list := os.Getenv("RNNKIT_BENCH_CHECKPOINTS")
	if list == "" {
		b.Skip("set RNNKIT_BENCH_CHECKPOINTS to language-model checkpoint files")
	}
	for _, path := range strings.Split(list, ",") {
		var f *quantize.File
		var c *checkpoint.Checkpoint
		var err error
		if quantize.IsInt8(path) {
			if f, err = quantize.Load(path); err == nil {
				c, err = f.Checkpoint()
			}
		} else {
			c, err = checkpoint.Load(path)
		}
		if err != nil {
			b.Fatal(err)
		}
		tr, err := training.OpenWeights(c)
		if err != nil {
			b.Fatal(err)
		}
		m, ok := tr.Model.(*training.LM)
		if !ok {
			b.Fatalf("%s is no language model", path)
		}
		cfg := m.Cfg.Model
		name := strings.TrimSuffix(filepath.Base(path), ".safetensors")
		if name == "best" {
			name = filepath.Base(filepath.Dir(path))
		}
		engines := []struct {
			name string
			file *quantize.File
		}{{"int8-engine", f}}
		if f == nil {
			kf, err := quantize.KeepFloat(c)
			if err != nil {
				b.Fatal(err)
			}
			engines = []struct {
				name string
				file *quantize.File
			}{{"fp32-engine", kf}}
		}
		for _, B := range []int{32, 1} {
			seqs := checkpointTokens(B, compressT, cfg.Vocab)
			for _, e := range engines {
				b.Run(fmt.Sprintf("%s/B%d/%s", name, B, e.name), func(b *testing.B) {
					qm, err := quantize.NewLM(e.file, cfg)
					if err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					cpu0 := cputime.Seconds()
					for i := 0; i < b.N; i++ {
						if _, err := qm.Logits(seqs, compressT, qm.ZeroState(B)); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(B*compressT*b.N)/b.Elapsed().Seconds(), "tokens/s")
					b.ReportMetric(float64(B*compressT*b.N)/(cputime.Seconds()-cpu0), "tokens/cpu-s")
				})
			}
			if f != nil {
				continue
			}
			b.Run(fmt.Sprintf("%s/B%d/fp32-graph", name, B), func(b *testing.B) {
				benchGraphForward(b, c.Params, cfg, seqs)
			})
		}
		tr.Close()
	}
}

// benchGraphForward runs models/lm's training graph forward (logits and
// loss, no gradients) on seqs, as BenchmarkQuantizedLM's fp32-graph does.
func benchGraphForward(b *testing.B, ps *graph.Params, cfg lm.Config, seqs [][]int) {
	B := len(seqs)
	tg, err := lm.NewTrainGraph(ps, cfg, B, compressT)
	if err != nil {
		b.Fatal(err)
	}
	vm, err := graph.NewMachine(tg.G)
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close()
	lengths := make([]int, B)
	for i := range lengths {
		lengths[i] = compressT
	}
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	for i := 0; i < b.N; i++ {
		if err := tg.Set(seqs, lengths); err != nil {
			b.Fatal(err)
		}
		if err := graph.Run(vm); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
	b.ReportMetric(float64(B*compressT*b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(B*compressT*b.N)/(cputime.Seconds()-cpu0), "tokens/cpu-s")
}

// checkpointTokens returns B sequences of T+1 token ids below V (seeded).
func checkpointTokens(B, T, V int) [][]int {
	src := graph.NewSource(3)
	seqs := make([][]int, B)
	for b := range seqs {
		for t := 0; t <= T; t++ {
			seqs[b] = append(seqs[b], src.IntN(V))
		}
	}
	return seqs
}
