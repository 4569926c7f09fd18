package tree

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// TrainGraph is a batch of trees as one graph: every node's h (and c),
// every node's logits and the loss, for the shape of the batch it was
// built for. Run it for any batch of that shape ([Batch.SameShape]) after
// [TrainGraph.Set].
type TrainGraph struct {
	G      *graph.Graph
	Config Config
	N, B   int            // nodes and trees
	H      *gorgonia.Node // [N, Hidden]: every node's h, in the batch's post-order
	C      *gorgonia.Node // [N, Hidden]: every node's memory cell; nil for the recursive net
	Logits *gorgonia.Node // [N, Classes] = H·linear.weightᵀ + linear.bias
	Roots  *gorgonia.Node // [B, Hidden]: each tree's root h
	Loss   *gorgonia.Node // mean cross-entropy of the logits over all N nodes (Set), or weighted (SetWeighted)
	// Dropout drops every node's h before the classifier when the graph
	// was built with Options.Dropout (nil otherwise); Resample draws the
	// masks of the next run.
	Dropout *graph.Dropout
	shape   *Batch
	ids     *graph.IDs     // the leaves' word ids, in leaf order
	tgts    *graph.Targets // every node's label, weight 1/N
	level   *levelGraph    // the level-batched graph's fused node; nil for the definition
}

// NewTrainGraph builds the per-node graph of the batch b over the
// parameters in ps (made by Config.Init), checked by graph.Build, with b's
// words and labels set. To add nodes of one's own (gorgonia.Grad, reads),
// call [BuildTrainGraph] inside one's own graph.Build instead.
func NewTrainGraph(ps *graph.Params, c Config, b *Batch) (*TrainGraph, error) {
	_, t, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		return BuildTrainGraph(g, c, b)
	})
	return t, err
}

// BuildTrainGraph builds into g (typically inside graph.Build) the
// definition of the model over the batch b: each node of each tree is its
// own small subgraph (a leaf's from its word vector, an internal node's from
// its children's nodes), so gorgonia.Grad differentiates the loss through
// the trees' structure. It sets b's words and labels.
func BuildTrainGraph(g *graph.Graph, c Config, b *Batch) (*TrainGraph, error) {
	t, err := newTrainGraph(g, c, b)
	if err != nil {
		return nil, err
	}
	hs, cs, err := t.nodes()
	if err != nil {
		return nil, errors.Wrapf(err, "tree: %v", c.Kind)
	}
	if t.H, err = graph.ConcatRows(hs...); err != nil {
		return nil, err
	}
	if cs != nil {
		if t.C, err = graph.ConcatRows(cs...); err != nil {
			return nil, err
		}
	}
	roots := make([]*gorgonia.Node, len(b.Roots))
	for k, r := range b.Roots {
		roots[k] = hs[r]
	}
	if t.Roots, err = graph.ConcatRows(roots...); err != nil {
		return nil, err
	}
	if err := t.classify(nil); err != nil {
		return nil, err
	}
	return t, t.Set(b)
}

// newTrainGraph checks the arguments and makes the side inputs.
func newTrainGraph(g *graph.Graph, c Config, b *Batch) (*TrainGraph, error) {
	if g == nil {
		return nil, errors.Wrap(ErrConfig, "nil graph")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.Wrap(ErrBatch, "nil batch")
	}
	if err := b.Check(c.Vocab, c.Classes); err != nil {
		return nil, err
	}
	if c.Kind.Binary() {
		if err := b.CheckBinary(); err != nil {
			return nil, errors.Wrapf(err, "tree: %v", c.Kind)
		}
	}
	t := &TrainGraph{G: g, Config: c, N: b.Len(), B: b.Trees(), shape: b}
	var err error
	if t.ids, err = graph.NewIDs(len(b.Leaves()), c.Vocab); err != nil {
		return nil, err
	}
	if t.tgts, err = graph.NewTargets(t.N, c.Classes); err != nil {
		return nil, err
	}
	return t, nil
}

// Set loads the words and labels of b. For the definition
// ([BuildTrainGraph]) b must have the shape the graph was built for
// ([Batch.SameShape]); the level-batched graph ([BuildLevelGraph]) takes
// any batch of as many trees, nodes and leaves (whose nodes, but for
// one-word trees only, include internal ones where the first batch's did),
// so that one compiled machine serves every batch of those counts.
func (t *TrainGraph) Set(b *Batch) error { return t.SetWeighted(b, nil) }

