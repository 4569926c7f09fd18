package training

import (
	"context"
	"math"
	"sync"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/metrics"
)

// Seq2SeqKind is the kind (Description.Kind) of [Seq2Seq] models.
const Seq2SeqKind = "seq2seq"

// Seq2SeqConfig is a Seq2Seq model's part of a run's settings.
type Seq2SeqConfig struct {
	Model         seq2seq.Config `json:"model"`
	Batch         int            `json:"batch"`
	ReverseSource bool           `json:"reverse_source"` // feed the question reversed (the book's trick)
	BucketWidth   int            `json:"bucket_width"`   // pad lengths up to a multiple of this (bounds the graph cache)
	EvalBatch     int            `json:"eval_batch"`     // sequences per decoding batch; 0: Batch
}

func (c Seq2SeqConfig) vocabSize() int { return c.Model.Vocab }

// Validate checks the config.
func (c Seq2SeqConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if c.Batch < 1 || c.BucketWidth < 1 || c.EvalBatch < 0 {
		return errors.Errorf("training: batch %d and bucket width %d must be positive, eval batch %d not negative", c.Batch, c.BucketWidth, c.EvalBatch)
	}
	return nil
}

// Seq2Seq is the [Model] of an encoder–decoder (models/seq2seq) trained on
// question–answer pairs with teacher forcing. Its batches are bucketed by
// length (Cfg.BucketWidth) and shuffled each epoch; its metrics are the
// test loss, and the exact match and token accuracy of greedy decoding.
// Once a Trainer made its parameters, it also answers questions
// (Translate, TranslateWith, Attention, NewTranslator).
type Seq2Seq struct {
	Cfg Seq2SeqConfig
	vocabNet

	train    data.Encoded
	gen      *seq2seq.Generator // for decoding; its graphs are compiled once
	decoding sync.Mutex         // held by Evaluate, Translate, TranslateWith, Attention (they share gen)
}

// NewSeq2Seq returns the model of cfg over vocab (cfg.Model.Vocab is set
// from it) with the training pairs encoded. train may be empty for a model
// that only evaluates.
func NewSeq2Seq(cfg Seq2SeqConfig, vocab *data.Vocab, train []data.Pair) (*Seq2Seq, error) {
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	m := &Seq2Seq{Cfg: cfg, vocabNet: n}
	if m.train, err = data.EncodePairs(train, vocab, cfg.ReverseSource); err != nil {
		return nil, errors.Wrap(err, "training: encoding the training pairs")
	}
	return m, nil
}

// Describe implements Model.
func (m *Seq2Seq) Describe() Description {
	return Description{Kind: Seq2SeqKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricExactMatch, Metrics: []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricExactMatch, Percent: true},
		{Name: MetricTokenAccuracy, Percent: true},
	}}
}

// A checkpoint's model of this kind opens without training data.
func init() {
	openers[Seq2SeqKind] = opener(func(c Seq2SeqConfig, v *data.Vocab) (Model, error) { return NewSeq2Seq(c, v, nil) })
}

// Init implements Model: the parameters of Cfg.Model.
func (m *Seq2Seq) Init(ps *graph.Params, src graph.Source) error {
	return m.keep(ps, m.Cfg.Model.Init(ps, src))
}

// Close releases the decoder's compiled graphs.
func (m *Seq2Seq) Close() error {
	if m.gen == nil {
		return nil
	}
	return m.gen.Close()
}

// generator returns the model's generator, created on first use. It binds
// the model's own parameters, so it always decodes with their current
// values.
func (m *Seq2Seq) generator() (*seq2seq.Generator, error) {
	if m.gen != nil {
		return m.gen, nil
	}
	if m.ps == nil {
		return nil, errors.New("training: a Seq2Seq model without parameters (no Trainer made them)")
	}
	gen, err := seq2seq.NewGenerator(m.ps, m.Cfg.Model)
	if err != nil {
		return nil, err
	}
	m.gen = gen
	return gen, nil
}

// pairBatch is a batch of encoded pairs, padded to (Ts, Tt) when it is set.
type pairBatch struct {
	e      *data.Encoded
	idx    []int
	ts, tt int
}

// Shape implements Batch: B×Ts×Tt.
func (b pairBatch) Shape() Shape { return Dims(len(b.idx), b.ts, b.tt) }

