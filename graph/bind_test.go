package graph

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestNewGraph(t *testing.T) {
	if g, err := New(nil); err == nil || g != nil {
		t.Fatal("New(nil) accepted")
	}
	for _, dt := range floatDtypes {
		p := mustParams(t, dt)
		g := mustGraph(t, p)
		if g.Params() != p || g.Dtype() != dt || g.ExprGraph() == nil {
			t.Fatalf("%v: Params/Dtype/ExprGraph wrong", dt)
		}
	}
}

func TestParamBindsParamsTensor(t *testing.T) {
	for _, dt := range floatDtypes {
		p := mustParams(t, dt)
		w, err := p.New("w", 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		g := mustGraph(t, p)
		n := must(t)(g.Param("w", 2, 3))
		if n.Value() != w {
			t.Fatalf("%v: node value is %p, not the Params' tensor %p", dt, n.Value(), w)
		}
		if n.Name() != "w" || n.Dtype() != dt || !reflect.DeepEqual([]int(n.Shape()), []int{2, 3}) {
			t.Fatalf("%v: node %s %v %v", dt, n.Name(), n.Dtype(), n.Shape())
		}
		// A change through the Params is seen through the node.
		data := []float64{1, 2, 3, 4, 5, 6}
		if err := p.SetFloat64s("w", data); err != nil {
			t.Fatal(err)
		}
		if got := values(t, n.Value()); !reflect.DeepEqual(got, data) {
			t.Fatalf("%v: node sees %v after SetFloat64s, want %v", dt, got, data)
		}
		// Same node on the second call.
		if again := must(t)(g.Param("w", 2, 3)); again != n {
			t.Fatalf("%v: second Param made a new node", dt)
		}
		if got, ok := g.ParamNode("w"); !ok || got != n {
			t.Fatalf("%v: ParamNode does not return the bound node", dt)
		}
		// Shapes are checked, also once bound.
		var se *ShapeError
		if _, err := g.Param("w", 3, 2); !errors.As(err, &se) {
			t.Fatalf("%v: Param wrong shape: %v, want *ShapeError", dt, err)
		}
		if _, err := g.Param("w"); !errors.As(err, &se) {
			t.Fatalf("%v: Param without shape: %v, want *ShapeError", dt, err)
		}
		if _, err := g.Param("missing", 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%v: Param missing: %v, want ErrNotFound", dt, err)
		}
		if _, ok := g.ParamNode("missing"); ok {
			t.Fatalf("%v: ParamNode found a missing name", dt)
		}

		// Two graphs over one Params bind the same tensor: a run of one sees
		// the other's writes.
		g2 := mustGraph(t, p)
		n2 := must(t)(g2.Param("w", 2, 3))
		if n2 == n || n2.Value() != w {
			t.Fatalf("%v: second graph does not bind the same tensor", dt)
		}
	}
}

func TestParamUsedInMachineSeesUpdates(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	if _, err := p.New("w", 3); err != nil {
		t.Fatal(err)
	}
	g := mustGraph(t, p)
	w := must(t)(g.Param("w", 3))
	sum := must(t)(gorgonia.Sum(w))
	var out gorgonia.Value
	gorgonia.Read(sum, &out)
	m := mustMachine(t, g)
	for _, data := range [][]float64{{1, 2, 3}, {10, 20, 30}} {
		if err := p.SetFloat64s("w", data); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		mustRun(t, m)
		if got, want := values(t, out)[0], data[0]+data[1]+data[2]; got != want {
			t.Fatalf("sum = %v after setting %v, want %v", got, data, want)
		}
	}
}

func TestInput(t *testing.T) {
	for _, dt := range floatDtypes {
		p := mustParams(t, dt)
		if _, err := p.New("w", 2); err != nil {
			t.Fatal(err)
		}
		g := mustGraph(t, p)
		x := must(t)(g.Input("x", 2, 3))
		if x.Name() != "x" || x.Dtype() != dt || !reflect.DeepEqual([]int(x.Shape()), []int{2, 3}) {
			t.Fatalf("%v: input %s %v %v", dt, x.Name(), x.Dtype(), x.Shape())
		}
		if got := values(t, x.Value()); !reflect.DeepEqual(got, make([]float64, 6)) {
			t.Fatalf("%v: input starts at %v, want zeros", dt, got)
		}
		if _, err := g.Input("x", 2, 3); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("%v: duplicate input: %v, want ErrDuplicate", dt, err)
		}
		if _, err := g.Input("x", 4); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("%v: duplicate input of another shape: %v, want ErrDuplicate", dt, err)
		}
		if _, err := g.Input("w", 2); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("%v: input named like a parameter: %v, want ErrDuplicate", dt, err)
		}
		// Also when the parameter is already bound.
		must(t)(g.Param("w", 2))
		if _, err := g.Input("w", 2); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("%v: input named like a bound parameter: %v, want ErrDuplicate", dt, err)
		}
		for _, bad := range []struct {
			name string
			dims []int
		}{{"", []int{2}}, {"y", nil}, {"y", []int{0, 2}}, {"y", []int{2, -1}}} {
			if _, err := g.Input(bad.name, bad.dims...); err == nil {
				t.Fatalf("%v: Input(%q, %v) accepted", dt, bad.name, bad.dims)
			}
		}
		// A parameter registered after an input of its name cannot be bound.
		if _, err := p.New("late", 2); err != nil {
			t.Fatal(err)
		}
		g2 := mustGraph(t, p)
		must(t)(g2.Input("late2", 2))
		if _, err := p.New("late2", 2); err != nil {
			t.Fatal(err)
		}
		if _, err := g2.Param("late2", 2); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("%v: Param named like an existing input: %v, want ErrDuplicate", dt, err)
		}
	}
}

