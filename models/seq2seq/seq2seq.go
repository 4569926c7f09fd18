package seq2seq

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/attention"
	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
	"github.com/rnnkit/rnnkit/models/embed"
)

// DecoderKind selects how the decoder uses the encoder.
type DecoderKind string

// The decoder kinds.
const (
	// Plain: the encoder's final state starts the decoder; nothing else.
	Plain DecoderKind = "plain"
	// Peeky: also feeds the encoder's final h (its summary) into every
	// decoder step, beside the embedded token, and into the output layer.
	Peeky DecoderKind = "peeky"
	// Attention: at every step the decoder's h scores every encoder output,
	// a softmax over the real source positions weighs them into a context
	// vector, and [h; context] feeds the output layer (Luong et al. 2015).
	Attention DecoderKind = "attention"
)

// Score is an attention scoring function between the decoder state h_t
// and an encoder output e_j.
type Score string

// The attention scores.
const (
	Dot      Score = "dot"      // h_t · e_j (Luong)
	General  Score = "general"  // h_t · (W_a e_j), attn.weight [H, H] (Luong)
	Additive Score = "additive" // vᵀ tanh(W_e e_j + W_d h_t), attn.W_enc, attn.W_dec [H, H], attn.v [1, H] (Bahdanau)
)

// Config describes a Seq2Seq model.
type Config struct {
	Vocab   int         `json:"vocab"`
	Embed   int         `json:"embed"`
	Hidden  int         `json:"hidden"`
	Cell    cells.Kind  `json:"cell"`
	Layers  int         `json:"layers"`            // encoder and decoder depth; 0 means 1
	Decoder DecoderKind `json:"decoder,omitempty"` // "" means Plain
	Score   Score       `json:"score,omitempty"`   // for Attention; "" means Dot
	// Bidirectional makes the encoder a bidirectional stack (models/birnn,
	// the layers joined by concatenation as in PyTorch). Its 2H-wide states
	// and outputs reach the H-wide decoder through a linear bridge: each
	// decoder layer k's initial state tensor s (h, and c for LSTMs) is
	// bridge.weight_l{k}_{s} · [forward; backward] + bridge.bias_l{k}_{s},
	// and an attention decoder's memory is memory.weight · [forward; backward].
	Bidirectional bool `json:"bidirectional,omitempty"`
	// Dropout is the probability of dropping each output of every layer
	// but the top one of the (unidirectional) encoder and of the decoder
	// before the next layer reads it, in training graphs only; Seed seeds
	// its masks.
	Dropout float64 `json:"dropout,omitempty"`
	Seed    uint64  `json:"seed,omitempty"`
}

// numStates is the number of state tensors per layer.
func (c Config) numStates() int {
	return (cells.Config{Kind: c.Cell}).NumStates()
}

func (c Config) decoder() DecoderKind {
	if c.Decoder == "" {
		return Plain
	}
	return c.Decoder
}

func (c Config) score() Score {
	if c.Score == "" {
		return Dot
	}
	return c.Score
}

// outWidth is the width of the output layer's input.
func (c Config) outWidth() int {
	if c.decoder() == Plain {
		return c.Hidden
	}
	return 2 * c.Hidden
}

func (c Config) layers() int {
	if c.Layers <= 0 {
		return 1
	}
	return c.Layers
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 {
		return errors.Errorf("seq2seq: vocab %d, embed %d and hidden %d must be greater than zero", c.Vocab, c.Embed, c.Hidden)
	}
	switch c.decoder() {
	case Plain, Peeky, Attention:
	default:
		return errors.Errorf("seq2seq: unknown decoder %q (plain, peeky, attention)", c.Decoder)
	}
	switch c.score() {
	case Dot, General, Additive:
	default:
		return errors.Errorf("seq2seq: unknown attention score %q (dot, general, additive)", c.Score)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return errors.Errorf("seq2seq: dropout %v must be in [0, 1)", c.Dropout)
	}
	if c.Dropout > 0 && c.Bidirectional {
		return errors.New("seq2seq: dropout between bidirectional layers is not supported yet")
	}
	return (cells.Config{Kind: c.Cell, InputSize: 1, HiddenSize: 1}).Validate()
}

