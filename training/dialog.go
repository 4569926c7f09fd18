package training

import (
	"context"
	"math"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/hred"
	"github.com/rnnkit/rnnkit/models/hred/dialog"
	"github.com/rnnkit/rnnkit/training/data"
)

// DialogKind is the kind (Description.Kind) of [Dialog] models.
const DialogKind = "dialog"

// The metrics of [Dialog] models (docs/models.md, "Metrics"), besides
// MetricLoss, MetricPerplexity and MetricExactMatch.
const (
	// MetricNLLPerSentence is the negative log-likelihood of a reply (its
	// tokens and end token) in nats, averaged over replies; for VHRED the
	// negative ELBO (reconstruction + KL), an upper bound.
	MetricNLLPerSentence = "nll_per_sentence"
	// MetricKLPerSentence is VHRED's KL(q(z | context, reply) ‖ p(z |
	// context)) in nats, averaged over replies.
	MetricKLPerSentence = "kl_per_sentence"
	// MetricIWNLLPerSentence is VHRED's importance-weighted bound on the
	// NLL of a reply (Burda et al. 2016) with DialogConfig.IWSamples
	// samples of z, averaged over replies: tighter than the ELBO's, and
	// still an upper bound.
	MetricIWNLLPerSentence = "iw_nll_per_sentence"
	// MetricIWPerplexity is the perplexity per reply token of
	// MetricIWNLLPerSentence.
	MetricIWPerplexity = "iw_perplexity"
)

// DialogConfig is a dialogue model's part of a run's settings.
type DialogConfig struct {
	// Model is the network; its Vocab and special ids are set from the
	// vocabulary.
	Model hred.Config `json:"model"`
	// Batch is the number of replies per training batch.
	Batch int `json:"batch"`
	// BucketWidth rounds a batch's sizes (utterances, tokens) up to a
	// multiple of it, so few graphs serve an epoch.
	BucketWidth int `json:"bucket_width"`
	// MaxContext is the most utterances before a reply the model reads
	// (the latest ones; 0: all).
	MaxContext int `json:"max_context"`
	// MaxLen cuts utterances and replies to their first MaxLen tokens (0:
	// no limit).
	MaxLen int `json:"max_len"`
	// LastOnly makes each dialogue's last utterance its only reply (the
	// synthetic task); otherwise every utterance but the first is a reply.
	LastOnly bool `json:"last_only,omitempty"`
	// WordDropout is the probability of replacing each decoder input
	// token (but the first) by UNK in training.
	WordDropout float64 `json:"word_dropout,omitempty"`
	// KLAnneal is the number of training steps over which the KL weight β
	// rises linearly from 0 to 1 (0: β = 1 throughout).
	KLAnneal int `json:"kl_anneal,omitempty"`
	// ExactMatch makes Evaluate decode every reply greedily and report
	// MetricExactMatch.
	ExactMatch bool `json:"exact_match,omitempty"`
	// EvalBatch is the number of replies per evaluation batch (0: Batch).
	EvalBatch int `json:"eval_batch,omitempty"`
	// IWSamples is the number k of samples of z per reply with which
	// Evaluate also reports VHRED's importance-weighted bound
	// (MetricIWNLLPerSentence, MetricIWPerplexity), k more forward passes
	// over the data; 0: not reported.
	IWSamples int `json:"iw_samples,omitempty"`
}

func (c DialogConfig) vocabSize() int { return c.Model.Vocab }

// Validate checks the config.
func (c DialogConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	switch {
	case c.Batch < 1 || c.BucketWidth < 1:
		return errors.Errorf("training: batch %d and bucket width %d must be positive", c.Batch, c.BucketWidth)
	case c.MaxContext < 0 || c.MaxLen < 0 || c.KLAnneal < 0 || c.EvalBatch < 0:
		return errors.Errorf("training: max context %d, max length %d, KL annealing %d and eval batch %d must not be negative", c.MaxContext, c.MaxLen, c.KLAnneal, c.EvalBatch)
	case !(c.WordDropout >= 0 && c.WordDropout < 1):
		return errors.Errorf("training: word dropout %v outside [0, 1)", c.WordDropout)
	case c.IWSamples < 0 || c.IWSamples > MaxIWSamples:
		return errors.Errorf("training: %d importance samples, want 0 to %d", c.IWSamples, MaxIWSamples)
	case c.IWSamples > 0 && c.Model.Kind != hred.VHRED:
		return errors.Errorf("training: importance samples apply only to vhred, not %s", c.Model.Kind)
	}
	return nil
}

