package training

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training/data"
)

// MLMKind is the kind (Description.Kind) of [MLM] models.
const MLMKind = "mlm"

// MaskToken is the masked language model's mask, a word of its vocabulary.
const MaskToken = "[MASK]"

// The masked language model's metrics.
const (
	// MetricMaskedAccuracy is the fraction of masked tokens whose most
	// likely prediction is the original token.
	MetricMaskedAccuracy = "masked_accuracy"
	// MetricMaskedPerplexity is exp of the mean cross-entropy over the
	// masked tokens.
	MetricMaskedPerplexity = "masked_perplexity"
)

// MLMConfig is a masked language model's part of a run's settings.
type MLMConfig struct {
	Model       transformer.MLMConfig `json:"model"`
	Batch       int                   `json:"batch"`
	BucketWidth int                   `json:"bucket_width"`
	EvalBatch   int                   `json:"eval_batch"` // 0: Batch
	Xavier      bool                  `json:"xavier"`
}

func (c MLMConfig) vocabSize() int { return c.Model.Vocab }

// Validate checks the config.
func (c MLMConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if c.Batch < 1 || c.BucketWidth < 1 || c.EvalBatch < 0 {
		return errors.Errorf("training: batch %d and bucket width %d must be positive, eval batch %d not negative", c.Batch, c.BucketWidth, c.EvalBatch)
	}
	return nil
}

// MLM is the [Model] of an encoder-only Transformer trained as a masked
// language model with BERT's masking (transformer.BERT), drawn anew for
// every training step from the step's seed. Its metrics are the loss (the
// mean cross-entropy over the masked tokens), the masked-token accuracy
// and perplexity, on evaluation sequences masked with fixed seeds.
type MLM struct {
	Cfg MLMConfig
	vocabNet

	train  [][]int
	maskID int
}

// NewMLM returns the model of cfg over vocab, which must hold MaskToken
// (cfg.Model.Vocab is set from it), with the training sequences (ids of
// vocab, each 1 to cfg.Model.MaxLen long; may be empty for a model that
// only evaluates).
func NewMLM(cfg MLMConfig, vocab *data.Vocab, train [][]int) (*MLM, error) {
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	m := &MLM{Cfg: cfg, vocabNet: n, maskID: vocab.ID(MaskToken)}
	if m.maskID == data.UNK {
		return nil, errors.Errorf("training: the vocabulary has no %s token", MaskToken)
	}
	if err := m.checkSeqs(train); err != nil {
		return nil, err
	}
	m.train = train
	return m, nil
}

func (m *MLM) checkSeqs(seqs [][]int) error {
	for i, s := range seqs {
		if len(s) == 0 || len(s) > m.Cfg.Model.MaxLenOr() {
			return errors.Wrapf(transformer.ErrTooLong, "training: sequence %d has %d tokens (1 to %d)", i, len(s), m.Cfg.Model.MaxLenOr())
		}
		for _, id := range s {
			if id < 0 || id >= m.Cfg.Model.Vocab {
				return errors.Errorf("training: sequence %d: token %d outside the vocabulary", i, id)
			}
		}
	}
	return nil
}

func init() {
	openers[MLMKind] = opener(func(c MLMConfig, v *data.Vocab) (Model, error) { return NewMLM(c, v, nil) })
}

// Describe implements Model.
func (m *MLM) Describe() Description {
	return Description{Kind: MLMKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricMaskedAccuracy, Metrics: []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricMaskedAccuracy, Percent: true},
		{Name: MetricMaskedPerplexity, Lower: true},
	}}
}

// Init implements Model.
func (m *MLM) Init(ps *graph.Params, src graph.Source) error {
	specs := m.Cfg.Model.Params()
	if m.Cfg.Xavier {
		specs = transformer.XavierMatrices(specs)
	}
	return m.keep(ps, transformer.Init(ps, specs, src))
}

// masking returns BERT's masking over the vocabulary (random replacements
// drawn from the words, never the special tokens).
func (m *MLM) masking() transformer.Masking {
	return transformer.BERT(m.maskID, data.NumSpecial, m.Cfg.Model.Vocab)
}

// mlmBatch is a batch of sequences, padded to T when it is set; an
// evaluation batch is masked with its own seed.
type mlmBatch struct {
	seqs [][]int
	idx  []int
	t    int
	seed uint64 // evaluation batches: the masking's seed
}

