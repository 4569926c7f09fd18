package tree

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Helpers shared by the package's tests.

var testWords = []string{"the", "film", "is", "not", "good", "bad", "very"}

// randomTree returns a tree over n leaves: binary, or (nary) with 1 to 4
// children per internal node, unary nodes included.
func randomTree(r *rand.Rand, n int, nary bool, classes int) *Node {
	if n == 1 && (!nary || r.IntN(4) > 0) {
		return Leaf(r.IntN(classes), testWords[r.IntN(len(testWords))])
	}
	k := 2
	if nary {
		k = 1 + r.IntN(min(n, 4))
	}
	// split n leaves into k non-empty parts
	sizes := make([]int, k)
	for i := range sizes {
		sizes[i] = 1
	}
	for rest := n - k; rest > 0; rest-- {
		sizes[r.IntN(k)]++
	}
	kids := make([]*Node, k)
	for i, s := range sizes {
		kids[i] = randomTree(r, s, nary, classes)
	}
	return Join(r.IntN(classes), kids...)
}

// chain returns a degenerate tree of n leaves: each internal node has a
// leaf on one side and the rest of the chain on the other.
func chain(n int, left bool, classes int) *Node {
	t := Leaf(0, testWords[0])
	for i := 1; i < n; i++ {
		l := Leaf(i%classes, testWords[i%len(testWords)])
		if left {
			t = Join((i+1)%classes, t, l)
		} else {
			t = Join((i+1)%classes, l, t)
		}
	}
	return t
}

// testBatch flattens trees over testWords' vocabulary.
func testBatch(t *testing.T, trees ...*Node) *Batch {
	t.Helper()
	v, err := NewVocab(testWords)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBatch(trees, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testParams returns a model's parameters, seeded, with b_iou not zero so
// that its gradient is checked at a general point.
func testParams(t *testing.T, c Config, dt tensor.Dtype, seed uint64) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(seed)); err != nil {
		t.Fatal(err)
	}
	if _, ok := ps.Get("b_iou"); ok {
		src := graph.NewSource(seed + 1)
		data := make([]float64, 3*c.Hidden)
		for i := range data {
			data[i] = src.Float64() - 0.5
		}
		if err := ps.SetFloat64s("b_iou", data); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// testConfig returns a small config of a kind.
func testConfig(k Kind) Config {
	c := Config{Kind: k, Vocab: len(testWords), Embed: 2, Hidden: 3, Classes: 3}
	if k == RNN {
		c.Embed = 3
	}
	return c
}

// shapes are the batches every check runs: one leaf, both degenerate
// chains, random trees, several trees in one batch.
func shapes(r *rand.Rand, nary bool, classes int) map[string][]*Node {
	m := map[string][]*Node{
		"one leaf":    {Leaf(1, "good")},
		"left chain":  {chain(5, true, classes)},
		"right chain": {chain(5, false, classes)},
		"random":      {randomTree(r, 6, nary, classes)},
		"batch":       {randomTree(r, 4, nary, classes), Leaf(2, "bad"), randomTree(r, 3, nary, classes), chain(3, true, classes)},
	}
	if nary { // three children and a unary node
		m["n-ary"] = []*Node{Join(1, Leaf(0, "not"), Join(2, Leaf(1, "very")), Leaf(2, "good"))}
	}
	return m
}
