package word2vec

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// The names of the model's weights as graph parameters.
const (
	ParamSyn0    = "syn0"    // input vectors [V, Size]
	ParamSyn1    = "syn1"    // hierarchical softmax's inner nodes [V, Size]
	ParamSyn1Neg = "syn1neg" // negative sampling's output vectors [V, Size]
)

// Example is one prediction with its random draws made: the rows of syn0
// whose mean is the hidden vector (skip-gram: the one context word; CBOW:
// the context words), the word to predict, and its negative samples
// (ignored without negative sampling).
type Example struct {
	Inputs    []int32
	Word      int32
	Negatives []int32
}

// Params returns the model's weights as graph parameters of type dt
// (copies): syn0, and syn1 and syn1neg where the model has them.
func (m *Model) Params(dt tensor.Dtype) (*graph.Params, error) {
	ps, err := graph.NewParams(dt)
	if err != nil {
		return nil, err
	}
	v, d := m.Vocab.Len(), m.Config.Size
	for _, p := range []struct {
		name string
		w    []float32
	}{{ParamSyn0, m.Syn0}, {ParamSyn1, m.Syn1}, {ParamSyn1Neg, m.Syn1Neg}} {
		if p.w == nil {
			continue
		}
		data := make([]float64, len(p.w))
		for i, x := range p.w {
			data[i] = float64(x)
		}
		t, err := graph.FromFloat64s(dt, data, v, d)
		if err != nil {
			return nil, err
		}
		if err := ps.Add(p.name, t); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// checkExamples refuses examples with ids outside the vocabulary.
func (m *Model) checkExamples(examples []Example) error {
	v := int32(m.Vocab.Len())
	in := func(x int32) bool { return x >= 0 && x < v }
	for i, e := range examples {
		if len(e.Inputs) == 0 || !m.Config.CBOW && len(e.Inputs) != 1 {
			return errors.Errorf("word2vec: example %d: %d inputs (skip-gram takes one, CBOW at least one)", i, len(e.Inputs))
		}
		for _, x := range append(append([]int32{e.Word}, e.Inputs...), e.Negatives...) {
			if !in(x) {
				return errors.Errorf("word2vec: example %d: word id %d outside the vocabulary of %d", i, x, v)
			}
		}
	}
	return nil
}

// unit is one logistic output unit of an example.
type unit struct {
	example int
	row     int32   // the output row
	target  float64 // t ∈ {0, 1}
}

// units lists the examples' output units per output matrix, in the
// kernel's order.
func (m *Model) units(examples []Example) (hs, neg []unit) {
	for i, e := range examples {
		if m.Config.HS {
			codes, points := m.huff.Codes(int(e.Word)), m.huff.Points(int(e.Word))
			for d, p := range points {
				hs = append(hs, unit{i, p, 1 - float64(codes[d])})
			}
		}
		if m.Config.Negative > 0 {
			neg = append(neg, unit{i, e.Word, 1})
			for _, n := range e.Negatives {
				neg = append(neg, unit{i, n, 0})
			}
		}
	}
	return hs, neg
}

// Loss builds, in g, the objective the kernel descends for a batch of
// examples: with h_e the mean of example e's input rows of syn0,
//
//	L = Σ_e Σ_units −log σ(s·h_e·u),   s = +1 for target 1, −1 for target 0,
//
// over the hierarchical softmax's units (u = syn1 of each inner node on
// the word's path, target 1 − branch) and negative sampling's (u =
// syn1neg of the word, target 1, and of each negative sample, target 0).
// g's parameters are the model's weights as [Model.Params] makes them. The
// rows are picked by constant selection matrices, so the graph is plain
// matrix products and element-wise ops; call it inside graph.Build.
func (m *Model) Loss(g *graph.Graph, examples []Example) (*gorgonia.Node, error) {
	if err := m.checkExamples(examples); err != nil {
		return nil, err
	}
	if len(examples) == 0 {
		return nil, errors.New("word2vec: Loss of no examples")
	}
	v, d, e := m.Vocab.Len(), m.Config.Size, len(examples)
	syn0, err := g.Param(ParamSyn0, v, d)
	if err != nil {
		return nil, err
	}
	avg := make([]float64, e*v)
	for i, ex := range examples {
		for _, c := range ex.Inputs {
			avg[i*v+int(c)] += 1 / float64(len(ex.Inputs))
		}
	}
	a, err := constInput(g, "w2v.mean", avg, e, v)
	if err != nil {
		return nil, err
	}
	h, err := graph.MatMul(a, syn0, false, false) // [E, D]
	if err != nil {
		return nil, err
	}
	hsUnits, negUnits := m.units(examples)
	var total *gorgonia.Node
	for _, out := range []struct {
		name  string
		units []unit
	}{{ParamSyn1, hsUnits}, {ParamSyn1Neg, negUnits}} {
		if len(out.units) == 0 {
			continue
		}
		part, err := unitsLoss(g, h, out.name, out.units, e, v, d)
		if err != nil {
			return nil, errors.Wrapf(err, "word2vec: loss over %s", out.name)
		}
		if total == nil {
			total = part
		} else if total, err = gorgonia.Add(total, part); err != nil {
			return nil, errors.Wrap(err, "word2vec: loss")
		}
	}
	return total, nil
}

// unitsLoss is Σ −log σ(s·h_e·u) over units of the output matrix name.
func unitsLoss(g *graph.Graph, h *gorgonia.Node, name string, units []unit, e, v, d int) (*gorgonia.Node, error) {
	n := len(units)
	w, err := g.Param(name, v, d)
	if err != nil {
		return nil, err
	}
	pickH, pickU, sign := make([]float64, n*e), make([]float64, n*v), make([]float64, n)
	for i, u := range units {
		pickH[i*e+u.example] = 1
		pickU[i*v+int(u.row)] = 1
		sign[i] = 2*u.target - 1
	}
	ph, err := constInput(g, name+".pick_h", pickH, n, e)
	if err != nil {
		return nil, err
	}
	pu, err := constInput(g, name+".pick_u", pickU, n, v)
	if err != nil {
		return nil, err
	}
	s, err := constInput(g, name+".sign", sign, n, 1)
	if err != nil {
		return nil, err
	}
	ones, err := constInput(g, name+".ones", filled(d, 1), d, 1)
	if err != nil {
		return nil, err
	}
	hn, err := graph.MatMul(ph, h, false, false) // [N, D]
	if err != nil {
		return nil, err
	}
	un, err := graph.MatMul(pu, w, false, false) // [N, D]
	if err != nil {
		return nil, err
	}
	prod, err := gorgonia.HadamardProd(hn, un)
	if err != nil {
		return nil, err
	}
	f, err := graph.MatMul(prod, ones, false, false) // [N, 1]: h·u per unit
	if err != nil {
		return nil, err
	}
	z, err := gorgonia.HadamardProd(f, s)
	if err != nil {
		return nil, err
	}
	sig, err := graph.Sigmoid(z)
	if err != nil {
		return nil, err
	}
	logs, err := gorgonia.Log(sig)
	if err != nil {
		return nil, err
	}
	sum, err := graph.Sum(logs)
	if err != nil {
		return nil, err
	}
	return gorgonia.Neg(sum)
}

func filled(n int, x float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = x
	}
	return s
}

// constInput is an input node of g holding data (rows × cols).
func constInput(g *graph.Graph, name string, data []float64, rows, cols int) (*gorgonia.Node, error) {
	n, err := g.Input(name, rows, cols)
	if err != nil {
		return nil, err
	}
	t, ok := n.Value().(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("word2vec: input %s has no dense value", name)
	}
	return n, graph.SetFloat64s(t, data)
}

// KernelGradients runs the training kernel over examples in float64, on
// the weights in ps (float64, as [Model.Params] makes them), with the
// exact σ and α = −1, its updates written to zeroed buffers instead of the
// weights, and returns the loss of [Model.Loss] and, per parameter, what
// the kernel's updates add up to: the loss's gradient (for CBOW, the
// syn0 rows get the hidden vector's gradient undivided, as word2vec.c
// updates them: the gradient times the number of context words). ps is
// not changed.
func (m *Model) KernelGradients(ps *graph.Params, examples []Example) (float64, map[string][]float64, error) {
	if err := m.checkExamples(examples); err != nil {
		return 0, nil, err
	}
	if ps == nil || ps.Dtype() != tensor.Float64 {
		return 0, nil, errors.New("word2vec: KernelGradients: want float64 params")
	}
	v, d := m.Vocab.Len(), m.Config.Size
	weight := func(name string) ([]float64, error) {
		t, ok := ps.Get(name)
		if !ok {
			return nil, nil
		}
		if s := t.Shape(); len(s) != 2 || s[0] != v || s[1] != d {
			return nil, errors.Errorf("word2vec: KernelGradients: %s has shape %v, want [%d %d]", name, s, v, d)
		}
		return graph.Float64s(t)
	}
	var huff *Huffman
	if m.Config.HS {
		huff = m.huff
	}
	k := newKernel(ops64, d, huff, m.Config.Negative > 0, nil)
	k.trackLoss = true
	grads := map[string][]float64{}
	var err error
	for _, p := range []struct {
		name string
		w, g *[]float64
		need bool
	}{{ParamSyn0, &k.w0, &k.d0, true}, {ParamSyn1, &k.w1, &k.d1, m.Config.HS}, {ParamSyn1Neg, &k.w2, &k.d2, m.Config.Negative > 0}} {
		if !p.need {
			continue
		}
		if *p.w, err = weight(p.name); err != nil {
			return 0, nil, err
		}
		if *p.w == nil {
			return 0, nil, errors.Errorf("word2vec: KernelGradients: no parameter %s", p.name)
		}
		*p.g = make([]float64, v*d)
		grads[p.name] = *p.g
	}
	for _, e := range examples {
		if m.Config.CBOW {
			k.cbow(e.Inputs, e.Word, e.Negatives, -1)
		} else {
			k.skipGram(e.Inputs[0], e.Word, e.Negatives, -1)
		}
	}
	return k.loss, grads, nil
}