func (c Config) embedConfig() embed.Config { return embed.Config{Vocab: c.Vocab, Dim: c.Embed} }

// cellConfigs returns the cell configs of the encoder or decoder stack.
func (c Config) cellConfigs(prefix string) []cells.Config {
	out := make([]cells.Config, c.layers())
	for k := range out {
		in := c.Embed
		if k > 0 {
			in = c.Hidden
		} else if prefix == "decoder." && c.decoder() == Peeky {
			in = c.Embed + c.Hidden
		}
		out[k] = cells.Config{Kind: c.Cell, InputSize: in, HiddenSize: c.Hidden, Layer: k, Prefix: prefix}
	}
	return out
}

// Init creates every parameter in ps from src: the embedding N(0, 1), the
// recurrent layers and fc U(−1/√H, 1/√H), as PyTorch initialises them.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.embedConfig().Init(ps, src); err != nil {
		return err
	}
	enc := c.cellConfigs("encoder.")
	if c.Bidirectional {
		enc = birnn.StackConfigs(c.Cell, c.Embed, c.Hidden, c.layers(), "encoder.")
	}
	for _, cc := range append(enc, c.cellConfigs("decoder.")...) {
		if err := cc.Init(ps, src); err != nil {
			return errors.Wrap(err, "seq2seq")
		}
	}
	if c.Bidirectional {
		root := graph.NewScope(ps)
		init := graph.PyTorchDefault(2 * c.Hidden)
		for _, p := range c.bridgeParams() {
			if _, err := root.New(p.Name, init, src, p.Shape...); err != nil {
				return err
			}
		}
	}
	fc, err := graph.NewScope(ps).Sub("fc")
	if err != nil {
		return err
	}
	init := graph.PyTorchDefault(c.outWidth())
	if _, err := fc.New("weight", init, src, c.Vocab, c.outWidth()); err != nil {
		return err
	}
	if _, err = fc.New("bias", init, src, c.Vocab); err != nil {
		return err
	}
	if c.decoder() != Attention || c.score() == Dot {
		return nil
	}
	attn, err := graph.NewScope(ps).Sub("attn")
	if err != nil {
		return err
	}
	init = graph.PyTorchDefault(c.Hidden)
	if c.score() == General {
		_, err = attn.New("weight", init, src, c.Hidden, c.Hidden)
		return err
	}
	for _, p := range []struct {
		name string
		rows int
	}{{"W_enc", c.Hidden}, {"W_dec", c.Hidden}, {"v", 1}} {
		if _, err := attn.New(p.name, init, src, p.rows, c.Hidden); err != nil {
			return err
		}
	}
	return nil
}

// bridgeParams lists the bridge's parameters (bidirectional encoders).
func (c Config) bridgeParams() []cells.ParamSpec {
	var out []cells.ParamSpec
	names := []string{"h", "c"}
	for k := 0; k < c.layers(); k++ {
		for s := 0; s < c.numStates(); s++ {
			out = append(out,
				cells.ParamSpec{Name: fmt.Sprintf("bridge.weight_l%d_%s", k, names[s]), Shape: []int{c.Hidden, 2 * c.Hidden}},
				cells.ParamSpec{Name: fmt.Sprintf("bridge.bias_l%d_%s", k, names[s]), Shape: []int{c.Hidden}})
		}
	}
	if c.decoder() == Attention {
		out = append(out, cells.ParamSpec{Name: "memory.weight", Shape: []int{c.Hidden, 2 * c.Hidden}})
	}
	return out
}

// bound is the model's parts bound into one graph.
type bound struct {
	g        *graph.Graph
	cfg      Config
	emb      *embed.Embedding
	enc, dec cells.Cell
	fcW, fcB *gorgonia.Node
	attn     []*gorgonia.Node // General: {W}; Additive: {W_enc, W_dec, v}
	bienc    *birnn.Stacked   // Bidirectional
	bridge   []*gorgonia.Node // Bidirectional: weight, bias per (layer, state tensor), then memory.weight
}