// MaxIWSamples bounds DialogConfig.IWSamples.
const MaxIWSamples = 10_000

// Dialog is the [Model] of replies in dialogues (models/hred): the flat
// Seq2Seq baseline, HRED or VHRED, trained on each reply given the
// utterances before it, with teacher forcing. Its batches are bucketed by
// size and shuffled each epoch. Its metrics are the loss (per reply
// token), the perplexity, the NLL per sentence, for VHRED the KL per
// sentence, and with Cfg.ExactMatch the fraction of greedy replies equal to
// the reference. Once a Trainer made its parameters it also replies
// ([Dialog.Reply]).
type Dialog struct {
	Cfg DialogConfig
	vocabNet

	train    []hred.Example
	nll, kl  float64   // what an evaluation graph's After read
	evalEps  []float64 // ε an evaluation graph sets (IW samples; nil: the seed's)
	out      dialogOut // what it read for the IW bound
	gen      *hred.Generator
	decoding sync.Mutex // guards gen
}

// NewDialog returns the model of cfg over vocab (cfg.Model's Vocab and
// special ids are set from it) with the replies of the training dialogues;
// train may be empty for a model that only evaluates.
func NewDialog(cfg DialogConfig, vocab *data.Vocab, train []dialog.Dialogue) (*Dialog, error) {
	cfg.Model.BOS, cfg.Model.EOS, cfg.Model.UNK = data.BOS, data.EOS, data.UNK
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	m := &Dialog{Cfg: cfg, vocabNet: n}
	if m.train, err = m.Examples(train); err != nil {
		return nil, errors.Wrap(err, "training: training dialogues")
	}
	return m, nil
}

// encode returns the token ids of an utterance, cut to Cfg.MaxLen.
func (m *Dialog) encode(u string) []int {
	ids := m.Vocab.EncodeWords(u)
	if m.Cfg.MaxLen > 0 && len(ids) > m.Cfg.MaxLen {
		ids = ids[:m.Cfg.MaxLen]
	}
	return ids
}

// context returns the encoded utterances the model reads before a reply.
func (m *Dialog) context(turns []string) [][]int {
	if m.Cfg.MaxContext > 0 && len(turns) > m.Cfg.MaxContext {
		turns = turns[len(turns)-m.Cfg.MaxContext:]
	}
	out := make([][]int, len(turns))
	for i, u := range turns {
		out[i] = m.encode(u)
	}
	return out
}

// Examples returns the replies of ds with their contexts: every utterance
// but the first (only the last with Cfg.LastOnly). A dialogue of fewer
// than two utterances, or an empty utterance, is an error naming it.
func (m *Dialog) Examples(ds []dialog.Dialogue) ([]hred.Example, error) {
	var out []hred.Example
	for i, d := range ds {
		if len(d) < 2 {
			return nil, errors.Errorf("dialogue %d has %d utterances, need at least 2", i+1, len(d))
		}
		for j, u := range d {
			if len(strings.Fields(u)) == 0 {
				return nil, errors.Errorf("dialogue %d utterance %d is empty", i+1, j+1)
			}
		}
		first := 1
		if m.Cfg.LastOnly {
			first = len(d) - 1
		}
		for j := first; j < len(d); j++ {
			out = append(out, hred.Example{Context: m.context(d[:j]), Reply: m.encode(d[j])})
		}
	}
	return out, nil
}

