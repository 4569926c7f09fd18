package attention_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/attention"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// The attention ops are tested from outside the package so that the
// finite-difference checker (which imports graph) can be used.

// attSizes are the batch, source-length and hidden sizes the value and
// gradient tests run at: the brief's case, batch size 1 (where Gorgonia
// squeezes [1, n] values to [n]) and a single source step.
var attSizes = []struct{ B, n, H int }{{3, 4, 5}, {1, 4, 5}, {2, 1, 3}}

// attGradTol is the largest relative error allowed against central
// differences with eps = 1e-6.
const attGradTol = 1e-7

// attSetup is one graph with seeded random inputs.
type attSetup struct {
	t   *testing.T
	g   *graph.Graph
	src graph.Source
}

func newAttSetup(t *testing.T, dt tensor.Dtype, seed uint64) *attSetup {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	return &attSetup{t: t, g: g, src: graph.NewSource(seed)}
}

// random returns k standard normal values.
func (s *attSetup) random(k int) []float64 {
	d := make([]float64, k)
	for i := range d {
		d[i] = s.src.NormFloat64()
	}
	return d
}

// input creates an input node holding data (random if data is nil) and
// returns it with its data.
func (s *attSetup) input(name string, data []float64, shape ...int) (*gorgonia.Node, []float64) {
	s.t.Helper()
	n, err := s.g.Input(name, shape...)
	if err != nil {
		s.t.Fatal(err)
	}
	if data == nil {
		size := 1
		for _, d := range shape {
			size *= d
		}
		data = s.random(size)
	}
	if err := graph.Set(n, data); err != nil {
		s.t.Fatal(err)
	}
	return n, data
}

// inputs creates k inputs name_0 … name_{k−1} of one shape.
func (s *attSetup) inputs(name string, k int, shape ...int) ([]*gorgonia.Node, [][]float64) {
	s.t.Helper()
	ns, ds := make([]*gorgonia.Node, k), make([][]float64, k)
	for j := range ns {
		ns[j], ds[j] = s.input(fmt.Sprintf("%s_%d", name, j), nil, shape...)
	}
	return ns, ds
}

// sumProd returns Σ (x ⊙ r) for a fresh random input r of x's shape.
func (s *attSetup) sumProd(x *gorgonia.Node, name string) *gorgonia.Node {
	s.t.Helper()
	r, _ := s.input(name, nil, x.Shape()...)
	return attMust(s.t)(gorgonia.Sum(attMust(s.t)(gorgonia.HadamardProd(x, r))))
}

// run compiles the graph, runs it once and returns the values of nodes.
func (s *attSetup) run(nodes ...*gorgonia.Node) [][]float64 {
	s.t.Helper()
	vs := make([]gorgonia.Value, len(nodes))
	for i, n := range nodes {
		gorgonia.Read(n, &vs[i])
	}
	m, err := graph.NewMachine(s.g)
	if err != nil {
		s.t.Fatal(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		s.t.Fatal(err)
	}
	out := make([][]float64, len(nodes))
	for i, v := range vs {
		f, err := graph.ValueFloat64s(v)
		if err != nil {
			s.t.Fatalf("value %d (%v): %v", i, nodes[i], err)
		}
		out[i] = f
	}
	return out
}

// check compares the gradients of loss with respect to wrt with central
// differences and returns the largest relative error.
func (s *attSetup) check(loss *gorgonia.Node, wrt []*gorgonia.Node) float64 {
	s.t.Helper()
	rep, err := gradcheck.Check(s.g, loss, wrt, 1e-6)
	if err != nil {
		s.t.Fatal(err)
	}
	want := 0
	for _, n := range wrt {
		want += n.Shape().TotalSize()
	}
	if rep.Checked != want {
		s.t.Fatalf("checked %d elements, want %d", rep.Checked, want)
	}
	if !(rep.MaxErr <= attGradTol) {
		s.t.Fatalf("gradient differs from finite differences: %.3g at %s", rep.MaxErr, rep.Worst)
	}
	s.t.Logf("%d elements, max relative error %.3g", rep.Checked, rep.MaxErr)
	return rep.MaxErr
}

func attMust(t *testing.T) func(*gorgonia.Node, error) *gorgonia.Node {
	return func(n *gorgonia.Node, err error) *gorgonia.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if n == nil {
			t.Fatal("nil node without an error")
		}
		return n
	}
}