// bind binds the model into g; d (nil for none) drops out between stacked layers.
func bind(g *graph.Graph, c Config, d *graph.Dropout) (*bound, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b := &bound{g: g, cfg: c}
	var err error
	if b.emb, err = embed.New(g, c.embedConfig()); err != nil {
		return nil, err
	}
	stack := func(prefix string) (cells.Cell, error) {
		var cs []cells.Cell
		for _, cc := range c.cellConfigs(prefix) {
			cell, err := cells.New(g, cc)
			if err != nil {
				return nil, err
			}
			cs = append(cs, cell)
		}
		if len(cs) == 1 {
			return cs[0], nil
		}
		st, err := cells.NewStack(cs...)
		if err != nil || d == nil {
			return st, err
		}
		return st.WithDropout(g, d)
	}
	if c.Bidirectional {
		if b.bienc, err = birnn.NewStack(g, c.Cell, c.Embed, c.Hidden, c.layers(), "encoder."); err != nil {
			return nil, errors.Wrap(err, "seq2seq: encoder")
		}
		for _, p := range c.bridgeParams() {
			n, err := g.Param(p.Name, p.Shape...)
			if err != nil {
				return nil, err
			}
			b.bridge = append(b.bridge, n)
		}
	} else if b.enc, err = stack("encoder."); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	if b.dec, err = stack("decoder."); err != nil {
		return nil, errors.Wrap(err, "seq2seq: decoder")
	}
	if b.fcW, err = g.Param("fc.weight", c.Vocab, c.outWidth()); err != nil {
		return nil, err
	}
	if b.fcB, err = g.Param("fc.bias", c.Vocab); err != nil {
		return nil, err
	}
	if c.decoder() == Attention {
		var names []string
		switch c.score() {
		case General:
			names = []string{"attn.weight"}
		case Additive:
			names = []string{"attn.W_enc", "attn.W_dec", "attn.v"}
		}
		for _, n := range names {
			rows := c.Hidden
			if n == "attn.v" {
				rows = 1
			}
			p, err := g.Param(n, rows, c.Hidden)
			if err != nil {
				return nil, err
			}
			b.attn = append(b.attn, p)
		}
	}
	return b, nil
}

// encode runs the encoder over xs with masks and returns the memory the
// decoder attends to (one [B, H] node per source step) and the decoder's
// initial state.
func (b *bound) encode(xs, masks []*gorgonia.Node) ([]*gorgonia.Node, cells.State, error) {
	if !b.cfg.Bidirectional {
		outs, final, err := cells.UnrollMasked(b.enc, xs, nil, masks)
		return outs, final, err
	}
	outs, finals, err := b.bienc.Encode(xs, masks, nil)
	if err != nil {
		return nil, nil, err
	}
	init, err := b.bridgeState(finals)
	if err != nil {
		return nil, nil, err
	}
	if b.cfg.decoder() != Attention {
		return outs, init, nil
	}
	mem := make([]*gorgonia.Node, len(outs))
	for j, o := range outs {
		if mem[j], err = graph.MatMul(o, b.bridge[len(b.bridge)-1], false, true); err != nil {
			return nil, nil, err
		}
	}
	return mem, init, nil
}

// encodeSeq is encode over the whole source at once, x [Ts·B, E] and mask
// [Ts·B] time-major, each encoder layer (and direction) one fused node. It
// returns the memory [Ts·B, H] (or [Ts·B, 2H] for a bidirectional encoder
// without attention) and the decoder's initial state.
func (b *bound) encodeSeq(x *gorgonia.Node, batch int, mask *gorgonia.Node) (*gorgonia.Node, cells.State, error) {
	if !b.cfg.Bidirectional {
		return cells.Sequence(b.enc, x, batch, nil, cells.SeqOptions{Mask: mask})
	}
	out, finals, err := b.bienc.EncodeSeq(x, batch, mask, nil)
	if err != nil {
		return nil, nil, err
	}
	init, err := b.bridgeState(finals)
	if err != nil || b.cfg.decoder() != Attention {
		return out, init, err
	}
	mem, err := graph.MatMul(out, b.bridge[len(b.bridge)-1], false, true)
	return mem, init, err
}

