package vmath

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/internal/cputime"
)

// The tests of GRUBack32, PeepholeBack32, GRUForward32 and
// PeepholeForward32 share one harness: a row is a list of input slices
// (gates first), the in-out slices and the outputs, and a kernel runs it;
// every assembly path must give the portable code's bits (the forward
// rows: those of their reference, the former scalar rows, on the same
// path), NaN matching NaN.

// rowKernel describes one of the two kernels to the shared tests.
type rowKernel struct {
	name  string
	gates int // gate blocks in the gate slice and in each gate-sized output
	// ins are the kinds of the inputs after the gate slice: 't' for a tanh
	// output, 'n' for an ordinary value (a state, a gradient, a weight).
	ins string
	// inouts and outs are the number of in-out slices of n and the sizes
	// (in units of n) of the outputs.
	inouts int
	outs   []int
	run    func(r *kernelRow)
	// inMul are the sizes of the inputs after the gate slice in units of n
	// (nil: all 1).
	inMul []int
	// gatesOut says the kernel rewrites the gate slice (the forward rows),
	// which then holds pre-activations and counts as an in-out.
	gatesOut bool
	// ref, when set, is the kernel's reference on the current path (the
	// kernel calls Sigmoid32 and Tanh32, whose bits depend on the path);
	// otherwise the reference is the kernel on the portable path.
	ref func(r *kernelRow)
}

// in returns the size of input i (after the gates) in units of n.
func (k *rowKernel) in(i int) int {
	if k.inMul == nil {
		return 1
	}
	return k.inMul[i]
}

// perElement returns the number of input and in-out values per element.
func (k *rowKernel) perElement() int {
	per := k.gates + k.inouts
	for i := range k.ins {
		per += k.in(i)
	}
	return per
}

// kernelRow is one call's data: gates (len gates·n), ins, inouts, outs.
type kernelRow struct {
	kernel *rowKernel
	n      int
	gates  []float32
	ins    [][]float32
	inouts [][]float32
	outs   [][]float32
}

var rowKernels = []rowKernel{
	{name: "GRUBack32", gates: 3, ins: "nnnn", outs: []int{3, 3, 1},
		run: func(r *kernelRow) {
			GRUBack32(r.gates, r.ins[0], r.ins[1], r.ins[2], r.ins[3], r.outs[0], r.outs[1], r.outs[2])
		}},
	{name: "PeepholeBack32", gates: 4, ins: "tnnnnnn", inouts: 1, outs: []int{4},
		run: func(r *kernelRow) {
			in := r.ins
			PeepholeBack32(r.gates, in[0], in[1], in[2], in[3], r.inouts[0], in[4], in[5], in[6], r.outs[0])
		}},
	{name: "GRUForward32", gates: 3, ins: "nnnn", inMul: []int{3, 3, 3, 1}, gatesOut: true, outs: []int{1, 1},
		run: func(r *kernelRow) {
			GRUForward32(r.gates, r.ins[0], r.ins[1], r.ins[2], r.ins[3], r.outs[0], r.outs[1])
		},
		ref: func(r *kernelRow) {
			gruRowsRef(r.gates, r.ins[0], r.ins[1], r.ins[2], r.ins[3], r.outs[0], r.outs[1])
		}},
	{name: "PeepholeForward32", gates: 4, ins: "nnnnn", inMul: []int{4, 1, 1, 1, 1}, gatesOut: true, outs: []int{1, 1, 1},
		run: func(r *kernelRow) {
			in := r.ins
			PeepholeForward32(r.gates, in[0], in[1], in[2], in[3], in[4], r.outs[0], r.outs[1], r.outs[2])
		},
		ref: func(r *kernelRow) {
			in := r.ins
			peepholeRowsRef(r.gates, in[0], in[1], in[2], in[3], in[4], r.outs[0], r.outs[1], r.outs[2])
		}},
}