func attAdd(t *testing.T, a, b *gorgonia.Node) *gorgonia.Node {
	t.Helper()
	if a == nil {
		return b
	}
	return attMust(t)(gorgonia.Add(a, b))
}

// attClose fails unless got and want agree within tol relative to max(1, |want|).
func attClose(t *testing.T, what string, got, want []float64, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var worst float64
	for i := range got {
		d := math.Abs(got[i]-want[i]) / math.Max(1, math.Abs(want[i]))
		if !(d <= tol) {
			t.Fatalf("%s[%d] = %.17g, want %.17g (error %.3g > %.3g)", what, i, got[i], want[i], d, tol)
		}
		worst = math.Max(worst, d)
	}
	return worst
}

func allFinite(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Hand-written references, row-major.

func refDotScores(q []float64, keys [][]float64, B, H int) []float64 {
	n := len(keys)
	s := make([]float64, B*n)
	for b := 0; b < B; b++ {
		for j, k := range keys {
			for i := 0; i < H; i++ {
				s[b*n+j] += q[b*H+i] * k[b*H+i]
			}
		}
	}
	return s
}

func refAttend(alpha []float64, values [][]float64, B, H int) []float64 {
	n := len(values)
	c := make([]float64, B*H)
	for b := 0; b < B; b++ {
		for i := 0; i < H; i++ {
			for j, v := range values {
				c[b*H+i] += alpha[b*n+j] * v[b*H+i]
			}
		}
	}
	return c
}

// refSoftmax is the softmax of each row over the entries whose mask is not
// 0 (all if mask is nil), 0 elsewhere and in rows with none.
func refSoftmax(x, mask []float64, B, n int) []float64 {
	y := make([]float64, B*n)
	for b := 0; b < B; b++ {
		row := x[b*n : (b+1)*n]
		m := math.Inf(-1)
		for j, v := range row {
			if (mask == nil || mask[b*n+j] != 0) && v > m {
				m = v
			}
		}
		if math.IsInf(m, -1) {
			continue
		}
		var z float64
		for j, v := range row {
			if mask == nil || mask[b*n+j] != 0 {
				z += math.Exp(v - m)
			}
		}
		for j, v := range row {
			if mask == nil || mask[b*n+j] != 0 {
				y[b*n+j] = math.Exp(v-m) / z
			}
		}
	}
	return y
}

func refStackCols(vs [][]float64, B int) []float64 {
	n := len(vs)
	m := make([]float64, B*n)
	for j, v := range vs {
		for b := 0; b < B; b++ {
			m[b*n+j] = v[b]
		}
	}
	return m
}

// attMask returns a [B, n] 0/1 mask with zeros in every row but the first
// (row b keeps the entries j with (j+b) % 3 != 2), and, with allMasked, a
// last row of zeros.
func attMask(B, n int, allMasked bool) []float64 {
	m := make([]float64, B*n)
	for b := 0; b < B; b++ {
		for j := 0; j < n; j++ {
			if b == 0 || (j+b)%3 != 2 {
				m[b*n+j] = 1
			}
		}
	}
	if allMasked {
		for j := 0; j < n; j++ {
			m[(B-1)*n+j] = 0
		}
	}
	return m
}

func TestDotScoresAttendValues(t *testing.T) {
	for _, c := range attSizes {
		t.Run(fmt.Sprintf("B%d_n%d_H%d", c.B, c.n, c.H), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 1)
			q, qd := s.input("q", nil, c.B, c.H)
			keys, kd := s.inputs("k", c.n, c.B, c.H)
			values, vd := s.inputs("v", c.n, c.B, c.H)
			alpha, ad := s.input("alpha", nil, c.B, c.n)
			// q again, through a transpose: the op gets a view.
			qtd := make([]float64, c.B*c.H)
			for b := 0; b < c.B; b++ {
				for i := 0; i < c.H; i++ {
					qtd[i*c.B+b] = qd[b*c.H+i]
				}
			}
			qt, _ := s.input("qT", qtd, c.H, c.B)
			qv := attMust(t)(gorgonia.Transpose(qt))

			S := attMust(t)(attention.DotScores(q, keys))
			Sv := attMust(t)(attention.DotScores(qv, keys))
			C := attMust(t)(attention.Attend(alpha, values))
			if !tensor.Shape([]int{c.B, c.n}).Eq(S.Shape()) || !tensor.Shape([]int{c.B, c.H}).Eq(C.Shape()) {
				t.Fatalf("shapes %v and %v", S.Shape(), C.Shape())
			}
			got := s.run(S, Sv, C)
			wantS := refDotScores(qd, kd, c.B, c.H)
			attClose(t, "DotScores", got[0], wantS, 1e-14)
			attClose(t, "DotScores of a view", got[1], wantS, 1e-14)
			attClose(t, "Attend", got[2], refAttend(ad, vd, c.B, c.H), 1e-14)
		})
	}
}

