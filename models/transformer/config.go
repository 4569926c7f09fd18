package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
)

// Activation is the feed-forward block's non-linearity.
type Activation string

// The activations PyTorch's Transformer layers take.
const (
	ReLU Activation = "relu"
	// GELU is the exact form x·Φ(x) = x/2·(1 + erf(x/√2)) (PyTorch's
	// default approximate="none"), not the tanh approximation.
	GELU Activation = "gelu"
)

// DefaultEps is LayerNorm's ε in PyTorch's Transformer layers.
const DefaultEps = 1e-5

// LayerConfig describes one encoder or decoder layer, as
// torch.nn.TransformerEncoderLayer / TransformerDecoderLayer with
// batch_first=False.
type LayerConfig struct {
	Embed      int        `json:"embed"`      // d_model, E
	Heads      int        `json:"heads"`      // nhead; E must be divisible by it
	FF         int        `json:"ff"`         // dim_feedforward, F
	Activation Activation `json:"activation"` // "" means ReLU
	NormFirst  bool       `json:"norm_first"` // pre-norm (norm_first=True) instead of post-norm
	Eps        float64    `json:"eps"`        // LayerNorm ε; 0 means DefaultEps
	Dropout    float64    `json:"dropout"`    // dropout probability, in [0, 1)
}

// Act returns the activation, ReLU for the zero value.
func (c LayerConfig) Act() Activation {
	if c.Activation == "" {
		return ReLU
	}
	return c.Activation
}

// EpsOr returns ε, DefaultEps for the zero value.
func (c LayerConfig) EpsOr() float64 {
	if c.Eps == 0 {
		return DefaultEps
	}
	return c.Eps
}

// HeadDim returns E / heads.
func (c LayerConfig) HeadDim() int { return c.Embed / c.Heads }

// Validate checks the sizes, the activation and the dropout.
func (c LayerConfig) Validate() error {
	switch {
	case c.Embed <= 0:
		return errors.Wrapf(ErrConfig, "embedding width E = %d must be positive", c.Embed)
	case c.Heads <= 0:
		return errors.Wrapf(ErrConfig, "heads = %d must be positive", c.Heads)
	case c.Embed%c.Heads != 0:
		return errors.Wrapf(ErrConfig, "embedding width E = %d is not divisible by the %d heads", c.Embed, c.Heads)
	case c.FF <= 0:
		return errors.Wrapf(ErrConfig, "feed-forward width = %d must be positive", c.FF)
	case c.Act() != ReLU && c.Act() != GELU:
		return errors.Wrapf(ErrConfig, "activation %q (relu or gelu)", c.Activation)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return errors.Wrapf(ErrConfig, "dropout %v must be in [0, 1)", c.Dropout)
	case !(c.Eps >= 0) || math.IsInf(c.Eps, 0):
		return errors.Wrapf(ErrConfig, "layer norm eps %v must be finite and not negative", c.Eps)
	}
	return nil
}

// ParamSpec is a parameter's name, shape and initialiser.
type ParamSpec struct {
	Name  string
	Shape []int
	Init  graph.Initializer
}

func attnParams(prefix string, E int) []ParamSpec {
	return []ParamSpec{
		{prefix + ".in_proj_weight", []int{3 * E, E}, graph.GlorotUniform{}},
		{prefix + ".in_proj_bias", []int{3 * E}, graph.Constant(0)},
		{prefix + ".out_proj.weight", []int{E, E}, linearInit(E)},
		{prefix + ".out_proj.bias", []int{E}, graph.Constant(0)},
	}
}

func linearInit(in int) graph.Initializer {
	// torch.nn.Linear: kaiming_uniform(a=√5) = U(−1/√in, 1/√in).
	k := 1 / math.Sqrt(float64(in))
	return graph.Uniform{Low: -k, High: k}
}

func linearParams(prefix string, in, out int) []ParamSpec {
	return []ParamSpec{
		{prefix + ".weight", []int{out, in}, linearInit(in)},
		{prefix + ".bias", []int{out}, linearInit(in)},
	}
}

