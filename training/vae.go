package training

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/vae"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/metrics"
)

// VAEKind is the kind (Description.Kind) of [VAE] models: the sentence VAE
// and, with no latent, the sentence language model.
const VAEKind = "vae"

// The metrics of [VAE] models (docs/models.md, "Metrics"), besides
// MetricLoss (= VAEMetricNLL) and MetricPerplexity.
const (
	// VAEMetricNLL is the negative ELBO per sentence in nats,
	// reconstruction + KL, the reconstruction averaged over the
	// evaluation's samples of z (for the language model: the exact NLL).
	VAEMetricNLL = "nll_per_sentence"
	// VAEMetricIWNLL is the importance-weighted bound on the NLL per
	// sentence (Burda et al. 2016) with VAEConfig.IWSamples samples:
	// −log 1/k Σ_i p(x, z_i)/q(z_i | x), tighter than the ELBO.
	VAEMetricIWNLL = "iw_nll_per_sentence"
	// VAEMetricKL is KL(q(z | x) ‖ N(0, I)) per sentence, in nats.
	VAEMetricKL = "kl_per_sentence"
	// VAEMetricRecon is the reconstruction cross-entropy per sentence.
	VAEMetricRecon = "recon_per_sentence"
	// VAEMetricActiveUnits counts the latent dimensions j whose posterior
	// mean varies over the data: Var_x(E_q[z_j]) > 0.01 (Burda et al.).
	VAEMetricActiveUnits = "active_units"
)

// VAEConfig is a sentence VAE's part of a run's settings.
type VAEConfig struct {
	Model vae.Config `json:"model"`
	// Batch is the number of sentences per batch; Pad rounds each batch's
	// length up to a multiple of it (sentences of like length are batched
	// together), so that few graphs serve every batch.
	Batch int `json:"batch"`
	Pad   int `json:"pad"`
	// WordDropout is the probability of replacing each word the decoder
	// reads by <unk> in training, in [0, 1].
	WordDropout float64 `json:"word_dropout"`
	// Anneal is the KL weight's schedule over the optimiser steps.
	Anneal vae.Anneal `json:"anneal"`
	// FreeBits is the floor λ of each latent dimension's batch-mean KL in
	// training, in nats (0: off).
	FreeBits float64 `json:"free_bits,omitempty"`
	// IWSamples is the number k of samples of z per sentence in evaluation
	// (the importance-weighted bound; the ELBO's reconstruction is their
	// mean), at least 1.
	IWSamples int `json:"iw_samples"`
}

func (c VAEConfig) vocabSize() int { return c.Model.Vocab }

// Validate checks the config.
func (c VAEConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.Batch < 1 || c.Pad < 1:
		return errors.Errorf("training: batch %d and pad %d must be positive", c.Batch, c.Pad)
	case !(c.WordDropout >= 0 && c.WordDropout <= 1):
		return errors.Errorf("training: word dropout %v outside [0, 1]", c.WordDropout)
	case !(c.FreeBits >= 0) || math.IsInf(c.FreeBits, 0):
		return errors.Errorf("training: free bits %v must be finite and not negative", c.FreeBits)
	case c.IWSamples < 1:
		return errors.Errorf("training: %d importance samples, want at least 1", c.IWSamples)
	}
	return c.Anneal.Validate()
}

// VAE is the [Model] of the sentence VAE (models/vae): batches of
// sentences of like length, shuffled each epoch; the KL weight β of each
// step from the annealing schedule, ε and word dropout drawn from the
// step's seed. Its metrics are the loss (the negative ELBO per sentence,
// which picks best.safetensors), VAEMetricNLL, VAEMetricIWNLL,
// VAEMetricKL, VAEMetricRecon, MetricPerplexity (of the importance-weighted
// bound, per token, </s> included) and VAEMetricActiveUnits.
type VAE struct {
	Cfg VAEConfig
	vocabNet

	train   [][]int
	evalEps [][]float64 // ε of the next evaluation run
	out     vaeOut      // what the last evaluation run read
}