// bridgeState maps a bidirectional encoder's final states to the
// decoder's initial state: per decoder layer and state tensor,
// W·[fwd; bwd] + b.
func (b *bound) bridgeState(finals []cells.State) (cells.State, error) {
	var err error
	L, S := b.cfg.layers(), b.cfg.numStates()
	layers := make([]cells.State, L)
	for k := 0; k < L; k++ {
		for s := 0; s < S; s++ {
			cat, err := graph.ConcatCols(finals[2*k][s], finals[2*k+1][s])
			if err != nil {
				return nil, err
			}
			w, bias := b.bridge[2*(k*S+s)], b.bridge[2*(k*S+s)+1]
			z, err := graph.MatMul(cat, w, false, true)
			if err != nil {
				return nil, err
			}
			if z, err = graph.AddRow(z, bias); err != nil {
				return nil, err
			}
			layers[k] = append(layers[k], z)
		}
	}
	var init cells.State
	if st, ok := b.dec.(interface {
		Join([]cells.State) (cells.State, error)
	}); ok {
		if init, err = st.Join(layers); err != nil {
			return nil, err
		}
	} else {
		init = layers[0]
	}
	return init, nil
}

// memory is what the decoder reads of the encoder at every step.
type memory struct {
	summary *gorgonia.Node   // [B, H]: the encoder's final top-layer h (Peeky)
	keys    []*gorgonia.Node // [B, H] per source step (Attention): encoder outputs, or W_enc·e_j for Additive
	values  []*gorgonia.Node // [B, H] per source step (Attention): encoder outputs
	mask    *gorgonia.Node   // [B, Ts]: 1 on real source positions (Attention)
}

// newMemory prepares the decoder's view of the encoder outputs.
func (b *bound) newMemory(encOut []*gorgonia.Node, summary, mask *gorgonia.Node) (*memory, error) {
	m := &memory{summary: summary, values: encOut, keys: encOut, mask: mask}
	if b.cfg.decoder() == Attention && b.cfg.score() == Additive {
		m.keys = make([]*gorgonia.Node, len(encOut))
		for j, e := range encOut {
			k, err := graph.MatMul(e, b.attn[0], false, true)
			if err != nil {
				return nil, err
			}
			m.keys[j] = k
		}
	}
	return m, nil
}

// step runs one decoder step on the embedded token x and returns the
// logits, the attention weights (nil unless Attention), the output h and
// the next state.
func (b *bound) step(x *gorgonia.Node, s cells.State, mem *memory) (logits, alpha *gorgonia.Node, next cells.State, err error) {
	in := x
	if b.cfg.decoder() == Peeky {
		if in, err = graph.ConcatCols(x, mem.summary); err != nil {
			return nil, nil, nil, err
		}
	}
	h, next, err := b.dec.Step(in, s)
	if err != nil {
		return nil, nil, nil, err
	}
	out := h
	switch b.cfg.decoder() {
	case Peeky:
		if out, err = graph.ConcatCols(h, mem.summary); err != nil {
			return nil, nil, nil, err
		}
	case Attention:
		scores, err := b.scores(h, mem)
		if err != nil {
			return nil, nil, nil, err
		}
		if alpha, err = attention.SoftmaxRows(scores, mem.mask); err != nil {
			return nil, nil, nil, err
		}
		ctx, err := attention.Attend(alpha, mem.values)
		if err != nil {
			return nil, nil, nil, err
		}
		if out, err = graph.ConcatCols(h, ctx); err != nil {
			return nil, nil, nil, err
		}
	}
	logits, err = b.project(out)
	return logits, alpha, next, err
}

