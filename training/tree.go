package training

import (
	"context"
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training/data"
)

// TreeKind is the kind (Description.Kind) of [Tree] models.
const TreeKind = "tree"

// The metrics of [Tree] models (docs/models.md, "Metrics"), besides
// MetricLoss.
const (
	// MetricRootFine is the fraction of sentences (tree roots) whose
	// class, of all classes (SST's five), the model gets right.
	MetricRootFine = "root_accuracy_fine"
	// MetricRootBinary is the fraction of non-neutral sentences (root label
	// ≠ 2) whose polarity the five-class model gets right: it says positive
	// when p₃ + p₄ > p₀ + p₁ (and for a two-class model, the root accuracy).
	MetricRootBinary = "root_accuracy_binary"
	// MetricAllFine is the fraction of all nodes (every phrase and word)
	// whose class the model gets right.
	MetricAllFine = "all_nodes_accuracy_fine"
)

// The networks a [Tree] model can be: the three tree models of
// models/tree, or a sequence baseline.
const (
	TreeNetRNN       = "rnn"           // the recursive neural network (tree.RNN)
	TreeNetLSTM      = "binary-lstm"   // the binary Tree-LSTM (tree.BinaryLSTM)
	TreeNetChildSum  = "childsum-lstm" // the child-sum Tree-LSTM (tree.ChildSumLSTM)
	TreeNetBiLSTM    = "bilstm"        // a BiLSTM over the leaves, classifying the sentence
	defaultEvalBatch = 100
)

// TreeConfig is a tree model's part of a run's settings.
type TreeConfig struct {
	// Net is TreeNetRNN, TreeNetLSTM, TreeNetChildSum or TreeNetBiLSTM.
	Net string `json:"net"`
	// Vocab (set from the vocabulary), Embed, Hidden (per direction for the
	// BiLSTM) and Classes are the sizes.
	Vocab   int `json:"vocab"`
	Embed   int `json:"embed"`
	Hidden  int `json:"hidden"`
	Classes int `json:"classes"`
	// Dropout is the probability of dropping each element of what the
	// classifier reads (every node's h; the BiLSTM's final states), in
	// [0, 1).
	Dropout float64 `json:"dropout"`
	// Batch is the number of trees (sentences) per training batch.
	Batch int `json:"batch"`
	// Pad rounds each batch up so that few graphs serve every batch: the
	// leaves of a batch of trees to a multiple of Pad (with a padding
	// tree), the BiLSTM's lengths to a multiple of Pad.
	Pad int `json:"pad"`
	// EvalBatch is the number of trees per evaluation batch (0: 100).
	EvalBatch int `json:"eval_batch,omitempty"`
}

func (c TreeConfig) vocabSize() int { return c.Vocab }

// kind returns the tree model's kind (0 for the BiLSTM).
func (c TreeConfig) kind() tree.Kind {
	switch c.Net {
	case TreeNetRNN:
		return tree.RNN
	case TreeNetLSTM:
		return tree.BinaryLSTM
	case TreeNetChildSum:
		return tree.ChildSumLSTM
	}
	return 0
}

// model returns the models/tree config of a tree network.
func (c TreeConfig) model() tree.Config {
	return tree.Config{Kind: c.kind(), Vocab: c.Vocab, Embed: c.Embed, Hidden: c.Hidden, Classes: c.Classes}
}

func (c TreeConfig) evalBatch() int {
	if c.EvalBatch > 0 {
		return c.EvalBatch
	}
	return defaultEvalBatch
}

