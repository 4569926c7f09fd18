package graph

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestNewParamsDtypes(t *testing.T) {
	for _, dt := range floatDtypes {
		p, err := NewParams(dt)
		if err != nil {
			t.Fatalf("NewParams(%v): %v", dt, err)
		}
		if p.Dtype() != dt || p.Len() != 0 || len(p.Names()) != 0 {
			t.Fatalf("NewParams(%v): dtype %v, len %d, names %v", dt, p.Dtype(), p.Len(), p.Names())
		}
	}
	for _, dt := range []tensor.Dtype{tensor.Int, tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Bool,
		tensor.Complex64, tensor.Complex128, tensor.String} {
		p, err := NewParams(dt)
		if !errors.Is(err, ErrDtype) {
			t.Errorf("NewParams(%v): err %v, want ErrDtype", dt, err)
		}
		if p != nil {
			t.Errorf("NewParams(%v) returned a Params with an error", dt)
		}
		if err := CheckDtype(dt); !errors.Is(err, ErrDtype) {
			t.Errorf("CheckDtype(%v): %v, want ErrDtype", dt, err)
		}
	}
}

func TestParamsAddRefuses(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	ok := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64))
	if err := p.Add("w", ok); err != nil {
		t.Fatalf("Add: %v", err)
	}
	cases := []struct {
		name   string
		pname  string
		t      *tensor.Dense
		target error // nil: any error
	}{
		{"duplicate", "w", tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64)), ErrDuplicate},
		{"empty name", "", tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64)), nil},
		{"nil tensor", "n", nil, nil},
		{"float32 into float64", "f32", tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float32)), ErrDtype},
		{"int tensor", "i", tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int)), ErrDtype},
		{"zero dim", "z", tensor.New(tensor.WithShape(0, 3), tensor.Of(tensor.Float64)), nil},
		{"scalar (no dims)", "s", tensor.New(tensor.FromScalar(1.0)), nil},
	}
	for _, c := range cases {
		err := p.Add(c.pname, c.t)
		if err == nil {
			t.Errorf("%s: Add accepted it", c.name)
			continue
		}
		if c.target != nil && !errors.Is(err, c.target) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.target)
		}
	}
	if p.Len() != 1 || !reflect.DeepEqual(p.Names(), []string{"w"}) {
		t.Fatalf("failed Adds changed the Params: names %v", p.Names())
	}
	if got, _ := p.Get("w"); got != ok {
		t.Fatal("a refused duplicate replaced the original tensor")
	}

	// New checks the dimensions before making a tensor: zero and negative.
	for _, dims := range [][]int{nil, {0}, {3, 0}, {-1}, {2, -3}} {
		if _, err := p.New("d", dims...); err == nil {
			t.Errorf("New with dims %v accepted", dims)
		}
	}
	if _, err := p.New("w", 2, 3); !errors.Is(err, ErrDuplicate) {
		t.Errorf("New of an existing name: %v, want ErrDuplicate", err)
	}
	if p.Len() != 1 {
		t.Fatalf("failed News registered something: %v", p.Names())
	}
}

func TestParamsNewIsZeroOfDtype(t *testing.T) {
	for _, dt := range floatDtypes {
		p := mustParams(t, dt)
		x, err := p.New("x", 2, 3, 4)
		if err != nil {
			t.Fatal(err)
		}
		if x.Dtype() != dt || !reflect.DeepEqual([]int(x.Shape()), []int{2, 3, 4}) {
			t.Fatalf("%v: New gave %v %v", dt, x.Dtype(), x.Shape())
		}
		for _, v := range tensorValues(t, x) {
			if v != 0 {
				t.Fatalf("%v: New is not zero: %v", dt, v)
			}
		}
		if got, ok := p.Get("x"); !ok || got != x {
			t.Fatalf("%v: Get does not return the tensor New made", dt)
		}
	}
}

func TestParamsNamesOrder(t *testing.T) {
	p := mustParams(t, tensor.Float32)
	want := []string{"weight_ih_l0", "bias_ih_l0", "a", "z", "weight_hh_l0", "m"}
	for _, n := range want {
		if _, err := p.New(n, 1); err != nil {
			t.Fatal(err)
		}
	}
	got := p.Names()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Names = %v, want registration order %v", got, want)
	}
	got[0] = "mutated"
	if p.Names()[0] != "weight_ih_l0" {
		t.Fatal("Names does not return a copy")
	}
	if p.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", p.Len(), len(want))
	}
}