// peepholeRowsRef is the float32 peephole-LSTM forward row as the
// recurrent package's scalar lstmRows computed it before
// PeepholeForward32: PeepholeForward32 must give its bits on every path.
func peepholeRowsRef(g, bias, cp, pi, pf, po, c, tc, h []float32) {
	H := len(cp)
	for j := range g {
		g[j] += bias[j]
	}
	gi, gf, gg, og := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	for j, v := range cp {
		gi[j] += float32(pi[j] * v)
		gf[j] += float32(pf[j] * v)
	}
	Sigmoid32(g[:2*H], g[:2*H])
	Tanh32(gg, gg)
	for j, v := range cp {
		c[j] = float32(gf[j]*v) + float32(gi[j]*gg[j])
	}
	for j, v := range c {
		og[j] += float32(po[j] * v)
	}
	Sigmoid32(og, og)
	Tanh32(tc, c)
	for j, v := range tc {
		h[j] = og[j] * v
	}
}

// gruRowsRef is the float32 GRU forward row as the recurrent package's
// scalar gruRows computed it before GRUForward32 (its loops, with
// Sigmoid32 and Tanh32 on the current path): GRUForward32 must give its
// bits on every path.
func gruRowsRef(g, bias, gh, bhh, hp, hn, h []float32) {
	H := len(hp)
	bhr, bhz, bhn := bhh[:H], bhh[H:2*H], bhh[2*H:]
	for j := range g {
		g[j] += bias[j]
	}
	gr, gz, gn := g[:H], g[H:2*H], g[2*H:]
	for j := range gr {
		gr[j] += gh[j] + bhr[j]
		gz[j] += gh[H+j] + bhz[j]
		hn[j] = gh[2*H+j] + bhn[j]
	}
	Sigmoid32(g[:2*H], g[:2*H])
	for j, v := range hn {
		gn[j] += float32(gr[j] * v)
	}
	Tanh32(gn, gn)
	for j, v := range hp {
		z := gz[j]
		h[j] = float32((1-z)*gn[j]) + float32(z*v)
	}
}

// rowSpecials are the edge values the rows mix in: signed zeros, one,
// infinities, NaN, subnormals and values whose products overflow.
var rowSpecials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), 1e-40, -3e-39, 0x1p-149, 3e38, -3e38}

// newRow returns a row of n elements: gate values in (0, 1) (the GRU's n
// gate and the LSTM's g gate in (−1, 1)), tanh outputs in (−1, 1), other
// values normal with standard deviation 3; with probability special each
// value is replaced by one of rowSpecials.
func (k *rowKernel) newRow(rnd *rand.Rand, n int, special float64) *kernelRow {
	pick := func(v float32) float32 {
		if special > 0 && rnd.Float64() < special {
			return rowSpecials[rnd.IntN(len(rowSpecials))]
		}
		return v
	}
	r := &kernelRow{kernel: k, n: n, gates: make([]float32, k.gates*n)}
	tanhGate := k.gates - 2 // n (GRU, block 2 of 3) and g (LSTM, block 2 of 4)
	for b := range k.gates {
		for j := range n {
			v := float32(rnd.Float64())
			if k.gatesOut {
				v = float32(rnd.NormFloat64() * 3) // pre-activations
			} else if b == tanhGate {
				v = 2*v - 1
			}
			r.gates[b*n+j] = pick(v)
		}
	}
	for i, kind := range k.ins {
		s := make([]float32, k.in(i)*n)
		for j := range s {
			v := float32(rnd.NormFloat64() * 3)
			if kind == 't' {
				v = float32(2*rnd.Float64() - 1)
			}
			s[j] = pick(v)
		}
		r.ins = append(r.ins, s)
	}
	for range k.inouts {
		s := make([]float32, n)
		for j := range s {
			s[j] = pick(float32(rnd.NormFloat64()))
		}
		r.inouts = append(r.inouts, s)
	}
	for _, m := range k.outs {
		r.outs = append(r.outs, make([]float32, m*n))
	}
	return r
}

// clone copies r's in-out slices and gives it fresh outputs (the inputs
// are shared: the kernels do not write them).
func (r *kernelRow) clone() *kernelRow {
	c := *r
	c.inouts, c.outs = nil, nil
	if k := r.kernel; k != nil && k.gatesOut {
		c.gates = append([]float32(nil), r.gates...)
	}
	for _, s := range r.inouts {
		c.inouts = append(c.inouts, append([]float32(nil), s...))
	}
	for _, s := range r.outs {
		c.outs = append(c.outs, make([]float32, len(s)))
	}
	return &c
}

// results returns the slices a call writes: the in-outs, then the outputs.
func (r *kernelRow) results() [][]float32 {
	var res [][]float32
	if r.kernel != nil && r.kernel.gatesOut {
		res = append(res, r.gates)
	}
	return append(append(res, r.inouts...), r.outs...)
}

