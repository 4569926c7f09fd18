package recurrent

import "testing"

// The zero Kind is not a recurrence: an unset kind is refused when the
// node is built, whatever the inputs.
func TestZeroKindRefused(t *testing.T) {
	var k Kind
	if _, _, _, err := Fused(k, false, Inputs{}); err == nil {
		t.Fatal("Fused accepted the zero Kind")
	}
	if k.String() == Tanh.String() {
		t.Fatalf("the zero Kind reads %q", k)
	}
}
