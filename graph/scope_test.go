package graph

import (
	"errors"
	"reflect"
	"testing"

	"gorgonia.org/tensor"
)

func TestScopeNames(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	root := NewScope(p)
	if root.Prefix() != "" || root.Params() != p || root.Name("w") != "w" {
		t.Fatalf("root scope: prefix %q, name %q", root.Prefix(), root.Name("w"))
	}
	enc, err := root.Sub("encoder")
	if err != nil {
		t.Fatal(err)
	}
	if enc.Prefix() != "encoder." || enc.Name("weight_ih_l0") != "encoder.weight_ih_l0" || enc.Params() != p {
		t.Fatalf("Sub: prefix %q", enc.Prefix())
	}
	l0, err := enc.Sub("layer0")
	if err != nil {
		t.Fatal(err)
	}
	if l0.Prefix() != "encoder.layer0." {
		t.Fatalf("nested Sub: prefix %q", l0.Prefix())
	}
	if _, err := root.New("bias", nil, nil, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.New("weight_ih_l0", nil, nil, 3, 2); err != nil {
		t.Fatal(err)
	}
	w, err := l0.New("w", Constant(2), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bias", "encoder.weight_ih_l0", "encoder.layer0.w"}
	if !reflect.DeepEqual(p.Names(), want) {
		t.Fatalf("names %v, want %v", p.Names(), want)
	}
	if got, _ := p.Get("encoder.layer0.w"); got != w {
		t.Fatal("scoped New did not register the returned tensor under the full name")
	}
	if got := tensorValues(t, w); !reflect.DeepEqual(got, []float64{2, 2}) {
		t.Fatalf("scoped New did not apply its initialiser: %v", got)
	}
	if got, _ := p.Get("bias"); !reflect.DeepEqual(tensorValues(t, got), []float64{0, 0, 0}) {
		t.Fatal("New with a nil initialiser is not zero")
	}
}

func TestScopeRefuses(t *testing.T) {
	p := mustParams(t, tensor.Float32)
	root := NewScope(p)
	for _, bad := range []string{"", "a.b", ".", "enc."} {
		if _, err := root.Sub(bad); err == nil {
			t.Errorf("Sub(%q) accepted", bad)
		}
	}
	enc, err := root.Sub("enc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.New("w", nil, nil, 2); err != nil {
		t.Fatal(err)
	}
	// The same full name from another scope, and from a second scope of the same name.
	if _, err := root.New("enc.w", nil, nil, 2); !errors.Is(err, ErrDuplicate) {
		t.Errorf("root New(enc.w) after enc.New(w): %v, want ErrDuplicate", err)
	}
	enc2, _ := root.Sub("enc")
	if _, err := enc2.New("w", nil, nil, 2); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second enc scope New(w): %v, want ErrDuplicate", err)
	}
	if _, err := enc.New("v", nil, nil, 0); err == nil {
		t.Error("New with a zero dimension accepted")
	}
	if _, err := (Scope{}).New("w", nil, nil, 2); err == nil {
		t.Error("zero Scope New accepted")
	}
	if !reflect.DeepEqual(p.Names(), []string{"enc.w"}) {
		t.Fatalf("refusals registered something: %v", p.Names())
	}
}

func TestScopeNewInitError(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	root := NewScope(p)
	// A 3-D tensor cannot be Glorot-initialised; nil source cannot feed Uniform.
	if _, err := root.New("w3", GlorotUniform{}, NewSource(1), 2, 2, 2); err == nil {
		t.Fatal("GlorotUniform on a 3-D tensor accepted")
	}
	if _, err := root.New("u", Uniform{-1, 1}, nil, 2); err == nil {
		t.Fatal("Uniform with a nil source accepted")
	}
}

// A Scope.New whose initialiser fails still leaves the zero tensor registered,
// so a corrected retry fails with ErrDuplicate.
func TestScopeNewInitErrorRegistersNothing(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	root := NewScope(p)
	if _, err := root.New("u", Uniform{-1, 1}, nil, 2); err == nil {
		t.Fatal("Uniform with a nil source accepted")
	}
	if p.Len() != 0 {
		t.Fatalf("failed New left %v registered", p.Names())
	}
	if _, err := root.New("u", Uniform{-1, 1}, NewSource(1), 2); err != nil {
		t.Fatalf("retry after a failed New: %v", err)
	}
}
