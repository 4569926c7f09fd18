package training

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/mlm"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training/data"
)

// MLMKind is the kind (Description.Kind) of [MLM] models.
const MLMKind = "mlm"

// The metrics of [MLM] models (docs/models.md, "Metrics"), besides
// MetricLoss (for an MLM the mean cross-entropy, in nats, of the selected
// tokens).
const (
	// MetricMaskedAccuracy is the fraction of the selected tokens (those
	// replaced by [MASK], by a random word, or kept) whose original the
	// model ranks first.
	MetricMaskedAccuracy = "masked_accuracy"
	// MetricMaskedPerplexity is exp(MetricLoss): the perplexity of the
	// selected tokens.
	MetricMaskedPerplexity = "masked_perplexity"
)

// MaskToken is the [MASK] token; in an MLM vocabulary ([MLMVocab]) it
// has the id MaskID, right after data's special tokens, and the ordinary
// words follow it.
const (
	MaskToken = "[MASK]"
	MaskID    = data.NumSpecial
)

// MLMConfig is a masked language model's part of a run's settings.
type MLMConfig struct {
	// Model is the network; Model.MaxLen is also the longest sequence:
	// longer lines are cut into pieces of at most that many tokens.
	Model   mlm.Config  `json:"model"`
	Masking mlm.Masking `json:"masking"`
	Batch   int         `json:"batch"` // sequences per batch
	// BucketWidth rounds a batch's length up to a multiple of it (at most
	// Model.MaxLen), so that ⌈MaxLen/BucketWidth⌉ graphs serve every batch.
	BucketWidth int `json:"bucket_width"`
	EvalBatch   int `json:"eval_batch"` // sequences per evaluation batch; 0: Batch
	// EvalSeed seeds the masking of evaluation data, fixed so that every
	// epoch is scored on the same selections.
	EvalSeed uint64 `json:"eval_seed"`
	// Lower lowercases every word (except [MASK]) before the vocabulary
	// sees it, in training and in queries.
	Lower bool `json:"lower"`
	// Xavier redraws every weight matrix Glorot-uniform, as PyTorch's
	// Transformer tutorial does.
	Xavier bool `json:"xavier"`
	// Definition trains the op-by-op graph instead of the fused attention
	// and LayerNorm ops (the same function, much slower).
	Definition bool `json:"definition,omitempty"`
}

func (c MLMConfig) vocabSize() int { return c.Model.Vocab }

func (c MLMConfig) evalBatch() int {
	if c.EvalBatch > 0 {
		return c.EvalBatch
	}
	return c.Batch
}

// Validate checks the config.
func (c MLMConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if err := c.Masking.Validate(); err != nil {
		return err
	}
	if c.Batch < 1 || c.BucketWidth < 1 || c.EvalBatch < 0 {
		return errors.Errorf("training: batch %d and bucket width %d must be positive, eval batch %d not negative", c.Batch, c.BucketWidth, c.EvalBatch)
	}
	if c.Model.MaxLen < 1 {
		return errors.Errorf("training: a masked language model needs its longest sequence (model max_len), not %d", c.Model.MaxLen)
	}
	return nil
}

// MLM is the [Model] of a masked language model (models/mlm) trained with
// BERT's masking on sequences of word ids: each training step masks its
// batch afresh, drawing from the step's seed (so a resumed run masks as
// the uninterrupted one did); evaluation data is masked once, from
// Cfg.EvalSeed, so every epoch is scored on the same selections. Batches
// are bucketed by length and shuffled each epoch; the metrics are the
// loss, MetricMaskedAccuracy and MetricMaskedPerplexity.
type MLM struct {
	Cfg MLMConfig
	vocabNet

	masker mlm.Masker
	train  [][]int
	out    []float64 // the logits an evaluation graph's After read
	outN   int       // how many of their rows are selected positions
}