// Validate checks the config.
func (c TreeConfig) Validate() error {
	switch {
	case c.Net != TreeNetBiLSTM && c.kind() == 0:
		return errors.Errorf("training: tree net %q (want %s, %s, %s or %s)", c.Net, TreeNetRNN, TreeNetLSTM, TreeNetChildSum, TreeNetBiLSTM)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return errors.Errorf("training: dropout %v outside [0, 1)", c.Dropout)
	case c.Batch < 1 || c.Pad < 1 || c.EvalBatch < 0:
		return errors.Errorf("training: batch %d and pad %d must be positive, eval batch %d not negative", c.Batch, c.Pad, c.EvalBatch)
	}
	if c.Net == TreeNetBiLSTM {
		if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 || c.Classes <= 0 {
			return errors.Errorf("training: vocab %d, embed %d, hidden %d and classes %d must be positive", c.Vocab, c.Embed, c.Hidden, c.Classes)
		}
		return nil
	}
	return c.model().Validate()
}

// Tree is the [Model] of sentiment over parse trees (the Stanford
// Sentiment Treebank): a tree network of models/tree, trained on the
// label of every node (loss summed over a batch's nodes, divided by its
// trees), or the BiLSTM baseline over each sentence's words, trained on
// the root's label. Its training batches are shuffled each epoch and
// padded (TreeConfig.Pad), so that a handful of compiled graphs serve an
// epoch. Its metrics are MetricRootFine (which picks best.safetensors),
// MetricRootBinary, MetricAllFine (tree networks; for the BiLSTM on a
// [TreeSet] of every phrase, [Tree.Phrases]) and the loss.
type Tree struct {
	Cfg TreeConfig
	vocabNet

	words *tree.Vocab // the vocabulary's look-up (ids equal Vocab's)
	train []*tree.Node
	out   []float64 // the logits an evaluation graph's After read
	// denseEmbedding has Gorgonia differentiate the embedding table
	// densely, as before RowGrader (tests compare the two).
	denseEmbedding bool
}

// NewTree returns the model of cfg over vocab (cfg.Vocab is set from it)
// with its training trees; train may be empty for a model that only
// evaluates. A binary network refuses a tree with a node of other than
// two children (tree.ErrNotBinary), a label outside 0..Classes−1 is an
// error; both name the tree's line.
func NewTree(cfg TreeConfig, vocab *data.Vocab, train []*tree.Node) (*Tree, error) {
	n, err := newVocabNet(vocab, &cfg.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	words, err := tree.NewVocab(vocab.Tokens())
	if err != nil {
		return nil, errors.Wrap(err, "training: tree vocabulary")
	}
	m := &Tree{Cfg: cfg, vocabNet: n, words: words}
	if err := m.check(train); err != nil {
		return nil, errors.Wrap(err, "training: training trees")
	}
	m.train = train
	return m, nil
}

// TreeVocab returns the vocabulary of trees (their leaves' words, the
// most frequent first, see tree.BuildVocab) as a [data.Vocab], whose
// UNKToken stands for every other word.
func TreeVocab(trees []*tree.Node) (*data.Vocab, error) {
	words := tree.BuildVocab(trees, 1).Words()[1:] // without tree.Unknown, which is data.UNKToken
	toks := data.NewWordVocab(nil, 1).Tokens()     // the special tokens
	seen := map[string]bool{}
	for _, t := range toks {
		seen[t] = true
	}
	for _, w := range words {
		if !seen[w] {
			toks = append(toks, w)
		}
	}
	return data.NewVocab(toks)
}

// check validates trees for the model: labels in range, binary trees for
// a binary network. Errors name the tree (and its line, when it was read).
func (m *Tree) check(trees []*tree.Node) error {
	for i, t := range trees {
		if t == nil {
			return errors.Errorf("tree %d is nil", i+1)
		}
		if err := t.Validate(m.Cfg.Classes); err != nil {
			return errors.Wrapf(err, "tree %d%s", i+1, lineOf(t))
		}
		if m.Cfg.kind().Binary() {
			if err := t.CheckBinary(); err != nil {
				return errors.Wrapf(err, "tree %d%s (the %s network needs binary trees)", i+1, lineOf(t), m.Cfg.Net)
			}
		}
	}
	return nil
}

func lineOf(t *tree.Node) string {
	if t.Line > 0 {
		return fmt.Sprintf(" (line %d)", t.Line)
	}
	return ""
}

// Describe implements Model.
func (m *Tree) Describe() Description {
	ms := []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricRootFine, Label: "root fine", Percent: true},
		{Name: MetricRootBinary, Label: "root binary", Percent: true},
		{Name: MetricAllFine, Label: "all nodes fine", Percent: true},
	}
	return Description{Kind: TreeKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricRootFine, Metrics: ms}
}