func TestSoftmaxRowsStackColsValues(t *testing.T) {
	for _, c := range attSizes {
		t.Run(fmt.Sprintf("B%d_n%d", c.B, c.n), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 2)
			x, xd := s.input("x", nil, c.B, c.n)
			md := attMask(c.B, c.n, false)
			mask, _ := s.input("mask", md, c.B, c.n)
			vs, vd := s.inputs("v", c.n, c.B)
			y := attMust(t)(attention.SoftmaxRows(x, nil))
			ym := attMust(t)(attention.SoftmaxRows(x, mask))
			st := attMust(t)(attention.StackCols(vs))
			if !tensor.Shape([]int{c.B, c.n}).Eq(st.Shape()) {
				t.Fatalf("StackCols shape %v", st.Shape())
			}
			got := s.run(y, ym, st)
			attClose(t, "SoftmaxRows", got[0], refSoftmax(xd, nil, c.B, c.n), 1e-15)
			attClose(t, "SoftmaxRows masked", got[1], refSoftmax(xd, md, c.B, c.n), 1e-15)
			attClose(t, "StackCols", got[2], refStackCols(vd, c.B), 0)
		})
	}
}

func TestDotScoresGradient(t *testing.T) {
	for _, c := range attSizes {
		t.Run(fmt.Sprintf("B%d_n%d_H%d", c.B, c.n, c.H), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 3)
			q, _ := s.input("q", nil, c.B, c.H)
			keys, _ := s.inputs("k", c.n, c.B, c.H)
			S := attMust(t)(attention.DotScores(q, keys))
			// Σ S ⊙ R + Σ S ⊙ S: a loss whose gradient depends on S too.
			loss := attAdd(t, s.sumProd(S, "R"), attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.Square(S)))))
			s.check(loss, append([]*gorgonia.Node{q}, keys...))
		})
	}
}

func TestAttendGradient(t *testing.T) {
	for _, c := range attSizes {
		t.Run(fmt.Sprintf("B%d_n%d_H%d", c.B, c.n, c.H), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 4)
			alpha, _ := s.input("alpha", nil, c.B, c.n)
			values, _ := s.inputs("v", c.n, c.B, c.H)
			C := attMust(t)(attention.Attend(alpha, values))
			loss := attAdd(t, s.sumProd(C, "R"), attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.Square(C)))))
			s.check(loss, append([]*gorgonia.Node{alpha}, values...))
		})
	}
}

func TestSoftmaxRowsGradient(t *testing.T) {
	for _, c := range attSizes {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("B%d_n%d_masked%t", c.B, c.n, masked), func(t *testing.T) {
				s := newAttSetup(t, tensor.Float64, 5)
				x, _ := s.input("x", nil, c.B, c.n)
				var mask *gorgonia.Node
				if masked {
					mask, _ = s.input("mask", attMask(c.B, c.n, c.B > 1), c.B, c.n)
				}
				y := attMust(t)(attention.SoftmaxRows(x, mask))
				loss := attAdd(t, s.sumProd(y, "R"), attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.Square(y)))))
				s.check(loss, []*gorgonia.Node{x})
			})
		}
	}
}

