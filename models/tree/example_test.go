package tree_test

import (
	"fmt"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/tree"
)

// Reading SST bracket trees: post-order, heights, a binary check.
func ExampleRead() {
	trees, err := tree.Read(strings.NewReader("(3 (2 not) (4 (3 very) (4 good)))\n(1 (2 the) (1 film) (0 (1 dull)))\n"), 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range trees {
		var labels []int
		for _, n := range t.PostOrder() {
			labels = append(labels, n.Label)
		}
		fmt.Println(t, t.Words(), labels, t.Heights(), t.CheckBinary() == nil)
	}
	_, err = tree.Read(strings.NewReader("(3 (2 not) (4 good))\n(3 (2 not) (7 good))\n"), 5)
	fmt.Println(err)
	// Output:
	// (3 (2 not) (4 (3 very) (4 good))) [not very good] [2 3 4 4 3] [0 0 0 1 2] true
	// (1 (2 the) (1 film) (0 (1 dull))) [the film dull] [2 1 1 0 1] [0 0 0 1 2] false
	// tree: line 2, column 13: label 7 outside 0..4
}

// A batch of trees through the level-batched binary Tree-LSTM: every
// node's h and logits, the loss and its gradient, in one compiled machine.
func ExampleBuildLevelGraph() {
	trees, _ := tree.Read(strings.NewReader("(3 (2 not) (4 good))\n(2 film)\n"), 5)
	vocab := tree.BuildVocab(trees, 1)
	batch, _ := tree.NewBatch(trees, vocab)
	c := tree.Config{Kind: tree.BinaryLSTM, Vocab: vocab.Len(), Embed: 4, Hidden: 3, Classes: 5}
	ps, _ := graph.NewParams(tensor.Float64)
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		fmt.Println(err)
		return
	}
	var loss gorgonia.Value
	g, t, err := graph.Build(ps, func(g *graph.Graph) (*tree.TrainGraph, error) {
		t, err := tree.BuildLevelGraph(g, c, batch)
		if err != nil {
			return nil, err
		}
		if _, err := gorgonia.Grad(t.Loss, g.Learnables()...); err != nil {
			return nil, err
		}
		gorgonia.Read(t.Loss, &loss)
		return t, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("nodes", batch.Len(), "roots", batch.Roots, "h", t.H.Shape(), "logits", t.Logits.Shape(), "roots h", t.Roots.Shape())
	fmt.Println("loss > 0:", loss.Data().(float64) > 0)
	// Output:
	// nodes 4 roots [2 3] h (4, 3) logits (4, 5) roots h (2, 3)
	// loss > 0: true
}
