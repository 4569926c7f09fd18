package rows

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

func TestSelectFromValuesSet(t *testing.T) {
	m := Matrix{{1, 2}, {3, 4}, {5, 6}}
	s, err := Select(m, []int{2, 0, 2})
	if err != nil || s[0][1] != 6 || s[1][0] != 1 || s[2][0] != 5 {
		t.Fatalf("Select = %v, %v", s, err)
	}
	s[0][0] = 99
	if m[2][0] != 5 {
		t.Fatal("Select did not copy")
	}
	if _, err := Select(m, []int{3}); err == nil {
		t.Error("row 3 of 3 accepted")
	}
	if got, _ := Select(nil, []int{0}); got != nil {
		t.Error("Select(nil) is not nil")
	}
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	n, _ := g.Input("n", 3, 2)
	if err := Set(n, m); err != nil {
		t.Fatal(err)
	}
	back, err := FromValues([]gorgonia.Value{n.Value()}, 3, 2)
	if err != nil || back[0][2][1] != 6 {
		t.Fatalf("FromValues = %v, %v", back, err)
	}
	if err := Set(n, Matrix{{1, 2}}); err == nil {
		t.Error("1 row for 3 accepted")
	}
	if err := Set(n, Matrix{{1}, {2}, {3}}); err == nil {
		t.Error("rows of width 1 for 2 accepted")
	}
	if _, err := FromValues([]gorgonia.Value{n.Value()}, 2, 2); err == nil {
		t.Error("wrong row count accepted")
	}
}

// TestSetMatchesFlat checks that Set writes exactly what graph.Set writes
// from the flattened rows (setFlat), in float32 and float64, including
// values float32 rounds, and returns the same error, writing nothing, for
// a value that is not finite.
func TestSetMatchesFlat(t *testing.T) {
	m := Matrix{{1.1, -2e-40, 3.4028235e38}, {0.1, 1e-7, -0.3333333333333333}}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		ps, _ := graph.NewParams(dt)
		g, _ := graph.New(ps)
		a, _ := g.Input("a", 2, 3)
		b, _ := g.Input("b", 2, 3)
		if err := Set(a, m); err != nil {
			t.Fatal(err)
		}
		if err := setFlat(b, m); err != nil {
			t.Fatal(err)
		}
		va, _ := graph.ValueFloat64s(a.Value())
		vb, _ := graph.ValueFloat64s(b.Value())
		for i := range vb {
			if math.Float64bits(va[i]) != math.Float64bits(vb[i]) {
				t.Errorf("%v element %d: Set wrote %v, graph.Set %v", dt, i, va[i], vb[i])
			}
		}
		bad := Matrix{{1, 2, 3}, {4, math.Inf(-1), 6}}
		errA, errB := Set(a, bad), setFlat(b, bad)
		if errA == nil || errB == nil || errA.Error() != strings.Replace(errB.Error(), "setting b", "setting a", 1) {
			t.Errorf("%v: Set error %v, graph.Set error %v", dt, errA, errB)
		}
		after, _ := graph.ValueFloat64s(a.Value())
		if after[0] != va[0] || after[4] != va[4] {
			t.Errorf("%v: Set wrote a row holding -Inf", dt)
		}
	}
}

// Logits splits a step's [n·V] logits into n rows of V without copying,
// and refuses a value of another size.
func TestLogits(t *testing.T) {
	v := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	got, err := Logits(v, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][2] != 3 || got[1][0] != 4 || len(got[1]) != 3 {
		t.Errorf("Logits = %v", got)
	}
	if _, err := Logits(v, 3, 3); err == nil {
		t.Error("9 logits read from a value of 6")
	}
}