// NewMLM returns the model of cfg over vocab (cfg.Model.Vocab is set from
// it; vocab must be an MLM vocabulary, [MLMVocab]) with its training
// sequences (each 1 to Model.MaxLen ids); train may be empty for a model
// that only evaluates.
func NewMLM(cfg MLMConfig, vocab *data.Vocab, train [][]int) (*MLM, error) {
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	if tok, _ := vocab.Token(MaskID); tok != MaskToken {
		return nil, errors.Errorf("training: not a masked language model's vocabulary: id %d is %q, want %q", MaskID, tok, MaskToken)
	}
	m := &MLM{Cfg: cfg, vocabNet: n, masker: mlm.Masker{Masking: cfg.Masking, MaskID: MaskID, Words: MaskID + 1, Vocab: vocab.Len()}}
	if err := m.masker.Validate(); err != nil {
		return nil, errors.Wrap(err, "training: masking")
	}
	if err := m.check(train); err != nil {
		return nil, errors.Wrap(err, "training: training sequences")
	}
	m.train = train
	return m, nil
}

func init() {
	openers[MLMKind] = opener(func(c MLMConfig, v *data.Vocab) (Model, error) { return NewMLM(c, v, nil) })
}

// check validates sequences: lengths 1..MaxLen, ids in the vocabulary.
func (m *MLM) check(seqs [][]int) error {
	V, L := m.Vocab.Len(), m.Cfg.Model.MaxLen
	for i, s := range seqs {
		if len(s) < 1 || len(s) > L {
			return errors.Errorf("sequence %d has %d tokens, want 1 to %d", i+1, len(s), L)
		}
		for t, id := range s {
			if id < 0 || id >= V {
				return errors.Errorf("sequence %d, token %d: id %d outside the vocabulary of %d", i+1, t+1, id, V)
			}
		}
	}
	return nil
}

// Describe implements Model.
func (m *MLM) Describe() Description {
	return Description{Kind: MLMKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricLoss, Metrics: []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricMaskedAccuracy, Label: "masked accuracy", Percent: true},
		{Name: MetricMaskedPerplexity, Label: "masked perplexity", Lower: true},
	}}
}

// Init implements Model: the parameters of Cfg.Model, initialised as
// PyTorch does (and Glorot-uniform matrices with Cfg.Xavier).
func (m *MLM) Init(ps *graph.Params, src graph.Source) error {
	specs := m.Cfg.Model.Params()
	if m.Cfg.Xavier {
		specs = transformer.XavierMatrices(specs)
	}
	return m.keep(ps, transformer.Init(ps, specs, src))
}

// mlmBatch is B sequences padded to T positions with P prediction slots.
type mlmBatch struct {
	seqs    [][]int      // B rows; nil for an empty (padding) row
	masks   []mlm.Masked // per row; nil: drawn in Set from the step's seed
	rows    []int        // evaluation: each row's sequence in its set, −1 for padding
	T, P    int
	shape   Shape
	queries bool // fill queries: keep every slot's probabilities
}

// Shape implements Batch: B×T×P.
func (b *mlmBatch) Shape() Shape { return b.shape }

// bucketLen returns the padded length of a batch whose longest sequence
// has n tokens: n rounded up to a multiple of the bucket width, at most
// MaxLen.
func (m *MLM) bucketLen(n int) int {
	w := m.Cfg.BucketWidth
	return min(m.Cfg.Model.MaxLen, (n+w-1)/w*w)
}

// newBatch returns the batch of the sequences idx of seqs (masks: their
// maskings, or nil), padded with empty rows to B rows; the slots are the
// most that B sequences of T tokens select.
func (m *MLM) newBatch(seqs [][]int, masks []mlm.Masked, idx []int, B int) *mlmBatch {
	longest := 1
	for _, i := range idx {
		longest = max(longest, len(seqs[i]))
	}
	T := m.bucketLen(longest)
	b := &mlmBatch{seqs: make([][]int, B), rows: make([]int, B), T: T, P: B * m.masker.Count(T)}
	if masks != nil {
		b.masks = make([]mlm.Masked, B)
	}
	for r := range b.rows {
		b.rows[r] = -1
	}
	for r, i := range idx {
		b.seqs[r], b.rows[r] = seqs[i], i
		if masks != nil {
			b.masks[r] = masks[i]
		}
	}
	b.shape = Dims(B, T, b.P)
	return b
}

// buckets returns the sequences' indices grouped into batches of at most
// B of one bucket length, shuffled by src (in order when src is nil).
func (m *MLM) buckets(seqs [][]int, B int, src graph.Source) [][]int {
	w := m.Cfg.BucketWidth
	if src == nil {
		groups := map[int][]int{}
		var keys []int
		for i, s := range seqs {
			k := (len(s) - 1) / w
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], i)
		}
		slices.Sort(keys)
		var out [][]int
		for _, k := range keys {
			g := groups[k]
			for start := 0; start < len(g); start += B {
				out = append(out, g[start:min(start+B, len(g))])
			}
		}
		return out
	}
	lengths := make([]int, len(seqs))
	for i, s := range seqs {
		lengths[i] = len(s) - 1 // bucket k holds lengths k·w+1 … (k+1)·w
	}
	return data.Buckets(lengths, B, w, src)
}

