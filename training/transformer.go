package training

import (
	"context"
	"math"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/metrics"
)

// TransformerKind is the kind (Description.Kind) of [Transformer] models.
const TransformerKind = "transformer"

// TransformerConfig is a Transformer Seq2Seq model's part of a run's
// settings.
type TransformerConfig struct {
	Model         transformer.Config `json:"model"`
	Batch         int                `json:"batch"`
	ReverseSource bool               `json:"reverse_source"`
	BucketWidth   int                `json:"bucket_width"`
	EvalBatch     int                `json:"eval_batch"` // sequences per decoding batch; 0: Batch
	// Xavier redraws every weight matrix Glorot-uniform after PyTorch's
	// initialisation, as the translation tutorial does.
	Xavier bool `json:"xavier"`
	// Definition trains the op-by-op graph instead of the fused
	// attention and LayerNorm ops (the same function, much slower).
	Definition bool `json:"definition,omitempty"`
}

func (c TransformerConfig) vocabSize() int { return c.Model.Vocab }

// Validate checks the config.
func (c TransformerConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if c.Batch < 1 || c.BucketWidth < 1 || c.EvalBatch < 0 {
		return errors.Errorf("training: batch %d and bucket width %d must be positive, eval batch %d not negative", c.Batch, c.BucketWidth, c.EvalBatch)
	}
	return nil
}

// Transformer is the [Model] of the Seq2Seq Transformer
// (models/transformer) trained on question–answer pairs with teacher
// forcing: the same data, batches, buckets and metrics as [Seq2Seq] (test
// loss, exact match and token accuracy of greedy decoding), so the two
// families compare on one task. Decoding runs the cached incremental
// decoder (transformer.Generator).
type Transformer struct {
	Cfg TransformerConfig
	vocabNet

	train data.Encoded
	s2s   Seq2Seq // its batching, shared
}

// NewTransformer returns the model of cfg over vocab (cfg.Model.Vocab is
// set from it) with the training pairs encoded. train may be empty for a
// model that only evaluates.
func NewTransformer(cfg TransformerConfig, vocab *data.Vocab, train []data.Pair) (*Transformer, error) {
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	m := &Transformer{Cfg: cfg, vocabNet: n}
	if m.train, err = data.EncodePairs(train, vocab, cfg.ReverseSource); err != nil {
		return nil, errors.Wrap(err, "training: encoding the training pairs")
	}
	m.s2s.Cfg.BucketWidth, m.s2s.Cfg.Batch, m.s2s.train = cfg.BucketWidth, cfg.Batch, m.train
	return m, nil
}

func init() {
	openers[TransformerKind] = opener(func(c TransformerConfig, v *data.Vocab) (Model, error) { return NewTransformer(c, v, nil) })
}

// Describe implements Model.
func (m *Transformer) Describe() Description {
	return Description{Kind: TransformerKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricExactMatch, Metrics: []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricExactMatch, Percent: true},
		{Name: MetricTokenAccuracy, Percent: true},
	}}
}

// Init implements Model: the parameters of Cfg.Model, initialised as
// PyTorch does (and Glorot-uniform matrices with Cfg.Xavier).
func (m *Transformer) Init(ps *graph.Params, src graph.Source) error {
	specs := m.Cfg.Model.Params()
	if m.Cfg.Xavier {
		specs = transformer.XavierMatrices(specs)
	}
	return m.keep(ps, transformer.Init(ps, specs, src))
}

// Batches implements Model: as Seq2Seq's, bucketed by length and shuffled.
func (m *Transformer) Batches(epoch int, src graph.Source) ([]Batch, error) {
	return m.s2s.Batches(epoch, src)
}

// tfGraph is a Transformer loss graph.
type tfGraph struct {
	lossGraph
	s *transformer.Seq2SeqGraph
}