// A checkpoint's model of this kind opens without training data.
func init() {
	openers[TreeKind] = opener(func(c TreeConfig, v *data.Vocab) (Model, error) { return NewTree(c, v, nil) })
}

// Init implements Model: the parameters of the network.
func (m *Tree) Init(ps *graph.Params, src graph.Source) error {
	if m.Cfg.Net == TreeNetBiLSTM {
		return m.keep(ps, m.initSeq(ps, src))
	}
	return m.keep(ps, m.Cfg.model().Init(ps, src))
}

// row locates a logits row of a batch: tree t of its data set, node n of
// that tree in post-order; t < 0 for padding.
type row struct{ t, n int }

// treeBatch is a padded batch of trees for a tree network.
type treeBatch struct {
	b      *tree.Batch
	w      []float64 // the loss weight of every node: 1/trees, 0 for padding
	rows   []row     // per node
	trees  int       // real trees
	shape  Shape
	labels []int // per node, for the metrics
}

// Shape implements Batch: trees × leaves × nodes after padding.
func (b *treeBatch) Shape() Shape { return b.shape }

// padTree returns a balanced binary tree of n ≥ 1 leaves, every word
// tree.Unknown and every label 0: what fills a batch up to its shape.
func padTree(n int) *tree.Node {
	if n == 1 {
		return tree.Leaf(0, tree.Unknown)
	}
	return tree.Join(0, padTree(n/2), padTree(n-n/2))
}

// treeBatchOf returns trees (of a data set, their indices ids) as a batch
// of size trees (at least len(ts)) padded to a multiple of Pad leaves:
// size − len(ts) one-leaf trees and one balanced tree of the remaining
// leaves, all of weight 0, come after the real trees.
func (m *Tree) treeBatchOf(ts []*tree.Node, ids []int, size int) (*treeBatch, error) {
	leaves := 0
	for _, t := range ts {
		leaves += len(t.Leaves())
	}
	extra := size - len(ts)
	w := m.Cfg.Pad
	total := (leaves + extra + 1 + w - 1) / w * w
	all := append([]*tree.Node(nil), ts...)
	for range extra {
		all = append(all, tree.Leaf(0, tree.Unknown))
	}
	all = append(all, padTree(total-leaves-extra))
	b, err := tree.NewBatch(all, m.words)
	if err != nil {
		return nil, err
	}
	tb := &treeBatch{b: b, w: make([]float64, b.Len()), rows: make([]row, b.Len()), trees: len(ts), labels: b.Labels,
		shape: Dims(len(all), total, b.Len())}
	start := 0
	for k, r := range b.Roots {
		for i := start; i <= r; i++ {
			tb.rows[i] = row{t: -1}
			if k < len(ts) {
				tb.w[i] = 1 / float64(len(ts))
				tb.rows[i] = row{t: ids[k], n: i - start}
			}
		}
		start = r + 1
	}
	return tb, nil
}