// vaeOut is what an evaluation graph reads.
type vaeOut struct{ ce, kl, mu, lv []float64 }

// NewVAE returns the model of cfg over vocab (cfg.Model.Vocab is set from
// it) with its training sentences (token ids, without <s> and </s>);
// train may be empty for a model that only evaluates. An empty sentence
// or an id outside the vocabulary is an error naming the sentence.
func NewVAE(cfg VAEConfig, vocab *data.Vocab, train [][]int) (*VAE, error) {
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	m := &VAE{Cfg: cfg, vocabNet: n}
	if err := m.check(train); err != nil {
		return nil, errors.Wrap(err, "training: training sentences")
	}
	m.train = train
	return m, nil
}

func (m *VAE) check(sents [][]int) error {
	V := m.Cfg.Model.Vocab
	for i, s := range sents {
		if len(s) == 0 {
			return errors.Errorf("sentence %d is empty", i+1)
		}
		for j, id := range s {
			if id < 0 || id >= V {
				return errors.Errorf("sentence %d, word %d: id %d outside the vocabulary of %d", i+1, j+1, id, V)
			}
		}
	}
	return nil
}

// Describe implements Model.
func (m *VAE) Describe() Description {
	return Description{Kind: VAEKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricLoss, Metrics: []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: VAEMetricIWNLL, Label: "iw nll", Lower: true},
		{Name: VAEMetricKL, Label: "kl", Lower: false},
		{Name: VAEMetricRecon, Label: "recon", Lower: true},
		{Name: MetricPerplexity, Lower: true},
		{Name: VAEMetricActiveUnits, Label: "active units"},
		{Name: VAEMetricNLL, Lower: true},
	}}
}

// A checkpoint's model of this kind opens without training data.
func init() {
	openers[VAEKind] = opener(func(c VAEConfig, v *data.Vocab) (Model, error) { return NewVAE(c, v, nil) })
}

// Init implements Model.
func (m *VAE) Init(ps *graph.Params, src graph.Source) error {
	return m.keep(ps, m.Cfg.Model.Init(ps, src))
}

// vaeBatch is a batch of sentences padded to the graph's shape.
type vaeBatch struct {
	sents [][]int // the real sentences (fewer than Batch rows: the rest is padding)
	step  int     // the optimiser step it is trained at (annealing)
	shape Shape
	T     int
}

// Shape implements Batch: sentences × padded length.
func (b *vaeBatch) Shape() Shape { return b.shape }

// batches cuts sents (indices into all) into batches of size rows of like
// padded length, in order of length, then of the indices' order.
func (m *VAE) batches(all [][]int, idx []int, size int) []*vaeBatch {
	P := m.Cfg.Pad
	padded := func(i int) int { return (len(all[i]) + P - 1) / P * P }
	buckets := map[int][]int{}
	var lens []int
	for _, i := range idx {
		T := padded(i)
		if _, ok := buckets[T]; !ok {
			lens = append(lens, T)
		}
		buckets[T] = append(buckets[T], i)
	}
	sort.Ints(lens)
	var out []*vaeBatch
	for _, T := range lens {
		ids := buckets[T]
		for s := 0; s < len(ids); s += size {
			b := &vaeBatch{T: T, shape: Dims(size, T)}
			for _, i := range ids[s:min(s+size, len(ids))] {
				b.sents = append(b.sents, all[i])
			}
			out = append(out, b)
		}
	}
	return out
}

// Batches implements Model: the training sentences shuffled by src, cut
// into batches of like length, in an order shuffled by src. Every epoch
// has the same number of batches, so batch i of epoch e is step
// e·(batches) + i, which the annealing reads.
func (m *VAE) Batches(epoch int, src graph.Source) ([]Batch, error) {
	if len(m.train) == 0 {
		return nil, errors.New("training: a sentence VAE without training sentences")
	}
	bs := m.batches(m.train, src.Perm(len(m.train)), m.Cfg.Batch)
	order := src.Perm(len(bs))
	out := make([]Batch, len(bs))
	for i, j := range order {
		bs[j].step = epoch*len(bs) + i
		out[i] = bs[j]
	}
	return out, nil
}