func TestParamsLookup(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	w, err := p.New("w", 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Lookup("w", 4, 2)
	if err != nil || got != w {
		t.Fatalf("Lookup right shape: %v, %v", got, err)
	}
	for _, shape := range [][]int{{2, 4}, {8}, {4, 2, 1}, nil} {
		_, err := p.Lookup("w", shape...)
		var se *ShapeError
		if !errors.As(err, &se) {
			t.Fatalf("Lookup shape %v: %v, want *ShapeError", shape, err)
		}
		if se.Name != "w" || !reflect.DeepEqual(se.Got, []int{4, 2}) || len(se.Want) != len(shape) {
			t.Fatalf("ShapeError %+v for wanted shape %v", se, shape)
		}
		if !strings.Contains(se.Error(), "w") || !strings.Contains(se.Error(), "[4 2]") {
			t.Fatalf("ShapeError message %q", se.Error())
		}
	}
	if _, err := p.Lookup("missing", 4, 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup missing: %v, want ErrNotFound", err)
	}
	if _, ok := p.Get("missing"); ok {
		t.Fatal("Get found a missing name")
	}
}

func TestFloat64sRoundTrip(t *testing.T) {
	data := []float64{0, 1, -2.5, 0.125, 1e3, -7.75}
	for _, dt := range floatDtypes {
		p := mustParams(t, dt)
		w, err := p.New("w", 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetFloat64s("w", data); err != nil {
			t.Fatalf("%v: SetFloat64s: %v", dt, err)
		}
		got := tensorValues(t, w)
		if !reflect.DeepEqual(got, data) {
			t.Fatalf("%v: round trip %v, want %v", dt, got, data)
		}
		// The data really is stored in the dtype.
		switch d := w.Data().(type) {
		case []float64:
			if dt != tensor.Float64 || d[2] != -2.5 {
				t.Fatalf("%v: backing %v", dt, d)
			}
		case []float32:
			if dt != tensor.Float32 || d[2] != -2.5 {
				t.Fatalf("%v: backing %v", dt, d)
			}
		}
		// Float64s returns a copy.
		got[0] = 99
		if again := tensorValues(t, w); again[0] != 0 {
			t.Fatalf("%v: Float64s shares memory with the tensor", dt)
		}
		// Wrong lengths are refused, and leave the tensor alone.
		for _, bad := range [][]float64{nil, data[:5], append(append([]float64(nil), data...), 1)} {
			if err := p.SetFloat64s("w", bad); err == nil {
				t.Fatalf("%v: SetFloat64s accepted %d values for 6", dt, len(bad))
			}
			if _, err := FromFloat64s(dt, bad, 2, 3); err == nil {
				t.Fatalf("%v: FromFloat64s accepted %d values for 6", dt, len(bad))
			}
		}
		if got := tensorValues(t, w); !reflect.DeepEqual(got, data) {
			t.Fatalf("%v: a refused SetFloat64s changed the tensor: %v", dt, got)
		}
		if err := p.SetFloat64s("nope", data); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%v: SetFloat64s of a missing name: %v", dt, err)
		}

		f, err := FromFloat64s(dt, data, 3, 2)
		if err != nil {
			t.Fatalf("%v: FromFloat64s: %v", dt, err)
		}
		if f.Dtype() != dt || !reflect.DeepEqual([]int(f.Shape()), []int{3, 2}) {
			t.Fatalf("%v: FromFloat64s made %v %v", dt, f.Dtype(), f.Shape())
		}
		if got := tensorValues(t, f); !reflect.DeepEqual(got, data) {
			t.Fatalf("%v: FromFloat64s holds %v", dt, got)
		}
	}

	// float32 rounds to the nearest float32.
	f, err := FromFloat64s(tensor.Float32, []float64{0.1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensorValues(t, f)[0]; got != float64(float32(0.1)) {
		t.Fatalf("float32 0.1 reads back as %v", got)
	}
}

func TestFromFloat64sRefuses(t *testing.T) {
	if _, err := FromFloat64s(tensor.Int, []float64{1}, 1); !errors.Is(err, ErrDtype) {
		t.Errorf("int dtype: %v, want ErrDtype", err)
	}
	for _, dims := range [][]int{nil, {0}, {-1, 1}} {
		if _, err := FromFloat64s(tensor.Float64, nil, dims...); err == nil {
			t.Errorf("dims %v accepted", dims)
		}
	}
}

func TestFloat64sOtherInputs(t *testing.T) {
	if _, err := Float64s(nil); err == nil {
		t.Error("Float64s(nil) gave no error")
	}
	if _, err := Float64s(tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int))); !errors.Is(err, ErrDtype) {
		t.Errorf("int tensor: %v, want ErrDtype", err)
	}
	if err := SetFloat64s(tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int)), []float64{1, 2}); !errors.Is(err, ErrDtype) {
		t.Errorf("SetFloat64s into an int tensor: %v, want ErrDtype", err)
	}
	for _, s := range []any{2.5, float32(2.5)} {
		got, err := Float64s(tensor.New(tensor.FromScalar(s)))
		if err != nil || !reflect.DeepEqual(got, []float64{2.5}) {
			t.Errorf("scalar %T: %v, %v", s, got, err)
		}
	}
}

// Float64s reads a view's Data(), which is the backing array from the view's
// first element to the end of the parent, not the view's elements.
func TestFloat64sOfView(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float64{0, 1, 2, 3, 4, 5, 6, 7}))
	v, err := x.Slice(nil, tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Float64s(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 2, 5, 6}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Float64s of a column view = %v, want %v", got, want)
	}
}

func TestAllFinite(t *testing.T) {
	for _, dt := range floatDtypes {
		p := mustParams(t, dt)
		for _, n := range []string{"a", "b", "c"} {
			if _, err := p.New(n, 2, 2); err != nil {
				t.Fatal(err)
			}
		}
		if ok, name := p.AllFinite(); !ok || name != "" {
			t.Fatalf("%v: zeros are not finite? %v %q", dt, ok, name)
		}
		if err := p.SetFloat64s("b", []float64{1, 2, math.NaN(), 4}); err != nil {
			t.Fatal(err)
		}
		if ok, name := p.AllFinite(); ok || name != "b" {
			t.Fatalf("%v: NaN in b: AllFinite = %v, %q", dt, ok, name)
		}
		if err := p.SetFloat64s("a", []float64{1, math.Inf(-1), 3, 4}); err != nil {
			t.Fatal(err)
		}
		if ok, name := p.AllFinite(); ok || name != "a" {
			t.Fatalf("%v: -Inf in a (first in order): AllFinite = %v, %q", dt, ok, name)
		}
	}
	empty := mustParams(t, tensor.Float64)
	if ok, _ := empty.AllFinite(); !ok {
		t.Fatal("empty Params is not finite")
	}
}
