package training

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/models/tree"
)

// polarity is each word's sentiment in the synthetic treebank; a phrase's
// label is 2 + the clipped sum of its words' polarities, negated under
// "not".
var polarity = map[string]int{"good": 1, "great": 2, "bad": -1, "awful": -2, "film": 0, "the": 0, "plot": 0, "is": 0, "not": 0}

// synthTree returns a random binary tree over n words with every node
// labelled by the rule above.
func synthTree(r *rand.Rand, n int) (*tree.Node, int) {
	words := []string{"good", "great", "bad", "awful", "film", "the", "plot", "is", "not"}
	if n == 1 {
		w := words[r.IntN(len(words))]
		return tree.Leaf(2+polarity[w], w), polarity[w]
	}
	k := 1 + r.IntN(n-1)
	l, pl := synthTree(r, k)
	rt, pr := synthTree(r, n-k)
	p := pl + pr
	if l.IsLeaf() && l.Word == "not" {
		p = -pr
	}
	p = max(-2, min(2, p))
	return tree.Join(2+p, l, rt), p
}

func synthTrees(seed uint64, n int) []*tree.Node {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*tree.Node, n)
	for i := range out {
		out[i], _ = synthTree(r, 1+r.IntN(7))
	}
	return out
}

// treeSetup is a small tree run.
type treeSetup struct {
	cfg         Config
	model       TreeConfig
	train, test []*tree.Node
}

func smallTreeSetup(net string) treeSetup {
	return treeSetup{
		cfg:   Config{Epochs: 2, Optimizer: "adagrad", LR: 0.1, WeightDecay: 1e-4, Seed: 5},
		model: TreeConfig{Net: net, Embed: 8, Hidden: 8, Classes: 5, Dropout: 0.2, Batch: 8, Pad: 8, EvalBatch: 16},
		train: synthTrees(1, 60), test: synthTrees(2, 20),
	}
}

func (s treeSetup) new(t *testing.T) *Trainer {
	t.Helper()
	if s.model.Net == TreeNetRNN {
		s.model.Embed = s.model.Hidden
	}
	v := must(TreeVocab(s.train))(t)
	m := must(NewTree(s.model, v, s.train))(t)
	return newTrainer(t, s.cfg, m, must(m.Trees(s.test))(t))
}

