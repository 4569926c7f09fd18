package seq2seq

import (
	"fmt"

	"github.com/pkg/errors"

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