// SetWeighted is Set with a loss weight for every node of b, in b's order:
// the loss becomes Σ_i w_i·CE_i. Set's weights are 1/N. Weights must be
// finite and not negative; a node of weight 0 (padding) adds nothing to
// the loss or the gradients.
func (t *TrainGraph) SetWeighted(b *Batch, weights []float64) error {
	if b == nil {
		return errors.Wrap(ErrBatch, "nil batch")
	}
	if err := b.Check(t.Config.Vocab, t.Config.Classes); err != nil {
		return err
	}
	if t.level != nil {
		if err := t.level.set(t.Config, b); err != nil {
			return err
		}
	} else if !t.shape.SameShape(b) {
		return errors.Wrap(ErrBatch, "the batch's trees differ in shape from those the graph was built for")
	}
	var words []int
	for _, i := range b.Leaves() {
		words = append(words, b.Words[i])
	}
	if err := t.ids.Set(words); err != nil {
		return errors.Wrap(err, "tree: words")
	}
	w := weights
	if w == nil {
		w = make([]float64, t.N)
		for i := range w {
			w[i] = 1 / float64(t.N)
		}
	} else if len(w) != t.N {
		return errors.Wrapf(ErrBatch, "%d loss weights for %d nodes", len(w), t.N)
	}
	return errors.Wrap(t.tgts.Set(b.Labels, w), "tree: labels")
}

// classify adds the linear classifier on every node's h, after dropout p
// (none at 0), and the loss.
func (t *TrainGraph) classify(o *Options) error {
	g, c := t.G, t.Config
	h := t.H
	if o != nil && o.Dropout > 0 {
		var err error
		if t.Dropout, err = graph.NewDropout(o.Dropout, graph.NewSource(o.Seed)); err != nil {
			return errors.Wrap(err, "tree")
		}
		if h, err = t.Dropout.Apply(g, h); err != nil {
			return errors.Wrap(err, "tree")
		}
	}
	w, err := g.Param("linear.weight", c.Classes, c.Hidden)
	if err != nil {
		return err
	}
	bias, err := g.Param("linear.bias", c.Classes)
	if err != nil {
		return err
	}
	if t.Logits, err = linear(h, w, bias); err != nil {
		return err
	}
	ce, err := graph.CrossEntropy(t.Logits, t.tgts)
	if err != nil {
		return err
	}
	t.Loss, err = gorgonia.Sum(ce)
	return err
}

// linear returns x·wᵀ + b (b a vector, or nil for none).
func linear(x, w, b *gorgonia.Node) (*gorgonia.Node, error) {
	y, err := graph.MatMul(x, w, false, true)
	if err != nil || b == nil {
		return y, err
	}
	return graph.AddRow(y, b)
}

// params returns the nodes of the named parameters, bound on first use, so
// that a parameter the batch does not use (the composition of a batch of
// one-word trees) is not in the graph.
func (t *TrainGraph) param(name string) (*gorgonia.Node, error) {
	for _, p := range t.Config.Params() {
		if p.Name == name {
			return t.G.Param(name, p.Shape...)
		}
	}
	return nil, errors.Wrapf(ErrConfig, "%v has no parameter %q", t.Config.Kind, name)
}

// nodes builds every node's h (and c, for the Tree-LSTMs) as [1, H] nodes,
// in the batch's order.
func (t *TrainGraph) nodes() (hs, cs []*gorgonia.Node, err error) {
	b, c := t.shape, t.Config
	emb, err := t.param("embedding.weight")
	if err != nil {
		return nil, nil, err
	}
	x, err := graph.Gather(emb, t.ids, -1) // [leaves, E]
	if err != nil {
		return nil, nil, err
	}
	leafRow := make([]int, b.Len())
	for j, i := range b.Leaves() {
		leafRow[i] = j
	}
	hs = make([]*gorgonia.Node, b.Len())
	if c.Kind == RNN {
		return hs, nil, t.rnnNodes(x, leafRow, hs)
	}
	cs = make([]*gorgonia.Node, b.Len())
	return hs, cs, t.lstmNodes(x, leafRow, hs, cs)
}

// rnnNodes: a leaf's h is its word vector, an internal node's
// tanh(W [h_L; h_R] + b).
func (t *TrainGraph) rnnNodes(x *gorgonia.Node, leafRow []int, hs []*gorgonia.Node) error {
	var w, bias *gorgonia.Node
	for i, kids := range t.shape.Children {
		var err error
		if len(kids) == 0 {
			if hs[i], err = graph.Rows(x, leafRow[i], leafRow[i]+1); err != nil {
				return err
			}
			continue
		}
		if w == nil {
			if w, err = t.param("W.weight"); err != nil {
				return err
			}
			if bias, err = t.param("W.bias"); err != nil {
				return err
			}
		}
		cat, err := graph.ConcatCols(hs[kids[0]], hs[kids[1]])
		if err != nil {
			return err
		}
		z, err := linear(cat, w, bias)
		if err != nil {
			return err
		}
		if hs[i], err = gorgonia.Tanh(z); err != nil {
			return errors.Wrapf(err, "node %d", i)
		}
	}
	return nil
}

