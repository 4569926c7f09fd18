package recurrent

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// TestBackwardPathsAgree runs one float32 forward pass of each kind and
// then its backward pass on every internal/vmath path (the backward rows
// of the LSTM, peephole LSTM and GRU are vmath kernels: LSTMBack32,
// PeepholeBack32, GRUBack32), and asks for the same bits in every
// gradient, at widths that leave every vector tail, with and without a
// mask.
func TestBackwardPathsAgree(t *testing.T) {
	paths := vmath.Paths()
	if len(paths) < 2 {
		t.Skip("this CPU or build runs only the portable code")
	}
	saved := vmath.Path()
	defer vmath.SetPath(saved)
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, kind := range []Kind{LSTM, Peephole, GRU} {
		for _, c := range []struct {
			B, H, I       int
			reverse, mask bool
		}{{3, 16, 5, false, false}, {4, 37, 6, true, true}, {2, 67, 3, false, true}, {5, 9, 4, true, false}} {
			d := recDims{kind: kind, T: 4, B: c.B, I: c.I, H: c.H, reverse: c.reverse, masked: c.mask}
			G, H := d.gates(), d.H
			fill := func(n int) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(rnd.Float64()*2 - 1)
				}
				return v
			}
			in := recIn[float32]{x: fill(d.T * d.B * d.I), h0: fill(d.B * H), c0: fill(d.B * H),
				wih: fill(G * H * d.I), whh: fill(G * H * H), bih: fill(G * H), bhh: fill(G * H),
				pi: fill(H), pf: fill(H), po: fill(H)}
			if d.masked {
				in.mask = make([]float32, d.T*d.B)
				for i := range in.mask {
					if rnd.IntN(4) > 0 {
						in.mask[i] = 1
					}
				}
			}
			dOut := fill(d.outRows() * H)
			w := new(recWS[float32])
			w.ensure(d)
			w.forward(in, make([]float32, d.outRows()*H))
			total := 0
			for _, n := range d.gradLayout() {
				total += n
			}
			var want []float32
			for _, p := range paths {
				if _, err := vmath.SetPath(p); err != nil {
					t.Fatal(err)
				}
				grads := make([]float32, total)
				w.backward(in, dOut, splitGrads(d, grads))
				if want == nil {
					want = grads
					continue
				}
				for i := range want {
					if math.Float32bits(grads[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v %+v: gradient %d = %v on %s, %v on %s", kind, c, i, grads[i], p, want[i], paths[0])
					}
				}
			}
		}
	}
}