// Set implements Graph: the pairs, padded to the graph's lengths (padding
// masked as keys and left out of the loss), and new dropout masks.
func (g *tfGraph) Set(b Batch, seed uint64) error {
	pb, err := setUp[pairBatch](&g.lossGraph, b, TransformerKind, seed)
	if err != nil {
		return err
	}
	p, err := data.PadBatch(*pb.e, pb.idx, pb.ts, pb.tt)
	if err != nil {
		return err
	}
	B := len(pb.idx)
	src, in, out := make([]int, 0, B*pb.ts), make([]int, 0, B*pb.tt), make([]int, 0, B*pb.tt)
	for i := 0; i < B; i++ {
		src = append(src, p.Src[i]...)
		in = append(in, p.TgtIn[i]...)
		out = append(out, p.TgtOut[i]...)
	}
	if err := g.s.Set(src, p.SrcLen, in, out, p.TgtLen); err != nil {
		return err
	}
	if g.dropout != nil {
		return g.dropout.Resample()
	}
	return nil
}

// Build implements Model: the teacher-forced graph of the batch's shape,
// with the fused attention and LayerNorm ops (or the definition).
func (m *Transformer) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	pb, err := batchOf[pairBatch](b, TransformerKind)
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
	n, err := transformer.NewNet(g, drop, !m.Cfg.Definition)
	if err != nil {
		return nil, err
	}
	s, err := transformer.BuildSeq2Seq(n, m.Cfg.Model, len(pb.idx), pb.ts, pb.tt)
	if err != nil {
		return nil, err
	}
	return &tfGraph{lossGraph: lossGraph{s.Loss, drop, train}, s: s}, nil
}

// Pairs returns pairs as the model's evaluation data.
func (m *Transformer) Pairs(pairs []data.Pair) (*PairSet, error) {
	e, err := data.EncodePairs(pairs, m.Vocab, m.Cfg.ReverseSource)
	if err != nil {
		return nil, errors.Wrap(err, "training: encoding the evaluation pairs")
	}
	return &PairSet{Pairs: pairs, enc: e}, nil
}

// Generator returns a cached incremental decoder over the parameters'
// current values (a copy: later training does not reach it).
func (m *Transformer) Generator() (*transformer.Generator, error) {
	if m.ps == nil {
		return nil, errors.New("training: a Transformer model without parameters (no Trainer made them)")
	}
	return transformer.NewGenerator(m.ps, m.Cfg.Model)
}

// Evaluate implements Model: the mean test loss per target token and the
// exact match and token accuracy of greedy decoding; all NaN for no pairs.
func (m *Transformer) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	ps, ok := d.(*PairSet)
	if !ok {
		return nil, errors.Errorf("training: a Transformer model evaluates a *PairSet, not a %T", d)
	}
	e := &ps.enc
	n := len(e.Src)
	if n == 0 {
		return Metrics{MetricLoss: math.NaN(), MetricExactMatch: math.NaN(), MetricTokenAccuracy: math.NaN()}, nil
	}
	B := m.Cfg.EvalBatch
	if B <= 0 {
		B = m.Cfg.Batch
	}
	gen, err := m.Generator()
	if err != nil {
		return nil, err
	}
	maxLen := 0
	for _, l := range e.TgtLen {
		maxLen = max(maxLen, l)
	}
	total, weight := 0.0, 0
	var preds, refs [][]int
	for start := 0; start < n; start += B {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := make([]int, 0, B)
		for i := start; i < min(n, start+B); i++ {
			idx = append(idx, i)
		}
		l, err := forward(m.s2s.batch(e, idx))
		if err != nil {
			return nil, err
		}
		w := 0
		srcs := make([][]int, len(idx))
		for k, i := range idx {
			w += e.TgtLen[i]
			srcs[k] = e.Src[i][:e.SrcLen[i]]
			refs = append(refs, e.TgtOut[i][:e.TgtLen[i]-1])
		}
		total += l * float64(w)
		weight += w
		s0, err := gen.Encode(srcs)
		if err != nil {
			return nil, err
		}
		out, err := decode.Greedy(gen, s0, decode.Options{BOS: data.BOS, EOS: data.EOS, MaxLen: maxLen})
		if err != nil {
			return nil, err
		}
		preds = append(preds, out...)
	}
	res := Metrics{MetricLoss: total / float64(weight)}
	if res[MetricExactMatch], err = metrics.ExactMatch(preds, refs); err != nil {
		return nil, err
	}
	if res[MetricTokenAccuracy], err = metrics.TokenAccuracy(preds, refs); err != nil {
		return nil, err
	}
	return res, nil
}