// sameBits reports the first element where got and want differ in their
// bits (NaN matching any NaN), or −1, −1.
func sameBits(got, want [][]float32) (int, int) {
	for k := range want {
		for j := range want[k] {
			g, w := got[k][j], want[k][j]
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				return k, j
			}
		}
	}
	return -1, -1
}

// checkRowPaths runs r on the current path and on the portable code and
// fails at the first element whose bits differ.
func checkRowPaths(t *testing.T, k *rowKernel, r *kernelRow) {
	t.Helper()
	a := r.clone()
	k.run(a)
	var g *kernelRow
	if k.ref != nil {
		g = r.clone()
		k.ref(g)
	} else {
		g = onPath(pathGeneric, func() *kernelRow { g := r.clone(); k.run(g); return g })
	}
	if s, j := sameBits(a.results(), g.results()); s >= 0 {
		t.Fatalf("%s n=%d result %d[%d]: %s %v, portable %v", k.name, r.n, s, j, Path(), a.results()[s][j], g.results()[s][j])
	}
}

// TestRowKernelsAsmMatchGo: on every path, GRUBack32 and PeepholeBack32
// give the portable code's bits at every length 0…67 (every AVX2 tail and
// AVX-512 opmask, one to four whole vectors before them) and at a few
// longer ones, on ordinary rows and on rows with a third or all of their
// values replaced by infinities, NaN, subnormals, signed zeros and values
// whose products overflow.
func TestRowKernelsAsmMatchGo(t *testing.T) {
	lengths := []int{79, 95, 129, 255, 256, 257, 1000}
	for n := 0; n <= 67; n++ {
		lengths = append(lengths, n)
	}
	for i := range rowKernels {
		k := &rowKernels[i]
		t.Run(k.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(21, uint64(i)))
			var rows []*kernelRow
			for _, n := range lengths {
				for _, sp := range []float64{0, 0.3, 1} {
					rows = append(rows, k.newRow(rnd, n, sp))
				}
			}
			withPaths(t, func(t *testing.T) {
				if !useAsm && k.ref == nil {
					t.Skip("the portable code itself")
				}
				for _, r := range rows {
					checkRowPaths(t, k, r)
				}
			})
		})
	}
}

// TestRowKernelsNoOverrun: the kernels write nothing past the end of any
// output or in-out slice (the AVX-512 tail's opmask, the AVX2 prefix), and
// what lies past the inputs' ends changes no result.
func TestRowKernelsNoOverrun(t *testing.T) {
	const sentinel = -777
	for i := range rowKernels {
		k := &rowKernels[i]
		t.Run(k.name, func(t *testing.T) {
			withPaths(t, func(t *testing.T) {
				rnd := rand.New(rand.NewPCG(13, uint64(i)))
				for n := 1; n <= 40; n++ {
					r := k.newRow(rnd, n, 0.2)
					// Each slice sits at the start of a longer one, with junk or a
					// sentinel behind it.
					ext := func(s []float32, fill float32) []float32 {
						e := make([]float32, len(s)+16)
						copy(e, s)
						for j := len(s); j < len(e); j++ {
							e[j] = fill
						}
						return e[:len(s)]
					}
					want := r.clone()
					k.run(want)
					if k.gatesOut {
						r.gates = ext(r.gates, sentinel)
					} else {
						r.gates = ext(r.gates, float32(math.NaN()))
					}
					for j := range r.ins {
						r.ins[j] = ext(r.ins[j], float32(math.NaN()))
					}
					for j := range r.inouts {
						r.inouts[j] = ext(r.inouts[j], sentinel)
					}
					for j := range r.outs {
						r.outs[j] = ext(r.outs[j], sentinel)
					}
					k.run(r)
					if s, j := sameBits(r.results(), want.results()); s >= 0 {
						t.Fatalf("%s n=%d: result %d[%d] changed by the junk past the inputs", k.name, n, s, j)
					}
					for s, res := range r.results() {
						for _, v := range res[len(res):cap(res)] {
							if v != sentinel {
								t.Fatalf("%s n=%d: result %d written past its end", k.name, n, s)
							}
						}
					}
				}
			})
		})
	}
}

