package prune

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Selection says whether magnitude pruning touches a parameter, by its
// name and shape.
type Selection func(name string, shape []int) bool

// Weights is the default Selection: parameters of two or more dimensions
// that are not embedding tables (see the package doc).
func Weights(name string, shape []int) bool {
	return len(shape) >= 2 && !strings.HasSuffix(name, "embedding.weight")
}

// Masks are pruning masks by parameter name: true keeps a weight, false
// prunes it. A parameter without a mask is not pruned.
type Masks map[string][]bool

// names returns the masked parameters' names, sorted.
func (m Masks) names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Apply sets the pruned weights of ps to zero. A mask of a parameter ps
// lacks, or of another size, is an error, and then nothing changes.
func (m Masks) Apply(ps *graph.Params) error {
	if ps == nil {
		return errors.New("prune: nil parameters")
	}
	ts := make([]*tensor.Dense, 0, len(m))
	names := m.names()
	for _, n := range names {
		t, ok := ps.Get(n)
		if !ok {
			return errors.Errorf("prune: a mask for %q, which the model has not", n)
		}
		if t.Shape().TotalSize() != len(m[n]) || t.RequiresIterator() {
			return errors.Errorf("prune: the mask of %q holds %d values, the parameter %v", n, len(m[n]), t.Shape())
		}
		ts = append(ts, t)
	}
	for i, n := range names {
		mask := m[n]
		switch d := ts[i].Data().(type) {
		case []float32:
			for j, keep := range mask {
				if !keep {
					d[j] = 0
				}
			}
		case []float64:
			for j, keep := range mask {
				if !keep {
					d[j] = 0
				}
			}
		default:
			return errors.Errorf("prune: parameter %q is %v", n, ts[i].Dtype())
		}
	}
	return nil
}

// Options are the settings of [Magnitude].
type Options struct {
	// Global uses one threshold over all selected tensors instead of the
	// same sparsity in each.
	Global bool
	// Select picks the tensors (nil: [Weights]).
	Select Selection
}

func (o Options) selection() Selection {
	if o.Select == nil {
		return Weights
	}
	return o.Select
}

// ranked is one weight: its magnitude, tensor and position.
type ranked struct {
	mag    float64
	tensor int
	index  int
}

// Magnitude returns the masks that prune the selected parameters of ps to
// sparsity s in [0, 1): the round(s·n) weights of smallest magnitude,
// per tensor or (opt.Global) over all of them, ties broken by tensor order
// and position. It changes nothing in ps (see [Masks.Apply]).
func Magnitude(ps *graph.Params, s float64, opt Options) (Masks, error) {
	if err := checkSparsity("sparsity", s); err != nil {
		return nil, err
	}
	if ps == nil {
		return nil, errors.New("prune: nil parameters")
	}
	sel := opt.selection()
	var names []string
	var vals [][]float64
	for _, n := range ps.Names() {
		t, _ := ps.Get(n)
		if !sel(n, t.Shape()) {
			continue
		}
		v, err := graph.Float64s(t)
		if err != nil {
			return nil, errors.Wrapf(err, "prune: %q", n)
		}
		names, vals = append(names, n), append(vals, v)
	}
	if len(names) == 0 {
		return nil, errors.New("prune: the model has no parameter to prune (no weight matrix selected)")
	}
	masks := make(Masks, len(names))
	for i, n := range names {
		masks[n] = make([]bool, len(vals[i]))
		for j := range masks[n] {
			masks[n][j] = true
		}
	}
	if opt.Global {
		var all []ranked
		for i, v := range vals {
			for j, x := range v {
				all = append(all, ranked{math.Abs(x), i, j})
			}
		}
		for _, r := range smallest(all, s) {
			masks[names[r.tensor]][r.index] = false
		}
		return masks, nil
	}
	for i, v := range vals {
		rs := make([]ranked, len(v))
		for j, x := range v {
			rs[j] = ranked{math.Abs(x), i, j}
		}
		for _, r := range smallest(rs, s) {
			masks[names[i]][r.index] = false
		}
	}
	return masks, nil
}

// smallest returns the round(s·len(rs)) entries of smallest magnitude.
func smallest(rs []ranked, s float64) []ranked {
	k := int(math.Round(s * float64(len(rs))))
	if k == 0 {
		return nil
	}
	sort.Slice(rs, func(a, b int) bool {
		x, y := rs[a], rs[b]
		if x.mag != y.mag {
			return x.mag < y.mag
		}
		if x.tensor != y.tensor {
			return x.tensor < y.tensor
		}
		return x.index < y.index
	})
	return rs[:k]
}

// TensorSparsity is one parameter's share of zero weights.
type TensorSparsity struct {
	Name  string
	Zeros int
	Size  int
}

// Sparsity returns the fraction of zeros.
func (t TensorSparsity) Sparsity() float64 {
	if t.Size == 0 {
		return 0
	}
	return float64(t.Zeros) / float64(t.Size)
}

// String formats the line rnnkit prune prints.
func (t TensorSparsity) String() string {
	return fmt.Sprintf("%-28s %9d of %9d zero (%5.1f%%)", t.Name, t.Zeros, t.Size, 100*t.Sparsity())
}

// Report returns the share of zero weights of each selected parameter of
// ps (sel nil: [Weights]), in ps's order, and the total over them.
func Report(ps *graph.Params, sel Selection) ([]TensorSparsity, TensorSparsity, error) {
	if sel == nil {
		sel = Weights
	}
	total := TensorSparsity{Name: "total"}
	var out []TensorSparsity
	for _, n := range ps.Names() {
		t, _ := ps.Get(n)
		if !sel(n, t.Shape()) {
			continue
		}
		v, err := graph.Float64s(t)
		if err != nil {
			return nil, total, errors.Wrapf(err, "prune: %q", n)
		}
		ts := TensorSparsity{Name: n, Size: len(v)}
		for _, x := range v {
			if x == 0 {
				ts.Zeros++
			}
		}
		total.Zeros += ts.Zeros
		total.Size += ts.Size
		out = append(out, ts)
	}
	return out, total, nil
}
