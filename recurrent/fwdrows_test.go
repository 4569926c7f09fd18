package recurrent

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// gruRowScalar is the float32 GRU forward row as gruRows computed it
// before it called internal/vmath.GRUForward32: addTo, the scalar loops,
// and sigmoidTo and tanhTo on the same blocks.
func gruRowScalar(g, bias, gh, bhh, hp, hn, h []float32) {
	H := len(hp)
	bhr, bhz, bhn := bhh[:H], bhh[H:2*H], bhh[2*H:]
	addTo(g, bias)
	gr, gz, gn := g[:H], g[H:2*H], g[2*H:]
	for j := range gr {
		gr[j] += gh[j] + bhr[j]
		gz[j] += gh[H+j] + bhz[j]
		hn[j] = gh[2*H+j] + bhn[j]
	}
	sigmoidTo(g[:2*H], g[:2*H])
	for j, v := range hn {
		gn[j] += float32(gr[j] * v)
	}
	tanhTo(gn, gn)
	for j, v := range hp {
		z := gz[j]
		h[j] = float32((1-z)*gn[j]) + float32(z*v)
	}
}

// TestGRURowMatchesScalar: on every internal/vmath path, the float32 GRU
// forward row (vmath.GRUForward32) gives the former scalar row's bits in
// the activations, hn and h, at every width 0…67 (every vector tail) and a
// few larger ones, on ordinary values and on rows with infinities, NaN and
// huge values mixed in.
func TestGRURowMatchesScalar(t *testing.T) {
	saved := vmath.Path()
	defer vmath.SetPath(saved)
	widths := []int{100, 255, 256, 512}
	for H := 0; H <= 67; H++ {
		widths = append(widths, H)
	}
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3e38, -3e38, 0}
	for _, p := range vmath.Paths() {
		if _, err := vmath.SetPath(p); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(17, 18))
		for _, H := range widths {
			for _, special := range []float64{0, 0.1} {
				fill := func(n int, scale float64) []float32 {
					v := make([]float32, n)
					for i := range v {
						v[i] = float32(rnd.NormFloat64() * scale)
						if rnd.Float64() < special {
							v[i] = specials[rnd.IntN(len(specials))]
						}
					}
					return v
				}
				g, bias, gh, bhh, hp := fill(3*H, 2), fill(3*H, 0.5), fill(3*H, 2), fill(3*H, 0.5), fill(H, 1)
				g0 := append([]float32(nil), g...)
				hn, h := make([]float32, H), make([]float32, H)
				gruRow(g, bias, gh, bhh, hp, hn, h)
				wn, wh := make([]float32, H), make([]float32, H)
				gruRowScalar(g0, bias, gh, bhh, hp, wn, wh)
				for name, pair := range map[string][2][]float32{"gates": {g, g0}, "hn": {hn, wn}, "h": {h, wh}} {
					for j := range pair[1] {
						a, b := pair[0][j], pair[1][j]
						if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
							t.Fatalf("%s H=%d %s[%d] = %v, scalar row %v", p, H, name, j, a, b)
						}
					}
				}
			}
		}
	}
}

// peepholeRowScalar is the float32 peephole-LSTM forward row as lstmRows
// computed it before it called internal/vmath.PeepholeForward32.
func peepholeRowScalar(g, bias, cp, pi, pf, po, c, tc, h []float32) {
	H := len(cp)
	addTo(g, bias)
	gi, gf, gg, og := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	for j, v := range cp {
		gi[j] += float32(pi[j] * v)
		gf[j] += float32(pf[j] * v)
	}
	sigmoidTo(g[:2*H], g[:2*H])
	tanhTo(gg, gg)
	for j, v := range cp {
		c[j] = float32(gf[j]*v) + float32(gi[j]*gg[j])
	}
	for j, v := range c {
		og[j] += float32(po[j] * v)
	}
	sigmoidTo(og, og)
	tanhTo(tc, c)
	for j, v := range tc {
		h[j] = og[j] * v
	}
}

// TestPeepholeRowMatchesScalar is TestGRURowMatchesScalar for the
// peephole LSTM's forward row (vmath.PeepholeForward32).
func TestPeepholeRowMatchesScalar(t *testing.T) {
	saved := vmath.Path()
	defer vmath.SetPath(saved)
	widths := []int{100, 255, 256, 512}
	for H := 0; H <= 67; H++ {
		widths = append(widths, H)
	}
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3e38, -3e38, 0}
	for _, p := range vmath.Paths() {
		if _, err := vmath.SetPath(p); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(19, 20))
		for _, H := range widths {
			for _, special := range []float64{0, 0.1} {
				fill := func(n int, scale float64) []float32 {
					v := make([]float32, n)
					for i := range v {
						v[i] = float32(rnd.NormFloat64() * scale)
						if rnd.Float64() < special {
							v[i] = specials[rnd.IntN(len(specials))]
						}
					}
					return v
				}
				g, bias, cp := fill(4*H, 2), fill(4*H, 0.5), fill(H, 1)
				pi, pf, po := fill(H, 0.3), fill(H, 0.3), fill(H, 0.3)
				g0 := append([]float32(nil), g...)
				c, tc, h := make([]float32, H), make([]float32, H), make([]float32, H)
				peepholeRow(g, bias, cp, pi, pf, po, c, tc, h)
				wc, wtc, wh := make([]float32, H), make([]float32, H), make([]float32, H)
				peepholeRowScalar(g0, bias, cp, pi, pf, po, wc, wtc, wh)
				for name, pair := range map[string][2][]float32{"gates": {g, g0}, "c": {c, wc}, "tc": {tc, wtc}, "h": {h, wh}} {
					for j := range pair[1] {
						a, b := pair[0][j], pair[1][j]
						if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
							t.Fatalf("%s H=%d %s[%d] = %v, scalar row %v", p, H, name, j, a, b)
						}
					}
				}
			}
		}
	}
}
