package recurrent

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/rnnkit/rnnkit/internal/blas"
)

// TestStepSplitBitIdentical runs fused forward and backward passes large
// enough for each step's recurrent product to be split by columns over the
// team, and compares them bit for bit, with every state and gradient,
// against the same passes with the split turned off.
func TestStepSplitBitIdentical(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	var probe blas.PackedB[float32]
	probe.Pack(true, 256, 1024, make([]float32, 256*1024), 256)
	if probe.ColAlign(32) == 0 {
		t.Skipf("the %s build does not split products by columns", blas.Name)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, kind := range []Kind{Tanh, ReLU, LSTM, Peephole, GRU} {
		for _, c := range []struct {
			B, H, I       int
			reverse, mask bool
		}{{32, 256, 24, false, false}, {33, 272, 7, true, true}} {
			d := recDims{kind: kind, T: 3, B: c.B, I: c.I, H: c.H, reverse: c.reverse, masked: c.mask}
			checkSplit[float32](t, d, rnd)
			checkSplit[float64](t, d, rnd)
		}
	}
}

func checkSplit[T float32 | float64](t *testing.T, d recDims, rnd *rand.Rand) {
	t.Helper()
	G, H := d.gates(), d.H
	fill := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(rnd.Float64()*2 - 1)
		}
		return v
	}
	in := recIn[T]{x: fill(d.T * d.B * d.I), h0: fill(d.B * H), c0: fill(d.B * H),
		wih: fill(G * H * d.I), whh: fill(G * H * H), bih: fill(G * H), bhh: fill(G * H),
		pi: fill(H), pf: fill(H), po: fill(H)}
	if d.masked {
		in.mask = make([]T, d.T*d.B)
		for i := range in.mask {
			if rnd.IntN(4) > 0 {
				in.mask[i] = 1
			}
		}
	}
	dOut := fill(d.outRows() * H)
	run := func(split bool) (*recWS[T], []T, []T) {
		splitSteps = split
		defer func() { splitSteps = true }()
		w := new(recWS[T])
		w.ensure(d)
		out := make([]T, d.outRows()*H)
		w.forward(in, out)
		total := 0
		for _, n := range d.gradLayout() {
			total += n
		}
		grads := make([]T, total)
		w.backward(in, dOut, splitGrads(d, grads))
		if got := len(w.cols) > 1; got != split {
			t.Fatalf("%+v %T: step products split = %v, want %v", d, T(0), got, split)
		}
		return w, out, grads
	}
	ws, outS, gradS := run(true)
	wo, outO, gradO := run(false)
	for _, c := range []struct {
		name      string
		got, want []T
	}{{"out", outS, outO}, {"gates", ws.gates, wo.gates}, {"hs", ws.hs, wo.hs}, {"cs", ws.cs, wo.cs}, {"tc", ws.tc, wo.tc}, {"hn", ws.hn, wo.hn}, {"gradients", gradS, gradO}, {"dg", ws.dg, wo.dg}, {"dgh", ws.dgh, wo.dgh}} {
		for i := range c.want {
			if math.Float64bits(float64(c.got[i])) != math.Float64bits(float64(c.want[i])) {
				t.Fatalf("%+v %T: %s[%d] = %v split, %v not", d, T(0), c.name, i, c.got[i], c.want[i])
			}
		}
	}
}