// Batches implements Model: the training sequences bucketed by length
// and shuffled by src, in batches of Cfg.Batch (a bucket's last batch
// padded with empty rows, so one graph serves each bucket). Their masking
// is drawn when the step runs.
func (m *MLM) Batches(epoch int, src graph.Source) ([]Batch, error) {
	if len(m.train) == 0 {
		return nil, errors.New("training: a masked language model without training sequences")
	}
	var out []Batch
	for _, idx := range m.buckets(m.train, m.Cfg.Batch, src) {
		out = append(out, m.newBatch(m.train, nil, idx, m.Cfg.Batch))
	}
	return out, nil
}

// maskSalt tells the masking's random stream from the dropout's, which
// is seeded with the step's seed itself.
const maskSalt = 0x6d61736b6564 // "masked"

// mlmGraph is a masked language model's loss graph.
type mlmGraph struct {
	lossGraph
	m      *MLM
	g      *mlm.Graph
	logits gorgonia.Value // evaluation graphs: read after each run
}

// Set implements Graph: the batch, masked from the step's seed unless it
// carries its masking, and new dropout masks.
func (g *mlmGraph) Set(b Batch, seed uint64) error {
	mb, err := setUp[*mlmBatch](&g.lossGraph, b, MLMKind, seed)
	if err != nil {
		return err
	}
	masks := mb.masks
	if masks == nil {
		src := graph.NewSource(seed ^ maskSalt)
		masks = make([]mlm.Masked, len(mb.seqs))
		for r, s := range mb.seqs {
			masks[r] = g.m.masker.Apply(s, src)
		}
	}
	B, T := len(mb.seqs), mb.T
	inputs, labels := make([]int, B*T), make([]int, B*T)
	selected, lengths := make([]bool, B*T), make([]int, B)
	for r, s := range mb.seqs {
		if len(s) > T || len(masks[r].Inputs) != len(s) || len(masks[r].Selected) != len(s) {
			return errors.Errorf("training: batch row %d: %d tokens, %d masked inputs, %d selection flags, for %d positions", r, len(s), len(masks[r].Inputs), len(masks[r].Selected), T)
		}
		lengths[r] = len(s)
		copy(inputs[r*T:], masks[r].Inputs)
		copy(labels[r*T:], s)
		copy(selected[r*T:], masks[r].Selected)
	}
	if err := g.g.Set(inputs, lengths, labels, selected); err != nil {
		return err
	}
	if g.dropout != nil {
		return g.dropout.Resample()
	}
	return nil
}

// After implements Graph: an evaluation graph hands its logits to the
// model.
func (g *mlmGraph) After() error {
	if g.train {
		return nil
	}
	v, err := graph.ValueFloat64s(g.logits)
	g.m.out, g.m.outN = v, g.g.Selected()
	return err
}

// Build implements Model: the graph of the batch's shape, with the fused
// attention and LayerNorm ops (or the definition).
func (m *MLM) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	mb, err := batchOf[*mlmBatch](b, MLMKind)
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
	mg, err := mlm.Build(n, m.Cfg.Model, len(mb.seqs), mb.T, mb.P)
	if err != nil {
		return nil, err
	}
	out := &mlmGraph{lossGraph: lossGraph{mg.Loss, drop, train}, m: m, g: mg}
	if !train {
		gorgonia.Read(mg.Logits, &out.logits)
	}
	return out, nil
}

// MaskedSet is a masked language model's evaluation data: sequences, each
// masked once ([MLM.Sequences]) or at its [MASK] tokens ([MLM.Queries]).
// After [MLM.Evaluate] on a set of queries, [MaskedSet.Probs] holds the
// distribution over the vocabulary at every [MASK].
type MaskedSet struct {
	Seqs    [][]int
	Masks   []mlm.Masked
	batches []Batch
	probs   [][][]float64 // queries: per sequence, per selected position
}

// Examples implements Dataset: the number of sequences.
func (s *MaskedSet) Examples() int { return len(s.Seqs) }