// lstmNodes: the gates i, o, u from W_iou x at a leaf and from U_iou over
// the children at an internal node; a forget gate per child; c = i⊙u +
// Σ f_k⊙c_k; h = o⊙tanh(c).
func (t *TrainGraph) lstmNodes(x *gorgonia.Node, leafRow []int, hs, cs []*gorgonia.Node) error {
	H := t.Config.Hidden
	wiou, err := t.param("W_iou.weight")
	if err != nil {
		return err
	}
	biou, err := t.param("b_iou")
	if err != nil {
		return err
	}
	leafPre, err := graph.MatMul(x, wiou, false, true) // [leaves, 3H]
	if err != nil {
		return err
	}
	var uiou, uf, ufb *gorgonia.Node
	for i, kids := range t.shape.Children {
		var pre *gorgonia.Node
		var fs, cKids []*gorgonia.Node // forget gates and cells of the children
		if len(kids) == 0 {
			if pre, err = graph.Rows(leafPre, leafRow[i], leafRow[i]+1); err != nil {
				return err
			}
		} else {
			if uiou == nil {
				if uiou, err = t.param("U_iou.weight"); err != nil {
					return err
				}
				if uf, err = t.param("U_f.weight"); err != nil {
					return err
				}
				if ufb, err = t.param("U_f.bias"); err != nil {
					return err
				}
			}
			if pre, fs, err = t.childGates(kids, hs, uiou, uf, ufb); err != nil {
				return errors.Wrapf(err, "node %d", i)
			}
			for _, k := range kids {
				cKids = append(cKids, cs[k])
			}
		}
		if pre, err = gorgonia.Add(pre, biou); err != nil {
			return errors.Wrapf(err, "node %d", i)
		}
		if hs[i], cs[i], err = lstmCell(pre, H, fs, cKids); err != nil {
			return errors.Wrapf(err, "node %d", i)
		}
	}
	return nil
}

// childGates returns U_iou's product over the children ([1, 3H], without
// b_iou) and each child's forget gate ([1, H]). The binary Tree-LSTM reads
// the children's h concatenated, [h_L; h_R], and gives each child its own
// block of U_f; the child-sum Tree-LSTM reads their sum, and one U_f serves
// every child.
func (t *TrainGraph) childGates(kids []int, hs []*gorgonia.Node, uiou, uf, ufb *gorgonia.Node) (*gorgonia.Node, []*gorgonia.Node, error) {
	H := t.Config.Hidden
	if t.Config.Kind == BinaryLSTM {
		cat, err := graph.ConcatCols(hs[kids[0]], hs[kids[1]])
		if err != nil {
			return nil, nil, err
		}
		pre, err := graph.MatMul(cat, uiou, false, true)
		if err != nil {
			return nil, nil, err
		}
		f, err := linear(cat, uf, ufb)
		if err != nil {
			return nil, nil, err
		}
		if f, err = graph.Sigmoid(f); err != nil {
			return nil, nil, err
		}
		fs := make([]*gorgonia.Node, 2)
		for k := range fs {
			if fs[k], err = graph.Cols(f, k*H, (k+1)*H); err != nil {
				return nil, nil, err
			}
		}
		return pre, fs, nil
	}
	sum := hs[kids[0]]
	for _, k := range kids[1:] {
		var err error
		if sum, err = gorgonia.Add(sum, hs[k]); err != nil {
			return nil, nil, err
		}
	}
	pre, err := graph.MatMul(sum, uiou, false, true)
	if err != nil {
		return nil, nil, err
	}
	fs := make([]*gorgonia.Node, len(kids))
	for j, k := range kids {
		f, err := linear(hs[k], uf, ufb)
		if err != nil {
			return nil, nil, err
		}
		if fs[j], err = graph.Sigmoid(f); err != nil {
			return nil, nil, err
		}
	}
	return pre, fs, nil
}

// lstmCell returns h and c from the gate pre-activations pre [1, 3H]
// (i, o, u) and the children's forget gates and cells.
func lstmCell(pre *gorgonia.Node, H int, fs, cKids []*gorgonia.Node) (h, c *gorgonia.Node, err error) {
	gate := func(k int) (*gorgonia.Node, error) { return graph.Cols(pre, k*H, (k+1)*H) }
	var i, o, u *gorgonia.Node
	if i, err = gate(0); err != nil {
		return nil, nil, err
	}
	if i, err = graph.Sigmoid(i); err != nil {
		return nil, nil, err
	}
	if o, err = gate(1); err != nil {
		return nil, nil, err
	}
	if o, err = graph.Sigmoid(o); err != nil {
		return nil, nil, err
	}
	if u, err = gate(2); err != nil {
		return nil, nil, err
	}
	if u, err = gorgonia.Tanh(u); err != nil {
		return nil, nil, err
	}
	if c, err = gorgonia.HadamardProd(i, u); err != nil {
		return nil, nil, err
	}
	for k, f := range fs {
		fc, err := gorgonia.HadamardProd(f, cKids[k])
		if err != nil {
			return nil, nil, err
		}
		if c, err = gorgonia.Add(c, fc); err != nil {
			return nil, nil, err
		}
	}
	tc, err := gorgonia.Tanh(c)
	if err != nil {
		return nil, nil, err
	}
	h, err = gorgonia.HadamardProd(o, tc)
	return h, c, err
}
