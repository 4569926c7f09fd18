package mlm

import (
	"fmt"
	"math"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/transformer"
)

// Config describes a masked language model: a vocabulary, the encoder
// layers of package transformer, and the output head.
type Config struct {
	Vocab  int                     `json:"vocab"`
	Layer  transformer.LayerConfig `json:"layer"`
	Layers int                     `json:"layers"` // encoder layers, L
	// MaxLen is the positional table's length: the longest sequence the
	// model reads. 0 means transformer.DefaultMaxLen.
	MaxLen int `json:"max_len"`
	// Tied makes the output head's weight the embedding table itself
	// (Press & Wolf 2017; BERT does it): logits = h·embedding.weightᵀ +
	// fc.bias, and there is no fc.weight.
	Tied bool `json:"tied"`
}

// MaxLenOr returns MaxLen, transformer.DefaultMaxLen for the zero value.
func (c Config) MaxLenOr() int {
	if c.MaxLen == 0 {
		return transformer.DefaultMaxLen
	}
	return c.MaxLen
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if err := c.Layer.Validate(); err != nil {
		return errors.Wrap(ErrConfig, err.Error())
	}
	switch {
	case c.Vocab <= 0:
		return errors.Wrapf(ErrConfig, "vocabulary size %d must be positive", c.Vocab)
	case c.Layers <= 0:
		return errors.Wrapf(ErrConfig, "%d encoder layers: must be positive", c.Layers)
	case c.MaxLen < 0:
		return errors.Wrapf(ErrConfig, "positional table length %d must not be negative", c.MaxLen)
	}
	return nil
}

// embedding returns the transformer.Config whose embedding (Net.Embed)
// is this model's: the vocabulary, the width and the positional table.
func (c Config) embedding() transformer.Config {
	return transformer.Config{Vocab: c.Vocab, Layer: c.Layer, EncoderLayers: c.Layers, DecoderLayers: 1, MaxLen: c.MaxLen}
}

// Params returns every parameter in PyTorch's names: embedding.weight
// [V, E], encoder.layers.{k}.… (transformer.LayerConfig.EncoderParams),
// encoder.norm.* [E] for pre-norm layers, fc.weight [V, E] unless Tied,
// fc.bias [V]. Their initialisers are PyTorch's (nn.Embedding N(0, 1) is
// replaced by U(−1, 1) as in package transformer; nn.Linear
// U(−1/√E, 1/√E)); XavierMatrices redraws the matrices Glorot-uniform.
func (c Config) Params() []transformer.ParamSpec {
	E, V := c.Layer.Embed, c.Vocab
	ps := []transformer.ParamSpec{{Name: "embedding.weight", Shape: []int{V, E}, Init: graph.Uniform{Low: -1, High: 1}}}
	for k := 0; k < c.Layers; k++ {
		ps = append(ps, c.Layer.EncoderParams(fmt.Sprintf("encoder.layers.%d", k))...)
	}
	if c.Layer.NormFirst {
		ps = append(ps,
			transformer.ParamSpec{Name: "encoder.norm.weight", Shape: []int{E}, Init: graph.Constant(1)},
			transformer.ParamSpec{Name: "encoder.norm.bias", Shape: []int{E}, Init: graph.Constant(0)})
	}
	k := 1 / math.Sqrt(float64(E))
	lin := graph.Uniform{Low: -k, High: k}
	if !c.Tied {
		ps = append(ps, transformer.ParamSpec{Name: "fc.weight", Shape: []int{V, E}, Init: lin})
	}
	return append(ps, transformer.ParamSpec{Name: "fc.bias", Shape: []int{V}, Init: lin})
}
