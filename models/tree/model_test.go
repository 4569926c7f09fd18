package tree

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		c  Config
		ok bool
	}{
		{Config{Kind: RNN, Vocab: 5, Hidden: 4, Classes: 5}, true},
		{Config{Kind: RNN, Vocab: 5, Embed: 3, Hidden: 4, Classes: 5}, false},
		{Config{Kind: BinaryLSTM, Vocab: 5, Embed: 3, Hidden: 4, Classes: 5}, true},
		{Config{Kind: ChildSumLSTM, Vocab: 5, Hidden: 4, Classes: 5}, true},
		{Config{Kind: 0, Vocab: 5, Hidden: 4, Classes: 5}, false},
		{Config{Kind: BinaryLSTM, Vocab: 0, Hidden: 4, Classes: 5}, false},
		{Config{Kind: BinaryLSTM, Vocab: 5, Hidden: 4, Classes: 0}, false},
		{Config{Kind: BinaryLSTM, Vocab: 5, Embed: -1, Hidden: 4, Classes: 5}, false},
	} {
		if err := tc.c.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConfig)) {
			t.Errorf("%+v: Validate = %v, want ok %v", tc.c, err, tc.ok)
		}
	}
	want := map[Kind]string{
		RNN:          "embedding.weight[5 4] W.weight[4 8] W.bias[4] linear.weight[5 4] linear.bias[5]",
		BinaryLSTM:   "embedding.weight[5 3] W_iou.weight[12 3] U_iou.weight[12 8] b_iou[1 12] U_f.weight[8 8] U_f.bias[8] linear.weight[5 4] linear.bias[5]",
		ChildSumLSTM: "embedding.weight[5 3] W_iou.weight[12 3] U_iou.weight[12 4] b_iou[1 12] U_f.weight[4 4] U_f.bias[4] linear.weight[5 4] linear.bias[5]",
	}
	for k, w := range want {
		c := Config{Kind: k, Vocab: 5, Embed: 3, Hidden: 4, Classes: 5}
		if k == RNN {
			c.Embed = 0
		}
		var got []string
		for _, p := range c.Params() {
			got = append(got, fmt.Sprintf("%s%v", p.Name, p.Shape))
		}
		if s := strings.Join(got, " "); s != w {
			t.Errorf("%v: params %s, want %s", k, s, w)
		}
		ps, err := graph.NewParams(tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Init(ps, graph.NewSource(1)); err != nil {
			t.Fatal(err)
		}
		if ps.Len() != len(c.Params()) {
			t.Errorf("%v: Init made %d parameters, want %d", k, ps.Len(), len(c.Params()))
		}
		// Linear layers within ±1/√in; b_iou zero.
		fanIn := map[string]int{}
		for _, p := range c.Params() {
			if len(p.Shape) == 2 {
				fanIn[strings.TrimSuffix(p.Name, ".weight")] = p.Shape[1]
			}
		}
		for _, p := range c.Params() {
			v, _ := ps.Get(p.Name)
			data, _ := graph.Float64s(v)
			bound := math.Inf(1)
			switch {
			case p.Name == "b_iou":
				bound = 0
			case p.Name != "embedding.weight":
				prefix := strings.TrimSuffix(strings.TrimSuffix(p.Name, ".weight"), ".bias")
				bound = 1 / math.Sqrt(float64(fanIn[prefix]))
			}
			for _, x := range data {
				if math.Abs(x) > bound {
					t.Fatalf("%v: %s holds %v, beyond %v", k, p.Name, x, bound)
				}
			}
		}
	}
}

func TestKindText(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		b, err := json.Marshal(Config{Kind: k})
		if err != nil {
			t.Fatal(err)
		}
		var c Config
		if err := json.Unmarshal(b, &c); err != nil || c.Kind != k {
			t.Errorf("%s: round trip gives %v, %v", b, c.Kind, err)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("gru")); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := Kind(9).MarshalText(); !errors.Is(err, ErrConfig) {
		t.Errorf("Kind(9): %v", err)
	}
}

// A binary model given an n-ary tree says which node, where.
func TestBinaryModelsRefuseNary(t *testing.T) {
	trees, err := Read(strings.NewReader("(2 (1 the) (3 good))\n(2 (1 the) (3 good) (2 film))\n"), 5)
	if err != nil {
		t.Fatal(err)
	}
	b := testBatch(t, trees...)
	for _, k := range []Kind{RNN, BinaryLSTM} {
		c := Config{Kind: k, Vocab: len(testWords), Hidden: 2, Classes: 5}
		ps := testParams(t, c, tensor.Float64, 1)
		_, err := NewTrainGraph(ps, c, b)
		if !errors.Is(err, ErrNotBinary) || !strings.Contains(err.Error(), "line 2, column 1") {
			t.Errorf("%v: %v, want ErrNotBinary naming line 2, column 1", k, err)
		}
	}
	c := Config{Kind: ChildSumLSTM, Vocab: len(testWords), Hidden: 2, Classes: 5}
	if _, err := NewTrainGraph(testParams(t, c, tensor.Float64, 1), c, b); err != nil {
		t.Errorf("child-sum: %v", err)
	}
}

// runLoss compiles a graph and returns its loss after one run.
func runLoss(t *testing.T, g *graph.Graph, tg *TrainGraph, lossV *gorgonia.Value) float64 {
	t.Helper()
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	v, err := graph.ValueFloat64s(*lossV)
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}

// Set reloads words and labels for a batch of the same shape and refuses
// another shape; the loss follows the words.
func TestSet(t *testing.T) {
	c := testConfig(BinaryLSTM)
	ps := testParams(t, c, tensor.Float64, 3)
	a := testBatch(t, Join(1, Leaf(0, "not"), Leaf(2, "good")))
	b := testBatch(t, Join(2, Leaf(1, "very"), Leaf(2, "bad")))
	other := testBatch(t, Leaf(1, "good"))
	var lossV gorgonia.Value
	g, tg, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		tg, err := BuildTrainGraph(g, c, a)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(tg.Loss, &lossV)
		return tg, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	la := runLoss(t, g, tg, &lossV)
	if err := tg.Set(b); err != nil {
		t.Fatal(err)
	}
	lb := runLoss(t, g, tg, &lossV)
	if la == lb || math.IsNaN(la) || math.IsNaN(lb) {
		t.Errorf("losses %v and %v for different words and labels", la, lb)
	}
	if err := tg.Set(other); !errors.Is(err, ErrBatch) {
		t.Errorf("another shape: %v", err)
	}
	bad := testBatch(t, Join(1, Leaf(0, "not"), Leaf(2, "good")))
	bad.Labels[0] = 3
	if err := tg.Set(bad); !errors.Is(err, ErrBatch) {
		t.Errorf("label 3 of 3 classes: %v", err)
	}
	if _, err := NewTrainGraph(ps, c, nil); !errors.Is(err, ErrBatch) {
		t.Errorf("nil batch: %v", err)
	}
}
