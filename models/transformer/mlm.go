package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// MLMConfig describes an encoder-only Transformer trained as a masked
// language model (BERT's objective, Devlin et al. 2019): the embedding
// (scaled by √E) plus the positional encoding, a torch.nn.TransformerEncoder
// called "encoder" with its final norm, and an output Linear "fc" to the
// vocabulary at every position.
type MLMConfig struct {
	Vocab  int         `json:"vocab"`
	Layer  LayerConfig `json:"layer"`
	Layers int         `json:"layers"`
	MaxLen int         `json:"max_len"` // the positional table; 0: DefaultMaxLen
}

// seq returns the Config whose embedding and table the MLM shares.
func (c MLMConfig) seq() Config {
	return Config{Vocab: c.Vocab, Layer: c.Layer, EncoderLayers: c.Layers, DecoderLayers: 1, MaxLen: c.MaxLen}
}

// MaxLenOr returns MaxLen, DefaultMaxLen for the zero value.
func (c MLMConfig) MaxLenOr() int { return c.seq().MaxLenOr() }

// Validate checks the configuration.
func (c MLMConfig) Validate() error {
	if c.Layers <= 0 {
		return errors.Wrapf(ErrConfig, "%d encoder layers: must be positive", c.Layers)
	}
	return c.seq().Validate()
}

// Params returns the parameters in PyTorch's names: embedding.weight,
// encoder.layers.{k}.…, encoder.norm.*, fc.weight [V, E], fc.bias.
func (c MLMConfig) Params() []ParamSpec {
	E, V := c.Layer.Embed, c.Vocab
	ps := []ParamSpec{{"embedding.weight", []int{V, E}, graph.Uniform{Low: -1, High: 1}}}
	for k := 0; k < c.Layers; k++ {
		ps = append(ps, c.Layer.EncoderParams(fmt.Sprintf("encoder.layers.%d", k))...)
	}
	ps = append(ps, normParams("encoder.norm", E)...)
	return append(ps, linearParams("fc", E, V)...)
}

// MLMGraph is the masked language model built into one graph for B
// sequences of T positions (batch-major), with the mean cross-entropy at
// the masked positions as its loss. Set a batch with Set before each run.
type MLMGraph struct {
	Cfg     MLMConfig
	B, T    int
	IDs     *graph.IDs     // the input, masked [B·T]
	Targets *graph.Targets // the original token at each masked position
	Keep    *gorgonia.Node // the self-attention mask [B·T, T] (padding)
	Logits  *gorgonia.Node // [B·T, V]
	Loss    *gorgonia.Node
}

// BuildMLM builds the model and its loss into n's graph.
func BuildMLM(n *Net, cfg MLMConfig, B, T int) (*MLMGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if B <= 0 || T <= 0 {
		return nil, errors.Wrapf(ErrShape, "batch %d, length %d must be positive", B, T)
	}
	if T > cfg.MaxLenOr() {
		return nil, errors.Wrapf(ErrTooLong, "%d positions; the table holds %d", T, cfg.MaxLenOr())
	}
	g := &MLMGraph{Cfg: cfg, B: B, T: T}
	var err error
	if g.IDs, err = graph.NewIDs(B*T, cfg.Vocab); err != nil {
		return nil, err
	}
	if g.Targets, err = graph.NewTargets(B*T, cfg.Vocab); err != nil {
		return nil, err
	}
	if g.Keep, err = n.G.Input(n.G.UniqueName("mlm_keep"), B*T, T); err != nil {
		return nil, err
	}
	x, err := n.Embed(g.IDs, B, T, 0, cfg.seq())
	if err != nil {
		return nil, err
	}
	h, err := n.Encoder(x, g.Keep, "encoder", cfg.Layer, cfg.Layers, B)
	if err != nil {
		return nil, err
	}
	if g.Logits, err = n.Linear(h, "fc", cfg.Vocab); err != nil {
		return nil, err
	}
	xent, err := graph.CrossEntropy(g.Logits, g.Targets)
	if err != nil {
		return nil, err
	}
	if g.Loss, err = gorgonia.Sum(xent); err != nil {
		return nil, err
	}
	return g, g.Set(make([]int, B*T), nil, make([]int, B*T), nil)
}

// Set gives the graph a batch: input ids [B·T] (masked), the sequences'
// lengths (nil: all T), and per position the label and whether it was
// masked (nil: none). The loss is the mean over the masked positions.
func (g *MLMGraph) Set(input, lengths, labels []int, masked []bool) error {
	if err := g.IDs.Set(input); err != nil {
		return errors.Wrap(err, "transformer: mlm input")
	}
	var pad []float64
	if lengths != nil {
		if len(lengths) != g.B {
			return errors.Wrapf(ErrShape, "%d lengths for %d sequences", len(lengths), g.B)
		}
		var err error
		if pad, err = PaddingMask(lengths, g.T); err != nil {
			return err
		}
	}
	keep, err := KeepMask(g.B, g.T, g.T, false, nil, pad)
	if err != nil {
		return err
	}
	if err := graph.Set(g.Keep, keep); err != nil {
		return err
	}
	w := make([]float64, g.B*g.T)
	count := 0
	for i, m := range masked {
		if m {
			w[i] = 1
			count++
		}
	}
	for i := range w {
		w[i] /= math.Max(float64(count), 1)
	}
	return errors.Wrap(g.Targets.Set(labels, w), "transformer: mlm labels")
}