// Shape implements Batch: B×T.
func (b mlmBatch) Shape() Shape { return Dims(len(b.idx), b.t) }

func (m *MLM) batch(seqs [][]int, idx []int, seed uint64) mlmBatch {
	t := 0
	for _, i := range idx {
		t = max(t, len(seqs[i]))
	}
	w := m.Cfg.BucketWidth
	t = min((t+w-1)/w*w, m.Cfg.Model.MaxLenOr())
	return mlmBatch{seqs: seqs, idx: idx, t: t, seed: seed}
}

// input pads the batch and masks it with src.
func (m *MLM) input(b mlmBatch, src graph.Source) (in, labels, lengths []int, masked []bool, err error) {
	ids := make([]int, len(b.idx)*b.t)
	lengths = make([]int, len(b.idx))
	for k, i := range b.idx {
		copy(ids[k*b.t:], b.seqs[i])
		lengths[k] = len(b.seqs[i])
	}
	in, labels, masked, err = m.masking().Apply(ids, lengths, b.t, src)
	return in, labels, lengths, masked, err
}

// Batches implements Model: the training sequences bucketed by length and
// shuffled by src.
func (m *MLM) Batches(epoch int, src graph.Source) ([]Batch, error) {
	if len(m.train) == 0 {
		return nil, errors.New("training: no training sequences")
	}
	lengths := make([]int, len(m.train))
	for i, s := range m.train {
		lengths[i] = len(s)
	}
	var out []Batch
	for _, idx := range data.Buckets(lengths, m.Cfg.Batch, m.Cfg.BucketWidth, src) {
		out = append(out, m.batch(m.train, idx, 0))
	}
	return out, nil
}

// mlmGraph is a masked language model's loss graph.
type mlmGraph struct {
	lossGraph
	m   *MLM
	g   *transformer.MLMGraph
	out []float64
}

// Set implements Graph: the batch, masked from the step's seed (training)
// or the batch's own (evaluation), and new dropout masks.
func (g *mlmGraph) Set(b Batch, seed uint64) error {
	mb, err := setUp[mlmBatch](&g.lossGraph, b, MLMKind, seed)
	if err != nil {
		return err
	}
	if !g.train {
		seed = mb.seed
	}
	in, labels, lengths, masked, err := g.m.input(mb, graph.NewSource(seed))
	if err != nil {
		return err
	}
	if err := g.g.Set(in, lengths, labels, masked); err != nil {
		return err
	}
	if g.dropout != nil {
		return g.dropout.Resample()
	}
	return nil
}

// Build implements Model.
func (m *MLM) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	mb, err := batchOf[mlmBatch](b, MLMKind)
	if err != nil {
		return nil, err
	}
	drop, err := graph.OptionalDropout(m.Cfg.Model.Layer.Dropout, 0)
	if err != nil {
		return nil, err
	}
	if drop != nil && !train {
		drop.SetTraining(false)
	}
	n, err := transformer.NewNet(g, drop, true)
	if err != nil {
		return nil, err
	}
	mg, err := transformer.BuildMLM(n, m.Cfg.Model, len(mb.idx), mb.t)
	if err != nil {
		return nil, err
	}
	return &mlmGraph{lossGraph: lossGraph{mg.Loss, drop, train}, m: m, g: mg}, nil
}

// SeqSet is a masked language model's evaluation data: sequences of ids.
type SeqSet struct{ Seqs [][]int }

// Examples implements Dataset: the number of sequences.
func (s *SeqSet) Examples() int { return len(s.Seqs) }

// Sequences returns texts (one sequence a text, words split on white
// space, longer ones cut into pieces of the positional table's length) as
// the model's data.
func (m *MLM) Sequences(texts []string) (*SeqSet, error) {
	return &SeqSet{Seqs: Chunks(m.Vocab, texts, m.Cfg.Model.MaxLenOr())}, nil
}

// Chunks encodes texts with v's words and cuts each into pieces of at most
// n tokens; empty texts give none.
func Chunks(v *data.Vocab, texts []string, n int) [][]int {
	var out [][]int
	for _, t := range texts {
		ids := v.EncodeWords(t)
		for len(ids) > 0 {
			k := min(n, len(ids))
			out = append(out, ids[:k:k])
			ids = ids[k:]
		}
	}
	return out
}