// Probs returns, for sequence i of a set of queries, the distribution
// over the vocabulary at each of its selected positions in order, as the
// last Evaluate computed them (nil before, for a set made by Sequences,
// and for i outside the set).
func (s *MaskedSet) Probs(i int) [][]float64 {
	if i < 0 || i >= len(s.probs) {
		return nil
	}
	return s.probs[i]
}

// Sequences returns seqs (each 1 to Model.MaxLen ids) as the model's
// evaluation data, masked with BERT's recipe from Cfg.EvalSeed: the same
// sequences are always masked the same way, whatever the batch size.
func (m *MLM) Sequences(seqs [][]int) (*MaskedSet, error) {
	if len(seqs) == 0 {
		return nil, errors.New("training: no sequences to evaluate")
	}
	if err := m.check(seqs); err != nil {
		return nil, err
	}
	src := graph.NewSource(m.Cfg.EvalSeed)
	s := &MaskedSet{Seqs: seqs, Masks: make([]mlm.Masked, len(seqs))}
	for i, q := range seqs {
		s.Masks[i] = m.masker.Apply(q, src)
	}
	for _, idx := range m.buckets(seqs, m.Cfg.evalBatch(), nil) {
		s.batches = append(s.batches, m.newBatch(seqs, s.Masks, idx, m.Cfg.evalBatch()))
	}
	return s, nil
}

// Queries returns sequences of ids, each holding at least one MaskID, as
// data whose selected positions are their [MASK] tokens (nothing else is
// changed); Evaluate then fills [MaskedSet.Probs]. Each query is a batch
// of its own.
func (m *MLM) Queries(seqs [][]int) (*MaskedSet, error) {
	if len(seqs) == 0 {
		return nil, errors.New("training: no queries")
	}
	if err := m.check(seqs); err != nil {
		return nil, err
	}
	s := &MaskedSet{Seqs: seqs, Masks: make([]mlm.Masked, len(seqs)), probs: make([][][]float64, len(seqs))}
	for i, q := range seqs {
		sel := make([]bool, len(q))
		n := 0
		for t, id := range q {
			if id == MaskID {
				sel[t] = true
				n++
			}
		}
		if n == 0 {
			return nil, errors.Errorf("training: query %d holds no %s", i+1, MaskToken)
		}
		s.Masks[i] = mlm.Masked{Inputs: slices.Clone(q), Selected: sel}
		b := &mlmBatch{seqs: [][]int{q}, masks: []mlm.Masked{s.Masks[i]}, rows: []int{i}, T: len(q), P: n, queries: true}
		b.shape = Dims(1, b.T, b.P)
		s.batches = append(s.batches, b)
	}
	return s, nil
}

// Evaluate implements Model: every batch forward; the loss is the mean
// cross-entropy over all selected tokens, MetricMaskedPerplexity its
// exp, MetricMaskedAccuracy the share of selected tokens whose original
// scores highest (all NaN when nothing is selected). On a set of queries
// it keeps each [MASK]'s distribution (MaskedSet.Probs).
func (m *MLM) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	s, ok := d.(*MaskedSet)
	if !ok {
		return nil, errors.Errorf("training: a masked language model evaluates a *MaskedSet, not a %T", d)
	}
	V := m.Vocab.Len()
	loss, count, correct := 0.0, 0, 0
	for _, b := range s.batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mb := b.(*mlmBatch)
		m.out = nil
		l, err := forward(b)
		if err != nil {
			return nil, err
		}
		if len(m.out) != mb.P*V {
			return nil, errors.Errorf("training: %d logits for %d slots over %d words", len(m.out), mb.P, V)
		}
		loss += l * float64(m.outN)
		count += m.outN
		k := 0
		for r, seq := range mb.seqs {
			if mb.rows[r] < 0 {
				continue
			}
			for t, sel := range mb.masks[r].Selected {
				if !sel {
					continue
				}
				row := m.out[k*V : (k+1)*V]
				if argmax(row) == seq[t] {
					correct++
				}
				if mb.queries {
					s.probs[mb.rows[r]] = append(s.probs[mb.rows[r]], softmax(row))
				}
				k++
			}
		}
	}
	if count == 0 {
		return Metrics{MetricLoss: math.NaN(), MetricMaskedAccuracy: math.NaN(), MetricMaskedPerplexity: math.NaN()}, nil
	}
	mean := loss / float64(count)
	return Metrics{MetricLoss: mean, MetricMaskedAccuracy: float64(correct) / float64(count), MetricMaskedPerplexity: math.Exp(mean)}, nil
}

