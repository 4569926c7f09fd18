package parity

import (
	"encoding/json"
	"slices"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/fixture"
	"github.com/rnnkit/rnnkit/models/tree"
)

// treeCases maps the tree fixture cases to a model: tree_rnn and tree_lstm
// are the shared schema's; tree_childsum (n-ary trees, the child-sum
// Tree-LSTM in DGL's layout) is rnnkit's own, made by
// scripts/make_tree_fixtures.py.
var treeCases = map[string]tree.Kind{
	"tree_rnn":      tree.RNN,
	"tree_lstm":     tree.BinaryLSTM,
	"tree_childsum": tree.ChildSumLSTM,
}

func treeCaseNames() []string {
	var out []string
	for k := range treeCases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// treeVocab reads the fixture's vocabulary: a list of words in id order,
// or an object word → id.
func treeVocab(raw json.RawMessage) (*tree.Vocab, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return tree.NewVocab(list)
	}
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.Wrap(fixture.ErrFormat, "vocab: neither a list of words nor an object word → id")
	}
	list = make([]string, len(m))
	for w, id := range m {
		if id < 0 || id >= len(m) || list[id] != "" {
			return nil, errors.Wrapf(fixture.ErrFormat, "vocab: ids are not 0..%d, each once (%q → %d)", len(m)-1, w, id)
		}
		list[id] = w
	}
	return tree.NewVocab(list)
}

// runTree checks a tree case: the model of every node of every tree, the
// linear classifier on each node's h and the mean cross-entropy over all
// nodes. With fused set it runs the level-batched path.
func runTree(f *fixture.File, kind tree.Kind, fused bool) (Result, error) {
	var d struct{ B, V, H, C, N int }
	for _, p := range []struct {
		name string
		dst  *int
	}{{"B", &d.B}, {"V", &d.V}, {"H", &d.H}, {"C", &d.C}, {"N", &d.N}} {
		v, err := f.Dim(p.name)
		if err != nil {
			return Result{}, err
		}
		*p.dst = v
	}
	cfg := tree.Config{Kind: kind, Vocab: d.V, Hidden: d.H, Classes: d.C}
	if _, ok := f.Dims["E"]; ok {
		var err error
		if cfg.Embed, err = f.Dim("E"); err != nil {
			return Result{}, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return Result{}, errors.Wrapf(fixture.ErrFormat, "dims: %v", err)
	}

	// The trees, as the fixture gives them, and the layout they imply.
	if len(f.Trees) != d.B {
		return Result{}, errors.Wrapf(fixture.ErrFormat, "trees: %d, dims.B = %d", len(f.Trees), d.B)
	}
	vocab, err := treeVocab(f.Vocab)
	if err != nil {
		return Result{}, err
	}
	if vocab.Len() != d.V {
		return Result{}, errors.Wrapf(fixture.ErrFormat, "vocab: %d words, dims.V = %d", vocab.Len(), d.V)
	}
	trees := make([]*tree.Node, d.B)
	for k, s := range f.Trees {
		if trees[k], err = tree.Parse(s, d.C); err != nil {
			return Result{}, errors.Wrapf(err, "trees[%d]", k)
		}
	}
	batch, err := tree.NewBatch(trees, vocab)
	if err != nil {
		return Result{}, err
	}
	if batch.Len() != d.N {
		return Result{}, errors.Wrapf(fixture.ErrFormat, "the trees have %d nodes, dims.N = %d", batch.Len(), d.N)
	}
	if !slices.Equal(batch.Roots, f.Roots) {
		return Result{}, errors.Wrapf(fixture.ErrFormat, "roots %v, the trees' post-order gives %v", f.Roots, batch.Roots)
	}
	labels, err := fixture.Want("inputs", f.Inputs, "labels", d.N)
	if err != nil {
		return Result{}, err
	}
	for i, l := range labels.Data {
		if l != float64(batch.Labels[i]) {
			return Result{}, errors.Wrapf(fixture.ErrFormat, "inputs.labels[%d] = %v, the trees give %d", i, l, batch.Labels[i])
		}
	}

	// Parameters.
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		return Result{}, err
	}
	specs := cfg.Params()
	for _, p := range specs {
		t, err := fixture.Want("params", f.Params, p.Name, p.Shape...)
		if err != nil {
			return Result{}, err
		}
		v, err := graph.FromFloat64s(tensor.Float64, t.Data, p.Shape...)
		if err != nil {
			return Result{}, err
		}
		if err := ps.Add(p.Name, v); err != nil {
			return Result{}, err
		}
	}
	for name := range f.Params {
		if _, ok := ps.Get(name); !ok {
			return Result{}, errors.Wrapf(fixture.ErrFormat, "params: %q is not a parameter of %v", name, kind)
		}
	}

	// The graph, its gradients and what is read, all inside graph.Build.
	type reads struct {
		t     *tree.TrainGraph
		loss  gorgonia.Value
		outs  []gorgonia.Value // h, logits, h_root, c
		grads map[string]*gorgonia.Value
	}
	g, r, err := graph.Build(ps, func(g *graph.Graph) (*reads, error) {
		build := tree.BuildTrainGraph
		if fused {
			build = tree.BuildLevelGraph
		}
		t, err := build(g, cfg, batch)
		if err != nil {
			return nil, err
		}
		r := &reads{t: t, outs: make([]gorgonia.Value, 4), grads: map[string]*gorgonia.Value{}}
		wrt := g.Learnables()
		grads, err := gorgonia.Grad(t.Loss, wrt...)
		if err != nil {
			return nil, errors.Wrap(err, "parity: symbolic gradient")
		}
		gorgonia.Read(t.Loss, &r.loss)
		for i, n := range []*gorgonia.Node{t.H, t.Logits, t.Roots, t.C} {
			if n != nil {
				gorgonia.Read(n, &r.outs[i])
			}
		}
		vals := make([]gorgonia.Value, len(grads))
		for i, n := range wrt {
			gorgonia.Read(grads[i], &vals[i])
			r.grads[n.Name()] = &vals[i]
		}
		return r, nil
	})
	if err != nil {
		return Result{}, err
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		return Result{}, err
	}

	res := Result{Name: f.Name, Case: f.Case}
	get := func(v gorgonia.Value) []float64 { out, _ := graph.ValueFloat64s(v); return out }
	if err := res.compare(false, "loss", fixture.Tensor{Shape: []int{1}, Data: []float64{f.Loss.Value}}, get(r.loss)); err != nil {
		return res, err
	}
	outs := []struct {
		name  string
		shape []int
	}{{"h", []int{d.N, d.H}}, {"logits", []int{d.N, d.C}}, {"h_root", []int{d.B, d.H}}, {"c", []int{d.N, d.H}}}
	for i, o := range outs {
		if o.name == "c" && !kind.LSTM() {
			continue
		}
		want, err := fixture.Want("outputs", f.Outputs, o.name, o.shape...)
		if err != nil {
			return res, err
		}
		if err := res.compare(false, o.name, want, get(r.outs[i])); err != nil {
			return res, err
		}
	}
	for _, p := range specs {
		want, err := fixture.Want("grads.params", f.Grads.Params, p.Name, p.Shape...)
		if err != nil {
			return res, err
		}
		got := make([]float64, want.Size()) // a parameter the batch does not use: zero
		if v, ok := r.grads[p.Name]; ok {
			got = get(*v)
		}
		if err := res.compare(true, "d"+p.Name, want, got); err != nil {
			return res, err
		}
	}
	return res, nil
}