// Every network trains on a few synthetic trees: an epoch lowers the test
// loss, the metrics are fractions, a handful of graphs serve the padded
// batches, and a run stopped mid-epoch and resumed from its checkpoint
// ends bit for bit as one never stopped (dropout masks included).
func TestTreeModelTrainsAndResumes(t *testing.T) {
	for _, net := range []string{TreeNetLSTM, TreeNetRNN, TreeNetChildSum, TreeNetBiLSTM} {
		t.Run(net, func(t *testing.T) {
			s := smallTreeSetup(net)
			tr := s.new(t)
			ctx := context.Background()
			m0, err := tr.Evaluate(ctx, tr.Test)
			if err != nil {
				t.Fatal(err)
			}
			st, err := tr.RunEpoch(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("test loss %.4f → %.4f, metrics %v, %d steps, %d graphs", m0[MetricLoss], st.TestLoss(), st.Test, st.Steps, len(tr.Compiled))
			if !(st.TestLoss() < m0[MetricLoss]) {
				t.Errorf("test loss %v → %v after an epoch", m0[MetricLoss], st.TestLoss())
			}
			for _, k := range []string{MetricRootFine, MetricRootBinary} {
				if v, ok := st.Test[k]; !ok || !(v >= 0 && v <= 1) {
					t.Errorf("%s = %v (%v)", k, v, ok)
				}
			}
			if _, ok := st.Test[MetricAllFine]; ok == (net == TreeNetBiLSTM) {
				t.Errorf("%s reported %v (the BiLSTM scores roots only in training)", MetricAllFine, st.Test)
			}
			// 60 trees in batches of 8 (the last padded to 8): one graph per
			// padded leaf count.
			if st.Steps != 8 || len(tr.Compiled) > 8 {
				t.Errorf("%d steps, %d graphs compiled", st.Steps, len(tr.Compiled))
			}
			set := tr.Test.(*TreeSet)
			for i := range set.Trees {
				ps := set.Probs(i)
				root := ps[len(ps)-1]
				sum := 0.0
				for _, p := range root {
					sum += p
				}
				if len(root) != 5 || math.Abs(sum-1) > 1e-9 {
					t.Fatalf("tree %d: root probabilities %v", i, root)
				}
			}
			checkResume(t, s.new, 3)
		})
	}
}

// The BiLSTM scores every phrase of a set made by Phrases; a checkpoint
// opens (training.Open) into a model that evaluates as the trained one.
func TestTreeModelPhrasesAndOpen(t *testing.T) {
	s := smallTreeSetup(TreeNetBiLSTM)
	tr := s.new(t)
	trainTo(t, tr, 1)
	m := tr.Model.(*Tree)
	ph := must(m.Phrases(s.test))(t)
	ms := must(tr.Evaluate(context.Background(), ph))(t)
	if v, ok := ms[MetricAllFine]; !ok || !(v >= 0 && v <= 1) {
		t.Errorf("phrases: %v", ms)
	}
	for _, p := range ph.Probs(0) {
		if p == nil {
			t.Fatal("a phrase was not scored")
		}
	}
	want := must(tr.Evaluate(context.Background(), tr.Test))(t)
	opened := must(Open(saveLoad(t, tr)))(t)
	defer opened.Close()
	got := must(opened.Evaluate(context.Background(), must(opened.Model.(*Tree).Trees(s.test))(t)))(t)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v after Open, %v before", k, got[k], v)
		}
	}
}

// Bad trees are errors naming the tree: a non-binary tree for a binary
// network, a label outside the classes.
func TestTreeModelRefuses(t *testing.T) {
	s := smallTreeSetup(TreeNetLSTM)
	v := must(TreeVocab(s.train))(t)
	ternary := must(tree.Parse("(2 (2 the) (3 good) (2 film))", 5))(t)
	if _, err := NewTree(s.model, v, append(s.train[:3:3], ternary)); err == nil || !strings.Contains(err.Error(), "tree 4") {
		t.Errorf("a ternary tree for the binary Tree-LSTM: %v", err)
	}
	cs := s.model
	cs.Net = TreeNetChildSum
	if _, err := NewTree(cs, v, []*tree.Node{ternary}); err != nil {
		t.Errorf("the child-sum Tree-LSTM refused a ternary tree: %v", err)
	}
	m := must(NewTree(s.model, v, s.train))(t)
	if _, err := m.Trees([]*tree.Node{tree.Leaf(7, "good")}); err == nil || !strings.Contains(err.Error(), "label 7") {
		t.Errorf("label 7 of 5 classes: %v", err)
	}
	bad := s.model
	bad.Net = "gru-tree"
	if _, err := NewTree(bad, v, nil); err == nil || !strings.Contains(err.Error(), "gru-tree") {
		t.Errorf("an unknown net: %v", err)
	}
}

// Positive reads SST's five classes (p₃ + p₄ against p₀ + p₁, neutral
// left out), two classes, and nothing else.
func TestPositive(t *testing.T) {
	for _, c := range []struct {
		p    []float64
		want bool
	}{
		{[]float64{0.1, 0.2, 0.35, 0.2, 0.15}, true},
		{[]float64{0.1, 0.3, 0.35, 0.2, 0.05}, false},
		{[]float64{0.0, 0.0, 0.99, 0.01, 0.0}, true},
		{[]float64{0.4, 0.6}, true},
		{[]float64{0.6, 0.4}, false},
		{[]float64{0.1, 0.2, 0.7}, false},
	} {
		if got := Positive(c.p); got != c.want {
			t.Errorf("Positive(%v) = %v", c.p, got)
		}
	}
}
