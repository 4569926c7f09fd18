package hred

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// Kind selects the model.
type Kind string

// The models of this package.
const (
	// Seq2Seq reads the last utterance only: the decoder is conditioned
	// on its encoding (the flat baseline).
	Seq2Seq Kind = "seq2seq"
	// HRED conditions the decoder on the context RNN's state after the
	// last utterance (Serban et al. 2016).
	HRED Kind = "hred"
	// VHRED adds a latent z per reply, drawn from a prior p(z | context)
	// (a posterior q(z | context, reply) in training), and conditions the
	// decoder on [context; z] (Serban et al. 2017).
	VHRED Kind = "vhred"
)

// Config describes a model.
type Config struct {
	Kind  Kind `json:"kind"`
	Vocab int  `json:"vocab"`
	Embed int  `json:"embed"`
	// Hidden is the width of the utterance encoder and of the decoder.
	Hidden int `json:"hidden"`
	// Context is the width of the context RNN (HRED, VHRED) and of the
	// hidden layer of the prior and posterior networks (VHRED).
	Context int `json:"context,omitempty"`
	// Latent is the width of z (VHRED).
	Latent int        `json:"latent,omitempty"`
	Cell   cells.Kind `json:"cell"`
	// BOS, EOS and UNK are the vocabulary's start, end and unknown token
	// ids: the decoder's first input, its last label, and what word
	// dropout puts in place of an input token.
	BOS int `json:"bos"`
	EOS int `json:"eos"`
	UNK int `json:"unk"`
}

// Validate checks the config.
func (c Config) Validate() error {
	switch c.Kind {
	case Seq2Seq, HRED, VHRED:
	default:
		return errors.Errorf("hred: unknown kind %q (seq2seq, hred, vhred)", c.Kind)
	}
	if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 {
		return errors.Errorf("hred: vocab %d, embed %d and hidden %d must be greater than zero", c.Vocab, c.Embed, c.Hidden)
	}
	if c.Kind != Seq2Seq && c.Context <= 0 {
		return errors.Errorf("hred: context size %d must be greater than zero for %s", c.Context, c.Kind)
	}
	if c.Kind == VHRED && c.Latent <= 0 {
		return errors.Errorf("hred: latent size %d must be greater than zero for vhred", c.Latent)
	}
	for _, t := range []struct {
		name string
		id   int
	}{{"bos", c.BOS}, {"eos", c.EOS}, {"unk", c.UNK}} {
		if t.id < 0 || t.id >= c.Vocab {
			return errors.Errorf("hred: %s id %d outside the vocabulary [0, %d)", t.name, t.id, c.Vocab)
		}
	}
	if c.BOS == c.EOS {
		return errors.Errorf("hred: bos and eos are both %d", c.BOS)
	}
	return (cells.Config{Kind: c.Cell, InputSize: 1, HiddenSize: 1}).Validate()
}

// CondWidth is the width of what the decoder is conditioned on: the
// utterance vector (Seq2Seq), the context state (HRED), [context; z]
// (VHRED).
func (c Config) CondWidth() int {
	switch c.Kind {
	case Seq2Seq:
		return c.Hidden
	case VHRED:
		return c.Context + c.Latent
	}
	return c.Context
}

func (c Config) numStates() int { return (cells.Config{Kind: c.Cell}).NumStates() }

func (c Config) embedConfig() embed.Config { return embed.Config{Vocab: c.Vocab, Dim: c.Embed} }

// cellConfigs returns the utterance encoder's, the context RNN's (none for
// Seq2Seq) and the decoder's cell configs.
func (c Config) cellConfigs() (enc, ctx, dec cells.Config, hasCtx bool) {
	enc = cells.Config{Kind: c.Cell, InputSize: c.Embed, HiddenSize: c.Hidden, Prefix: "encoder."}
	dec = cells.Config{Kind: c.Cell, InputSize: c.Embed + c.CondWidth(), HiddenSize: c.Hidden, Prefix: "decoder."}
	if c.Kind == Seq2Seq {
		return enc, ctx, dec, false
	}
	ctx = cells.Config{Kind: c.Cell, InputSize: c.Hidden, HiddenSize: c.Context, Prefix: "context."}
	return enc, ctx, dec, true
}

// linearSpec is a linear layer's parameters: name.weight [out, in],
// name.bias [out].
type linearSpec struct {
	name    string
	out, in int
}

// linears lists the model's linear layers: the decoder's initial state
// from the condition (one per state tensor), the output layer, and
// VHRED's prior and posterior networks.
func (c Config) linears() []linearSpec {
	D := c.CondWidth()
	var out []linearSpec
	for k := 0; k < c.numStates(); k++ {
		out = append(out, linearSpec{fmt.Sprintf("init.%d", k), c.Hidden, D})
	}
	out = append(out, linearSpec{"fc", c.Vocab, c.Hidden})
	if c.Kind == VHRED {
		for _, net := range []struct {
			name string
			in   int
		}{{"prior", c.Context}, {"posterior", c.Context + c.Hidden}} {
			out = append(out,
				linearSpec{net.name + ".hidden", c.Context, net.in},
				linearSpec{net.name + ".mu", c.Latent, c.Context},
				linearSpec{net.name + ".logvar", c.Latent, c.Context})
		}
	}
	return out
}

// Init creates every parameter in ps from src: the embedding N(0, 1), the
// recurrent and linear layers U(−1/√in, 1/√in) as PyTorch's defaults.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.embedConfig().Init(ps, src); err != nil {
		return err
	}
	enc, ctx, dec, hasCtx := c.cellConfigs()
	cs := []cells.Config{enc, dec}
	if hasCtx {
		cs = append(cs, ctx)
	}
	for _, cc := range cs {
		if err := cc.Init(ps, src); err != nil {
			return errors.Wrap(err, "hred")
		}
	}
	root := graph.NewScope(ps)
	for _, l := range c.linears() {
		init := graph.PyTorchDefault(l.in)
		if _, err := root.New(l.name+".weight", init, src, l.out, l.in); err != nil {
			return errors.Wrap(err, "hred")
		}
		if _, err := root.New(l.name+".bias", init, src, l.out); err != nil {
			return errors.Wrap(err, "hred")
		}
	}
	return nil
}
