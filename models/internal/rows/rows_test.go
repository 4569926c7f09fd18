package rows

import (
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