// TestGRUBackValues checks GRUBack32's formulas against float64
// arithmetic on ordinary values, on every path.
func TestGRUBackValues(t *testing.T) {
	k := &rowKernels[0]
	r := k.newRow(rand.New(rand.NewPCG(9, 10)), 100, 0)
	withPaths(t, func(t *testing.T) {
		c := r.clone()
		k.run(c)
		n := c.n
		for j := range n {
			f := func(s []float32, b int) float64 { return float64(s[b*n+j]) }
			rr, z, nn := f(c.gates, 0), f(c.gates, 1), f(c.gates, 2)
			hn, hp, y, dh := f(c.ins[0], 0), f(c.ins[1], 0), f(c.ins[2], 0), f(c.ins[3], 0)
			dht := dh + y
			dn := dht * (1 - z) * (1 - nn*nn)
			dz := dht * (hp - nn) * z * (1 - z)
			dr := dn * hn * rr * (1 - rr)
			want := []float64{dr, dz, dn, dr, dz, dn * rr, dht * z}
			got := []float64{f(c.outs[0], 0), f(c.outs[0], 1), f(c.outs[0], 2), f(c.outs[1], 0), f(c.outs[1], 1), f(c.outs[1], 2), f(c.outs[2], 0)}
			for o := range want {
				if d := math.Abs(got[o] - want[o]); d > 1e-5*(1+math.Abs(want[o])) {
					t.Fatalf("element %d output %d: %v, want %v", j, o, got[o], want[o])
				}
			}
		}
	})
}

// TestPeepholeBackValues checks PeepholeBack32's formulas against float64
// arithmetic on ordinary values, on every path.
func TestPeepholeBackValues(t *testing.T) {
	k := &rowKernels[1]
	r := k.newRow(rand.New(rand.NewPCG(11, 12)), 100, 0)
	withPaths(t, func(t *testing.T) {
		c := r.clone()
		k.run(c)
		n := c.n
		for j := range n {
			f := func(s []float32, b int) float64 { return float64(s[b*n+j]) }
			i, fg, g, o := f(c.gates, 0), f(c.gates, 1), f(c.gates, 2), f(c.gates, 3)
			tc, cp, y, dh := f(c.ins[0], 0), f(c.ins[1], 0), f(c.ins[2], 0), f(c.ins[3], 0)
			pi, pf, po, dc := f(c.ins[4], 0), f(c.ins[5], 0), f(c.ins[6], 0), f(r.inouts[0], 0)
			dht := dh + y
			do := dht * tc * o * (1 - o)
			dct := dc + dht*o*(1-tc*tc) + do*po
			di := dct * g * i * (1 - i)
			df := dct * cp * fg * (1 - fg)
			want := []float64{dct*fg + di*pi + df*pf, di, df, dct * i * (1 - g*g), do}
			got := []float64{f(c.inouts[0], 0), f(c.outs[0], 0), f(c.outs[0], 1), f(c.outs[0], 2), f(c.outs[0], 3)}
			for o := range want {
				if d := math.Abs(got[o] - want[o]); d > 1e-5*(1+math.Abs(want[o])) {
					t.Fatalf("element %d output %d: %v, want %v", j, o, got[o], want[o])
				}
			}
		}
	})
}

