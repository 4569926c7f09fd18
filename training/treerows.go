package training

import (
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/training/optim"
)

// The training graph of a tree network gives the gradient of its word
// vectors as rows (see RowGrader): a batch of 25 SST trees reads some 450
// of the 18,000 rows of its embedding table.
const treeEmbedding = "embedding.weight"

// RowParams implements RowGrader: the embedding table, for a training
// graph.
func (g *treeGraph) RowParams() []string {
	if !g.train || g.m.denseEmbedding || !g.t.HasLeafGrads() {
		return nil
	}
	return []string{treeEmbedding}
}

// RowGrads implements RowGrader: the leaves' gradients summed by word, in
// leaf order from zero (the order of the dense gradient's sums).
func (g *treeGraph) RowGrads() (map[string]optim.Rows, error) {
	words, lg, err := g.t.LeafGrads()
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(words)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if cap(g.where) < g.m.Cfg.Vocab {
		g.where = make([]int32, g.m.Cfg.Vocab)
	}
	where := g.where[:g.m.Cfg.Vocab]
	for i, id := range ids {
		if id < 0 || id >= len(where) {
			return nil, errors.Errorf("training: leaf word %d outside the vocabulary of %d", id, len(where))
		}
		where[id] = int32(i)
	}
	e := lg.Shape()[1]
	vals := tensor.New(tensor.WithShape(len(ids), e), tensor.Of(lg.Dtype()))
	switch lg.Dtype() {
	case tensor.Float32:
		sumRows(vals.Float32s(), lg.Float32s(), words, where, e)
	default:
		sumRows(vals.Float64s(), lg.Float64s(), words, where, e)
	}
	return map[string]optim.Rows{treeEmbedding: {IDs: ids, Values: vals}}, nil
}

// sumRows adds each leaf's row src[i] into dst's row of its word.
func sumRows[T float32 | float64](dst, src []T, words []int, where []int32, e int) {
	for i, w := range words {
		d, s := dst[int(where[w])*e:][:e], src[i*e:][:e]
		for j := range d {
			d[j] += s[j]
		}
	}
}
