package training

import (
	"context"
	"math"
	"strings"
	"unicode"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/metrics"
)

// LMKind is the kind (Description.Kind) of [LM] models.
const LMKind = "lm"

// LMConfig is a language model's part of a run's settings.
type LMConfig struct {
	Model lm.Config `json:"model"`
	Batch int       `json:"batch"` // parallel streams
	Steps int       `json:"steps"` // truncated-BPTT window
	// Words makes the tokens whitespace-separated words, each line of text
	// ended by the EOS token ([LM.Encode]); otherwise they are characters.
	Words bool `json:"words,omitempty"`
}

func (c LMConfig) vocabSize() int { return c.Model.Vocab }

// Validate checks the config.
func (c LMConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if c.Batch < 1 || c.Steps < 1 {
		return errors.Errorf("training: batch %d and BPTT window %d must be positive", c.Batch, c.Steps)
	}
	return nil
}

// LM is the [Model] of a character (or word) language model trained by
// truncated backpropagation through time: the corpus is cut into Batch
// parallel streams walked in windows of Steps tokens; each window starts
// from the state the previous window ended in, as a value (no gradient
// flows into the past): LM is a [Carrier]. Each epoch walks the streams
// from the start with a zero state.
type LM struct {
	Cfg LMConfig
	vocabNet

	train []data.Chunk
	carry [][]float64 // the state values carried between windows
}

// NewLM returns the model of cfg over vocab (cfg.Model.Vocab is set from
// it) with the token ids of the training corpus cut into windows; train
// may be empty for a model that only evaluates.
func NewLM(cfg LMConfig, vocab *data.Vocab, train []int) (*LM, error) {
	n, err := newVocabNet(vocab, &cfg.Model.Vocab, func() error { return cfg.Validate() })
	if err != nil {
		return nil, err
	}
	m := &LM{Cfg: cfg, vocabNet: n}
	if len(train) > 0 {
		if m.train, err = fullChunks(train, cfg.Batch, cfg.Steps); err != nil {
			return nil, errors.Wrap(err, "training: training corpus")
		}
	}
	return m, nil
}