func TestStackColsGradient(t *testing.T) {
	for _, c := range attSizes {
		t.Run(fmt.Sprintf("B%d_n%d", c.B, c.n), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 6)
			vs, _ := s.inputs("v", c.n, c.B)
			M := attMust(t)(attention.StackCols(vs))
			loss := attAdd(t, s.sumProd(M, "R"), attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.Square(M)))))
			s.check(loss, vs)
		})
	}
}

// luong builds S = DotScores(h, E), A = SoftmaxRows(S, mask),
// C = Attend(A, E) and loss = Σ C ⊙ R + Σ A ⊙ R2.
func luong(t *testing.T, s *attSetup, h *gorgonia.Node, E []*gorgonia.Node, mask *gorgonia.Node) (S, A, C, loss *gorgonia.Node) {
	t.Helper()
	S = attMust(t)(attention.DotScores(h, E))
	A = attMust(t)(attention.SoftmaxRows(S, mask))
	C = attMust(t)(attention.Attend(A, E))
	loss = attAdd(t, s.sumProd(C, "R"), s.sumProd(A, "R2"))
	return S, A, C, loss
}

// TestLuongAttentionGradient checks dot attention end to end, every
// encoder output being both a key and a value.
func TestLuongAttentionGradient(t *testing.T) {
	for _, c := range attSizes {
		for _, mk := range []string{"none", "zeros", "allmasked"} {
			if mk == "allmasked" && c.B == 1 {
				continue
			}
			t.Run(fmt.Sprintf("B%d_n%d_H%d_mask_%s", c.B, c.n, c.H, mk), func(t *testing.T) {
				s := newAttSetup(t, tensor.Float64, 7)
				h, _ := s.input("h", nil, c.B, c.H)
				E, _ := s.inputs("E", c.n, c.B, c.H)
				var mask *gorgonia.Node
				if mk != "none" {
					mask, _ = s.input("mask", attMask(c.B, c.n, mk == "allmasked"), c.B, c.n)
				}
				_, _, _, loss := luong(t, s, h, E, mask)
				s.check(loss, append([]*gorgonia.Node{h}, E...))
			})
		}
	}
}

// TestBahdanauAttentionGradient checks additive attention, whose per-step
// scores s_j = Σ_i tanh(E_j Wᵀ + h Uᵀ)[:, i] · V[:, i] are joined by StackCols.
func TestBahdanauAttentionGradient(t *testing.T) {
	for _, c := range attSizes {
		t.Run(fmt.Sprintf("B%d_n%d_H%d", c.B, c.n, c.H), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 8)
			h, _ := s.input("h", nil, c.B, c.H)
			E, _ := s.inputs("E", c.n, c.B, c.H)
			W, _ := s.input("W", nil, c.H, c.H)
			U, _ := s.input("U", nil, c.H, c.H)
			V, _ := s.input("V", nil, c.B, c.H)
			mask, _ := s.input("mask", attMask(c.B, c.n, false), c.B, c.n)
			hu := attMust(t)(graph.MatMul(h, U, false, true))
			scores := make([]*gorgonia.Node, c.n)
			for j, e := range E {
				ew := attMust(t)(graph.MatMul(e, W, false, true))
				th := attMust(t)(gorgonia.Tanh(attMust(t)(gorgonia.Add(ew, hu))))
				scores[j] = attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.HadamardProd(th, V)), 1))
			}
			S := attMust(t)(attention.StackCols(scores))
			A := attMust(t)(attention.SoftmaxRows(S, mask))
			C := attMust(t)(attention.Attend(A, E))
			loss := attAdd(t, s.sumProd(C, "R"), s.sumProd(A, "R2"))
			s.check(loss, append([]*gorgonia.Node{h, W, U, V}, E...))
		})
	}
}