// vaeGraph is the loss graph of a batch shape.
type vaeGraph struct {
	lossGraph
	m              *VAE
	t              *vae.TrainGraph
	ce, kl, mu, lv gorgonia.Value
}

// normals returns rows of n standard normal values drawn from src.
func vaeNormals(src graph.Source, rows, n int) [][]float64 {
	out := make([][]float64, rows)
	for r := range out {
		out[r] = make([]float64, n)
		for j := range out[r] {
			out[r][j] = src.NormFloat64()
		}
	}
	return out
}

// Set implements Graph: a training graph draws ε and the word dropout
// from seed and takes β from the schedule at the batch's step; an
// evaluation graph takes the model's evaluation ε, β = 1 and no dropout.
func (g *vaeGraph) Set(b Batch, seed uint64) error {
	vb, err := batchOf[*vaeBatch](b, VAEKind)
	if err != nil {
		return err
	}
	c := g.m.Cfg
	in := vae.Inputs{Beta: 1}
	if g.train {
		src := graph.NewSource(seed)
		if c.Model.Latent > 0 {
			in.Eps = vaeNormals(src, g.t.B, c.Model.Latent)
		}
		in.DecoderInput = vae.WordDropout(vb.sents, c.WordDropout, src)
		in.Beta = c.Anneal.Beta(vb.step)
	} else if c.Model.Latent > 0 {
		in.Eps = g.m.evalEps
	}
	return g.t.Set(vb.sents, in)
}

// After implements Graph: an evaluation graph hands what it read to the
// model.
func (g *vaeGraph) After() error {
	if g.train {
		return nil
	}
	var err error
	o := &g.m.out
	if o.ce, err = graph.ValueFloat64s(g.ce); err != nil {
		return err
	}
	if g.kl == nil {
		return nil
	}
	for _, x := range []struct {
		v   gorgonia.Value
		dst *[]float64
	}{{g.kl, &o.kl}, {g.mu, &o.mu}, {g.lv, &o.lv}} {
		if *x.dst, err = graph.ValueFloat64s(x.v); err != nil {
			return err
		}
	}
	return nil
}

// Build implements Model: the graph of the batch's shape (free bits in
// training only).
func (m *VAE) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	vb, err := batchOf[*vaeBatch](b, VAEKind)
	if err != nil {
		return nil, err
	}
	var o vae.Options
	if train {
		o.FreeBits = m.Cfg.FreeBits
	}
	t, err := vae.BuildTrainGraph(g, m.Cfg.Model, m.Cfg.Batch, vb.T, o)
	if err != nil {
		return nil, err
	}
	out := &vaeGraph{lossGraph: lossGraph{loss: t.Loss, train: train}, m: m, t: t}
	if !train {
		gorgonia.Read(t.CE, &out.ce)
		if t.KL != nil {
			gorgonia.Read(t.KL, &out.kl)
			gorgonia.Read(t.Mu, &out.mu)
			gorgonia.Read(t.LogVar, &out.lv)
		}
	}
	return out, nil
}

// SentenceSet is a sentence model's evaluation data ([VAE.Sentences]).
type SentenceSet struct {
	batches []*vaeBatch
	n       int
	tokens  int // predicted tokens: words and </s>
}

// Examples implements Dataset: the number of sentences.
func (s *SentenceSet) Examples() int { return s.n }

// Sentences returns sentences (token ids without <s> and </s>, none
// empty) as the model's evaluation data.
func (m *VAE) Sentences(sents [][]int) (*SentenceSet, error) {
	if len(sents) == 0 {
		return nil, errors.New("training: no sentences to evaluate")
	}
	if err := m.check(sents); err != nil {
		return nil, err
	}
	idx := make([]int, len(sents))
	s := &SentenceSet{n: len(sents)}
	for i, x := range sents {
		idx[i] = i
		s.tokens += len(x) + 1
	}
	s.batches = m.batches(sents, idx, m.Cfg.Batch)
	return s, nil
}