// Describe implements Model.
func (m *Dialog) Describe() Description {
	ms := []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricPerplexity, Lower: true},
		{Name: MetricNLLPerSentence, Label: "NLL/sentence", Lower: true},
	}
	if m.Cfg.Model.Kind == hred.VHRED {
		ms = append(ms, Metric{Name: MetricKLPerSentence, Label: "KL/sentence"})
	}
	if m.Cfg.IWSamples > 0 {
		ms = append(ms, Metric{Name: MetricIWNLLPerSentence, Label: "IW NLL/sentence", Lower: true},
			Metric{Name: MetricIWPerplexity, Label: "IW perplexity", Lower: true})
	}
	best := MetricPerplexity
	if m.Cfg.ExactMatch {
		ms = append(ms, Metric{Name: MetricExactMatch, Percent: true})
		best = MetricExactMatch
	}
	return Description{Kind: DialogKind, Config: m.Cfg, Vocab: m.Vocab, Metrics: ms, Best: best}
}

// A checkpoint's model of this kind opens without training data.
func init() {
	openers[DialogKind] = opener(func(c DialogConfig, v *data.Vocab) (Model, error) { return NewDialog(c, v, nil) })
}

// Init implements Model: the parameters of Cfg.Model.
func (m *Dialog) Init(ps *graph.Params, src graph.Source) error {
	return m.keep(ps, m.Cfg.Model.Init(ps, src))
}

// Close releases the generator's compiled graphs.
func (m *Dialog) Close() error {
	if m.gen == nil {
		return nil
	}
	return m.gen.Close()
}

// dialogBatch is a batch of replies.
type dialogBatch struct {
	ex   []hred.Example
	idx  []int // the examples' indices in the list cut into batches
	dims hred.Dims
	step int // the training step it is trained at (for β); −1 in evaluation
}

// Shape implements Batch.
func (b *dialogBatch) Shape() Shape { return Dims(b.dims.B, b.dims.N, b.dims.Tu, b.dims.Tr) }

// batches cuts examples into batches of size, bucketed by their rounded
// sizes and shuffled by src (in order when src is nil).
func (m *Dialog) batches(ex []hred.Example, size int, src graph.Source) []*dialogBatch {
	w := m.Cfg.BucketWidth
	var order [][]int
	if src == nil {
		for s := 0; s < len(ex); s += size {
			var idx []int
			for i := s; i < min(s+size, len(ex)); i++ {
				idx = append(idx, i)
			}
			order = append(order, idx)
		}
	} else {
		keys := make([]int, len(ex))
		for i, e := range ex {
			d := hred.DimsOf(m.Cfg.Model.Kind, []hred.Example{e}, w)
			keys[i] = d.N*1_000_000 + max(d.Tu, d.Tr)
		}
		order = data.Buckets(keys, size, 1, src)
	}
	out := make([]*dialogBatch, len(order))
	for i, idx := range order {
		b := &dialogBatch{step: -1, idx: idx}
		for _, j := range idx {
			b.ex = append(b.ex, ex[j])
		}
		b.dims = hred.DimsOf(m.Cfg.Model.Kind, b.ex, w)
		out[i] = b
	}
	return out
}

// Batches implements Model.
func (m *Dialog) Batches(epoch int, src graph.Source) ([]Batch, error) {
	if len(m.train) == 0 {
		return nil, errors.New("training: a dialogue model without training replies")
	}
	bs := m.batches(m.train, m.Cfg.Batch, src)
	out := make([]Batch, len(bs))
	for i, b := range bs {
		b.step = epoch*len(bs) + i
		out[i] = b
	}
	return out, nil
}

// beta is the KL weight at a training step.
func (m *Dialog) beta(step int) float64 {
	if m.Cfg.KLAnneal == 0 || step < 0 {
		return 1
	}
	return min(1, float64(step+1)/float64(m.Cfg.KLAnneal))
}

// dialogGraph is a dialogue model's loss graph.
type dialogGraph struct {
	lossGraph
	m       *Dialog
	t       *hred.TrainGraph
	nll, kl gorgonia.Value // evaluation graphs
	// An evaluation graph's reads for the IW bound (VHRED).
	tokNLL, muQ, lvQ, muP, lvP gorgonia.Value
	tokens                     int
}

// dialogOut is what an evaluation graph read for the IW bound: each reply
// token's weighted cross-entropy ([Tr·B] time-major), the posterior's and
// the prior's Gaussians and ε ([B·Latent]).
type dialogOut struct {
	tokNLL, muQ, lvQ, muP, lvP, eps []float64
	tokens                          int
}

