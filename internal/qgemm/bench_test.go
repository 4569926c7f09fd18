package qgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	fgemm "github.com/rnnkit/rnnkit/internal/gemm"
)

// The shapes of the LSTM language model of docs/compression.md (batch 32 ×
// 35 tokens, E 128, H 256, V 10,000): the output layer, a layer's input
// projection over the window, and one recurrent step.
var benchShapes = [][3]int{{1120, 10000, 256}, {1120, 1024, 128}, {32, 1024, 256}}

var sink []float32

// BenchmarkGemm reports GOPS (2·M·N·K operations per second, a
// multiply-add counting two) of each path, quantization of the
// activations included, and of the float32 GEMM (internal/gemm) on the
// same shapes.
func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 2))
		wf, x := randMat(r, n*k, 0.3), randMat(r, m*k, 1)
		w, err := QuantizeWeights(wf, n, k)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, m*n)
		ops := 2 * float64(m) * float64(n) * float64(k)
		for _, p := range Paths {
			if !Available(p) || (p == Generic && m*n*k > 1<<28) {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%v", m, n, k, p), func(b *testing.B) {
				var a Activations
				for i := 0; i < b.N; i++ {
					if err := a.Quantize(x, m, k); err != nil {
						b.Fatal(err)
					}
					if err := gemm(p, dst, &a, w, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
			})
		}
		b.Run(fmt.Sprintf("%dx%dx%d/float32", m, n, k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fgemm.Sgemm(false, true, m, n, k, 1, x, k, wf, k, 0, dst, n)
			}
			b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
		})
		sink = dst
	}
}