// TestRowKernelsLengths: slices of mismatched lengths panic (a programming
// error, as in LSTMBack32), whichever slice is off.
func TestRowKernelsLengths(t *testing.T) {
	a, g3, g4 := make([]float32, 8), make([]float32, 24), make([]float32, 32)
	for name, call := range map[string]func(){
		"GRU g":          func() { GRUBack32(a, a, a, a, a, g3, g3, a) },
		"GRU dt":         func() { GRUBack32(g3, a, a, a, a, g3, g3, a[:7]) },
		"GRU dgh":        func() { GRUBack32(g3, a, a, a, a, g3, g4, a) },
		"peephole dg":    func() { PeepholeBack32(g4, a, a, a, a, a, a, a, a, g3) },
		"peephole po":    func() { PeepholeBack32(g4, a, a, a, a, a, a, a, a[:7], g4) },
		"peephole gates": func() { PeepholeBack32(g3, a, a, a, a, a, a, a, a, g4) },
		"GRU fwd g":      func() { GRUForward32(g4, g3, g3, g3, a, a, a) },
		"GRU fwd bhh":    func() { GRUForward32(g3, g3, g3, g4, a, a, a) },
		"GRU fwd h":      func() { GRUForward32(g3, g3, g3, g3, a, a, a[:7]) },
		"peephole fwd b": func() { PeepholeForward32(g4, g3, a, a, a, a, a, a, a) },
		"peephole fwd h": func() { PeepholeForward32(g4, g4, a, a, a, a, a, a, a[:7]) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
}

// fuzzRow fills a row of kernel k from raw bytes (4 a value, the length
// from their number) and compares every path with the portable code.
func fuzzRow(t *testing.T, k *rowKernel, raw []byte) {
	per := k.perElement() // values an element
	n := len(raw) / 4 / per
	if n > 300 {
		n = 300
	}
	vals := make([]float32, n*per)
	for j := range vals {
		vals[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	take := func(m int) []float32 { s := vals[:m:m]; vals = vals[m:]; return s }
	r := &kernelRow{kernel: k, n: n, gates: take(k.gates * n)}
	for i := range k.ins {
		r.ins = append(r.ins, take(k.in(i)*n))
	}
	for range k.inouts {
		r.inouts = append(r.inouts, take(n))
	}
	for _, m := range k.outs {
		r.outs = append(r.outs, make([]float32, m*n))
	}
	withPaths(t, func(t *testing.T) {
		if useAsm || k.ref != nil {
			checkRowPaths(t, k, r)
		}
	})
}

// rowFuzzSeeds adds rows of random bits and of edge values to f's corpus.
func rowFuzzSeeds(f *testing.F, k *rowKernel) {
	rnd := rand.New(rand.NewPCG(5, 6))
	per := k.perElement()
	for _, n := range []int{1, 7, 8, 15, 16, 17, 33} {
		raw := make([]byte, 4*per*n)
		for j := 0; j < len(raw); j += 4 {
			v := math.Float32bits(rowSpecials[rnd.IntN(len(rowSpecials))])
			if rnd.IntN(2) == 0 {
				v = math.Float32bits(float32(rnd.NormFloat64()))
			}
			binary.LittleEndian.PutUint32(raw[j:], v)
		}
		f.Add(raw)
	}
}

// FuzzGRUBack32 compares GRUBack32 on every path with the portable code on
// rows of arbitrary bits.
func FuzzGRUBack32(f *testing.F) {
	k := &rowKernels[0]
	rowFuzzSeeds(f, k)
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzRow(t, k, raw) })
}

// FuzzPeepholeBack32 is FuzzGRUBack32 for PeepholeBack32.
func FuzzPeepholeBack32(f *testing.F) {
	k := &rowKernels[1]
	rowFuzzSeeds(f, k)
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzRow(t, k, raw) })
}

// FuzzGRUForward32 compares GRUForward32 on every path with its
// reference (the former scalar rows) on rows of arbitrary bits.
func FuzzGRUForward32(f *testing.F) {
	k := &rowKernels[2]
	rowFuzzSeeds(f, k)
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzRow(t, k, raw) })
}

// FuzzPeepholeForward32 is FuzzGRUForward32 for PeepholeForward32.
func FuzzPeepholeForward32(f *testing.F) {
	k := &rowKernels[3]
	rowFuzzSeeds(f, k)
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzRow(t, k, raw) })
}

// TestPeepholeForwardValues checks PeepholeForward32's formulas against
// float64 arithmetic on ordinary values, on every path.
func TestPeepholeForwardValues(t *testing.T) {
	k := &rowKernels[3]
	r := k.newRow(rand.New(rand.NewPCG(19, 20)), 100, 0)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	withPaths(t, func(t *testing.T) {
		c := r.clone()
		k.run(c)
		n := c.n
		for j := range n {
			f := func(s []float32, b int) float64 { return float64(s[b*n+j]) }
			bi, cp, pi, pf, po := c.ins[0], f(c.ins[1], 0), f(c.ins[2], 0), f(c.ins[3], 0), f(c.ins[4], 0)
			pre := func(b int) float64 { return f(r.gates, b) + f(bi, b) }
			i, fg, g := sig(pre(0)+pi*cp), sig(pre(1)+pf*cp), math.Tanh(pre(2))
			cc := fg*cp + i*g
			o := sig(pre(3) + po*cc)
			want := []float64{i, fg, g, o, cc, math.Tanh(cc), o * math.Tanh(cc)}
			got := []float64{f(c.gates, 0), f(c.gates, 1), f(c.gates, 2), f(c.gates, 3), f(c.outs[0], 0), f(c.outs[1], 0), f(c.outs[2], 0)}
			for o := range want {
				if d := math.Abs(got[o] - want[o]); d > 1e-5*(1+math.Abs(want[o])) {
					t.Fatalf("element %d output %d: %v, want %v", j, o, got[o], want[o])
				}
			}
		}
	})
}