// scores returns the attention scores [B, Ts] of h against the memory.
func (b *bound) scores(h *gorgonia.Node, mem *memory) (*gorgonia.Node, error) {
	switch b.cfg.score() {
	case General:
		q, err := graph.MatMul(h, b.attn[0], false, false) // (W_aᵀ h) · e_j = h · (W_a e_j)
		if err != nil {
			return nil, err
		}
		return attention.DotScores(q, mem.keys)
	case Additive:
		q, err := graph.MatMul(h, b.attn[1], false, true) // W_dec h
		if err != nil {
			return nil, err
		}
		cols := make([]*gorgonia.Node, len(mem.keys))
		for j, k := range mem.keys {
			a, err := gorgonia.Add(k, q)
			if err != nil {
				return nil, err
			}
			u, err := gorgonia.Tanh(a)
			if err != nil {
				return nil, err
			}
			if cols[j], err = graph.MatMul(u, b.attn[2], false, true); err != nil { // [B, 1]
				return nil, err
			}
		}
		return graph.ConcatCols(cols...)
	default:
		return attention.DotScores(h, mem.keys)
	}
}

// project returns the logits [B, V] of decoder outputs h [B, H].
func (b *bound) project(h *gorgonia.Node) (*gorgonia.Node, error) {
	z, err := graph.MatMul(h, b.fcW, false, true)
	if err != nil {
		return nil, err
	}
	return graph.AddRow(z, b.fcB)
}

// Batch is one padded batch: batch-major token ids. Src[b] is padded to the
// graph's source length, TgtIn[b] and TgtOut[b] to its target length; the
// lengths say how many tokens are real (at least 1).
type Batch struct {
	Src    [][]int
	SrcLen []int
	TgtIn  [][]int // decoder inputs: start token, then the target shifted right
	TgtOut [][]int // labels: the target
	TgtLen []int
}

// TrainGraph is the unrolled model for one shape (B, Ts, Tt), with teacher
// forcing and the loss. Build it once per shape; Set a batch and run its
// machine for each batch of that shape.
type TrainGraph struct {
	G         *graph.Graph
	B, Ts, Tt int
	Loss      *gorgonia.Node   // mean cross-entropy over real target positions
	Logits    []*gorgonia.Node // [B, V] per target step
	// LogitMatrix is every step's logits in one node, [Tt·B, V] time-major,
	// the node the loss reads (nil in the step-by-step graph of additive
	// attention, where the loss reads Logits).
	LogitMatrix *gorgonia.Node
	Attention   []*gorgonia.Node // [B, Ts] attention weights per target step (Attention decoders)
	EncOut      []*gorgonia.Node // per source step: the top layer's outputs, [B, H] ([B, 2H] if Bidirectional; through memory.weight to [B, H] for Attention)
	DecOut      []*gorgonia.Node // [B, H] per target step (top layer)
	EncFinal    cells.State      // the state handed to the decoder (through the bridge if Bidirectional)
	DecFinal    cells.State
	src, tgt    *embed.Tokens
	srcMask     []*gorgonia.Node
	srcMaskMat  *gorgonia.Node // [B, Ts]; fused: [Tt·B, Ts], one row per query
	tgtMask     []*gorgonia.Node
	targets     []*graph.Targets
	cfg         Config
	// The fused graph (every decoder but the additive-attention one): one
	// node per layer for each of encoder and decoder, attention and loss
	// over all target steps at once.
	fused          bool
	srcSeq, tgtSeq *gorgonia.Node // [Ts·B], [Tt·B] masks
	target         *graph.Targets // Tt·B rows
	// Dropout is the training graph's dropout (nil without); Set draws new
	// masks, SetTraining(false) turns it off for evaluation.
	Dropout *graph.Dropout
}

// NewTrainGraph builds the training graph for batch size B, source length
// Ts and target length Tt over the parameters in ps, checked by
// [graph.Build]. To add nodes of one's own (gorgonia.Grad, reads), call
// [BuildTrainGraph] inside one's own graph.Build instead.
func NewTrainGraph(ps *graph.Params, c Config, B, Ts, Tt int) (*TrainGraph, error) {
	_, t, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		return BuildTrainGraph(g, c, B, Ts, Tt)
	})
	return t, err
}

