package benchmarks

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/cputime"
	"github.com/rnnkit/rnnkit/internal/qgemm"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/quantize"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// The language model of docs/compression.md (and of the PyTorch anchor in
// benchmarks/torch_quantize.py): vocabulary 10,000, embedding 128, two
// LSTM layers of 256, a window of 35 tokens. Random weights: speed does
// not depend on training.
var compressLM = lm.Config{Vocab: 10000, Embed: 128, Hidden: 256, Cell: cells.LSTMKind, Layers: 2}

const compressT = 35

func compressCheckpoint(b *testing.B) *checkpoint.Checkpoint {
	b.Helper()
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	if err := compressLM.Init(ps, graph.NewSource(1)); err != nil {
		b.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"model": compressLM})
	return &checkpoint.Checkpoint{Meta: checkpoint.Meta{Model: cfg}, Params: ps}
}

func compressTokens(B int) [][]int {
	src := graph.NewSource(3)
	seqs := make([][]int, B)
	for b := range seqs {
		for t := 0; t <= compressT; t++ {
			seqs[b] = append(seqs[b], src.IntN(compressLM.Vocab))
		}
	}
	return seqs
}

// BenchmarkQuantizedLM reports the forward tokens/s of the language model
// for a batch of 32 streams and for one stream (35 tokens each): the int8
// engine on the active qgemm path (RNNKIT_QGEMM chooses), the same engine
// with float32 weights (internal/gemm's float32 GEMM), and models/lm's
// Gorgonia graph in float32 (which also computes the loss). The engine
// runs logits only, as PyTorch's forward does. Besides tokens/s it reports
// tokens per CPU-second (cpuSeconds).
func BenchmarkQuantizedLM(b *testing.B) {
	ck := compressCheckpoint(b)
	q, err := quantize.FromCheckpoint(ck)
	if err != nil {
		b.Fatal(err)
	}
	f, err := quantize.KeepFloat(ck)
	if err != nil {
		b.Fatal(err)
	}
	path, _ := qgemm.Active()
	for _, B := range []int{32, 1} {
		seqs := compressTokens(B)
		for _, e := range []struct {
			name string
			file *quantize.File
		}{{"int8-" + path.String(), q}, {"fp32-engine", f}} {
			b.Run(fmt.Sprintf("B%d/%s", B, e.name), func(b *testing.B) {
				m, err := quantize.NewLM(e.file, compressLM)
				if err != nil {
					b.Fatal(err)
				}
				cpu0 := cputime.Seconds()
				for i := 0; i < b.N; i++ {
					if _, err := m.Logits(seqs, compressT, m.ZeroState(B)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(B*compressT*b.N)/b.Elapsed().Seconds(), "tokens/s")
				b.ReportMetric(float64(B*compressT*b.N)/(cputime.Seconds()-cpu0), "tokens/cpu-s")
			})
		}
		b.Run(fmt.Sprintf("B%d/fp32-graph", B), func(b *testing.B) {
			tg, err := lm.NewTrainGraph(ck.Params, compressLM, B, compressT)
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
		})
	}
}

// The compression table's file sizes: the float32 checkpoint of the
// language model (parameters only, no optimiser state, as a PyTorch
// state_dict) against its int8 file, which must be at most 0.3 of it.
func TestQuantizedLMFileSize(t *testing.T) {
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if err := compressLM.Init(ps, graph.NewSource(1)); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"model": compressLM})
	ck := &checkpoint.Checkpoint{Meta: checkpoint.Meta{Model: cfg}, Params: ps}
	path := filepath.Join(t.TempDir(), "fp32.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := quantize.FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r := float64(len(b)) / float64(fi.Size())
	t.Logf("fp32 %d bytes, int8 %d bytes (%.3f×)", fi.Size(), len(b), r)
	// The largest logit change over one window of 32 × 35 tokens, for the
	// table (PyTorch's is in torch_quantize.py's output).
	f, err := quantize.KeepFloat(ck)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := quantize.NewLM(f, compressLM)
	if err != nil {
		t.Fatal(err)
	}
	mq, err := quantize.NewLM(q, compressLM)
	if err != nil {
		t.Fatal(err)
	}
	seqs := compressTokens(32)
	lf, err := mf.Logits(seqs, compressT, mf.ZeroState(32))
	if err != nil {
		t.Fatal(err)
	}
	lq, err := mq.Logits(seqs, compressT, mq.ZeroState(32))
	if err != nil {
		t.Fatal(err)
	}
	worst, top := 0.0, 0.0
	for i := range lf {
		worst = max(worst, math.Abs(float64(lq[i]-lf[i])))
		top = max(top, math.Abs(float64(lf[i])))
	}
	t.Logf("largest logit change int8 against fp32: %.3g (largest |logit| %.3g)", worst, top)
	if r > 0.3 {
		t.Errorf("the int8 file is %.3f× the float32 one, more than 0.3×", r)
	}
}