// TestAttentionSecondOrder differentiates the gradients of DotScores,
// Attend and StackCols once more, which runs the SymDiff of every op
// their gradients are built from (Attend, DotScores, the per-column
// scaling, Cols' zero-padding and the column extraction). The second pass
// is taken with respect to nodes the first pass did not touch, as Gorgonia
// reuses a node's first derivative on a second Grad.
func TestAttentionSecondOrder(t *testing.T) {
	const B, n, H = 3, 4, 5
	cases := []struct {
		name  string
		build func(s *attSetup) (first, second []*gorgonia.Node, loss1 *gorgonia.Node)
	}{
		{"DotScores_dkeys", func(s *attSetup) ([]*gorgonia.Node, []*gorgonia.Node, *gorgonia.Node) {
			q, _ := s.input("q", nil, B, H)
			keys, _ := s.inputs("k", n, B, H)
			R, _ := s.input("R", nil, B, n)
			S := attMust(t)(attention.DotScores(q, keys))
			return keys, []*gorgonia.Node{q, R}, attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.HadamardProd(S, R))))
		}},
		{"DotScores_dq", func(s *attSetup) ([]*gorgonia.Node, []*gorgonia.Node, *gorgonia.Node) {
			q, _ := s.input("q", nil, B, H)
			keys, _ := s.inputs("k", n, B, H)
			R, _ := s.input("R", nil, B, n)
			S := attMust(t)(attention.DotScores(q, keys))
			return []*gorgonia.Node{q}, append([]*gorgonia.Node{R}, keys...), attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.HadamardProd(S, R))))
		}},
		{"Attend_dalpha", func(s *attSetup) ([]*gorgonia.Node, []*gorgonia.Node, *gorgonia.Node) {
			alpha, _ := s.input("alpha", nil, B, n)
			values, _ := s.inputs("v", n, B, H)
			R, _ := s.input("R", nil, B, H)
			C := attMust(t)(attention.Attend(alpha, values))
			return []*gorgonia.Node{alpha}, append([]*gorgonia.Node{R}, values...), attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.HadamardProd(C, R))))
		}},
		{"Attend_dvalues", func(s *attSetup) ([]*gorgonia.Node, []*gorgonia.Node, *gorgonia.Node) {
			alpha, _ := s.input("alpha", nil, B, n)
			values, _ := s.inputs("v", n, B, H)
			R, _ := s.input("R", nil, B, H)
			C := attMust(t)(attention.Attend(alpha, values))
			return values, []*gorgonia.Node{alpha, R}, attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.HadamardProd(C, R))))
		}},
		{"StackCols", func(s *attSetup) ([]*gorgonia.Node, []*gorgonia.Node, *gorgonia.Node) {
			vs, _ := s.inputs("v", n, B)
			R, _ := s.input("R", nil, B, n)
			M := attMust(t)(attention.StackCols(vs))
			return vs, []*gorgonia.Node{R}, attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.HadamardProd(M, R))))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 9)
			first, second, loss1 := c.build(s)
			grads, err := gorgonia.Grad(loss1, first...)
			if err != nil {
				t.Fatal(err)
			}
			var loss2 *gorgonia.Node
			for i, d := range grads {
				// Square as well as weigh, so that the second derivative
				// depends on the first's value.
				w := s.sumProd(d, fmt.Sprintf("P_%d", i))
				loss2 = attAdd(t, loss2, attAdd(t, w, attMust(t)(gorgonia.Sum(attMust(t)(gorgonia.Square(d))))))
			}
			s.check(loss2, second)
		})
	}
}

