package training

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
	"github.com/rnnkit/rnnkit/models/embed"
	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training/data"
)

// The BiLSTM baseline of a [Tree] model (TreeNetBiLSTM): the words of a
// sentence (the leaves of its tree, left to right) through an embedding and
// one bidirectional LSTM layer (PyTorch's names, prefix "lstm."); the
// forward direction's state after the last word and the backward
// direction's after the first, concatenated [2H], dropped out and read by
// a linear classifier (linear.weight [C, 2H], linear.bias [C]) into the
// sentence's class. It sees no tree: what the tree networks gain over it
// is what the structure (and their label on every phrase) gives.

// seqPrefix names the BiLSTM's parameters.
const seqPrefix = "lstm."

// seqCells returns the configs of the forward and backward cells.
func (c TreeConfig) seqCells() (fwd, bwd cells.Config) {
	return birnn.LayerConfigs(cells.LSTMKind, c.Embed, c.Hidden, 0, seqPrefix)
}

// initSeq creates the BiLSTM's parameters: the embedding from N(0, 1), the
// LSTM's and the classifier's from PyTorch's U(−1/√in, 1/√in).
func (m *Tree) initSeq(ps *graph.Params, src graph.Source) error {
	c := m.Cfg
	if err := (embed.Config{Vocab: c.Vocab, Dim: c.Embed}).Init(ps, src); err != nil {
		return err
	}
	f, b := c.seqCells()
	if err := f.Init(ps, src); err != nil {
		return err
	}
	if err := b.Init(ps, src); err != nil {
		return err
	}
	k := 1 / math.Sqrt(float64(2*c.Hidden))
	for _, p := range []struct {
		name  string
		shape []int
	}{{"linear.weight", []int{c.Classes, 2 * c.Hidden}}, {"linear.bias", []int{c.Classes}}} {
		n := 1
		for _, d := range p.shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = -k + 2*k*src.Float64()
		}
		t, err := graph.FromFloat64s(ps.Dtype(), v, p.shape...)
		if err != nil {
			return err
		}
		if err := ps.Add(p.name, t); err != nil {
			return errors.Wrap(err, "training: BiLSTM")
		}
	}
	return nil
}

// seqBatch is a batch of word sequences for the BiLSTM, padded to Batch
// rows (rows of weight 0) and to a multiple of Pad steps.
type seqBatch struct {
	ids     [][]int // [rows][steps], data.PAD after each sequence
	lengths []int
	labels  []int
	w       []float64 // 1/real per real row, 0 for padding rows
	rows    []row
	real    int
	shape   Shape
}

// Shape implements Batch: rows × steps.
func (b *seqBatch) Shape() Shape { return b.shape }

// seq is one sequence to classify: its words' ids, its label and where
// its scores go.
type seq struct {
	ids   []int
	label int
	at    row
}

// sequence returns the ids of words (unknown words to UNK).
func (m *Tree) sequence(words []string) []int {
	ids := make([]int, len(words))
	for i, w := range words {
		ids[i] = m.Vocab.ID(w)
	}
	return ids
}

// seqBatchOf pads seqs into a batch of size rows.
func (m *Tree) seqBatchOf(seqs []seq, size int) *seqBatch {
	T := 1
	for _, s := range seqs {
		T = max(T, len(s.ids))
	}
	w := m.Cfg.Pad
	T = (T + w - 1) / w * w
	b := &seqBatch{real: len(seqs), shape: Dims(size, T)}
	for i := range size {
		ids := make([]int, T)
		s := seq{ids: []int{data.PAD}, at: row{t: -1}}
		weight := 0.0
		if i < len(seqs) {
			s, weight = seqs[i], 1/float64(len(seqs))
		}
		copy(ids, s.ids)
		b.ids = append(b.ids, ids)
		b.lengths = append(b.lengths, len(s.ids))
		b.labels = append(b.labels, s.label)
		b.w = append(b.w, weight)
		b.rows = append(b.rows, s.at)
	}
	return b
}

// seqBatches returns the training sentences bucketed by length (buckets
// Pad wide), in batches of Cfg.Batch rows shuffled by src.
func (m *Tree) seqBatches(trees []*tree.Node, src graph.Source) ([]Batch, error) {
	seqs := make([]seq, len(trees))
	lengths := make([]int, len(trees))
	for i, t := range trees {
		seqs[i] = seq{ids: m.sequence(t.Words()), label: t.Label, at: row{t: i, n: t.Size() - 1}}
		lengths[i] = len(seqs[i].ids) - 1 // lengths Pad·k+1 … Pad·(k+1) share a bucket and a padded length
	}
	var out []Batch
	for _, idx := range data.Buckets(lengths, m.Cfg.Batch, m.Cfg.Pad, src) {
		bs := make([]seq, len(idx))
		for i, j := range idx {
			bs[i] = seqs[j]
		}
		out = append(out, m.seqBatchOf(bs, m.Cfg.Batch))
	}
	return out, nil
}

