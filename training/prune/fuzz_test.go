package prune

import (
	"testing"

	"gorgonia.org/tensor"
)

// LoadState reads what a checkpoint holds of a pruning run: any
// description and mask values give an error or masks of ones and zeros,
// never a panic, and a failed load changes nothing.
func FuzzGradualLoadState(f *testing.F) {
	g, err := NewGradual(Schedule{Final: 0.5, Start: 1, End: 5, Every: 2}, nil)
	if err != nil {
		f.Fatal(err)
	}
	mine, err := g.describe()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mine, "mask.fc.weight", []byte{1, 0, 1})
	f.Add(mine, "mask.", []byte{2})
	f.Add(`{"prune":{"final":0.5}}`, "mask.w", []byte{})
	f.Add("", "x", []byte{0})
	f.Fuzz(func(t *testing.T, extra, name string, vals []byte) {
		v := make([]float32, max(1, len(vals)))
		for i, b := range vals {
			v[i] = float32(int(b)%3) - float32(b/128)
		}
		state := map[string]*tensor.Dense{name: tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))}
		before := g.Masks()
		commit, err := g.LoadState(state, extra)
		if err != nil {
			if g.Masks() != nil || before != nil {
				t.Fatal("a failed load changed the masks")
			}
			return
		}
		commit()
		for n, m := range g.Masks() {
			if len(m) != len(v) || n == "" {
				t.Fatalf("mask %q of %d values from %d", n, len(m), len(v))
			}
		}
		g.masks = nil
	})
}