// fullChunks keeps the windows of full length, so one graph serves them all.
func fullChunks(ids []int, batch, steps int) ([]data.Chunk, error) {
	cs, err := data.Chunks(ids, batch, steps)
	if err != nil {
		return nil, err
	}
	var out []data.Chunk
	for _, c := range cs {
		if c.Lengths[0] == steps {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.Errorf("training: %d tokens make no full window of %d×%d", len(ids), batch, steps)
	}
	return out, nil
}

// Describe implements Model.
func (m *LM) Describe() Description {
	bits := "bits/char"
	if m.Cfg.Words {
		bits = "bits/word"
	}
	return Description{Kind: LMKind, Config: m.Cfg, Vocab: m.Vocab, Best: MetricLoss, Metrics: []Metric{
		{Name: MetricLoss, Lower: true},
		{Name: MetricBitsPerChar, Label: bits, Lower: true},
		{Name: MetricPerplexity, Lower: true},
	}}
}

// Encode returns the token ids of text in the model's tokens: its
// characters, or with Cfg.Words the words of each line (strings.Fields)
// followed by EOS, blank lines skipped. Tokens not in the vocabulary are
// UNK.
func (m *LM) Encode(text string) []int {
	if !m.Cfg.Words {
		return m.Vocab.EncodeChars(text)
	}
	return EncodeWordLines(m.Vocab, text)
}

// EncodeWordLines returns the ids of the words of each line of text
// followed by EOS, blank lines skipped: a word language model's tokens.
// The word "</s>" is EOS and "<unk>" UNK, as in [data.Vocab.EncodeWords];
// "<pad>" and "<s>" are UNK (neither occurs in a model's text).
func EncodeWordLines(v *data.Vocab, text string) []int {
	var ids []int
	for line := range strings.Lines(text) {
		w := v.EncodeWords(line)
		if len(w) == 0 {
			continue
		}
		for i, id := range w {
			if id == data.PAD || id == data.BOS {
				w[i] = data.UNK
			}
		}
		ids = append(append(ids, w...), data.EOS)
	}
	return ids
}

// A checkpoint's model of this kind opens without training data.
func init() {
	openers[LMKind] = opener(func(c LMConfig, v *data.Vocab) (Model, error) { return NewLM(c, v, nil) })
}

// Init implements Model: the parameters of Cfg.Model.
func (m *LM) Init(ps *graph.Params, src graph.Source) error {
	return m.keep(ps, m.Cfg.Model.Init(ps, src))
}

// window is one window of Batch streams, or of the streams [lo, hi) of
// it (a rank's part, [LM.Shard]).
type window struct {
	c      data.Chunk
	shape  Shape
	lo, hi int
}

// Shape implements Batch: Batch×Steps, one graph for every window.
func (w window) Shape() Shape { return w.shape }

func (m *LM) windows(cs []data.Chunk) []Batch {
	out := make([]Batch, len(cs))
	for i, c := range cs {
		out[i] = window{c: c, shape: Dims(m.Cfg.Batch, m.Cfg.Steps), lo: 0, hi: m.Cfg.Batch}
	}
	return out
}

// Batches implements Model: the windows of the training corpus, in order,
// the same every epoch.
func (m *LM) Batches(epoch int, src graph.Source) ([]Batch, error) {
	return m.windows(m.train), nil
}

// Carry implements Carrier.
func (m *LM) Carry() [][]float64 { return m.carry }

// SetCarry implements Carrier: nil, or one Batch×Hidden tensor per state
// tensor of the model's layers.
func (m *LM) SetCarry(c [][]float64) error {
	if c == nil {
		m.carry = nil
		return nil
	}
	n := max(m.Cfg.Model.Layers, 1) * cells.Config{Kind: m.Cfg.Model.Cell}.NumStates()
	if len(c) != n {
		return errors.Errorf("training: %d carried state tensors (%s0 …), the model has %d", len(c), carryPrefix, n)
	}
	width := m.Cfg.Batch * m.Cfg.Model.Hidden
	for i, v := range c {
		if len(v) != width {
			return errors.Errorf("training: carried state %s%d holds %d values, want batch × hidden = %d", carryPrefix, i, len(v), width)
		}
	}
	m.carry = c
	return nil
}

// lmGraph is a language model's loss graph: it starts from the model's
// carried state and hands its final state back.
type lmGraph struct {
	lossGraph
	lm     *LM
	m      *lm.TrainGraph
	finalV []gorgonia.Value
	lo, hi int // the streams of the window set last
}

// Set implements Graph: the window, and the carried state as the initial
// state (zeros when there is none).
func (g *lmGraph) Set(b Batch, seed uint64) error {
	w, err := setUp[window](&g.lossGraph, b, LMKind, seed)
	if err != nil {
		return err
	}
	if err := g.m.Set(w.c.Seqs, w.c.Lengths); err != nil {
		return err
	}
	carry := g.lm.carry
	if carry != nil && len(carry) != len(g.m.Init) {
		return errors.Errorf("training: %d carried state tensors for %d initial states", len(carry), len(g.m.Init))
	}
	h := g.lm.Cfg.Model.Hidden
	if w.hi-w.lo != g.m.B || w.lo < 0 || w.hi > g.lm.Cfg.Batch {
		return errors.Errorf("training: streams [%d, %d) of %d for a graph of %d", w.lo, w.hi, g.lm.Cfg.Batch, g.m.B)
	}
	g.lo, g.hi = w.lo, w.hi
	for i, n := range g.m.Init {
		v := make([]float64, g.m.B*h)
		if carry != nil {
			copy(v, carry[i][w.lo*h:w.hi*h])
		}
		if err := graph.Set(n, v); err != nil {
			return err
		}
	}
	return nil
}

// After implements Graph: the final state becomes the carried state (of
// the window's streams; the others' rows are zero).
func (g *lmGraph) After() error {
	carry := make([][]float64, len(g.finalV))
	h := g.lm.Cfg.Model.Hidden
	for i, v := range g.finalV {
		f, err := graph.ValueFloat64s(v)
		if err != nil {
			return err
		}
		if len(f) != (g.hi-g.lo)*h {
			return errors.Errorf("training: a final state of %d values for %d streams", len(f), g.hi-g.lo)
		}
		if g.lo == 0 && g.hi == g.lm.Cfg.Batch {
			carry[i] = f
			continue
		}
		carry[i] = make([]float64, g.lm.Cfg.Batch*h)
		copy(carry[i][g.lo*h:], f)
	}
	g.lm.carry = carry
	return nil
}

// Build implements Model: the graph of one window, reading its final
// state.
func (m *LM) Build(g *graph.Graph, b Batch, train bool) (Graph, error) {
	w, err := batchOf[window](b, LMKind)
	if err != nil {
		return nil, err
	}
	tg, err := lm.BuildTrainGraph(g, m.Cfg.Model, w.hi-w.lo, m.Cfg.Steps)
	if err != nil {
		return nil, err
	}
	if !train && tg.Dropout != nil {
		tg.Dropout.SetTraining(false)
	}
	lg := &lmGraph{lossGraph: lossGraph{tg.Loss, tg.Dropout, train}, lm: m, m: tg, finalV: make([]gorgonia.Value, len(tg.Final))}
	for i, n := range tg.Final {
		gorgonia.Read(n, &lg.finalV[i])
	}
	return lg, nil
}

// TextSet is a language model's evaluation data: a text's token ids cut
// into the model's windows ([LM.Text]).
type TextSet struct {
	windows []Batch
	tokens  int
}

// Examples implements Dataset: the number of tokens predicted (every full
// window's; a text's last partial window is left out).
func (s *TextSet) Examples() int { return s.tokens }

// Text returns token ids as the model's evaluation data, cut into windows
// as the training corpus is (Batch streams, Steps tokens).
func (m *LM) Text(ids []int) (*TextSet, error) {
	cs, err := fullChunks(ids, m.Cfg.Batch, m.Cfg.Steps)
	if err != nil {
		return nil, errors.Wrap(err, "training: test corpus")
	}
	return &TextSet{windows: m.windows(cs), tokens: len(cs) * m.Cfg.Batch * m.Cfg.Steps}, nil
}

// Evaluate implements Model: the mean cross-entropy (nats per token) over
// the text's windows, walked with the state carried as in training (the
// training's carried state is kept), its perplexity and bits per token.
func (m *LM) Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error) {
	ts, ok := d.(*TextSet)
	if !ok {
		return nil, errors.Errorf("training: a language model evaluates a *TextSet, not a %T", d)
	}
	saved := m.carry
	m.carry = nil
	defer func() { m.carry = saved }()
	sum := 0.0
	for _, w := range ts.windows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := forward(w)
		if err != nil {
			return nil, err
		}
		sum += l
	}
	loss := math.NaN()
	if len(ts.windows) > 0 {
		loss = sum / float64(len(ts.windows))
	}
	return Metrics{MetricLoss: loss, MetricPerplexity: metrics.Perplexity(loss), MetricBitsPerChar: metrics.BitsPerToken(loss)}, nil
}