// seqEvalBatches returns the sequences of trees for evaluation, sorted by
// length and cut into batches of EvalBatch rows: each sentence, or with
// phrases every node's phrase.
func (m *Tree) seqEvalBatches(trees []*tree.Node, phrases bool) ([]Batch, error) {
	var seqs []seq
	for i, t := range trees {
		nodes := t.PostOrder()
		for j, n := range nodes {
			if phrases || j == len(nodes)-1 {
				seqs = append(seqs, seq{ids: m.sequence(n.Words()), label: n.Label, at: row{t: i, n: j}})
			}
		}
	}
	sort.SliceStable(seqs, func(a, b int) bool { return len(seqs[a].ids) < len(seqs[b].ids) })
	eb := m.Cfg.evalBatch()
	var out []Batch
	for start := 0; start < len(seqs); start += eb {
		part := seqs[start:min(start+eb, len(seqs))]
		out = append(out, m.seqBatchOf(part, len(part)))
	}
	return out, nil
}

// seqGraph is the BiLSTM's loss graph.
type seqGraph struct {
	lossGraph
	m      *Tree
	tokens *embed.Tokens
	mask   *gorgonia.Node // [T·B], time-major
	tgts   *graph.Targets
	logits gorgonia.Value
	B, T   int
}

// Set implements Graph: the sequences, their mask, labels and weights, and
// the dropout masks.
func (g *seqGraph) Set(b Batch, seed uint64) error {
	sb, err := setUp[*seqBatch](&g.lossGraph, b, TreeKind, seed)
	if err != nil {
		return err
	}
	if len(sb.ids) != g.B || len(sb.ids[0]) != g.T {
		return errors.Errorf("training: a %d×%d batch for a %d×%d graph", len(sb.ids), len(sb.ids[0]), g.B, g.T)
	}
	if err := g.tokens.SetBatchMajor(sb.ids); err != nil {
		return err
	}
	mask := make([]float64, g.T*g.B)
	for r, n := range sb.lengths {
		for t := range n {
			mask[t*g.B+r] = 1
		}
	}
	if err := graph.Set(g.mask, mask); err != nil {
		return err
	}
	if err := g.tgts.Set(sb.labels, sb.w); err != nil {
		return errors.Wrap(err, "training: labels")
	}
	if g.dropout != nil {
		return g.dropout.Resample()
	}
	return nil
}

// After implements Graph: an evaluation graph hands its logits to the
// model.
func (g *seqGraph) After() error {
	if g.train {
		return nil
	}
	v, err := graph.ValueFloat64s(g.logits)
	g.m.out = v
	return err
}

// buildSeq builds the BiLSTM's loss graph of a batch's shape.
func (m *Tree) buildSeq(g *graph.Graph, b Batch, train bool) (Graph, error) {
	sb, err := batchOf[*seqBatch](b, TreeKind)
	if err != nil {
		return nil, err
	}
	c := m.Cfg
	B, T := len(sb.ids), len(sb.ids[0])
	emb, err := embed.New(g, embed.Config{Vocab: c.Vocab, Dim: c.Embed})
	if err != nil {
		return nil, err
	}
	out := &seqGraph{lossGraph: lossGraph{train: train}, m: m, B: B, T: T}
	var x *gorgonia.Node
	if out.tokens, x, err = emb.Matrix(T, B); err != nil {
		return nil, err
	}
	if out.mask, err = g.Input("mask", T*B); err != nil {
		return nil, err
	}
	fc, bc := c.seqCells()
	f, err := cells.New(g, fc)
	if err != nil {
		return nil, err
	}
	bw, err := cells.New(g, bc)
	if err != nil {
		return nil, err
	}
	enc, err := birnn.New(f, bw, birnn.Concat)
	if err != nil {
		return nil, err
	}
	_, ff, bf, err := enc.EncodeSeq(x, B, out.mask, nil, nil)
	if err != nil {
		return nil, errors.Wrap(err, "training: BiLSTM")
	}
	feat, err := graph.ConcatCols(ff[0], bf[0]) // [B, 2H]
	if err != nil {
		return nil, err
	}
	if train && c.Dropout > 0 {
		if out.dropout, err = graph.NewDropout(c.Dropout, graph.NewSource(0)); err != nil {
			return nil, err
		}
		if feat, err = out.dropout.Apply(g, feat); err != nil {
			return nil, err
		}
	}
	w, err := g.Param("linear.weight", c.Classes, 2*c.Hidden)
	if err != nil {
		return nil, err
	}
	bias, err := g.Param("linear.bias", c.Classes)
	if err != nil {
		return nil, err
	}
	logits, err := graph.MatMul(feat, w, false, true)
	if err != nil {
		return nil, err
	}
	if logits, err = graph.AddRow(logits, bias); err != nil {
		return nil, err
	}
	if out.tgts, err = graph.NewTargets(B, c.Classes); err != nil {
		return nil, err
	}
	ce, err := graph.CrossEntropy(logits, out.tgts)
	if err != nil {
		return nil, err
	}
	if out.loss, err = gorgonia.Sum(ce); err != nil {
		return nil, err
	}
	if !train {
		gorgonia.Read(logits, &out.logits)
	}
	return out, nil
}
