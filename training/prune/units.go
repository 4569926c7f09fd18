package prune

import (
	"fmt"
	"math"
	"sort"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
)

// LayerUnits are the hidden units a structured pruning kept in one layer.
type LayerUnits struct {
	Layer int
	// Kept are the kept units' indices in the full layer, ascending; Of is
	// the full layer's size.
	Kept []int
	Of   int
}

// String formats the line rnnkit prune -structured prints.
func (l LayerUnits) String() string {
	return fmt.Sprintf("layer %d: %d of %d hidden units kept", l.Layer, len(l.Kept), l.Of)
}

// matrix is a parameter's values and shape, row-major.
type matrix struct {
	v          []float64
	rows, cols int
}

func (m matrix) at(r, c int) float64 { return m.v[r*m.cols+c] }

// get returns the parameter name of ps as a matrix (a vector is one row).
func get(ps *graph.Params, name string) (matrix, error) {
	t, ok := ps.Get(name)
	if !ok {
		return matrix{}, errors.Errorf("prune: the model has no parameter %q", name)
	}
	v, err := graph.Float64s(t)
	if err != nil {
		return matrix{}, errors.Wrapf(err, "prune: %q", name)
	}
	s := t.Shape()
	switch len(s) {
	case 1:
		return matrix{v, 1, s[0]}, nil
	case 2:
		return matrix{v, s[0], s[1]}, nil
	}
	return matrix{}, errors.Errorf("prune: parameter %q has shape %v", name, s)
}

// lmLayer names one recurrent layer's parameters.
type lmLayer struct {
	ih, hh, bih, bhh string
	extra            []string
	gates            int
}

func lmLayers(c lm.Config) ([]lmLayer, error) {
	spec, ok := cells.Lookup(c.Cell)
	if !ok {
		return nil, errors.Errorf("prune: unknown cell kind %q", c.Cell)
	}
	out := make([]lmLayer, max(1, c.Layers))
	for k := range out {
		cc := cells.Config{Kind: c.Cell, Layer: k, Prefix: "rnn."}
		l := lmLayer{ih: cc.ParamName("weight_ih"), hh: cc.ParamName("weight_hh"), bih: cc.ParamName("bias_ih"), bhh: cc.ParamName("bias_hh"), gates: spec.Gates}
		for _, e := range spec.Extra {
			if s := e.Shape(1, 7); len(s) != 1 || s[0] != 7 {
				return nil, errors.Errorf("prune: cell kind %q has parameter %s of shape %v; structured pruning slices only vectors of the hidden size", c.Cell, e.Base, s)
			}
			l.extra = append(l.extra, cc.ParamName(e.Base))
		}
		out[k] = l
	}
	return out, nil
}

// Units chooses the hidden units a language model of config c keeps when
// a share s in [0, 1) of each layer's units is pruned: H − round(s·H) of
// them (at least one), the units whose weights have the largest L2 norm —
// incoming (the unit's rows of every gate in weight_ih and weight_hh) and
// outgoing (its column of weight_hh, and of the next layer's weight_ih or
// fc.weight) together; ties go to the lower index. A model with tied
// weights is refused (its fc.weight is the embedding, of width Embed).
func Units(ps *graph.Params, c lm.Config, s float64) ([]LayerUnits, error) {
	if err := checkSparsity("sparsity", s); err != nil {
		return nil, err
	}
	if c.Tied {
		return nil, errors.New("prune: structured pruning of a model with tied weights (fc.weight is the embedding, its width fixed by -embed)")
	}
	layers, err := lmLayers(c)
	if err != nil {
		return nil, err
	}
	H := c.Hidden
	keep := max(1, H-int(math.Round(s*float64(H))))
	out := make([]LayerUnits, len(layers))
	for k, l := range layers {
		ih, err := get(ps, l.ih)
		if err != nil {
			return nil, err
		}
		hh, err := get(ps, l.hh)
		if err != nil {
			return nil, err
		}
		nextName := "fc.weight"
		if k+1 < len(layers) {
			nextName = layers[k+1].ih
		}
		next, err := get(ps, nextName)
		if err != nil {
			return nil, err
		}
		if ih.rows != l.gates*H || hh.rows != l.gates*H || hh.cols != H || next.cols != H {
			return nil, errors.Errorf("prune: layer %d's shapes %d×%d, %d×%d, %d×%d do not fit hidden size %d", k, ih.rows, ih.cols, hh.rows, hh.cols, next.rows, next.cols, H)
		}
		score := make([]float64, H)
		for j := range H {
			for g := range l.gates {
				r := g*H + j
				for i := range ih.cols {
					score[j] += ih.at(r, i) * ih.at(r, i)
				}
				for i := range hh.cols {
					score[j] += hh.at(r, i) * hh.at(r, i)
				}
			}
			for r := range hh.rows {
				score[j] += hh.at(r, j) * hh.at(r, j)
			}
			for r := range next.rows {
				score[j] += next.at(r, j) * next.at(r, j)
			}
		}
		idx := make([]int, H)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
		kept := append([]int(nil), idx[:keep]...)
		sort.Ints(kept)
		out[k] = LayerUnits{Layer: k, Kept: kept, Of: H}
	}
	return out, nil
}

