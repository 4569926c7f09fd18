package graph

import (
	"math"
	"reflect"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// colsOf returns columns [a, b) of the r×c row-major matrix x.
func colsOf(x []float64, r, c, a, b int) []float64 {
	var out []float64
	for i := 0; i < r; i++ {
		out = append(out, x[i*c+a:i*c+b]...)
	}
	return out
}

// placeCols returns an r×c zero matrix with the r×(b−a) matrix v in columns [a, b).
func placeCols(v []float64, r, c, a, b int) []float64 {
	out := make([]float64, r*c)
	k := b - a
	for i := 0; i < r; i++ {
		copy(out[i*c+a:i*c+b], v[i*k:(i+1)*k])
	}
	return out
}

func TestColsValues(t *testing.T) {
	const r, c = 3, 7
	x0 := seq(r*c, -3, 0.5)
	for _, dt := range floatDtypes {
		g := mustGraph(t, mustParams(t, dt))
		x := must(t)(g.Input("x", r, c))
		if err := Set(x, x0); err != nil {
			t.Fatal(err)
		}
		type want struct {
			a, b int
			v    gorgonia.Value
		}
		var ws []*want
		for _, ab := range [][2]int{{0, 7}, {0, 1}, {2, 5}, {6, 7}, {3, 6}} {
			n := must(t)(Cols(x, ab[0], ab[1]))
			if n.Dtype() != dt || !reflect.DeepEqual([]int(n.Shape()), []int{r, ab[1] - ab[0]}) {
				t.Fatalf("%v: Cols%v node %v %v", dt, ab, n.Dtype(), n.Shape())
			}
			w := &want{a: ab[0], b: ab[1]}
			gorgonia.Read(n, &w.v)
			ws = append(ws, w)
		}
		// Through a transpose too: its input may be a view.
		xt := must(t)(gorgonia.Transpose(x))
		ct := must(t)(Cols(xt, 1, 3))
		var vt gorgonia.Value
		gorgonia.Read(ct, &vt)

		m := mustMachine(t, g)
		mustRun(t, m)
		for _, w := range ws {
			assertClose(t, "Cols", values(t, w.v), colsOf(x0, r, c, w.a, w.b), 0)
		}
		var x0t []float64
		for j := 0; j < c; j++ {
			for i := 0; i < r; i++ {
				x0t = append(x0t, x0[i*c+j])
			}
		}
		assertClose(t, "Cols of transpose", values(t, vt), colsOf(x0t, c, r, 1, 3), 0)
	}
}

func TestColsRefuses(t *testing.T) {
	g := mustGraph(t, mustParams(t, tensor.Float64))
	m := must(t)(g.Input("m", 2, 4))
	v := must(t)(g.Input("v", 4))
	b := must(t)(g.Input("b", 2, 2, 4))
	if _, err := Cols(nil, 0, 1); err == nil {
		t.Error("Cols(nil) accepted")
	}
	for _, n := range []*gorgonia.Node{v, b, g.Scalar(1)} {
		if _, err := Cols(n, 0, 1); err == nil {
			t.Errorf("Cols of shape %v accepted", n.Shape())
		}
	}
	for _, ab := range [][2]int{{-1, 2}, {0, 5}, {4, 5}, {2, 2}, {3, 1}, {0, 0}} {
		if _, err := Cols(m, ab[0], ab[1]); err == nil {
			t.Errorf("Cols [%d, %d) of a [2,4] matrix accepted", ab[0], ab[1])
		}
	}
}

// TestColsGrad checks d/dx Σ(Cols(x, a, b) ⊙ R) = R in columns [a, b), 0 elsewhere.
func TestColsGrad(t *testing.T) {
	const c = 8
	for _, dt := range floatDtypes {
		for _, rab := range [][3]int{{3, 0, 8}, {3, 2, 5}, {3, 7, 8}, {3, 0, 1}, {1, 2, 5}, {1, 4, 5}} {
			r, ab := rab[0], [2]int{rab[1], rab[2]}
			a, b := ab[0], ab[1]
			p := mustParams(t, dt)
			if _, err := p.New("x", r, c); err != nil {
				t.Fatal(err)
			}
			if err := p.SetFloat64s("x", seq(r*c, 1, 1)); err != nil {
				t.Fatal(err)
			}
			g := mustGraph(t, p)
			x := must(t)(g.Param("x", r, c))
			rIn := must(t)(g.Input("R", r, b-a))
			rv := seq(r*(b-a), -1.5, 0.25)
			if err := Set(rIn, rv); err != nil {
				t.Fatal(err)
			}
			cost := must(t)(gorgonia.Sum(must(t)(gorgonia.HadamardProd(must(t)(Cols(x, a, b)), rIn))))
			grads, err := gorgonia.Grad(cost, x)
			if err != nil {
				t.Fatalf("%v rows %d cols %v: Grad: %v", dt, r, ab, err)
			}
			var gv gorgonia.Value
			gorgonia.Read(grads[0], &gv)
			m := mustMachine(t, g)
			mustRun(t, m)
			assertClose(t, "Cols gradient", values(t, gv), placeCols(rv, r, c, a, b), 0)
		}
	}
}

// TestSliceHashTrap documents GORGONIA.md trap 1: Gorgonia's sliceOp hashes
// its bounds as bytes, so x[:, 0:256] and x[:, 256:512] are one node.
func TestSliceHashTrap(t *testing.T) {
	eg := gorgonia.NewGraph()
	z := gorgonia.NewMatrix(eg, tensor.Float64, gorgonia.WithShape(2, 512), gorgonia.WithName("z"))
	s1 := must(t)(gorgonia.Slice(z, nil, gorgonia.S(0, 256)))
	s2 := must(t)(gorgonia.Slice(z, nil, gorgonia.S(256, 512)))
	if s1 != s2 {
		t.Fatal("gorgonia.Slice(z, nil, S(0,256)) and S(256,512) are now distinct nodes: " +
			"Gorgonia fixed the Slice hash trap (GORGONIA.md trap 1); update the docs and this test")
	}
}

func TestColsAvoidsHashTrap(t *testing.T) {
	const r, c, h = 2, 512, 256
	p := mustParams(t, tensor.Float64)
	if _, err := p.New("z", r, c); err != nil {
		t.Fatal(err)
	}
	z0 := seq(r*c, 0, 1)
	if err := p.SetFloat64s("z", z0); err != nil {
		t.Fatal(err)
	}
	g := mustGraph(t, p)
	z := must(t)(g.Param("z", r, c))
	c1 := must(t)(Cols(z, 0, h))
	c2 := must(t)(Cols(z, h, c))
	if c1 == c2 {
		t.Fatal("Cols(z, 0, 256) and Cols(z, 256, 512) are one node")
	}
	// Equal bounds do hash equal: Gorgonia shares the node.
	if again := must(t)(Cols(z, 0, h)); again != c1 {
		t.Fatal("Cols(z, 0, 256) twice gave two nodes: the op's hash is not deterministic")
	}
	// Forward values and the gradients of both halves: the gradient ops must
	// not be merged either.
	r1 := must(t)(g.Input("R1", r, h))
	r2 := must(t)(g.Input("R2", r, h))
	r1v, r2v := seq(r*h, 1, 1), seq(r*h, -1, -1)
	if err := Set(r1, r1v); err != nil {
		t.Fatal(err)
	}
	if err := Set(r2, r2v); err != nil {
		t.Fatal(err)
	}
	cost := must(t)(gorgonia.Add(
		must(t)(gorgonia.Sum(must(t)(gorgonia.HadamardProd(c1, r1)))),
		must(t)(gorgonia.Sum(must(t)(gorgonia.HadamardProd(c2, r2))))))
	grads, err := gorgonia.Grad(cost, z)
	if err != nil {
		t.Fatal(err)
	}
	var v1, v2, gv gorgonia.Value
	gorgonia.Read(c1, &v1)
	gorgonia.Read(c2, &v2)
	gorgonia.Read(grads[0], &gv)
	m := mustMachine(t, g)
	mustRun(t, m)
	assertClose(t, "z[:, 0:256]", values(t, v1), colsOf(z0, r, c, 0, h), 0)
	assertClose(t, "z[:, 256:512]", values(t, v2), colsOf(z0, r, c, h, c), 0)
	want := placeCols(r1v, r, c, 0, h)
	w2 := placeCols(r2v, r, c, h, c)
	for i := range want {
		want[i] += w2[i]
	}
	assertClose(t, "dcost/dz", values(t, gv), want, 0)
}

func refSigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func TestSigmoidFloat64(t *testing.T) {
	xs := seq(321, -40, 0.25) // includes 25
	xs = append(xs, 19.5, 36.7, -36.7, 1e-9, -1e-9, 0)
	g := mustGraph(t, mustParams(t, tensor.Float64))
	x := must(t)(g.Input("x", len(xs)))
	if err := Set(x, xs); err != nil {
		t.Fatal(err)
	}
	y := must(t)(Sigmoid(x))
	if y.Dtype() != tensor.Float64 || !reflect.DeepEqual([]int(y.Shape()), []int{len(xs)}) {
		t.Fatalf("Sigmoid node %v %v", y.Dtype(), y.Shape())
	}
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	m := mustMachine(t, g)
	mustRun(t, m)
	got := values(t, yv)
	for i, xi := range xs {
		want := refSigmoid(xi)
		if d := math.Abs(got[i] - want); d > 1e-15*want {
			t.Errorf("σ(%v) = %.17g, want %.17g (relative %.3g)", xi, got[i], want, d/want)
		}
		if xi > 0 && xi <= 36 && got[i] >= 1 {
			t.Errorf("σ(%v) = %v, rounded to 1 before float64 requires it", xi, got[i])
		}
		if got[i] <= 0 {
			t.Errorf("σ(%v) = %v, want > 0", xi, got[i])
		}
	}
	if at25 := got[260]; xs[260] != 25 || !(at25 < 1) {
		t.Fatalf("σ(%v) = %v, want < 1", xs[260], at25)
	}
}

func TestSigmoidExtremes(t *testing.T) {
	xs := []float64{-1000, -745, -710, 710, 1000, math.Inf(1), math.Inf(-1)}
	g := mustGraph(t, mustParams(t, tensor.Float64))
	x := must(t)(g.Input("x", len(xs)))
	if err := SetFloat64s(x.Value().(*tensor.Dense), xs); err != nil { // Set refuses the infinities
		t.Fatal(err)
	}
	var yv gorgonia.Value
	gorgonia.Read(must(t)(Sigmoid(x)), &yv)
	mustRun(t, mustMachine(t, g))
	want := []float64{0, math.Exp(-745), math.Exp(-710) / (1 + math.Exp(-710)), 1, 1, 1, 0}
	assertClose(t, "σ at extremes", values(t, yv), want, 0)
}

// TestGorgoniaSigmoidSaturates documents why Sigmoid exists: Gorgonia's
// returns exactly 1 at x = 25 in float64, where 1/(1+e^−25) = 1 − 1.4e-11.
func TestGorgoniaSigmoidSaturates(t *testing.T) {
	eg := gorgonia.NewGraph()
	a := gorgonia.NewScalar(eg, tensor.Float64, gorgonia.WithName("a"), gorgonia.WithValue(25.0))
	b := must(t)(gorgonia.Sigmoid(a))
	m := gorgonia.NewTapeMachine(eg)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := values(t, b.Value())[0]
	if got != 1.0 {
		t.Fatalf("gorgonia.Sigmoid(25) = %.17g, no longer exactly 1: Gorgonia fixed the saturation; "+
			"graph.Sigmoid may no longer be needed", got)
	}
	if refSigmoid(25) >= 1 || vmath.Sigmoid64(25) >= 1 {
		t.Fatal("the reference itself rounds to 1")
	}
}

func TestSigmoidFloat32(t *testing.T) {
	xs := seq(161, -40, 0.5)
	g := mustGraph(t, mustParams(t, tensor.Float32))
	x := must(t)(g.Input("x", len(xs)))
	if err := Set(x, xs); err != nil {
		t.Fatal(err)
	}
	y := must(t)(Sigmoid(x))
	if y.Dtype() != tensor.Float32 {
		t.Fatalf("Sigmoid of float32 has dtype %v", y.Dtype())
	}
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	mustRun(t, mustMachine(t, g))
	if _, ok := yv.Data().([]float32); !ok {
		t.Fatalf("float32 Sigmoid value holds %T", yv.Data())
	}
	got := values(t, yv)
	for i, xi := range xs {
		want := float64(float32(refSigmoid(xi)))
		if d := math.Abs(got[i] - want); d > 1.2e-7*want {
			t.Errorf("float32 σ(%v) = %.9g, want %.9g", xi, got[i], want)
		}
	}
	// float32 keeps tiny values (σ(−40) ≈ 4.2e-18 is a normal float32).
	if got[0] <= 0 {
		t.Errorf("float32 σ(-40) = %v, want > 0", got[0])
	}
}

// TestSigmoidGrad checks d/dx Σ(σ(x) ⊙ R) = R·σ(x)(1−σ(x)) in both dtypes.
func TestSigmoidGrad(t *testing.T) {
	xs := append(seq(17, -8, 1), 25, -25, 0.3, -0.7)
	rs := seq(len(xs), 0.5, 0.125)
	for _, dt := range floatDtypes {
		for _, withR := range []bool{false, true} {
			g := mustGraph(t, mustParams(t, dt))
			x := must(t)(g.Input("x", len(xs)))
			if err := Set(x, xs); err != nil {
				t.Fatal(err)
			}
			y := must(t)(Sigmoid(x))
			if withR {
				r := must(t)(g.Input("R", len(xs)))
				if err := Set(r, rs); err != nil {
					t.Fatal(err)
				}
				y = must(t)(gorgonia.HadamardProd(y, r))
			}
			cost := must(t)(gorgonia.Sum(y))
			grads, err := gorgonia.Grad(cost, x)
			if err != nil {
				t.Fatalf("%v: Grad: %v", dt, err)
			}
			var gv gorgonia.Value
			gorgonia.Read(grads[0], &gv)
			mustRun(t, mustMachine(t, g))
			want := make([]float64, len(xs))
			for i, xi := range xs {
				s := vmath.Sigmoid64(xi)
				want[i] = s * (1 - s)
				if withR {
					want[i] *= rs[i]
				}
			}
			tol := 1e-16
			if dt == tensor.Float32 {
				tol = 1e-7
			}
			assertClose(t, dt.String()+" σ gradient", values(t, gv), want, tol)
		}
	}
}

// TestSigmoidGradFiniteDifferences compares the symbolic gradient with
// central differences of the graph's own forward pass.
func TestSigmoidGradFiniteDifferences(t *testing.T) {
	xs := []float64{-6, -2.5, -1, -0.2, 0, 0.4, 1.3, 3, 7}
	g := mustGraph(t, mustParams(t, tensor.Float64))
	x := must(t)(g.Input("x", len(xs)))
	cost := must(t)(gorgonia.Sum(must(t)(Sigmoid(x))))
	grads, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	var cv, gv gorgonia.Value
	gorgonia.Read(cost, &cv)
	gorgonia.Read(grads[0], &gv)
	m := mustMachine(t, g)
	eval := func(v []float64) float64 {
		t.Helper()
		if err := Set(x, v); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		mustRun(t, m)
		return values(t, cv)[0]
	}
	eval(xs)
	analytic := values(t, gv)
	const h = 1e-6
	for i := range xs {
		v := append([]float64(nil), xs...)
		v[i] = xs[i] + h
		up := eval(v)
		v[i] = xs[i] - h
		down := eval(v)
		fd := (up - down) / (2 * h)
		if d := math.Abs(fd - analytic[i]); d > 1e-8 {
			t.Errorf("x=%v: analytic %.12g, finite differences %.12g (diff %.3g)", xs[i], analytic[i], fd, d)
		}
	}
}

func TestSigmoidNil(t *testing.T) {
	if _, err := Sigmoid(nil); err == nil {
		t.Fatal("Sigmoid(nil) accepted")
	}
}

// Sigmoid of a scalar node builds (the op's type is a → a and a scalar shape
// passes InferShape) but fails at run time: Do only takes *tensor.Dense.
func TestSigmoidScalar(t *testing.T) {
	g := mustGraph(t, mustParams(t, tensor.Float64))
	x := must(t)(g.Input("x", 2))
	if err := Set(x, []float64{0.5, 0.5}); err != nil {
		t.Fatal(err)
	}
	y, err := Sigmoid(must(t)(gorgonia.Sum(x)))
	if err != nil {
		return // refusing a scalar at build time is a fine fix too
	}
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	mustRun(t, mustMachine(t, g))
	assertClose(t, "σ(scalar)", values(t, yv), []float64{refSigmoid(1)}, 1e-15)
}