// TranslateWith answers a question by greedy decoding (so == nil and
// beam == 0), by sampling (so != nil) or by beam search (beam > 0, the
// best hypothesis); opt.MaxLen 0 means 4 × the question's length + 8.
func (m *Transformer) TranslateWith(q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	gen, err := m.Generator()
	if err != nil {
		return nil, err
	}
	return translateWith(gen, func(src []int) (decode.State, error) { return gen.Encode([][]int{src}) }, m.Vocab, m.Cfg.ReverseSource, q, opt, so, beam)
}

// Translate answers one question by greedy decoding.
func (m *Transformer) Translate(q string) (string, error) {
	return first(m.TranslateWith(q, decode.Options{}, nil, 0))
}

// TorchNames implements interop.TorchNamer: rnnkit's names are those of
// the fixtures' model (embedding, transformer, fc); PyTorch's translation
// tutorial calls the output layer generator and the embedding
// src_tok_emb.embedding.
func (m *Transformer) TorchNames() map[string]string {
	return map[string]string{"generator.": "fc.", "src_tok_emb.embedding.": "embedding."}
}

// TorchTied implements interop.TorchTier: the tutorial's second embedding
// (tgt_tok_emb) must equal the first, which rnnkit shares between source
// and target.
func (m *Transformer) TorchTied() map[string]string {
	return map[string]string{"tgt_tok_emb.embedding.weight": "embedding.weight"}
}

// Attention decodes a pair's question greedily and returns, per decoder
// layer and head, the attention weights of each output token over the
// source tokens ([layer][head][output][source]), with the source and
// output tokens as labels.
func (m *Transformer) Attention(p data.Pair) (weights [][][][]float64, src, out []string, err error) {
	ids, err := encodeQuestion(m.Vocab, m.Cfg.ReverseSource, p.Question)
	if err != nil {
		return nil, nil, nil, err
	}
	gen, err := m.Generator()
	if err != nil {
		return nil, nil, nil, err
	}
	gen.Record(true)
	s0, err := gen.Encode([][]int{ids})
	if err != nil {
		return nil, nil, nil, err
	}
	L, H := m.Cfg.Model.DecoderLayers, m.Cfg.Model.Layer.Heads
	weights = make([][][][]float64, L)
	for l := range weights {
		weights[l] = make([][][]float64, H)
	}
	var st decode.State = s0
	tok := data.BOS
	for step := 0; step < 4*len(ids)+8 && step < m.Cfg.Model.MaxLenOr(); step++ {
		logits, next, err := gen.Step(st, []int{tok})
		if err != nil {
			return nil, nil, nil, err
		}
		best := 0
		for k, v := range logits[0] {
			if v > logits[0][best] {
				best = k
			}
		}
		if best == data.EOS {
			break
		}
		s, _ := m.Vocab.Token(best)
		out = append(out, s)
		cross := next.(*transformer.State).CrossAttention(0)
		for l := range weights {
			for h := range weights[l] {
				weights[l][h] = append(weights[l][h], cross[l][h])
			}
		}
		st, tok = next, best
	}
	for _, id := range ids {
		s, _ := m.Vocab.Token(id)
		src = append(src, s)
	}
	return weights, src, out, nil
}