// Shrink returns the parameters of the smaller model that keeps the units
// of layers (as [Units] chose them), and its config: every layer's
// weight_ih and weight_hh lose the rows of the dropped units in each gate
// block (and the biases their entries), weight_hh and the next layer's
// weight_ih (or fc.weight) the columns. The smaller model computes
// what the full one computes with the dropped units' rows set to zero
// ([UnitMasks]): from a zero state such a unit stays zero for every cell
// kind, so its columns read nothing.
func Shrink(ps *graph.Params, c lm.Config, layers []LayerUnits) (*graph.Params, lm.Config, error) {
	names, err := lmLayers(c)
	if err != nil {
		return nil, c, err
	}
	if len(layers) != len(names) {
		return nil, c, errors.Errorf("prune: %d layers of kept units for a model of %d", len(layers), len(names))
	}
	keep := len(layers[0].Kept)
	for _, l := range layers {
		if len(l.Kept) != keep || l.Of != c.Hidden {
			return nil, c, errors.New("prune: every layer must keep the same number of units of the model's hidden size")
		}
		for i, j := range l.Kept {
			if j < 0 || j >= c.Hidden || (i > 0 && j <= l.Kept[i-1]) {
				return nil, c, errors.Errorf("prune: layer %d's kept units are not ascending indices below %d", l.Layer, c.Hidden)
			}
		}
	}
	rowsOf := func(k, gates int) []int {
		var out []int
		for g := range gates {
			for _, j := range layers[k].Kept {
				out = append(out, g*c.Hidden+j)
			}
		}
		return out
	}
	// sliced[name] = (rows kept, columns kept); nil keeps all.
	type cut struct{ rows, cols []int }
	cuts := map[string]cut{}
	for k, l := range names {
		r := rowsOf(k, l.gates)
		var in []int
		if k > 0 {
			in = layers[k-1].Kept
		}
		cuts[l.ih] = cut{r, in}
		cuts[l.hh] = cut{r, layers[k].Kept}
		cuts[l.bih] = cut{nil, r}
		cuts[l.bhh] = cut{nil, r}
		for _, e := range l.extra {
			cuts[e] = cut{nil, layers[k].Kept}
		}
	}
	cuts["fc.weight"] = cut{nil, layers[len(layers)-1].Kept}
	out, err := graph.NewParams(ps.Dtype())
	if err != nil {
		return nil, c, err
	}
	for _, n := range ps.Names() {
		m, err := get(ps, n)
		if err != nil {
			return nil, c, err
		}
		t, _ := ps.Get(n)
		shape := append([]int(nil), t.Shape()...)
		v := m.v
		if ct, ok := cuts[n]; ok {
			rs, cs := ct.rows, ct.cols
			if rs == nil {
				rs = seq(m.rows)
			}
			if cs == nil {
				cs = seq(m.cols)
			}
			v = make([]float64, 0, len(rs)*len(cs))
			for _, r := range rs {
				for _, col := range cs {
					v = append(v, m.at(r, col))
				}
			}
			if len(shape) == 1 {
				shape = []int{len(cs)}
			} else {
				shape = []int{len(rs), len(cs)}
			}
		}
		x, err := graph.FromFloat64s(ps.Dtype(), v, shape...)
		if err != nil {
			return nil, c, err
		}
		if err := out.Add(n, x); err != nil {
			return nil, c, err
		}
	}
	small := c
	small.Hidden = keep
	return out, small, nil
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// UnitMasks returns the masks that set the rows of the units [Units]
// dropped to zero in the full model (every gate block of weight_ih,
// weight_hh, the biases and any per-unit vector): the full-size model that
// computes what [Shrink]'s model computes.
func UnitMasks(c lm.Config, layers []LayerUnits) (Masks, error) {
	names, err := lmLayers(c)
	if err != nil {
		return nil, err
	}
	if len(layers) != len(names) {
		return nil, errors.Errorf("prune: %d layers of kept units for a model of %d", len(layers), len(names))
	}
	H := c.Hidden
	in := c.Embed
	m := Masks{}
	for k, l := range names {
		kept := make([]bool, H)
		for _, j := range layers[k].Kept {
			kept[j] = true
		}
		row := func(r int) bool { return kept[r%H] }
		fill := func(rows, cols int) []bool {
			out := make([]bool, rows*cols)
			for i := range out {
				out[i] = row(i / cols)
			}
			return out
		}
		m[l.ih] = fill(l.gates*H, in)
		m[l.hh] = fill(l.gates*H, H)
		m[l.bih] = fill(l.gates*H, 1)
		m[l.bhh] = fill(l.gates*H, 1)
		for _, e := range l.extra {
			m[e] = fill(H, 1)
		}
		in = H
	}
	return m, nil
}