func normParams(prefix string, E int) []ParamSpec {
	return []ParamSpec{
		{prefix + ".weight", []int{E}, graph.Constant(1)},
		{prefix + ".bias", []int{E}, graph.Constant(0)},
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// EncoderParams returns the parameters of an encoder layer under prefix
// (empty for none), in PyTorch's names and order: self_attn.in_proj_weight
// [3E, E], self_attn.in_proj_bias, self_attn.out_proj.weight [E, E],
// self_attn.out_proj.bias, linear1.weight [F, E], linear1.bias,
// linear2.weight [E, F], linear2.bias, norm1.*, norm2.*.
func (c LayerConfig) EncoderParams(prefix string) []ParamSpec {
	E, F := c.Embed, c.FF
	ps := attnParams(join(prefix, "self_attn"), E)
	ps = append(ps, linearParams(join(prefix, "linear1"), E, F)...)
	ps = append(ps, linearParams(join(prefix, "linear2"), F, E)...)
	ps = append(ps, normParams(join(prefix, "norm1"), E)...)
	return append(ps, normParams(join(prefix, "norm2"), E)...)
}

// DecoderParams returns the parameters of a decoder layer under prefix, in
// PyTorch's names and order: self_attn.*, multihead_attn.* (attention over
// the encoder's memory), linear1.*, linear2.*, norm1.*, norm2.*, norm3.*.
func (c LayerConfig) DecoderParams(prefix string) []ParamSpec {
	E, F := c.Embed, c.FF
	ps := attnParams(join(prefix, "self_attn"), E)
	ps = append(ps, attnParams(join(prefix, "multihead_attn"), E)...)
	ps = append(ps, linearParams(join(prefix, "linear1"), E, F)...)
	ps = append(ps, linearParams(join(prefix, "linear2"), F, E)...)
	ps = append(ps, normParams(join(prefix, "norm1"), E)...)
	ps = append(ps, normParams(join(prefix, "norm2"), E)...)
	return append(ps, normParams(join(prefix, "norm3"), E)...)
}

// Config describes the Seq2Seq Transformer of PyTorch's translation
// tutorial: one embedding shared by source and target, scaled by √E, plus
// the sinusoidal positional encoding; torch.nn.Transformer (encoder and
// decoder stacks with their final norms); a generator Linear to the
// vocabulary.
type Config struct {
	Vocab         int         `json:"vocab"`
	Layer         LayerConfig `json:"layer"`
	EncoderLayers int         `json:"encoder_layers"`
	DecoderLayers int         `json:"decoder_layers"`
	// MaxLen is the positional table's length; a longer sequence is an
	// error (ErrTooLong). 0 means DefaultMaxLen.
	MaxLen int `json:"max_len"`
}

// DefaultMaxLen is the positional table's length when Config.MaxLen is 0
// (the tutorial's 5000).
const DefaultMaxLen = 5000

// MaxLenOr returns MaxLen, DefaultMaxLen for the zero value.
func (c Config) MaxLenOr() int {
	if c.MaxLen == 0 {
		return DefaultMaxLen
	}
	return c.MaxLen
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if err := c.Layer.Validate(); err != nil {
		return err
	}
	switch {
	case c.Vocab <= 0:
		return errors.Wrapf(ErrConfig, "vocabulary size %d must be positive", c.Vocab)
	case c.EncoderLayers <= 0 || c.DecoderLayers <= 0:
		return errors.Wrapf(ErrConfig, "%d encoder and %d decoder layers: both must be positive", c.EncoderLayers, c.DecoderLayers)
	case c.MaxLen < 0:
		return errors.Wrapf(ErrConfig, "positional table length %d must not be negative", c.MaxLen)
	}
	return nil
}

// Params returns every parameter in PyTorch's names (those of the
// tutorial's Seq2SeqTransformer with its nn.Transformer called
// "transformer"): embedding.weight [V, E], transformer.encoder.layers.{k}.…,
// transformer.encoder.norm.*, transformer.decoder.layers.{k}.…,
// transformer.decoder.norm.*, fc.weight [V, E], fc.bias [V].
func (c Config) Params() []ParamSpec {
	E, V := c.Layer.Embed, c.Vocab
	ps := []ParamSpec{{"embedding.weight", []int{V, E}, graph.Uniform{Low: -1, High: 1}}}
	for k := 0; k < c.EncoderLayers; k++ {
		ps = append(ps, c.Layer.EncoderParams(fmt.Sprintf("transformer.encoder.layers.%d", k))...)
	}
	ps = append(ps, normParams("transformer.encoder.norm", E)...)
	for k := 0; k < c.DecoderLayers; k++ {
		ps = append(ps, c.Layer.DecoderParams(fmt.Sprintf("transformer.decoder.layers.%d", k))...)
	}
	ps = append(ps, normParams("transformer.decoder.norm", E)...)
	return append(ps, linearParams("fc", E, V)...)
}

// Init creates the parameters of specs in ps, each drawn from its
// initialiser with src: as PyTorch initialises them (in_proj weights
// Glorot-uniform and their biases zero, Linear layers U(−1/√in, 1/√in),
// LayerNorm weights one and biases zero). The tutorial then redraws every
// matrix Glorot-uniform; XavierMatrices does that.
func Init(ps *graph.Params, specs []ParamSpec, src graph.Source) error {
	if ps == nil || src == nil {
		return errors.New("transformer: Init needs params and a random source")
	}
	for _, p := range specs {
		t, err := ps.New(p.Name, p.Shape...)
		if err != nil {
			return errors.Wrapf(err, "transformer: parameter %s", p.Name)
		}
		if err := p.Init.Fill(src, t); err != nil {
			return errors.Wrapf(err, "transformer: initialising %s", p.Name)
		}
	}
	return nil
}

// XavierMatrices returns specs with every matrix's initialiser replaced by
// Glorot-uniform: what the tutorial (and nn.Transformer's own
// _reset_parameters) does after building the model.
func XavierMatrices(specs []ParamSpec) []ParamSpec {
	out := make([]ParamSpec, len(specs))
	for i, p := range specs {
		out[i] = p
		if len(p.Shape) == 2 {
			out[i].Init = graph.GlorotUniform{}
		}
	}
	return out
}