// Set implements Graph.
func (g *dialogGraph) Set(b Batch, seed uint64) error {
	db, err := setUp[*dialogBatch](&g.lossGraph, b, DialogKind, seed)
	if err != nil {
		return err
	}
	opt := hred.SetOptions{Beta: 1, Source: graph.NewSource(seed)}
	if g.train {
		opt.Beta, opt.WordDropout = g.m.beta(db.step), g.m.Cfg.WordDropout
	}
	if g.tokens, err = g.t.Set(db.ex, opt); err != nil {
		return err
	}
	if !g.train && g.m.evalEps != nil {
		return graph.Set(g.t.Eps, g.m.evalEps)
	}
	return nil
}

// After implements Graph: an evaluation graph hands the batch's NLL and
// KL sums to the model.
func (g *dialogGraph) After() error {
	if g.train {
		return nil
	}
	nll, err := graph.ValueFloat64s(g.nll)
	if err != nil {
		return err
	}
	g.m.nll, g.m.kl = nll[0]*float64(g.tokens), 0
	if g.kl != nil {
		kl, err := graph.ValueFloat64s(g.kl)
		if err != nil {
			return err
		}
		g.m.kl = kl[0]
	}
	if g.m.evalEps == nil || g.tokNLL == nil {
		return nil
	}
	o := dialogOut{eps: g.m.evalEps, tokens: g.tokens}
	for _, r := range []struct {
		v   gorgonia.Value
		out *[]float64
	}{{g.tokNLL, &o.tokNLL}, {g.muQ, &o.muQ}, {g.lvQ, &o.lvQ}, {g.muP, &o.muP}, {g.lvP, &o.lvP}} {
		if *r.out, err = graph.ValueFloat64s(r.v); err != nil {
			return err
		}
	}
	g.m.out = o
	return nil
}

// Build implements Model.
func (m *Dialog) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	db, err := batchOf[*dialogBatch](b, DialogKind)
	if err != nil {
		return nil, err
	}
	tg, err := hred.BuildTrainGraph(g, m.Cfg.Model, db.dims)
	if err != nil {
		return nil, err
	}
	out := &dialogGraph{lossGraph: lossGraph{loss: tg.Loss, train: train}, m: m, t: tg}
	if !train {
		gorgonia.Read(tg.NLL, &out.nll)
		if tg.KL != nil {
			gorgonia.Read(tg.KL, &out.kl)
		}
		if m.Cfg.IWSamples > 0 && tg.KL != nil {
			gorgonia.Read(tg.TokenNLL, &out.tokNLL)
			gorgonia.Read(tg.MuQ, &out.muQ)
			gorgonia.Read(tg.LogvarQ, &out.lvQ)
			gorgonia.Read(tg.MuP, &out.muP)
			gorgonia.Read(tg.LogvarP, &out.lvP)
		}
	}
	return out, nil
}

// DialogSet is a dialogue model's evaluation data: the replies of
// dialogues, with their contexts.
type DialogSet struct {
	Dialogues []dialog.Dialogue
	examples  []hred.Example
	batches   []*dialogBatch
}

// Examples implements Dataset: the number of replies.
func (s *DialogSet) Examples() int { return len(s.examples) }

// Dialogues returns ds as the model's evaluation data.
func (m *Dialog) Dialogues(ds []dialog.Dialogue) (*DialogSet, error) {
	ex, err := m.Examples(ds)
	if err != nil {
		return nil, err
	}
	if len(ex) == 0 {
		return nil, errors.New("training: no dialogues to evaluate")
	}
	eb := m.Cfg.EvalBatch
	if eb == 0 {
		eb = m.Cfg.Batch
	}
	return &DialogSet{Dialogues: ds, examples: ex, batches: m.batches(ex, eb, nil)}, nil
}