// Batches implements Model: the training trees shuffled by src, in
// batches of Cfg.Batch (the last one padded with empty trees).
func (m *Tree) Batches(epoch int, src graph.Source) ([]Batch, error) {
	if len(m.train) == 0 {
		return nil, errors.New("training: a tree model without training trees")
	}
	if m.Cfg.Net == TreeNetBiLSTM {
		return m.seqBatches(m.train, src)
	}
	perm := src.Perm(len(m.train))
	var out []Batch
	for start := 0; start < len(perm); start += m.Cfg.Batch {
		ids := perm[start:min(start+m.Cfg.Batch, len(perm))]
		ts := make([]*tree.Node, len(ids))
		for i, id := range ids {
			ts[i] = m.train[id]
		}
		b, err := m.treeBatchOf(ts, ids, m.Cfg.Batch)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// treeGraph is the loss graph of a tree network.
type treeGraph struct {
	lossGraph
	m      *Tree
	t      *tree.TrainGraph
	logits gorgonia.Value // evaluation graphs: read after each run
	where  []int32        // RowGrads' row of each word (reused)
}

// Set implements Graph: the batch's trees, weights and dropout masks.
func (g *treeGraph) Set(b Batch, seed uint64) error {
	tb, err := setUp[*treeBatch](&g.lossGraph, b, TreeKind, seed)
	if err != nil {
		return err
	}
	if err := g.t.SetWeighted(tb.b, tb.w); err != nil {
		return err
	}
	if g.dropout != nil {
		return g.dropout.Resample()
	}
	return nil
}

// After implements Graph: an evaluation graph hands its logits to the
// model.
func (g *treeGraph) After() error {
	if g.train {
		return nil
	}
	v, err := graph.ValueFloat64s(g.logits)
	g.m.out = v
	return err
}

// Build implements Model: the level-batched graph of the batch's counts,
// with dropout before the classifier when training.
func (m *Tree) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	if m.Cfg.Net == TreeNetBiLSTM {
		return m.buildSeq(g, b, train)
	}
	tb, err := batchOf[*treeBatch](b, TreeKind)
	if err != nil {
		return nil, err
	}
	var o tree.Options
	if train {
		o.Dropout = m.Cfg.Dropout
	}
	tg, err := tree.BuildLevelGraphWith(g, m.Cfg.model(), tb.b, o)
	if err != nil {
		return nil, err
	}
	out := &treeGraph{lossGraph: lossGraph{loss: tg.Loss, dropout: tg.Dropout, train: train}, m: m, t: tg}
	if !train {
		gorgonia.Read(tg.Logits, &out.logits)
	}
	return out, nil
}

// TreeSet is a tree model's evaluation data: trees, in batches of the
// model's, and after each [Tree.Evaluate] every scored node's class
// probabilities ([TreeSet.Probs]).
type TreeSet struct {
	Trees   []*tree.Node
	batches []Batch
	probs   [][][]float64 // per tree, per node in post-order: nil until scored
	all     bool          // every node is scored (a tree network, or the BiLSTM's phrases)
}

// Examples implements Dataset: the number of trees.
func (s *TreeSet) Examples() int { return len(s.Trees) }

// Probs returns the class probabilities of every node of tree i in
// post-order, as the last Evaluate computed them; a node that was not
// scored (the BiLSTM scores the root only, unless the set was made by
// [Tree.Phrases]) has nil.
func (s *TreeSet) Probs(i int) [][]float64 { return s.probs[i] }

// Trees returns trees as the model's evaluation data; their labels must be
// in the model's range and, for a binary network, the trees binary.
func (m *Tree) Trees(trees []*tree.Node) (*TreeSet, error) { return m.treeSet(trees, false) }

// Phrases is Trees for the BiLSTM scoring every node: each node's words
// (its phrase) are a sequence of their own, so that Evaluate reports
// MetricAllFine and Probs every node. For a tree network it is Trees.
func (m *Tree) Phrases(trees []*tree.Node) (*TreeSet, error) {
	return m.treeSet(trees, m.Cfg.Net == TreeNetBiLSTM)
}

func (m *Tree) treeSet(trees []*tree.Node, phrases bool) (*TreeSet, error) {
	if len(trees) == 0 {
		return nil, errors.New("training: no trees to evaluate")
	}
	if err := m.check(trees); err != nil {
		return nil, err
	}
	s := &TreeSet{Trees: trees, probs: make([][][]float64, len(trees)), all: phrases || m.Cfg.Net != TreeNetBiLSTM}
	var err error
	if m.Cfg.Net == TreeNetBiLSTM {
		s.batches, err = m.seqEvalBatches(trees, phrases)
		return s, err
	}
	eb := m.Cfg.evalBatch()
	for start := 0; start < len(trees); start += eb {
		ids := make([]int, 0, eb)
		for i := start; i < min(start+eb, len(trees)); i++ {
			ids = append(ids, i)
		}
		b, err := m.treeBatchOf(trees[start:start+len(ids)], ids, len(ids))
		if err != nil {
			return nil, err
		}
		s.batches = append(s.batches, b)
	}
	return s, nil
}

// Evaluate implements Model: every batch forward, each scored node's
// probabilities kept in the set, and the metrics over them. The loss is
// the mean over trees of the training loss (for a tree network the sum
// over a tree's nodes of their cross-entropy; for the BiLSTM the root's).
func (m *Tree) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	s, ok := d.(*TreeSet)
	if !ok {
		return nil, errors.Errorf("training: a tree model evaluates a *TreeSet, not a %T", d)
	}
	C := m.Cfg.Classes
	loss, weight := 0.0, 0.0
	for i := range s.probs {
		s.probs[i] = make([][]float64, s.Trees[i].Size())
	}
	for _, b := range s.batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m.out = nil
		l, err := forward(b)
		if err != nil {
			return nil, err
		}
		rows, n := evalRows(b)
		if len(m.out) != len(rows)*C {
			return nil, errors.Errorf("training: %d logits for %d rows of %d classes", len(m.out), len(rows), C)
		}
		loss += l * float64(n)
		weight += float64(n)
		for i, r := range rows {
			if r.t >= 0 {
				s.probs[r.t][r.n] = softmax(m.out[i*C : (i+1)*C])
			}
		}
	}
	ms := scoreTrees(s, C)
	ms[MetricLoss] = loss / weight
	return ms, nil
}

