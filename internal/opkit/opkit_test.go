package opkit

import (
	"testing"

	"gorgonia.org/tensor"
)

type name string

func (n name) String() string { return string(n) }

// A value that lost a dimension of size 1 is viewed with the graph's shape;
// one of another size is an error, and so is a non-float scalar.
func TestAsShape(t *testing.T) {
	v := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 2, 3}))
	got, err := AsShape(name("op"), v, []int{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !SameShape(got.Shape(), []int{1, 3}) || got.Float64s()[2] != 3 {
		t.Fatalf("AsShape gave %v %v", got.Shape(), got.Data())
	}
	if _, err := AsShape(name("op"), v, []int{2, 2}); err == nil {
		t.Error("a value of 3 elements viewed as [2 2]")
	}
	s := tensor.New(tensor.WithShape(), tensor.WithBacking([]int{7}))
	if _, err := AsShape(name("op"), s, []int{1}); err == nil {
		t.Errorf("an int value accepted: %v", err)
	}
}

// Floats gives the data of the dtype asked for and nil for another.
func TestFloats(t *testing.T) {
	d := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1.5, 2}))
	if f := Floats[float32](d); len(f) != 2 || f[0] != 1.5 {
		t.Fatalf("Floats[float32] = %v", f)
	}
	if f := Floats[float64](d); f != nil {
		t.Fatalf("Floats[float64] of a float32 tensor = %v", f)
	}
}

// A Base with a buffer hands back the same tensor from run to run, zeroed
// when asked; a new one when the shape changes; the zero Base always a new
// one.
func TestBaseReusesItsBuffer(t *testing.T) {
	b := WithBuf()
	a := b.Alloc()(tensor.Float64, false, 2, 2)
	a.Float64s()[0] = 5
	if c := b.Alloc()(tensor.Float64, false, 2, 2); c != a || c.Float64s()[0] != 5 {
		t.Fatal("the buffer was not reused as it was")
	}
	if c := b.Alloc()(tensor.Float64, true, 2, 2); c != a || c.Float64s()[0] != 0 {
		t.Fatal("a zeroed allocation kept the old values")
	}
	if c := b.Alloc()(tensor.Float64, false, 4); c == a {
		t.Fatal("a buffer of another shape was reused")
	}
	var z Base
	if z.Alloc()(tensor.Float32, false, 1) == z.Alloc()(tensor.Float32, false, 1) {
		t.Fatal("the zero Base reused a tensor")
	}
	if tr := Trues(3); len(tr) != 3 || !tr[0] || !tr[2] {
		t.Fatalf("Trues(3) = %v", tr)
	}
}