// Masking is BERT's recipe: a fraction Rate of the tokens is chosen for
// prediction; of those, MaskProb become the mask token, RandomProb a random
// token, the rest stay as they are.
type Masking struct {
	Rate, MaskProb, RandomProb float64
	MaskID                     int // the [MASK] token's id
	// FirstRandom is the lowest id a random replacement takes (the special
	// tokens below it are never drawn), up to the vocabulary's end.
	FirstRandom, Vocab int
}

// BERT is Devlin et al.'s masking: 15% of the tokens, of which 80% [MASK],
// 10% a random token, 10% kept.
func BERT(maskID, firstRandom, vocab int) Masking {
	return Masking{Rate: 0.15, MaskProb: 0.8, RandomProb: 0.1, MaskID: maskID, FirstRandom: firstRandom, Vocab: vocab}
}

// Apply masks the first lengths[b] ids of each of the B sequences of T ids
// (batch-major) with draws from src, and returns the model's input, the
// labels (the original ids) and which positions are to be predicted. At
// least one position of the batch is chosen.
func (m Masking) Apply(ids []int, lengths []int, T int, src graph.Source) (input, labels []int, masked []bool, err error) {
	if m.FirstRandom < 0 || m.FirstRandom >= m.Vocab || m.MaskID < 0 || m.MaskID >= m.Vocab {
		return nil, nil, nil, errors.Wrapf(ErrConfig, "masking: mask id %d, random ids %d..%d", m.MaskID, m.FirstRandom, m.Vocab-1)
	}
	if len(ids) != len(lengths)*T {
		return nil, nil, nil, errors.Wrapf(ErrShape, "masking: %d ids for %d sequences of %d", len(ids), len(lengths), T)
	}
	input = append([]int(nil), ids...)
	labels = append([]int(nil), ids...)
	masked = make([]bool, len(ids))
	var real []int
	for b, n := range lengths {
		for t := 0; t < n && t < T; t++ {
			real = append(real, b*T+t)
		}
	}
	if len(real) == 0 {
		return nil, nil, nil, errors.Wrap(ErrShape, "masking: no tokens")
	}
	chosen := 0
	for _, i := range real {
		if src.Float64() < m.Rate {
			masked[i] = true
			chosen++
		}
	}
	if chosen == 0 {
		masked[real[src.IntN(len(real))]] = true
	}
	for i, on := range masked {
		if !on {
			continue
		}
		switch r := src.Float64(); {
		case r < m.MaskProb:
			input[i] = m.MaskID
		case r < m.MaskProb+m.RandomProb:
			input[i] = m.FirstRandom + src.IntN(m.Vocab-m.FirstRandom)
		}
	}
	return input, labels, masked, nil
}

// NewMLMEncoder returns a plain-Go runner of a trained masked language
// model (a copy of its parameters): [Generator.MLMLogits].
func NewMLMEncoder(ps *graph.Params, cfg MLMConfig) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ps == nil {
		return nil, errors.New("transformer: nil params")
	}
	gen := &Generator{cfg: cfg.seq(), w: map[string][]float64{}}
	for _, p := range cfg.Params() {
		t, err := ps.Lookup(p.Name, p.Shape...)
		if err != nil {
			return nil, errors.Wrap(err, "transformer: mlm encoder")
		}
		if gen.w[p.Name], err = graph.Float64s(t); err != nil {
			return nil, errors.Wrapf(err, "transformer: mlm encoder: %s", p.Name)
		}
	}
	return gen, nil
}

// MLMLogits runs a Generator made by NewMLMEncoder over one sequence of
// ids and returns the logits over the vocabulary at every position.
func (gen *Generator) MLMLogits(ids []int) ([][]float64, error) {
	T := len(ids)
	if T == 0 {
		return nil, errors.Wrap(ErrShape, "mlm: empty sequence")
	}
	x, err := gen.embed(ids, 0)
	if err != nil {
		return nil, err
	}
	for l := 0; l < gen.cfg.EncoderLayers; l++ {
		p := fmt.Sprintf("encoder.layers.%d", l)
		if _, ok := gen.w[p+".self_attn.in_proj_weight"]; !ok {
			return nil, errors.New("transformer: MLMLogits of a Generator not made by NewMLMEncoder")
		}
		x = gen.layer(x, T, p, func(h []float64) []float64 {
			return gen.attend(h, T, h, T, p+".self_attn", false)
		}, nil)
	}
	x = gen.norm(x, T, "encoder.norm")
	V := gen.cfg.Vocab
	flat := gen.linear(x, T, "fc", V)
	out := make([][]float64, T)
	for t := range out {
		out[t] = flat[t*V : (t+1)*V]
	}
	return out, nil
}