// TestSoftmaxRowsMask checks the masked weights and gradients exactly:
// masked entries are 0 and get gradient 0, kept ones sum to 1, and a row
// with every entry masked is 0 with gradient 0, without NaN.
func TestSoftmaxRowsMask(t *testing.T) {
	const B, n = 4, 5
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			s := newAttSetup(t, dt, 10)
			md := []float64{
				1, 0, 1, 1, 0,
				0, 0, 0, 0, 0, // every entry masked
				0, 0, 1, 0, 0, // one kept
				1, 1, 1, 1, 1,
			}
			x, _ := s.input("x", nil, B, n)
			mask, _ := s.input("mask", md, B, n)
			y := attMust(t)(attention.SoftmaxRows(x, mask))
			loss := s.sumProd(y, "R")
			grads, err := gorgonia.Grad(loss, x)
			if err != nil {
				t.Fatal(err)
			}
			got := s.run(y, grads[0])
			yv, dx := got[0], got[1]
			if !allFinite(yv) || !allFinite(dx) {
				t.Fatalf("non-finite values: y %v, dx %v", yv, dx)
			}
			tol := 1e-15
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			for b := 0; b < B; b++ {
				var sum, gsum float64
				kept := 0
				for j := 0; j < n; j++ {
					i := b*n + j
					if md[i] == 0 {
						if yv[i] != 0 || dx[i] != 0 {
							t.Fatalf("masked entry [%d, %d]: weight %g, gradient %g, want exactly 0", b, j, yv[i], dx[i])
						}
						continue
					}
					kept++
					sum += yv[i]
					gsum += dx[i]
				}
				switch {
				case kept == 0 && sum != 0:
					t.Fatalf("row %d, all masked, sums to %g", b, sum)
				case kept > 0 && math.Abs(sum-1) > tol:
					t.Fatalf("row %d sums to %.17g", b, sum)
				case math.Abs(gsum) > tol: // the softmax is shift-invariant
					t.Fatalf("row %d: gradient sums to %g, want 0", b, gsum)
				}
				if kept == 1 && yv[b*n+2] != 1 {
					t.Fatalf("row %d with one entry kept: weight %g, want 1", b, yv[b*n+2])
				}
			}
		})
	}
}

// TestSoftmaxRowsExtremeLogits feeds logits of ±1000 (where a naive
// softmax overflows) through SoftmaxRows and a whole attention step.
func TestSoftmaxRowsExtremeLogits(t *testing.T) {
	const B, n, H = 3, 4, 2
	xd := []float64{
		1000, -1000, 0, 999,
		-1000, -1000, -1000, -1000,
		1000, 1000, -1000, 1000,
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v_masked%t", dt, masked), func(t *testing.T) {
				s := newAttSetup(t, dt, 11)
				x, _ := s.input("x", xd, B, n)
				var mask *gorgonia.Node
				var md []float64
				if masked {
					md = attMask(B, n, false)
					mask, _ = s.input("mask", md, B, n)
				}
				y := attMust(t)(attention.SoftmaxRows(x, mask))
				// An attention step whose scores are about ±1000.
				h, _ := s.input("h", []float64{30, -30, 30, 30, -30, 10}, B, H)
				E, _ := s.inputs("E", n, B, H)
				for _, e := range E {
					d, _ := graph.ValueFloat64s(e.Value())
					for i := range d {
						d[i] *= 20
					}
					if err := graph.Set(e, d); err != nil {
						t.Fatal(err)
					}
				}
				_, A, C, lossA := luong(t, s, h, E, mask)
				loss := attAdd(t, s.sumProd(y, "Ry"), lossA)
				wrt := append([]*gorgonia.Node{x, h}, E...)
				grads, err := gorgonia.Grad(loss, wrt...)
				if err != nil {
					t.Fatal(err)
				}
				got := s.run(append([]*gorgonia.Node{y, A, C}, grads...)...)
				for i, v := range got {
					if !allFinite(v) {
						t.Fatalf("value %d not finite: %v", i, v)
					}
				}
				attClose(t, "SoftmaxRows", got[0], refSoftmax(xd, md, B, n), 1e-7)
				if !masked {
					if math.Abs(got[0][0]-1/(1+math.Exp(-1))) > 1e-7 {
						t.Fatalf("y[0, 0] = %g", got[0][0])
					}
					if got[0][1] != 0 || math.Abs(got[0][4]-0.25) > 1e-7 || math.Abs(got[0][8]-1.0/3) > 1e-7 {
						t.Fatalf("weights %v", got[0])
					}
				}
			})
		}
	}
}