func TestLearnablesOrder(t *testing.T) {
	p := mustParams(t, tensor.Float32)
	for _, n := range []string{"a", "b", "c", "d"} {
		if _, err := p.New(n, 1); err != nil {
			t.Fatal(err)
		}
	}
	g := mustGraph(t, p)
	if l := g.Learnables(); len(l) != 0 {
		t.Fatalf("fresh graph has learnables %v", l)
	}
	d := must(t)(g.Param("d", 1))
	b := must(t)(g.Param("b", 1))
	must(t)(g.Input("x", 1))
	must(t)(g.Param("d", 1))
	got := g.Learnables()
	if len(got) != 2 || got[0] != b || got[1] != d {
		t.Fatalf("Learnables = %v, want [b d] (Params order, bound only, no inputs)", got)
	}
}

func TestUniqueName(t *testing.T) {
	g := mustGraph(t, mustParams(t, tensor.Float64))
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		n := g.UniqueName("h")
		if seen[n] || !strings.HasPrefix(n, "h") {
			t.Fatalf("UniqueName gave %q (seen: %v)", n, seen)
		}
		seen[n] = true
		must(t)(g.Input(n, 1))
	}
}

func TestScalar(t *testing.T) {
	for _, dt := range floatDtypes {
		g := mustGraph(t, mustParams(t, dt))
		s := g.Scalar(0.5)
		if s.Dtype() != dt || !s.IsScalar() {
			t.Fatalf("%v: Scalar has dtype %v, scalar %v", dt, s.Dtype(), s.IsScalar())
		}
		switch v := s.Value().(type) {
		case *gorgonia.F64:
			if dt != tensor.Float64 || float64(*v) != 0.5 {
				t.Fatalf("%v: value %v", dt, *v)
			}
		case *gorgonia.F32:
			if dt != tensor.Float32 || float32(*v) != 0.5 {
				t.Fatalf("%v: value %v", dt, *v)
			}
		default:
			t.Fatalf("%v: Scalar value is %T", dt, v)
		}
		if g.Scalar(0.5) != s {
			t.Fatalf("%v: Scalar(0.5) twice gave two nodes", dt)
		}
		if g.Scalar(2) == s {
			t.Fatalf("%v: Scalar(2) is Scalar(0.5)'s node", dt)
		}
		// It is in the graph and usable with nodes of the graph's dtype.
		x := must(t)(g.Input("x", 2))
		if err := Set(x, []float64{1, 3}); err != nil {
			t.Fatal(err)
		}
		y := must(t)(gorgonia.Mul(x, s))
		var out gorgonia.Value
		gorgonia.Read(y, &out)
		m := mustMachine(t, g)
		mustRun(t, m)
		if got := values(t, out); !reflect.DeepEqual(got, []float64{0.5, 1.5}) {
			t.Fatalf("%v: x·0.5 = %v", dt, got)
		}
	}
}