// Evaluate implements Model: the loss (mean cross-entropy over the masked
// tokens, on forward-only machines), the masked-token accuracy (the
// plain-Go encoder's top prediction) and perplexity, every batch masked
// with a seed of its own (the same in every evaluation).
func (m *MLM) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	set, ok := d.(*SeqSet)
	if !ok {
		return nil, errors.Errorf("training: an MLM evaluates a *SeqSet, not a %T", d)
	}
	if len(set.Seqs) == 0 {
		return Metrics{MetricLoss: math.NaN(), MetricMaskedAccuracy: math.NaN(), MetricMaskedPerplexity: math.NaN()}, nil
	}
	if err := m.checkSeqs(set.Seqs); err != nil {
		return nil, err
	}
	enc, err := m.encoder()
	if err != nil {
		return nil, err
	}
	B := m.Cfg.EvalBatch
	if B <= 0 {
		B = m.Cfg.Batch
	}
	total, count, right := 0.0, 0, 0
	for start, k := 0, 0; start < len(set.Seqs); start, k = start+B, k+1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var idx []int
		for i := start; i < min(start+B, len(set.Seqs)); i++ {
			idx = append(idx, i)
		}
		b := m.batch(set.Seqs, idx, uint64(1000003+k))
		l, err := forward(b)
		if err != nil {
			return nil, err
		}
		in, labels, lengths, masked, err := m.input(b, graph.NewSource(b.seed))
		if err != nil {
			return nil, err
		}
		n := 0
		for r := range idx {
			logits, err := enc.MLMLogits(in[r*b.t : r*b.t+lengths[r]])
			if err != nil {
				return nil, err
			}
			for t := 0; t < lengths[r]; t++ {
				if !masked[r*b.t+t] {
					continue
				}
				n++
				if argmax(logits[t]) == labels[r*b.t+t] {
					right++
				}
			}
		}
		total += l * float64(n)
		count += n
	}
	loss := total / float64(count)
	return Metrics{MetricLoss: loss, MetricMaskedAccuracy: float64(right) / float64(count), MetricMaskedPerplexity: math.Exp(loss)}, nil
}

// encoder returns a plain-Go runner over the parameters' current values.
func (m *MLM) encoder() (*transformer.Generator, error) {
	if m.ps == nil {
		return nil, errors.New("training: an MLM without parameters (no Trainer made them)")
	}
	return transformer.NewMLMEncoder(m.ps, m.Cfg.Model)
}

// Filler is one candidate for a masked word.
type Filler struct {
	Word string
	Prob float64
}

// ErrNoMask is returned by Fill for a text without MaskToken.
var ErrNoMask = errors.New("training: the text has no " + MaskToken)

// Fill returns, for each MaskToken among the words of text (in order),
// the k most likely words (special tokens and the mask left out) with
// their probabilities under the model's softmax.
func (m *MLM) Fill(text string, k int) ([][]Filler, error) {
	if k < 1 {
		return nil, errors.Errorf("training: fill: k %d must be positive", k)
	}
	words := strings.Fields(text)
	ids := m.Vocab.EncodeWords(text)
	var at []int
	for i, w := range words {
		if w == MaskToken {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, errors.Wrapf(ErrNoMask, "%q", text)
	}
	if len(ids) > m.Cfg.Model.MaxLenOr() {
		return nil, errors.Wrapf(transformer.ErrTooLong, "fill: %d words, the model reads at most %d", len(ids), m.Cfg.Model.MaxLenOr())
	}
	enc, err := m.encoder()
	if err != nil {
		return nil, err
	}
	logits, err := enc.MLMLogits(ids)
	if err != nil {
		return nil, err
	}
	out := make([][]Filler, len(at))
	for j, pos := range at {
		l := logits[pos]
		mx := math.Inf(-1)
		for _, v := range l {
			mx = math.Max(mx, v)
		}
		sum := 0.0
		for _, v := range l {
			sum += math.Exp(v - mx)
		}
		var cands []Filler
		for id, v := range l {
			if id < data.NumSpecial || id == m.maskID {
				continue
			}
			w, _ := m.Vocab.Token(id)
			cands = append(cands, Filler{Word: w, Prob: math.Exp(v-mx) / sum})
		}
		sort.SliceStable(cands, func(a, b int) bool { return cands[a].Prob > cands[b].Prob })
		out[j] = cands[:min(k, len(cands))]
	}
	return out, nil
}