// TestAttentionFloat32 runs the same Luong and additive steps in float32
// and float64 and compares values and gradients.
func TestAttentionFloat32(t *testing.T) {
	const B, n, H = 3, 4, 5
	build := func(dt tensor.Dtype) [][]float64 {
		s := newAttSetup(t, dt, 12)
		h, _ := s.input("h", nil, B, H)
		E, _ := s.inputs("E", n, B, H)
		mask, _ := s.input("mask", attMask(B, n, true), B, n)
		vs, _ := s.inputs("v", n, B)
		S, A, C, loss := luong(t, s, h, E, mask)
		M := attMust(t)(attention.StackCols(vs))
		A2 := attMust(t)(attention.SoftmaxRows(M, nil))
		loss = attAdd(t, loss, s.sumProd(A2, "R3"))
		wrt := append(append([]*gorgonia.Node{h}, E...), vs...)
		grads, err := gorgonia.Grad(loss, wrt...)
		if err != nil {
			t.Fatal(err)
		}
		return s.run(append([]*gorgonia.Node{S, A, C, M, A2, loss}, grads...)...)
	}
	g64, g32 := build(tensor.Float64), build(tensor.Float32)
	var worst float64
	for i := range g64 {
		worst = math.Max(worst, attClose(t, fmt.Sprintf("float32 value %d", i), g32[i], g64[i], 1e-5))
	}
	t.Logf("float32 vs float64: max relative error %.3g", worst)
}