func TestSet(t *testing.T) {
	for _, dt := range floatDtypes {
		g := mustGraph(t, mustParams(t, dt))
		x := must(t)(g.Input("x", 2, 2))
		before := x.Value()
		data := []float64{1, -2, 3.5, 4}
		if err := Set(x, data); err != nil {
			t.Fatal(err)
		}
		if x.Value() != before {
			t.Fatalf("%v: Set replaced the node's tensor instead of copying into it", dt)
		}
		if got := values(t, x.Value()); !reflect.DeepEqual(got, data) {
			t.Fatalf("%v: after Set %v, want %v", dt, got, data)
		}
		data[0] = 100
		if got := values(t, x.Value()); got[0] != 1 {
			t.Fatalf("%v: Set kept the caller's slice", dt)
		}
		for _, bad := range [][]float64{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
			if err := Set(x, bad); err == nil {
				t.Fatalf("%v: Set of %d values into 4 accepted", dt, len(bad))
			}
		}
		if got := values(t, x.Value()); !reflect.DeepEqual(got, []float64{1, -2, 3.5, 4}) {
			t.Fatalf("%v: a refused Set changed the value: %v", dt, got)
		}
		if err := Set(nil, []float64{1}); err == nil {
			t.Fatalf("%v: Set(nil) accepted", dt)
		}
		if err := Set(g.Scalar(1), []float64{1}); err == nil {
			t.Fatalf("%v: Set into a scalar constant accepted", dt)
		}
	}
}

func TestSetThenRunUsesNewValue(t *testing.T) {
	g := mustGraph(t, mustParams(t, tensor.Float32))
	x := must(t)(g.Input("x", 3))
	sum := must(t)(gorgonia.Sum(x))
	var out gorgonia.Value
	gorgonia.Read(sum, &out)
	m := mustMachine(t, g)
	for _, data := range [][]float64{{1, 2, 3}, {4, 5, 6}} {
		if err := Set(x, data); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		mustRun(t, m)
		if got, want := values(t, out)[0], data[0]+data[1]+data[2]; got != want {
			t.Fatalf("sum = %v, want %v", got, want)
		}
	}
}

func TestValueFloat64s(t *testing.T) {
	f64 := gorgonia.F64(2.5)
	f32 := gorgonia.F32(-1.5)
	cases := []struct {
		name string
		v    gorgonia.Value
		want []float64
	}{
		{"*F64", &f64, []float64{2.5}},
		{"*F32", &f32, []float64{-1.5}},
		{"float64 tensor", tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4})), []float64{1, 2, 3, 4}},
		{"float32 tensor", tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{0.5, 0.25, -8})), []float64{0.5, 0.25, -8}},
		{"scalar tensor", tensor.New(tensor.FromScalar(7.0)), []float64{7}},
	}
	for _, c := range cases {
		got, err := ValueFloat64s(c.v)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := ValueFloat64s(nil); err == nil {
		t.Error("ValueFloat64s(nil) gave no error")
	}
	b := gorgonia.B(true)
	if _, err := ValueFloat64s(&b); err == nil {
		t.Error("ValueFloat64s(*B) gave no error")
	}
	i := gorgonia.I(3)
	if _, err := ValueFloat64s(&i); err == nil {
		t.Error("ValueFloat64s(*I) gave no error")
	}
	if _, err := ValueFloat64s(tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int))); !errors.Is(err, ErrDtype) {
		t.Errorf("int tensor: %v, want ErrDtype", err)
	}
}

// Set refuses NaN and infinities, naming the node and the element, and
// leaves the node's value as it was.
func TestSetRefusesNonFinite(t *testing.T) {
	ps, _ := NewParams(tensor.Float32)
	g, _ := New(ps)
	x, _ := g.Input("x", 2, 2)
	if err := Set(x, []float64{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := Set(x, []float64{1, 2, bad, 4})
		if err == nil || !strings.Contains(err.Error(), "x") || !strings.Contains(err.Error(), "element 2") {
			t.Errorf("Set with %v: %v", bad, err)
		}
	}
	v, _ := ValueFloat64s(x.Value())
	if fmt.Sprint(v) != "[1 2 3 4]" {
		t.Errorf("value after refused Sets: %v", v)
	}
}
