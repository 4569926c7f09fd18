package recurrent

import (
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/internal/cputime"
)

// BenchmarkBackward times the fused float32 backward pass alone (every
// step's element-wise rows and recurrent product, then the weight
// gradients) of the LSTM, peephole LSTM and GRU at the benchmark shapes S1
// (B 32, T 35, I 128, H 256) and S2 (64, 35, 256, 512), after one forward
// pass; tokens/s counts B·T per pass, cpu-ms/op the process's CPU time a
// pass (the team's spinning workers included).
func BenchmarkBackward(b *testing.B) { benchPass(b, true) }

// BenchmarkForward times the fused float32 forward pass (the input
// projections, every step's recurrent product and element-wise rows) at
// the shapes and with the metrics of BenchmarkBackward.
func BenchmarkForward(b *testing.B) { benchPass(b, false) }

// benchPass runs BenchmarkBackward (back) or BenchmarkForward.
func benchPass(b *testing.B, back bool) {
	for _, kind := range []Kind{LSTM, Peephole, GRU} {
		for _, s := range []struct {
			name       string
			B, T, I, H int
		}{{"S1", 32, 35, 128, 256}, {"S2", 64, 35, 256, 512}} {
			b.Run(kind.String()+"/"+s.name, func(b *testing.B) {
				d := recDims{kind: kind, T: s.T, B: s.B, I: s.I, H: s.H, noXGrad: true}
				G, H := d.gates(), d.H
				rnd := rand.New(rand.NewPCG(1, 2))
				fill := func(n int, scale float64) []float32 {
					v := make([]float32, n)
					for i := range v {
						v[i] = float32((rnd.Float64()*2 - 1) * scale)
					}
					return v
				}
				in := recIn[float32]{x: fill(d.T*d.B*d.I, 1), h0: fill(d.B*H, 1), c0: fill(d.B*H, 1),
					wih: fill(G*H*d.I, 0.1), whh: fill(G*H*H, 0.1), bih: fill(G*H, 0.1), bhh: fill(G*H, 0.1),
					pi: fill(H, 0.1), pf: fill(H, 0.1), po: fill(H, 0.1)}
				dOut := fill(d.outRows()*H, 1)
				w := new(recWS[float32])
				w.ensure(d)
				w.forward(in, make([]float32, d.outRows()*H))
				total := 0
				for _, n := range d.gradLayout() {
					total += n
				}
				grads := splitGrads(d, make([]float32, total))
				w.backward(in, dOut, grads) // warm-up: the workspace grows once
				out := make([]float32, d.outRows()*H)
				c0 := cputime.Seconds()
				for b.Loop() {
					if back {
						w.backward(in, dOut, grads)
					} else {
						w.forward(in, out)
					}
				}
				b.ReportMetric(float64(s.B*s.T)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
				if cpu := cputime.Seconds() - c0; c0 >= 0 && cpu > 0 {
					b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
				}
			})
		}
	}
}
