package tree

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// evaluated is what one run of a model's graph gives: outputs and every
// parameter's gradient (nil for a parameter the graph does not use).
type evaluated struct {
	loss                float64
	h, c, logits, roots []float64
	grads               map[string][]float64
	nodes               int
	fused               bool
}

// evaluate builds (inside graph.Build) the definition or the level-batched
// graph of b, differentiates it, runs it runs times and reads the last run.
func evaluate(t *testing.T, ps *graph.Params, c Config, b *Batch, level bool, runs int) evaluated {
	t.Helper()
	type reads struct {
		loss  gorgonia.Value
		outs  []gorgonia.Value
		names []string
		grads []gorgonia.Value
	}
	g, r, err := graph.Build(ps, func(g *graph.Graph) (*reads, error) {
		build := BuildTrainGraph
		if level {
			build = BuildLevelGraph
		}
		tg, err := build(g, c, b)
		if err != nil {
			return nil, err
		}
		wrt := g.Learnables()
		grads, err := gorgonia.Grad(tg.Loss, wrt...)
		if err != nil {
			return nil, err
		}
		r := &reads{outs: make([]gorgonia.Value, 4), grads: make([]gorgonia.Value, len(grads))}
		gorgonia.Read(tg.Loss, &r.loss)
		for i, n := range []*gorgonia.Node{tg.H, tg.C, tg.Logits, tg.Roots} {
			if n != nil {
				gorgonia.Read(n, &r.outs[i])
			}
		}
		for i, n := range wrt {
			r.names = append(r.names, n.Name())
			gorgonia.Read(grads[i], &r.grads[i])
		}
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := 0; i < runs; i++ {
		m.Reset()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
	}
	get := func(v gorgonia.Value) []float64 {
		if v == nil {
			return nil
		}
		out, err := graph.ValueFloat64s(v)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	e := evaluated{loss: get(r.loss)[0], h: get(r.outs[0]), c: get(r.outs[1]), logits: get(r.outs[2]), roots: get(r.outs[3]),
		grads: map[string][]float64{}, nodes: len(g.ExprGraph().AllNodes())}
	for i, name := range r.names {
		e.grads[name] = get(r.grads[i])
	}
	for _, n := range g.ExprGraph().AllNodes() {
		if n.Op() != nil && strings.HasPrefix(n.Op().String(), "TreeLevels") {
			e.fused = true
		}
	}
	return e
}

// maxDiff returns the largest absolute difference; a missing side counts
// as zeros (a parameter one graph does not bind has a zero gradient).
func maxDiff(a, b []float64) float64 {
	if a == nil {
		a = make([]float64, len(b))
	}
	if b == nil {
		b = make([]float64, len(a))
	}
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

// The level-batched graph equals the per-node definition to 1e-12 in
// float64 (outputs, loss and every parameter gradient), for every model,
// on one leaf, degenerate chains, random trees and mixed batches, also
// when its machine runs more than once.
func TestLevelEqualsDefinition(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		c := testConfig(k)
		r := rand.New(rand.NewPCG(uint64(k), 99))
		cases := shapes(r, k == ChildSumLSTM, c.Classes)
		cases["deep chain"] = []*Node{chain(60, false, c.Classes), chain(25, true, c.Classes)}
		var many []*Node
		for i := 0; i < 12; i++ {
			many = append(many, randomTree(r, 1+r.IntN(15), k == ChildSumLSTM, c.Classes))
		}
		cases["12 random trees"] = many
		names := make([]string, 0, len(cases))
		for n := range cases {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			t.Run(k.String()+"/"+name, func(t *testing.T) {
				b := testBatch(t, cases[name]...)
				ps := testParams(t, c, tensor.Float64, 17)
				def := evaluate(t, ps, c, b, false, 1)
				lvl := evaluate(t, ps, c, b, true, 2)
				if def.fused || !lvl.fused {
					t.Fatalf("fused node in the definition %v, in the level graph %v", def.fused, lvl.fused)
				}
				worst, what := math.Abs(def.loss-lvl.loss), "loss"
				for _, p := range []struct {
					name string
					a, b []float64
				}{{"h", def.h, lvl.h}, {"c", def.c, lvl.c}, {"logits", def.logits, lvl.logits}, {"roots", def.roots, lvl.roots}} {
					if d := maxDiff(p.a, p.b); d > worst {
						worst, what = d, p.name
					}
				}
				for _, p := range c.Params() {
					if d := maxDiff(def.grads[p.Name], lvl.grads[p.Name]); d > worst {
						worst, what = d, "d"+p.Name
					}
				}
				t.Logf("%d nodes in %d trees: graph of %d nodes against %d; max difference %.3g (%s)", b.Len(), b.Trees(), lvl.nodes, def.nodes, worst, what)
				if worst > 1e-12 {
					t.Errorf("level-batched differs from the definition by %.3g (%s)", worst, what)
				}
			})
		}
	}
}

// The level-batched gradient matches finite differences, with respect to
// every parameter, for every model.
func TestLevelGradientsMatchFiniteDifferences(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		c := testConfig(k)
		r := rand.New(rand.NewPCG(uint64(k), 3))
		cases := shapes(r, k == ChildSumLSTM, c.Classes)
		for _, name := range []string{"one leaf", "left chain", "batch"} {
			t.Run(k.String()+"/"+name, func(t *testing.T) {
				b := testBatch(t, cases[name]...)
				ps := testParams(t, c, tensor.Float64, 5)
				_, rep, err := graph.Build(ps, func(g *graph.Graph) (gradcheck.Report, error) {
					tg, err := BuildLevelGraph(g, c, b)
					if err != nil {
						return gradcheck.Report{}, err
					}
					return gradcheck.Check(g, tg.Loss, g.Learnables(), 1e-6)
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
				if rep.Checked == 0 || rep.MaxErr > 1e-6 {
					t.Errorf("max error %.3g at %s", rep.MaxErr, rep.Worst)
				}
			})
		}
	}
}

// In float32 the level-batched graph agrees with the float64 definition to
// float32's precision.
func TestLevelFloat32(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		c := testConfig(k)
		r := rand.New(rand.NewPCG(uint64(k), 4))
		b := testBatch(t, randomTree(r, 9, k == ChildSumLSTM, c.Classes), chain(7, true, c.Classes), Leaf(1, "bad"))
		want := evaluate(t, testParams(t, c, tensor.Float64, 8), c, b, false, 1)
		got := evaluate(t, testParams(t, c, tensor.Float32, 8), c, b, true, 1)
		d := math.Abs(want.loss - got.loss)
		for _, p := range c.Params() {
			d = math.Max(d, maxDiff(want.grads[p.Name], got.grads[p.Name]))
		}
		d = math.Max(d, maxDiff(want.h, got.h))
		t.Logf("%v: float32 level-batched against float64 definition: %.3g", k, d)
		if d > 1e-5 {
			t.Errorf("%v: float32 differs by %.3g", k, d)
		}
	}
}

// One level-batched machine serves every batch of the same counts: after
// Set with trees of another structure, its run gives what the definition
// of those trees gives; a batch of other counts is refused.
func TestLevelSetOtherTrees(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		c := testConfig(k)
		first := testBatch(t, chain(5, true, c.Classes), Leaf(1, "film"), chain(3, false, c.Classes))
		second := testBatch(t, Join(2, chain(2, true, c.Classes), chain(3, false, c.Classes)), Join(0, Leaf(1, "is"), Join(1, Leaf(2, "not"), Leaf(0, "bad"))), Leaf(1, "good"))
		if k == ChildSumLSTM {
			second = testBatch(t, Join(2, Leaf(0, "the"), Leaf(1, "very"), Leaf(2, "good"), Leaf(1, "film"), Join(0, Leaf(1, "is"), Leaf(2, "bad"))), Join(1, Leaf(2, "bad"), Join(0, Leaf(1, "film"))), Join(2, Join(1, Leaf(0, "is"))))
		}
		if first.Len() != second.Len() || len(first.Leaves()) != len(second.Leaves()) {
			t.Fatalf("%v: test batches of %d/%d and %d/%d nodes/leaves", k, first.Len(), len(first.Leaves()), second.Len(), len(second.Leaves()))
		}
		ps := testParams(t, c, tensor.Float64, 21)
		var lossV, hV gorgonia.Value
		g, tg, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
			tg, err := BuildLevelGraph(g, c, first)
			if err != nil {
				return nil, err
			}
			gorgonia.Read(tg.Loss, &lossV)
			gorgonia.Read(tg.H, &hV)
			return tg, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := graph.NewMachine(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		if err := tg.Set(second); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		want := evaluate(t, ps, c, second, false, 1)
		loss, _ := graph.ValueFloat64s(lossV)
		h, _ := graph.ValueFloat64s(hV)
		if d := math.Max(math.Abs(loss[0]-want.loss), maxDiff(h, want.h)); d > 1e-12 {
			t.Errorf("%v: after Set, the machine differs from the definition by %.3g", k, d)
		}
		m.Close()
		if err := tg.Set(testBatch(t, Leaf(1, "good"))); !errors.Is(err, ErrBatch) {
			t.Errorf("%v: a batch of other counts: %v", k, err)
		}
	}
}