// batch returns the batch of e's rows idx, its lengths rounded up to the
// bucket width.
func (m *Seq2Seq) batch(e *data.Encoded, idx []int) pairBatch {
	ts, tt := 0, 0
	for _, i := range idx {
		ts, tt = max(ts, e.SrcLen[i]), max(tt, e.TgtLen[i])
	}
	w := m.Cfg.BucketWidth
	return pairBatch{e: e, idx: idx, ts: (ts + w - 1) / w * w, tt: (tt + w - 1) / w * w}
}

// Batches implements Model: the training pairs in buckets of similar
// length, cut into batches of Cfg.Batch and shuffled by src.
func (m *Seq2Seq) Batches(epoch int, src graph.Source) ([]Batch, error) {
	lengths := make([]int, len(m.train.SrcLen))
	for i := range lengths {
		lengths[i] = max(m.train.SrcLen[i], m.train.TgtLen[i])
	}
	order := data.Buckets(lengths, m.Cfg.Batch, m.Cfg.BucketWidth, src)
	out := make([]Batch, len(order))
	for i, idx := range order {
		out[i] = m.batch(&m.train, idx)
	}
	return out, nil
}

// s2sGraph is a Seq2Seq loss graph.
type s2sGraph struct {
	lossGraph
	m *seq2seq.TrainGraph
}

// Set implements Graph: the pairs, padded to the graph's lengths.
func (g *s2sGraph) Set(b Batch, seed uint64) error {
	pb, err := setUp[pairBatch](&g.lossGraph, b, Seq2SeqKind, seed)
	if err != nil {
		return err
	}
	padded, err := data.PadBatch(*pb.e, pb.idx, pb.ts, pb.tt)
	if err != nil {
		return err
	}
	return g.m.Set(seq2seq.Batch(padded))
}

// Build implements Model: the teacher-forced graph of the batch's shape.
func (m *Seq2Seq) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	pb, err := batchOf[pairBatch](b, Seq2SeqKind)
	if err != nil {
		return nil, err
	}
	tg, err := seq2seq.BuildTrainGraph(g, m.Cfg.Model, len(pb.idx), pb.ts, pb.tt)
	if err != nil {
		return nil, err
	}
	if !train && tg.Dropout != nil {
		tg.Dropout.SetTraining(false)
	}
	return &s2sGraph{lossGraph: lossGraph{tg.Loss, tg.Dropout, train}, m: tg}, nil
}

// PairSet is a Seq2Seq model's evaluation data: pairs encoded with its
// vocabulary ([Seq2Seq.Pairs]).
type PairSet struct {
	Pairs []data.Pair
	enc   data.Encoded
}

// Examples implements Dataset: the number of pairs.
func (p *PairSet) Examples() int { return len(p.Pairs) }

// Pairs returns pairs as the model's evaluation data, encoded with its
// vocabulary and source direction.
func (m *Seq2Seq) Pairs(pairs []data.Pair) (*PairSet, error) {
	e, err := data.EncodePairs(pairs, m.Vocab, m.Cfg.ReverseSource)
	if err != nil {
		return nil, errors.Wrap(err, "training: encoding the evaluation pairs")
	}
	return &PairSet{Pairs: pairs, enc: e}, nil
}