// vaeEvalSeed seeds the evaluation's ε: the same numbers on every call.
const vaeEvalSeed = 0x5eed_0fe1

// Evaluate implements Model: each batch forward IWSamples times, each with
// its own ε (the same on every call), and the metrics over the sentences.
func (m *VAE) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	s, ok := d.(*SentenceSet)
	if !ok {
		return nil, errors.Errorf("training: a sentence VAE evaluates a *SentenceSet, not a %T", d)
	}
	Z, B := m.Cfg.Model.Latent, m.Cfg.Batch
	K := 1
	if Z > 0 {
		K = m.Cfg.IWSamples
	}
	src := graph.NewSource(vaeEvalSeed)
	var elbo, iw, kls, recs float64
	var mus [][]float64
	log2pi := math.Log(2 * math.Pi)
	for _, b := range s.batches {
		n := len(b.sents)
		logw := make([][]float64, n)
		rec := make([]float64, n)
		kl := make([]float64, n)
		for range K {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if Z > 0 {
				m.evalEps = vaeNormals(src, B, Z)
			}
			m.out = vaeOut{}
			if _, err := forward(b); err != nil {
				return nil, err
			}
			o := m.out
			if len(o.ce) != (b.T+1)*B || Z > 0 && (len(o.kl) != B*Z || len(o.mu) != B*Z || len(o.lv) != B*Z) {
				return nil, errors.Errorf("training: an evaluation run read %d cross-entropies and %d KLs for %d×%d", len(o.ce), len(o.kl), B, b.T)
			}
			for i, x := range b.sents {
				r := 0.0
				for t := 0; t <= len(x); t++ {
					r += o.ce[t*B+i] * float64(n) // weighted 1/n in the graph
				}
				rec[i] += r
				if Z == 0 {
					continue
				}
				lw, k := -r, 0.0
				for j := range Z {
					mu, lv, e := o.mu[i*Z+j], o.lv[i*Z+j], m.evalEps[i][j]
					z := mu + math.Exp(lv/2)*e
					lw += -0.5*(z*z+log2pi) + 0.5*(e*e+lv+log2pi) // log p(z) − log q(z | x)
					k += o.kl[i*Z+j]
				}
				logw[i] = append(logw[i], lw)
				kl[i] = k
			}
		}
		for i := range b.sents {
			r := rec[i] / float64(K)
			recs += r
			kls += kl[i]
			elbo += r + kl[i]
			if Z == 0 {
				iw += r
				continue
			}
			iw += -(vaeLogSumExp(logw[i]) - math.Log(float64(K)))
			mus = append(mus, append([]float64(nil), m.out.mu[i*Z:(i+1)*Z]...))
		}
	}
	N := float64(s.n)
	return Metrics{
		MetricLoss: elbo / N, VAEMetricNLL: elbo / N, VAEMetricIWNLL: iw / N, VAEMetricKL: kls / N, VAEMetricRecon: recs / N,
		MetricPerplexity:     metrics.Perplexity(iw / float64(s.tokens)),
		VAEMetricActiveUnits: float64(vaeActiveUnits(mus, 0.01)),
	}, nil
}

func vaeLogSumExp(x []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}

// activeUnits counts the columns of mus whose variance over the rows
// exceeds threshold.
func vaeActiveUnits(mus [][]float64, threshold float64) int {
	if len(mus) == 0 {
		return 0
	}
	n := 0
	for j := range mus[0] {
		mean := 0.0
		for _, r := range mus {
			mean += r[j]
		}
		mean /= float64(len(mus))
		v := 0.0
		for _, r := range mus {
			v += (r[j] - mean) * (r[j] - mean)
		}
		if v/float64(len(mus)) > threshold {
			n++
		}
	}
	return n
}

// VAEMaxLen is the longest sentence sampling generates by default.
const VAEMaxLen = 50

// generator returns the model's decoder, and an error before training.
func (m *VAE) generator() (*vae.Generator, error) {
	if m.ps == nil {
		return nil, errors.New("training: a sentence model without parameters (no Trainer made them)")
	}
	return vae.NewGenerator(m.ps, m.Cfg.Model)
}