// TestAttentionShapeErrors checks that every bad operand is an error when
// the node is built.
func TestAttentionShapeErrors(t *testing.T) {
	const B, n, H = 3, 4, 5
	s := newAttSetup(t, tensor.Float64, 13)
	q, _ := s.input("q", nil, B, H)
	keys, _ := s.inputs("k", n, B, H)
	kH, _ := s.input("kH", nil, B, H+1)
	kB, _ := s.input("kB", nil, B+1, H)
	alpha, _ := s.input("alpha", nil, B, n)
	alphaB, _ := s.input("alphaB", nil, B+1, n)
	x3, _ := s.input("x3", nil, B, n, 2)
	vecB, _ := s.input("vecB", nil, B)
	vecB1, _ := s.input("vecB1", nil, B+1)
	maskT, _ := s.input("maskT", nil, n, B)
	o := newAttSetup(t, tensor.Float32, 13)
	q32, _ := o.input("q", nil, B, H)
	keys32, _ := o.inputs("k", n, B, H)
	other := newAttSetup(t, tensor.Float64, 13)
	qOther, _ := other.input("q", nil, B, H)

	with := func(ns []*gorgonia.Node, i int, x *gorgonia.Node) []*gorgonia.Node {
		out := append([]*gorgonia.Node(nil), ns...)
		out[i] = x
		return out
	}
	cases := []struct {
		name string
		f    func() (*gorgonia.Node, error)
	}{
		{"DotScores nil q", func() (*gorgonia.Node, error) { return attention.DotScores(nil, keys) }},
		{"DotScores nil keys", func() (*gorgonia.Node, error) { return attention.DotScores(q, nil) }},
		{"DotScores empty keys", func() (*gorgonia.Node, error) { return attention.DotScores(q, []*gorgonia.Node{}) }},
		{"DotScores nil key", func() (*gorgonia.Node, error) { return attention.DotScores(q, with(keys, 2, nil)) }},
		{"DotScores mismatched H", func() (*gorgonia.Node, error) { return attention.DotScores(q, with(keys, 1, kH)) }},
		{"DotScores wrong B", func() (*gorgonia.Node, error) { return attention.DotScores(q, with(keys, 3, kB)) }},
		{"DotScores q wrong B", func() (*gorgonia.Node, error) { return attention.DotScores(kB, keys) }},
		{"DotScores vector q", func() (*gorgonia.Node, error) { return attention.DotScores(vecB, keys) }},
		{"DotScores 3-d key", func() (*gorgonia.Node, error) { return attention.DotScores(q, with(keys, 0, x3)) }},
		{"DotScores mixed dtypes", func() (*gorgonia.Node, error) { return attention.DotScores(q32, keys) }},
		{"DotScores two graphs", func() (*gorgonia.Node, error) { return attention.DotScores(qOther, keys) }},
		{"Attend nil alpha", func() (*gorgonia.Node, error) { return attention.Attend(nil, keys) }},
		{"Attend nil values", func() (*gorgonia.Node, error) { return attention.Attend(alpha, nil) }},
		{"Attend empty values", func() (*gorgonia.Node, error) { return attention.Attend(alpha, []*gorgonia.Node{}) }},
		{"Attend nil value", func() (*gorgonia.Node, error) { return attention.Attend(alpha, with(keys, 1, nil)) }},
		{"Attend nil first value", func() (*gorgonia.Node, error) { return attention.Attend(alpha, with(keys, 0, nil)) }},
		{"Attend too few values", func() (*gorgonia.Node, error) { return attention.Attend(alpha, keys[:n-1]) }},
		{"Attend too many values", func() (*gorgonia.Node, error) { return attention.Attend(alpha, append(keys, q)) }},
		{"Attend mismatched H", func() (*gorgonia.Node, error) { return attention.Attend(alpha, with(keys, 3, kH)) }},
		{"Attend wrong B", func() (*gorgonia.Node, error) { return attention.Attend(alpha, with(keys, 0, kB)) }},
		{"Attend alpha wrong B", func() (*gorgonia.Node, error) { return attention.Attend(alphaB, keys) }},
		{"Attend vector alpha", func() (*gorgonia.Node, error) { return attention.Attend(vecB, keys) }},
		{"Attend mixed dtypes", func() (*gorgonia.Node, error) { return attention.Attend(alpha, keys32) }},
		{"SoftmaxRows nil", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(nil, nil) }},
		{"SoftmaxRows nil with mask", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(nil, alpha) }},
		{"SoftmaxRows vector", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(vecB, nil) }},
		{"SoftmaxRows 3-d", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(x3, nil) }},
		{"SoftmaxRows transposed mask", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(alpha, maskT) }},
		{"SoftmaxRows vector mask", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(alpha, vecB) }},
		{"SoftmaxRows mask wrong B", func() (*gorgonia.Node, error) { return attention.SoftmaxRows(alpha, alphaB) }},
		{"StackCols nil", func() (*gorgonia.Node, error) { return attention.StackCols(nil) }},
		{"StackCols empty", func() (*gorgonia.Node, error) { return attention.StackCols([]*gorgonia.Node{}) }},
		{"StackCols nil vector", func() (*gorgonia.Node, error) { return attention.StackCols([]*gorgonia.Node{vecB, nil}) }},
		{"StackCols wrong B", func() (*gorgonia.Node, error) { return attention.StackCols([]*gorgonia.Node{vecB, vecB1}) }},
		{"StackCols matrix", func() (*gorgonia.Node, error) { return attention.StackCols([]*gorgonia.Node{vecB, q}) }},
	}
	for _, c := range cases {
		n, err := c.f()
		if err == nil {
			t.Errorf("%s: no error (node %v)", c.name, n)
			continue
		}
		if n != nil {
			t.Errorf("%s: node %v with error %v", c.name, n, err)
		}
	}
	// The graph still builds and runs: the refused calls added nothing bad.
	S := attMust(t)(attention.DotScores(q, keys))
	A := attMust(t)(attention.SoftmaxRows(S, nil))
	C := attMust(t)(attention.Attend(A, keys))
	if got := s.run(C); !allFinite(got[0]) {
		t.Fatalf("context %v", got[0])
	}
}

// TestAttentionRunTimeShapeError gives an input a value of the wrong size
// after the graph is built: Gorgonia refuses it or the run fails with an
// error, never a panic.
func TestAttentionRunTimeShapeError(t *testing.T) {
	const B, n, H = 2, 3, 4
	s := newAttSetup(t, tensor.Float64, 14)
	q, _ := s.input("q", nil, B, H)
	keys, _ := s.inputs("k", n, B, H)
	S := attMust(t)(attention.DotScores(q, keys))
	var v gorgonia.Value
	gorgonia.Read(S, &v)
	m, err := graph.NewMachine(s.g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bad := tensor.New(tensor.WithShape(B+1, H), tensor.WithBacking(make([]float64, (B+1)*H)))
	if err := gorgonia.Let(keys[1], bad); err != nil {
		t.Logf("Gorgonia refuses the value: %v", err)
		return
	}
	if err := graph.Run(m); err == nil {
		t.Fatal("a key of the wrong size ran without an error")
	}
}