// MLMTokens splits a line into words (strings.Fields), lowercased when
// lower is set; the word [MASK] (in any case) is MaskToken.
func MLMTokens(line string, lower bool) []string {
	ws := strings.Fields(line)
	for i, w := range ws {
		switch {
		case strings.EqualFold(w, MaskToken):
			ws[i] = MaskToken
		case lower:
			ws[i] = strings.ToLower(w)
		}
	}
	return ws
}

// MLMVocab returns the vocabulary of a masked language model trained on
// lines: data's special tokens, MaskToken (id MaskID), then the words
// (MLMTokens) that occur at least minCount times, most frequent first, at
// most maxWords of them (0: all).
func MLMVocab(lines []string, lower bool, minCount, maxWords int) (*data.Vocab, error) {
	texts := make([]string, len(lines))
	for i, l := range lines {
		texts[i] = strings.Join(MLMTokens(l, lower), " ")
	}
	words := data.NewWordVocab(texts, minCount).Tokens()[data.NumSpecial:]
	words = slices.DeleteFunc(words, func(w string) bool { return w == MaskToken })
	if maxWords > 0 && len(words) > maxWords {
		words = words[:maxWords]
	}
	toks := append(data.NewWordVocab(nil, 1).Tokens(), MaskToken)
	return data.NewVocab(append(toks, words...))
}

// Encode returns the ids of a line's words (MLMTokens with Cfg.Lower;
// UNK for a word the vocabulary lacks) and the words it lacks.
func (m *MLM) Encode(line string) (ids []int, unknown []string) {
	for _, w := range MLMTokens(line, m.Cfg.Lower) {
		id := m.Vocab.ID(w)
		if id == data.UNK && w != data.UNKToken {
			unknown = append(unknown, w)
		}
		ids = append(ids, id)
	}
	return ids, unknown
}

// Text returns lines as the model's sequences (MLMSequences with the
// model's vocabulary, case folding and longest sequence).
func (m *MLM) Text(lines []string) [][]int {
	return MLMSequences(lines, m.Vocab, m.Cfg.Lower, m.Cfg.Model.MaxLen)
}

// MLMSequences returns the sequences of lines for a masked language
// model: each line's word ids (MLMTokens; UNK for a word vocab lacks) cut
// into pieces of at most maxLen (at least 1); pieces without an ordinary
// word (an id above MaskID: nothing to select) are left out.
func MLMSequences(lines []string, vocab *data.Vocab, lower bool, maxLen int) [][]int {
	maxLen = max(maxLen, 1)
	var out [][]int
	for _, l := range lines {
		ws := MLMTokens(l, lower)
		ids := make([]int, len(ws))
		for i, w := range ws {
			ids[i] = vocab.ID(w)
		}
		for start := 0; start < len(ids); start += maxLen {
			piece := ids[start:min(start+maxLen, len(ids)):min(start+maxLen, len(ids))]
			if slices.ContainsFunc(piece, func(id int) bool { return id > MaskID }) {
				out = append(out, piece)
			}
		}
	}
	return out
}

// Candidate is a word id and its probability.
type Candidate struct {
	ID int
	P  float64
}

// TopK returns the k most probable ids of a distribution, most probable
// first (ties by the lower id); all of them when k exceeds its length.
func TopK(p []float64, k int) []Candidate { return topK(p, k, 0) }

// Fillers returns the k most probable ordinary words (ids above MaskID)
// of a distribution over the model's vocabulary, most probable first:
// the special tokens, the unknown word and [MASK] are never fillers. The
// probabilities are the model's, over the whole vocabulary.
func (m *MLM) Fillers(p []float64, k int) []Candidate { return topK(p, k, MaskID+1) }

func topK(p []float64, k, from int) []Candidate {
	c := make([]Candidate, 0, len(p))
	for i := from; i < len(p); i++ {
		c = append(c, Candidate{i, p[i]})
	}
	slices.SortStableFunc(c, func(a, b Candidate) int {
		switch {
		case a.P > b.P:
			return -1
		case a.P < b.P:
			return 1
		}
		return 0
	})
	return c[:min(max(k, 0), len(c))]
}