// VAEGenOptions are the settings of a sentence model's decoding.
type VAEGenOptions struct {
	// MaxLen is the most tokens a sentence takes (</s> included).
	MaxLen int
	// Sample samples with these settings; nil decodes greedily.
	Sample *decode.SampleOptions
	// NoUNK never generates <unk> (its logit is set to −∞): with a small
	// vocabulary <unk> is the most frequent token, and greedy decoding
	// repeats it.
	NoUNK bool
}

// vaeNoUNK is a decode.Model that never scores <unk>.
type vaeNoUNK struct{ decode.Model }

// Step implements decode.Model.
func (m vaeNoUNK) Step(s decode.State, tokens []int) ([][]float64, decode.State, error) {
	logits, next, err := m.Model.Step(s, tokens)
	for _, row := range logits {
		if len(row) > data.UNK {
			row[data.UNK] = math.Inf(-1)
		}
	}
	return logits, next, err
}

// decodeCodes decodes a sentence from each code.
func (m *VAE) decodeCodes(z [][]float64, o VAEGenOptions) ([]string, error) {
	if o.MaxLen < 1 {
		return nil, errors.Errorf("training: sentences of at most %d tokens", o.MaxLen)
	}
	gen, err := m.generator()
	if err != nil {
		return nil, err
	}
	defer gen.Close()
	st, err := gen.Start(z)
	if err != nil {
		return nil, err
	}
	var dm decode.Model = gen
	if o.NoUNK {
		dm = vaeNoUNK{gen}
	}
	opt := decode.Options{BOS: data.BOS, EOS: data.EOS, MaxLen: o.MaxLen}
	var out [][]int
	if o.Sample != nil {
		out, err = decode.Sample(dm, st, opt, *o.Sample)
	} else {
		out, err = decode.Greedy(dm, st, opt)
	}
	if err != nil {
		return nil, err
	}
	s := make([]string, len(out))
	for i, ids := range out {
		s[i] = m.Vocab.Decode(ids, " ")
	}
	return s, nil
}

// SamplePrior decodes n sentences from codes drawn from the prior N(0, I)
// by src (for the language model: n sentences from its start state).
func (m *VAE) SamplePrior(n int, o VAEGenOptions, src graph.Source) ([]string, error) {
	if n < 1 {
		return nil, errors.Errorf("training: %d sentences to sample", n)
	}
	return m.decodeCodes(vaeNormals(src, n, m.Cfg.Model.Latent), o)
}

// encodeText returns the posterior means of texts (whitespace-separated
// words; unknown words are <unk>).
func (m *VAE) encodeText(texts ...string) ([][]float64, error) {
	if m.Cfg.Model.Latent == 0 {
		return nil, errors.New("training: a sentence language model has no latent code (a sentence-vae checkpoint has)")
	}
	if m.ps == nil {
		return nil, errors.New("training: a sentence model without parameters (no Trainer made them)")
	}
	sents := make([][]int, len(texts))
	for i, t := range texts {
		if sents[i] = m.Vocab.EncodeWords(t); len(sents[i]) == 0 {
			return nil, errors.Errorf("training: sentence %d %q has no words", i+1, strings.TrimSpace(t))
		}
	}
	mu, _, err := vae.Encode(m.ps, m.Cfg.Model, sents)
	return mu, err
}

// Reconstruct encodes text and decodes the posterior mean.
func (m *VAE) Reconstruct(text string, o VAEGenOptions) (string, error) {
	mu, err := m.encodeText(text)
	if err != nil {
		return "", err
	}
	out, err := m.decodeCodes(mu, o)
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// Interpolate decodes steps codes on the line between the posterior means
// of a and b, both ends included.
func (m *VAE) Interpolate(a, b string, steps int, o VAEGenOptions) ([]string, error) {
	mu, err := m.encodeText(a, b)
	if err != nil {
		return nil, err
	}
	zs, err := vae.Interpolate(mu[0], mu[1], steps)
	if err != nil {
		return nil, err
	}
	return m.decodeCodes(zs, o)
}