// evalRows returns the row map of an evaluation batch and the number of
// examples its loss is the mean over.
func evalRows(b Batch) ([]row, int) {
	switch x := b.(type) {
	case *treeBatch:
		return x.rows, x.trees
	case *seqBatch:
		return x.rows, x.real
	}
	return nil, 0
}

// softmax returns the probabilities of a row of logits.
func softmax(z []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	p := make([]float64, len(z))
	s := 0.0
	for i, v := range z {
		p[i] = math.Exp(v - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// argmax returns the index of the largest value (the first of equals).
func argmax(p []float64) int {
	k := 0
	for i, v := range p {
		if v > p[k] {
			k = i
		}
	}
	return k
}

// Positive reports whether class probabilities p say positive: for five
// classes p₃ + p₄ > p₀ + p₁ (SST's binary reading of its fine labels), for
// two classes p₁ > p₀; for any other number of classes it is false.
func Positive(p []float64) bool {
	switch len(p) {
	case 2:
		return p[1] > p[0]
	case 5:
		return p[3]+p[4] > p[0]+p[1]
	}
	return false
}

// scoreTrees returns the accuracy metrics of the scored nodes of s.
func scoreTrees(s *TreeSet, C int) Metrics {
	var rootOK, binN, binOK, allN, allOK int
	for i, t := range s.Trees {
		nodes := t.PostOrder()
		probs := s.probs[i]
		for j, n := range nodes {
			if probs[j] == nil {
				continue
			}
			allN++
			if argmax(probs[j]) == n.Label {
				allOK++
			}
		}
		root, p := nodes[len(nodes)-1], probs[len(nodes)-1]
		if argmax(p) == root.Label {
			rootOK++
		}
		switch {
		case C == 2:
			binN++
			if Positive(p) == (root.Label == 1) {
				binOK++
			}
		case C == 5 && root.Label != 2:
			binN++
			if Positive(p) == (root.Label > 2) {
				binOK++
			}
		}
	}
	ms := Metrics{MetricRootFine: float64(rootOK) / float64(len(s.Trees))}
	if binN > 0 {
		ms[MetricRootBinary] = float64(binOK) / float64(binN)
	}
	if s.all {
		ms[MetricAllFine] = float64(allOK) / float64(allN)
	}
	return ms
}
