package tree

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// benchBatch returns 25 trees: the first ones of SST's train split when it
// is there (the vocabulary of all of train), else random binary trees of
// about SST's sizes.
func benchBatch(b *testing.B) (*Batch, int) {
	b.Helper()
	var trees []*Node
	var v *Vocab
	if ts, err := ReadFile(filepath.Join(sstDir(), "train.txt"), 5); err == nil {
		v, trees = BuildVocab(ts, 1), ts[:25]
	} else {
		if !os.IsNotExist(err) {
			b.Logf("SST: %v", err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 25 {
			trees = append(trees, randomTree(r, 5+r.IntN(30), false, 5))
		}
		v, _ = NewVocab(testWords)
	}
	batch, err := NewBatch(trees, v)
	if err != nil {
		b.Fatal(err)
	}
	return batch, v.Len()
}

// benchStep measures one forward and backward pass of a batch of 25 trees
// through the binary Tree-LSTM (E 300, H 150, float32), the graph built and
// compiled once; it reports trees/s.
func benchStep(b *testing.B, level bool) {
	batch, V := benchBatch(b)
	c := Config{Kind: BinaryLSTM, Vocab: V, Embed: 300, Hidden: 150, Classes: 5}
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		b.Fatal(err)
	}
	g, _, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		build := BuildTrainGraph
		if level {
			build = BuildLevelGraph
		}
		t, err := build(g, c, batch)
		if err != nil {
			return nil, err
		}
		_, err = gorgonia.Grad(t.Loss, g.Learnables()...)
		return t, err
	})
	if err != nil {
		b.Fatal(err)
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.ResetTimer()
	for range b.N {
		m.Reset()
		if err := graph.Run(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch.Trees())/b.Elapsed().Seconds(), "trees/s")
	b.ReportMetric(float64(batch.Len()), "nodes/batch")
}

func BenchmarkLevelStep(b *testing.B)      { benchStep(b, true) }
func BenchmarkDefinitionStep(b *testing.B) { benchStep(b, false) }

// BenchmarkLevelBuild measures building (twice, by graph.Build, gradient
// included) and compiling the level-batched graph of a batch of 25 trees.
func BenchmarkLevelBuild(b *testing.B) {
	batch, V := benchBatch(b)
	c := Config{Kind: BinaryLSTM, Vocab: V, Embed: 300, Hidden: 150, Classes: 5}
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		g, _, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
			t, err := BuildLevelGraph(g, c, batch)
			if err != nil {
				return nil, err
			}
			_, err = gorgonia.Grad(t.Loss, g.Learnables()...)
			return t, err
		})
		if err != nil {
			b.Fatal(err)
		}
		m, err := graph.NewMachine(g)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}