// Evaluate implements Model: the mean test loss per target token (on
// forward-only machines) and the exact match and token accuracy of greedy
// decoding; all NaN for no pairs.
func (m *Seq2Seq) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	ps, ok := d.(*PairSet)
	if !ok {
		return nil, errors.Errorf("training: a Seq2Seq model evaluates a *PairSet, not a %T", d)
	}
	m.decoding.Lock()
	defer m.decoding.Unlock()
	e := &ps.enc
	n := len(e.Src)
	if n == 0 {
		return Metrics{MetricLoss: math.NaN(), MetricExactMatch: math.NaN(), MetricTokenAccuracy: math.NaN()}, nil
	}
	B := m.Cfg.EvalBatch
	if B <= 0 {
		B = m.Cfg.Batch
	}
	gen, err := m.generator()
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
		l, err := forward(m.batch(e, idx))
		if err != nil {
			return nil, err
		}
		w := 0
		srcs := make([][]int, len(idx))
		for k, i := range idx {
			w += e.TgtLen[i]
			srcs[k] = e.Src[i][:e.SrcLen[i]]
			refs = append(refs, e.TgtOut[i][:e.TgtLen[i]-1]) // without EOS
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

func encodeQuestion(v *data.Vocab, reverse bool, q string) ([]int, error) {
	e, err := data.EncodePairs([]data.Pair{{Question: q, Answer: "x"}}, v, reverse)
	if err != nil {
		return nil, errors.Wrap(err, "training: question")
	}
	return e.Src[0][:e.SrcLen[0]], nil
}

// Translate answers one question by greedy decoding. Like TranslateWith it
// is safe for concurrent use, but the calls take turns on the model's one
// generator; for decoding in parallel give each goroutine a Translator
// (NewTranslator).
func (m *Seq2Seq) Translate(q string) (string, error) {
	return first(m.TranslateWith(q, decode.Options{}, nil, 0))
}

// first returns the first answer of a TranslateWith.
func first(out []string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// TranslateWith answers a question by greedy decoding (so == nil and
// beam == 0), by sampling (so != nil) or by beam search (beam > 0, the
// best hypothesis). opt.MaxLen 0 means 4 × the question's length + 8; BOS
// and EOS are the vocabulary's.
//
// Calls of TranslateWith, Translate, Attention and Evaluate may come from
// several goroutines at once: they take turns (a mutex guards the model's
// generator). None may run at the same time as training or Restore, which
// change the parameters.
func (m *Seq2Seq) TranslateWith(q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	m.decoding.Lock()
	defer m.decoding.Unlock()
	gen, err := m.generator()
	if err != nil {
		return nil, err
	}
	return translate(gen, m.Vocab, m.Cfg.ReverseSource, q, opt, so, beam)
}

// translate is TranslateWith on a given generator.
func translate(gen *seq2seq.Generator, v *data.Vocab, reverse bool, q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	return translateWith(gen, func(src []int) (decode.State, error) { return gen.Encode([][]int{src}) }, v, reverse, q, opt, so, beam)
}

// translateWith answers q with any encoder–decoder: encode turns the
// question's ids into the decoder's first state, gen decodes from it
// (greedy, sampling or beam search, as [Seq2Seq.TranslateWith] says).
func translateWith(gen decode.Model, encode func(src []int) (decode.State, error), v *data.Vocab, reverse bool, q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	src, err := encodeQuestion(v, reverse, q)
	if err != nil {
		return nil, err
	}
	s0, err := encode(src)
	if err != nil {
		return nil, err
	}
	opt.BOS, opt.EOS = data.BOS, data.EOS
	if opt.MaxLen == 0 {
		opt.MaxLen = 4*len(src) + 8
	}
	var ids []int
	switch {
	case beam > 0:
		hs, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: beam})
		if err != nil {
			return nil, err
		}
		ids = hs[0][0].Tokens
	case so != nil:
		out, err := decode.Sample(gen, s0, opt, *so)
		if err != nil {
			return nil, err
		}
		ids = out[0]
	default:
		out, err := decode.Greedy(gen, s0, opt)
		if err != nil {
			return nil, err
		}
		ids = out[0]
	}
	return []string{v.Decode(ids, "")}, nil
}

// Attention decodes a pair's question greedily and returns the attention
// weights of each output token over the source tokens, with the source and
// output tokens as labels (nil weights unless the decoder attends).
func (m *Seq2Seq) Attention(p data.Pair) (weights [][]float64, src, out []string, err error) {
	m.decoding.Lock()
	defer m.decoding.Unlock()
	if m.Cfg.Model.Decoder != seq2seq.Attention {
		return nil, nil, nil, nil
	}
	ids, err := encodeQuestion(m.Vocab, m.Cfg.ReverseSource, p.Question)
	if err != nil {
		return nil, nil, nil, err
	}
	gen, err := m.generator()
	if err != nil {
		return nil, nil, nil, err
	}
	s0, err := gen.Encode([][]int{ids})
	if err != nil {
		return nil, nil, nil, err
	}
	var st decode.State = s0
	tok := data.BOS
	for step := 0; step < 4*len(ids)+8; step++ {
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
		weights = append(weights, append([]float64(nil), next.(*seq2seq.State).Attention[0]...))
		st, tok = next, best
	}
	for _, id := range ids {
		s, _ := m.Vocab.Token(id)
		src = append(src, s)
	}
	return weights, src, out, nil
}