// BuildTrainGraph builds the training graph for batch size B, source length
// Ts and target length Tt into g (typically inside [graph.Build]).
func BuildTrainGraph(g *graph.Graph, c Config, B, Ts, Tt int) (*TrainGraph, error) {
	if g == nil {
		return nil, errors.New("seq2seq: nil graph")
	}
	if B <= 0 || Ts <= 0 || Tt <= 0 {
		return nil, errors.Errorf("seq2seq: batch %d, source length %d and target length %d must be positive", B, Ts, Tt)
	}
	var err error
	var d *graph.Dropout
	if c.Dropout > 0 {
		if d, err = graph.NewDropout(c.Dropout, graph.NewSource(c.Seed)); err != nil {
			return nil, err
		}
	}
	m, err := bind(g, c, d)
	if err != nil {
		return nil, err
	}
	t := &TrainGraph{G: g, B: B, Ts: Ts, Tt: Tt, cfg: c, Dropout: d}
	if c.decoder() != Attention || c.score() != Additive {
		if err := t.buildFused(m); err != nil {
			return nil, err
		}
		return t, nil
	}
	var xs, ys []*gorgonia.Node
	if t.src, xs, err = m.emb.Sequence(Ts, B); err != nil {
		return nil, err
	}
	if t.tgt, ys, err = m.emb.Sequence(Tt, B); err != nil {
		return nil, err
	}
	if t.srcMask, err = masks(g, "src_mask", Ts, B); err != nil {
		return nil, err
	}
	if t.tgtMask, err = masks(g, "tgt_mask", Tt, B); err != nil {
		return nil, err
	}
	if t.EncOut, t.EncFinal, err = m.encode(xs, t.srcMask); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	if t.srcMaskMat, err = g.Input("src_mask_matrix", B, Ts); err != nil {
		return nil, err
	}
	mem, err := m.newMemory(t.EncOut, t.EncFinal[0], t.srcMaskMat)
	if err != nil {
		return nil, errors.Wrap(err, "seq2seq: attention memory")
	}
	st := t.EncFinal
	for s, y := range ys {
		z, alpha, next, err := m.step(y, st, mem)
		if err != nil {
			return nil, errors.Wrapf(err, "seq2seq: decoder step %d", s)
		}
		// A finished target keeps its state and outputs zeros, as in UnrollMasked.
		h, kept, err := cells.Keep(t.tgtMask[s], st, next)
		if err != nil {
			return nil, err
		}
		st = kept
		t.DecOut = append(t.DecOut, h)
		t.Attention = append(t.Attention, alpha)
		t.Logits = append(t.Logits, z)
		tg, err := graph.NewTargets(B, c.Vocab)
		if err != nil {
			return nil, err
		}
		t.targets = append(t.targets, tg)
		ce, err := graph.CrossEntropy(z, tg)
		if err != nil {
			return nil, err
		}
		sum, err := gorgonia.Sum(ce)
		if err != nil {
			return nil, err
		}
		if t.Loss == nil {
			t.Loss = sum
		} else if t.Loss, err = gorgonia.Add(t.Loss, sum); err != nil {
			return nil, err
		}
	}
	t.DecFinal = st
	return t, nil
}