// Evaluate implements Model: the loss and perplexity per reply token, the
// NLL (and KL) per reply, and with Cfg.ExactMatch the greedy replies' exact
// match. For VHRED the loss is the negative ELBO with ε drawn from the
// evaluation seed (β = 1), so its perplexity is an upper bound.
func (m *Dialog) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	s, ok := d.(*DialogSet)
	if !ok {
		return nil, errors.Errorf("training: a dialogue model evaluates a *DialogSet, not a %T", d)
	}
	var nll, kl float64
	tokens := 0
	for _, b := range s.batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := forward(b); err != nil {
			return nil, err
		}
		nll += m.nll
		kl += m.kl
		for _, e := range b.ex {
			tokens += len(e.Reply) + 1
		}
	}
	n := float64(len(s.examples))
	loss := (nll + kl) / float64(tokens)
	ms := Metrics{MetricLoss: loss, MetricPerplexity: math.Exp(loss), MetricNLLPerSentence: (nll + kl) / n}
	if m.Cfg.Model.Kind == hred.VHRED {
		ms[MetricKLPerSentence] = kl / n
	}
	if m.Cfg.IWSamples > 0 && m.Cfg.Model.Kind == hred.VHRED {
		iw, err := m.iwBound(ctx, s, forward)
		if err != nil {
			return nil, err
		}
		ms[MetricIWNLLPerSentence], ms[MetricIWPerplexity] = iw/n, math.Exp(iw/float64(tokens))
	}
	if m.Cfg.ExactMatch {
		em, err := m.exactMatch(ctx, s)
		if err != nil {
			return nil, err
		}
		ms[MetricExactMatch] = em
	}
	return ms, nil
}

// dialogIWSeed seeds the ε of the importance-weighted bound: the same
// numbers on every call.
const dialogIWSeed = 0x1dea_5eed

// iwBound returns VHRED's importance-weighted bound on the NLL of s's
// replies, summed: for each reply −log (1/k) Σᵢ p(x | zᵢ, c) p(zᵢ | c) /
// q(zᵢ | x, c), zᵢ drawn from the posterior q, k = Cfg.IWSamples forward
// passes over every batch.
func (m *Dialog) iwBound(ctx context.Context, s *DialogSet, forward Forward) (float64, error) {
	K := m.Cfg.IWSamples
	logw, err := m.iwLogWeights(ctx, s, forward, K)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, lw := range logw {
		total -= vaeLogSumExp(lw) - math.Log(float64(K))
	}
	return total, nil
}

// iwLogWeights returns, for each reply of s in batch order, K samples of
// log p(x | z, c) + log p(z | c) − log q(z | x, c) with z drawn from q.
func (m *Dialog) iwLogWeights(ctx context.Context, s *DialogSet, forward Forward, K int) ([][]float64, error) {
	defer func() { m.evalEps, m.out = nil, dialogOut{} }()
	Z := m.Cfg.Model.Latent
	src := graph.NewSource(dialogIWSeed)
	log2pi := math.Log(2 * math.Pi)
	var all [][]float64
	for _, b := range s.batches {
		B, n := b.dims.B, len(b.ex)
		logw := make([][]float64, n)
		for range K {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			eps := make([]float64, B*Z)
			for i := range eps {
				eps[i] = src.NormFloat64()
			}
			m.evalEps, m.out = eps, dialogOut{}
			if _, err := forward(b); err != nil {
				return nil, err
			}
			o := m.out
			if len(o.tokNLL) != b.dims.Tr*B || len(o.muQ) != B*Z || len(o.lvQ) != B*Z || len(o.muP) != B*Z || len(o.lvP) != B*Z {
				return nil, errors.Errorf("training: an evaluation run read %d cross-entropies and %d posterior means for %d replies of %d tokens, latent %d",
					len(o.tokNLL), len(o.muQ), B, b.dims.Tr, Z)
			}
			for i, e := range b.ex {
				lw := 0.0
				for t := 0; t <= len(e.Reply); t++ {
					lw -= o.tokNLL[t*B+i] * float64(o.tokens) // weighted 1/tokens in the graph
				}
				for j := range Z {
					k := i*Z + j
					ej := eps[k]
					z := o.muQ[k] + math.Exp(o.lvQ[k]/2)*ej
					d := z - o.muP[k]
					lw += -0.5*(log2pi+o.lvP[k]+d*d*math.Exp(-o.lvP[k])) + 0.5*(log2pi+o.lvQ[k]+ej*ej) // log p(z | c) − log q(z | x, c)
				}
				logw[i] = append(logw[i], lw)
			}
		}
		all = append(all, logw...)
	}
	return all, nil
}