// Sample generates n tokens after the prime text (at least one character,
// or word with Cfg.Words), sampling with so (greedy when so is nil), and
// returns them: the text that continues prime. A character model stops
// early at EOS; a word model writes n words and line ends (EOS), each
// word after a space.
func (m *LM) Sample(prime string, n int, so *decode.SampleOptions) (string, error) {
	if m.ps == nil {
		return "", errors.New("training: a language model without parameters (no Trainer made them)")
	}
	if !m.Cfg.Words {
		return SampleLM(m.ps, m.Cfg.Model, m.Vocab, prime, n, so)
	}
	ids := m.Vocab.EncodeWords(prime)
	if len(ids) == 0 {
		return "", errors.New("training: a prime text without words")
	}
	// PAD never occurs in the text, so the model gives it no weight: as
	// the stop token it lets EOS (a line's end) be sampled like a word.
	out, err := sampleIDs(m.ps, m.Cfg.Model, ids, data.PAD, n, so)
	if err != nil {
		return "", err
	}
	// The continuation of prime: each word after a space (none after a
	// line break, nor first where prime ends in white space).
	var b strings.Builder
	space := strings.TrimRightFunc(prime, unicode.IsSpace) == prime
	for _, id := range out {
		if id == data.EOS {
			b.WriteString("\n")
			space = false
			continue
		}
		tok, err := m.Vocab.Token(id)
		if err != nil || id == data.PAD || id == data.BOS {
			tok = data.UNKToken
		}
		if space {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
		space = true
	}
	return b.String(), nil
}

// SampleLM generates n characters from a character language model after
// prime, stopping early at EOS.
func SampleLM(ps *graph.Params, c lm.Config, v *data.Vocab, prime string, n int, so *decode.SampleOptions) (string, error) {
	ids := v.EncodeChars(prime)
	if len(ids) == 0 {
		return "", errors.New("training: empty prime text")
	}
	out, err := sampleIDs(ps, c, ids, data.EOS, n, so)
	if err != nil {
		return "", err
	}
	return v.Decode(out, ""), nil
}

// sampleIDs generates at most n tokens after the prime ids, stopping at
// stop (not returned).
func sampleIDs(ps *graph.Params, c lm.Config, ids []int, stop, n int, so *decode.SampleOptions) ([]int, error) {
	if n < 1 {
		return nil, errors.Errorf("training: %d tokens to sample", n)
	}
	gen, err := lm.NewGenerator(ps, c)
	if err != nil {
		return nil, err
	}
	defer gen.Close()
	st, last, err := gen.Prime([][]int{ids})
	if err != nil {
		return nil, err
	}
	opt := decode.Options{BOS: last[0], EOS: stop, MaxLen: n}
	var out [][]int
	if so != nil {
		out, err = decode.Sample(gen, st, opt, *so)
	} else {
		out, err = decode.Greedy(gen, st, opt)
	}
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