// buildFused builds the whole model over all steps at once: the source
// and target look-ups as [T·B, E] matrices, each encoder and decoder layer
// one fused recurrence (teacher forcing lets the decoder run over all
// target steps, since its inputs are known), the attention of every target
// step in one batched product, one output projection and one loss. It
// computes what the step-by-step graph computes (tested), several times
// faster.
func (t *TrainGraph) buildFused(m *bound) error {
	g, c, B, Ts, Tt := t.G, t.cfg, t.B, t.Ts, t.Tt
	t.fused = true
	var x, y *gorgonia.Node
	var err error
	if t.src, x, err = m.emb.Matrix(Ts, B); err != nil {
		return err
	}
	if t.tgt, y, err = m.emb.Matrix(Tt, B); err != nil {
		return err
	}
	if t.srcSeq, err = g.Input("src_mask", Ts*B); err != nil {
		return err
	}
	if t.tgtSeq, err = g.Input("tgt_mask", Tt*B); err != nil {
		return err
	}
	mem, init, err := m.encodeSeq(x, B, t.srcSeq)
	if err != nil {
		return errors.Wrap(err, "seq2seq: encoder")
	}
	t.EncFinal = init
	in, summary := y, init[0]
	var rep *gorgonia.Node // the summary repeated for every target step (Peeky)
	if c.decoder() == Peeky {
		reps := make([]*gorgonia.Node, Tt)
		for i := range reps {
			reps[i] = summary
		}
		if rep, err = graph.ConcatRows(reps...); err != nil {
			return err
		}
		if in, err = graph.ConcatCols(y, rep); err != nil {
			return err
		}
	}
	dec, final, err := cells.Sequence(m.dec, in, B, init, cells.SeqOptions{Mask: t.tgtSeq})
	if err != nil {
		return errors.Wrap(err, "seq2seq: decoder")
	}
	t.DecFinal = final
	out := dec
	var alpha *gorgonia.Node
	switch c.decoder() {
	case Peeky:
		if out, err = graph.ConcatCols(dec, rep); err != nil {
			return err
		}
	case Attention:
		if t.srcMaskMat, err = g.Input("src_mask_matrix", Tt*B, Ts); err != nil {
			return err
		}
		q := dec
		if c.score() == General {
			if q, err = graph.MatMul(dec, m.attn[0], false, false); err != nil {
				return err
			}
		}
		scores, err := attention.SeqScores(q, mem, B)
		if err != nil {
			return err
		}
		if alpha, err = attention.SoftmaxRows(scores, t.srcMaskMat); err != nil {
			return err
		}
		ctx, err := attention.SeqAttend(alpha, mem, B)
		if err != nil {
			return err
		}
		if out, err = graph.ConcatCols(dec, ctx); err != nil {
			return err
		}
	}
	logits, err := m.project(out)
	if err != nil {
		return err
	}
	t.LogitMatrix = logits
	if t.target, err = graph.NewTargets(Tt*B, c.Vocab); err != nil {
		return err
	}
	ce, err := graph.CrossEntropy(logits, t.target)
	if err != nil {
		return err
	}
	if t.Loss, err = gorgonia.Sum(ce); err != nil {
		return err
	}
	// The per-step views of the exported fields: copies, off the loss's path.
	steps := func(n *gorgonia.Node, T int) ([]*gorgonia.Node, error) {
		out := make([]*gorgonia.Node, T)
		for s := range out {
			var err error
			if out[s], err = graph.Rows(n, s*B, (s+1)*B); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if t.EncOut, err = steps(mem, Ts); err != nil {
		return err
	}
	if t.DecOut, err = steps(dec, Tt); err != nil {
		return err
	}
	if t.Logits, err = steps(logits, Tt); err != nil {
		return err
	}
	t.Attention = make([]*gorgonia.Node, Tt)
	if alpha != nil {
		if t.Attention, err = steps(alpha, Tt); err != nil {
			return err
		}
	}
	return nil
}

func masks(g *graph.Graph, name string, T, B int) ([]*gorgonia.Node, error) {
	out := make([]*gorgonia.Node, T)
	for s := range out {
		var err error
		if out[s], err = g.Input(fmt.Sprintf("%s_%d", name, s), B); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Set loads a batch: token ids, masks, and targets weighted 1/N over the N
// real target positions, so Loss is their mean cross-entropy.
func (t *TrainGraph) Set(b Batch) error {
	if len(b.Src) != t.B || len(b.SrcLen) != t.B || len(b.TgtIn) != t.B || len(b.TgtOut) != t.B || len(b.TgtLen) != t.B {
		return errors.Errorf("seq2seq: batch of %d sources, %d lengths, %d/%d targets, %d lengths; want %d each",
			len(b.Src), len(b.SrcLen), len(b.TgtIn), len(b.TgtOut), len(b.TgtLen), t.B)
	}
	if err := t.src.SetBatchMajor(b.Src); err != nil {
		return errors.Wrap(err, "seq2seq: source")
	}
	if t.Dropout != nil {
		if err := t.Dropout.Resample(); err != nil {
			return err
		}
	}
	if err := t.tgt.SetBatchMajor(b.TgtIn); err != nil {
		return errors.Wrap(err, "seq2seq: decoder input")
	}
	n := 0
	for i := 0; i < t.B; i++ {
		if b.SrcLen[i] < 1 || b.SrcLen[i] > t.Ts || b.TgtLen[i] < 1 || b.TgtLen[i] > t.Tt {
			return errors.Errorf("seq2seq: sequence %d: lengths %d and %d outside [1, %d] and [1, %d]", i, b.SrcLen[i], b.TgtLen[i], t.Ts, t.Tt)
		}
		if len(b.TgtOut[i]) != t.Tt {
			return errors.Errorf("seq2seq: labels of sequence %d have %d tokens, want %d", i, len(b.TgtOut[i]), t.Tt)
		}
		n += b.TgtLen[i]
	}
	if t.fused {
		return t.setFused(b, n)
	}
	if err := setMasks(t.srcMask, b.SrcLen); err != nil {
		return err
	}
	if err := setMasks(t.tgtMask, b.TgtLen); err != nil {
		return err
	}
	if err := graph.Set(t.srcMaskMat, maskMatrix(b.SrcLen, t.Ts)); err != nil {
		return err
	}
	for s, tg := range t.targets {
		ids, w := make([]int, t.B), make([]float64, t.B)
		for i := 0; i < t.B; i++ {
			ids[i] = b.TgtOut[i][s]
			if s < b.TgtLen[i] {
				w[i] = 1 / float64(n)
			}
		}
		if err := tg.Set(ids, w); err != nil {
			return errors.Wrapf(err, "seq2seq: labels at step %d", s)
		}
	}
	return nil
}

// setFused loads the masks and labels of the fused graph (n real target
// positions in all).
func (t *TrainGraph) setFused(b Batch, n int) error {
	if err := graph.Set(t.srcSeq, seqMask(b.SrcLen, t.Ts)); err != nil {
		return err
	}
	if err := graph.Set(t.tgtSeq, seqMask(b.TgtLen, t.Tt)); err != nil {
		return err
	}
	if t.srcMaskMat != nil {
		row := maskMatrix(b.SrcLen, t.Ts) // [B, Ts]
		all := make([]float64, 0, t.Tt*len(row))
		for s := 0; s < t.Tt; s++ {
			all = append(all, row...)
		}
		if err := graph.Set(t.srcMaskMat, all); err != nil {
			return err
		}
	}
	ids, w := make([]int, t.Tt*t.B), make([]float64, t.Tt*t.B)
	for s := 0; s < t.Tt; s++ {
		for i := 0; i < t.B; i++ {
			ids[s*t.B+i] = b.TgtOut[i][s]
			if s < b.TgtLen[i] {
				w[s*t.B+i] = 1 / float64(n)
			}
		}
	}
	return errors.Wrap(t.target.Set(ids, w), "seq2seq: labels")
}

// seqMask returns the [T·B] time-major 0/1 mask of real positions.
func seqMask(lengths []int, T int) []float64 {
	B := len(lengths)
	out := make([]float64, T*B)
	for i, l := range lengths {
		for s := 0; s < l && s < T; s++ {
			out[s*B+i] = 1
		}
	}
	return out
}

func setMasks(ms []*gorgonia.Node, lengths []int) error {
	for s, m := range ms {
		v := make([]float64, len(lengths))
		for i, l := range lengths {
			if s < l {
				v[i] = 1
			}
		}
		if err := graph.Set(m, v); err != nil {
			return err
		}
	}
	return nil
}

// maskMatrix returns the [B, T] row-major 0/1 matrix of real positions.
func maskMatrix(lengths []int, T int) []float64 {
	out := make([]float64, len(lengths)*T)
	for i, l := range lengths {
		for s := 0; s < l && s < T; s++ {
			out[i*T+s] = 1
		}
	}
	return out
}