// TestGRUForwardValues checks GRUForward32's formulas against float64
// arithmetic on ordinary values, on every path.
func TestGRUForwardValues(t *testing.T) {
	k := &rowKernels[2]
	r := k.newRow(rand.New(rand.NewPCG(15, 16)), 100, 0)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	withPaths(t, func(t *testing.T) {
		c := r.clone()
		k.run(c)
		n := c.n
		for j := range n {
			f := func(s []float32, b int) float64 { return float64(s[b*n+j]) }
			bi, gh, bh, hp := c.ins[0], c.ins[1], c.ins[2], c.ins[3]
			pre := func(b int) float64 { return f(r.gates, b) + f(bi, b) + f(gh, b) + f(bh, b) }
			rr, z := sig(pre(0)), sig(pre(1))
			hn := f(gh, 2) + f(bh, 2)
			nn := math.Tanh(f(r.gates, 2) + f(bi, 2) + rr*hn)
			want := []float64{rr, z, nn, hn, (1-z)*nn + z*f(hp, 0)}
			got := []float64{f(c.gates, 0), f(c.gates, 1), f(c.gates, 2), f(c.outs[0], 0), f(c.outs[1], 0)}
			for o := range want {
				if d := math.Abs(got[o] - want[o]); d > 1e-5*(1+math.Abs(want[o])) {
					t.Fatalf("element %d output %d: %v, want %v", j, o, got[o], want[o])
				}
			}
		}
	})
}

// BenchmarkGRUForward32 times GRUForward32 on a row of 256 units against
// its reference (the former scalar rows, "rows"), on each path.
func BenchmarkGRUForward32(b *testing.B) { benchRow(b, &rowKernels[2]) }

// BenchmarkPeepholeForward32 is BenchmarkGRUForward32 for
// PeepholeForward32.
func BenchmarkPeepholeForward32(b *testing.B) { benchRow(b, &rowKernels[3]) }

// BenchmarkGRUBack32 and BenchmarkPeepholeBack32 time one row of 256
// units (the layers at S1) on each path, as BenchmarkLSTMBack32 does.
func BenchmarkGRUBack32(b *testing.B)      { benchRow(b, &rowKernels[0]) }
func BenchmarkPeepholeBack32(b *testing.B) { benchRow(b, &rowKernels[1]) }

func benchRow(b *testing.B, k *rowKernel) {
	const n = 256
	r := k.newRow(rand.New(rand.NewPCG(1, 2)), n, 0)
	for i := 0; i < 2*(len(pathNames)); i++ {
		p, ref := kernelPath(len(pathNames)-1-i/2), i%2 == 1
		if ref && k.ref == nil {
			continue
		}
		name := pathNames[p]
		if p == pathGeneric {
			name = "go"
		}
		if ref {
			name += "/rows"
		}
		b.Run(name, func(b *testing.B) {
			if !canRun[p] {
				b.Skipf("this CPU or build cannot run the %s path", pathNames[p])
			}
			saved := currentPath()
			defer setPath(saved)
			setPath(p)
			c := r.clone()
			// The in-out slices are rewritten by every call: keep their
			// values ordinary (dc shrinks by the forget gate each time).
			keep := c.clone()
			c0 := cputime.Seconds()
			run := k.run
			if ref {
				run = k.ref
			}
			for b.Loop() {
				for j := range c.inouts {
					copy(c.inouts[j], keep.inouts[j])
				}
				if k.gatesOut {
					copy(c.gates, keep.gates)
				}
				run(c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/unit")
			if cpu := cputime.Seconds() - c0; c0 >= 0 && cpu > 0 {
				b.ReportMetric(cpu*1e9/float64(b.N)/n, "cpu-ns/unit")
			}
		})
	}
}