// generator returns the model's generator, made on first use.
func (m *Dialog) generator() (*hred.Generator, error) {
	if m.gen != nil {
		return m.gen, nil
	}
	if m.ps == nil {
		return nil, errors.New("training: a dialogue model without parameters (no Trainer made them)")
	}
	gen, err := hred.NewGenerator(m.ps, m.Cfg.Model)
	if err != nil {
		return nil, err
	}
	m.gen = gen
	return gen, nil
}

// exactMatch decodes every reply of s greedily (z the prior's mean) and
// returns the fraction equal to the reference (as cut to MaxLen).
func (m *Dialog) exactMatch(ctx context.Context, s *DialogSet) (float64, error) {
	m.decoding.Lock()
	defer m.decoding.Unlock()
	gen, err := m.generator()
	if err != nil {
		return 0, err
	}
	right := 0
	for _, b := range s.batches {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		ctxs := make([][][]int, len(b.ex))
		maxLen := 0
		for i, e := range b.ex {
			ctxs[i] = e.Context
			maxLen = max(maxLen, len(e.Reply)+1)
		}
		s0, err := gen.Encode(ctxs, nil)
		if err != nil {
			return 0, err
		}
		out, err := decode.Greedy(gen, s0, decode.Options{BOS: data.BOS, EOS: data.EOS, MaxLen: maxLen})
		if err != nil {
			return 0, err
		}
		for i, e := range b.ex {
			if equalInts(out[i], e.Reply) {
				right++
			}
		}
	}
	return float64(right) / float64(len(s.examples)), nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ReplyOptions are how [Dialog.Reply] decodes.
type ReplyOptions struct {
	// Decode's MaxLen bounds the reply (0: 40 tokens); BOS and EOS are
	// the vocabulary's.
	Decode decode.Options
	// Sample, when not nil, samples the reply's tokens.
	Sample *decode.SampleOptions
	// Beam > 0 searches with that width (the best hypothesis).
	Beam int
	// Z, for VHRED, is ε for the prior's z = μp + σp ⊙ ε (nil: zeros,
	// the prior's mean).
	Z []float64
}

// Reply answers the last utterance of history (the dialogue so far,
// oldest first; at least one utterance, the model reads the last
// Cfg.MaxContext) greedily, by sampling or by beam search. Words outside
// the vocabulary are read as UNK. Calls take turns on the model's one
// generator; none may run while training changes the parameters.
func (m *Dialog) Reply(history []string, opt ReplyOptions) (string, error) {
	if len(history) == 0 {
		return "", errors.New("training: no utterance to reply to")
	}
	for i, u := range history {
		if len(strings.Fields(u)) == 0 {
			return "", errors.Errorf("training: utterance %d is empty", i+1)
		}
	}
	m.decoding.Lock()
	defer m.decoding.Unlock()
	gen, err := m.generator()
	if err != nil {
		return "", err
	}
	var eps [][]float64
	if opt.Z != nil {
		eps = [][]float64{opt.Z}
	}
	s0, err := gen.Encode([][][]int{m.context(history)}, eps)
	if err != nil {
		return "", err
	}
	o := opt.Decode
	o.BOS, o.EOS = data.BOS, data.EOS
	if o.MaxLen == 0 {
		o.MaxLen = 40
	}
	var ids []int
	switch {
	case opt.Beam > 0:
		hs, err := decode.Beam(gen, s0, o, decode.BeamOptions{Width: opt.Beam})
		if err != nil {
			return "", err
		}
		ids = hs[0][0].Tokens
	case opt.Sample != nil:
		out, err := decode.Sample(gen, s0, o, *opt.Sample)
		if err != nil {
			return "", err
		}
		ids = out[0]
	default:
		out, err := decode.Greedy(gen, s0, o)
		if err != nil {
			return "", err
		}
		ids = out[0]
	}
	return m.Vocab.Decode(ids, " "), nil
}
