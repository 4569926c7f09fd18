package tree

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// LeafGrads returns, after a run of a level-batched graph ([BuildLevelGraph])
// whose gradient was built (gorgonia.Grad with respect to any of its
// parameters), the leaves' word ids and the gradient of the loss with
// respect to each leaf's word vector, [leaves, Embed] in leaf order. The
// gradient of embedding.weight is the sum of these rows by word: a caller
// that updates the table's rows itself (see training's RowGrader) leaves
// embedding.weight out of gorgonia.Grad, so that no dense [Vocab, Embed]
// gradient is made, added up and cleared at every step, and reads the rows
// here. The tensor shares the graph's memory: it holds until the next run.
func (t *TrainGraph) LeafGrads() (words []int, grads *tensor.Dense, err error) {
	if t.level == nil {
		return nil, nil, errors.Wrap(ErrConfig, "LeafGrads of the per-node graph (only the level-batched graph has them)")
	}
	op := t.level.op
	g := op.grad
	if g == nil || g.buf == nil {
		return nil, nil, errors.Wrap(ErrConfig, "LeafGrads before a run of the graph's gradient")
	}
	n := op.s.L * op.s.E
	var back any
	switch g.buf.Dtype() {
	case tensor.Float32:
		back = g.buf.Float32s()[:n:n]
	case tensor.Float64:
		back = g.buf.Float64s()[:n:n]
	default:
		return nil, nil, errors.Errorf("tree: LeafGrads: dtype %v", g.buf.Dtype())
	}
	return t.ids.Values(), tensor.New(tensor.WithShape(op.s.L, op.s.E), tensor.WithBacking(back)), nil
}

// HasLeafGrads reports whether LeafGrads can work on this graph once its
// gradient is built with respect to the parameters but embedding.weight: it
// is level-batched and its fused node has parameters (not so for the
// recursive net over a batch of one-word trees, whose h are the word
// vectors themselves).
func (t *TrainGraph) HasLeafGrads() bool {
	return t.level != nil && len(levelParams(t.level.op.s)) > 0
}
