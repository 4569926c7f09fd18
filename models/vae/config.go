package vae

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// Config describes a sentence VAE (or, with Latent 0, the sentence
// language model that is its baseline).
type Config struct {
	// Vocab, Embed, Hidden and Latent are the sizes: the vocabulary, the
	// word vectors (shared by encoder and decoder), the encoder's and the
	// decoder's hidden state, and z. Latent 0 means no z (no encoder).
	Vocab  int `json:"vocab"`
	Embed  int `json:"embed"`
	Hidden int `json:"hidden"`
	Latent int `json:"latent"`
	// Cell is the kind of the encoder's and the decoder's cell (one layer
	// each).
	Cell cells.Kind `json:"cell"`
	// ZInput joins z to every decoder input ([embedding; z]), besides
	// initialising the decoder's state from it.
	ZInput bool `json:"z_input,omitempty"`
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 || c.Latent < 0 {
		return errors.Wrapf(ErrConfig, "vocab %d, embed %d and hidden %d must be positive, latent %d not negative", c.Vocab, c.Embed, c.Hidden, c.Latent)
	}
	if c.ZInput && c.Latent == 0 {
		return errors.Wrap(ErrConfig, "z joined to the decoder inputs needs a latent size above 0")
	}
	if err := (cells.Config{Kind: c.Cell, InputSize: 1, HiddenSize: 1}).Validate(); err != nil {
		return errors.Wrap(ErrConfig, err.Error())
	}
	return nil
}

// numStates is the number of state tensors of the cell (h, and c).
func (c Config) numStates() int { return cells.Config{Kind: c.Cell}.NumStates() }

func (c Config) encoderCell() cells.Config {
	return cells.Config{Kind: c.Cell, InputSize: c.Embed, HiddenSize: c.Hidden, Prefix: "encoder."}
}

func (c Config) decoderCell() cells.Config {
	in := c.Embed
	if c.ZInput {
		in += c.Latent
	}
	return cells.Config{Kind: c.Cell, InputSize: in, HiddenSize: c.Hidden, Prefix: "decoder."}
}

func (c Config) embedConfig() embed.Config { return embed.Config{Vocab: c.Vocab, Dim: c.Embed} }

// linear is one affine map's parameter names and sizes.
type linear struct {
	name    string
	out, in int
}

// linears returns the model's affine maps besides the cells'.
func (c Config) linears() []linear {
	ls := []linear{{"fc", c.Vocab, c.Hidden}}
	if c.Latent > 0 {
		ls = append(ls, linear{"mu", c.Latent, c.Hidden}, linear{"logvar", c.Latent, c.Hidden},
			linear{"latent2hidden", c.numStates() * c.Hidden, c.Latent})
	}
	return ls
}

// Init creates the parameters: embedding.weight; decoder.weight_ih_l0 …
// (the cell's, PyTorch's names); fc.weight [Vocab, Hidden] and fc.bias;
// and with a latent, encoder.weight_ih_l0 …, mu.weight [Latent, Hidden],
// mu.bias, logvar.weight, logvar.bias and latent2hidden.weight
// [states·Hidden, Latent] (the decoder's initial h, then c for an LSTM)
// and latent2hidden.bias. Linear maps are drawn as PyTorch's nn.Linear
// (U(−1/√in, 1/√in)), the embedding from N(0, 1), the cells as PyTorch's.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.embedConfig().Init(ps, src); err != nil {
		return errors.Wrap(err, "vae")
	}
	var cs []cells.Config
	if c.Latent > 0 {
		cs = append(cs, c.encoderCell())
	}
	for _, cc := range append(cs, c.decoderCell()) {
		if err := cc.Init(ps, src); err != nil {
			return errors.Wrap(err, "vae")
		}
	}
	for _, l := range c.linears() {
		s, err := graph.NewScope(ps).Sub(l.name)
		if err != nil {
			return err
		}
		init := graph.PyTorchDefault(l.in)
		if _, err := s.New("weight", init, src, l.out, l.in); err != nil {
			return err
		}
		if _, err := s.New("bias", init, src, l.out); err != nil {
			return err
		}
	}
	return nil
}
