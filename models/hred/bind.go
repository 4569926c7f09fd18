package hred

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// linear is a bound linear layer.
type linear struct{ w, b *gorgonia.Node }

// apply returns x·Wᵀ + b.
func (l linear) apply(x *gorgonia.Node) (*gorgonia.Node, error) {
	return graph.Linear(x, l.w, l.b)
}

// gaussNet is a bound prior or posterior network: a tanh hidden layer and
// the mean and log-variance of a diagonal Gaussian.
type gaussNet struct{ hidden, mu, logvar linear }

// apply returns the mean and log-variance for the input x.
func (n gaussNet) apply(x *gorgonia.Node) (mu, logvar *gorgonia.Node, err error) {
	h, err := n.hidden.apply(x)
	if err != nil {
		return nil, nil, err
	}
	if h, err = gorgonia.Tanh(h); err != nil {
		return nil, nil, err
	}
	if mu, err = n.mu.apply(h); err != nil {
		return nil, nil, err
	}
	logvar, err = n.logvar.apply(h)
	return mu, logvar, err
}

// bound is the model bound into one graph.
type bound struct {
	g             *graph.Graph
	cfg           Config
	emb           *embed.Embedding
	enc, ctx, dec cells.Cell // ctx nil for Seq2Seq
	init          []linear   // per decoder state tensor
	fc            linear
	prior, post   gaussNet // VHRED
}

func bind(g *graph.Graph, c Config) (*bound, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("hred: nil graph")
	}
	b := &bound{g: g, cfg: c}
	var err error
	if b.emb, err = embed.New(g, c.embedConfig()); err != nil {
		return nil, err
	}
	enc, ctx, dec, hasCtx := c.cellConfigs()
	if b.enc, err = cells.New(g, enc); err != nil {
		return nil, errors.Wrap(err, "hred: utterance encoder")
	}
	if b.dec, err = cells.New(g, dec); err != nil {
		return nil, errors.Wrap(err, "hred: decoder")
	}
	if hasCtx {
		if b.ctx, err = cells.New(g, ctx); err != nil {
			return nil, errors.Wrap(err, "hred: context RNN")
		}
	}
	ls := map[string]linear{}
	for _, l := range c.linears() {
		w, err := g.Param(l.name+".weight", l.out, l.in)
		if err != nil {
			return nil, err
		}
		bias, err := g.Param(l.name+".bias", l.out)
		if err != nil {
			return nil, err
		}
		ls[l.name] = linear{w, bias}
	}
	for k := 0; k < c.numStates(); k++ {
		b.init = append(b.init, ls[fmt.Sprintf("init.%d", k)])
	}
	b.fc = ls["fc"]
	b.prior = gaussNet{ls["prior.hidden"], ls["prior.mu"], ls["prior.logvar"]}
	b.post = gaussNet{ls["posterior.hidden"], ls["posterior.mu"], ls["posterior.logvar"]}
	return b, nil
}

// contextInputs are the inputs of the context encoder for B dialogues of N
// utterance slots of Tu tokens.
type contextInputs struct {
	B, N, Tu int
	tokens   *embed.Tokens  // Tu steps of N·B tokens, sequence n·B + b
	uttMask  *gorgonia.Node // [Tu·N·B]
	ctxMask  *gorgonia.Node // [N·B]; nil for Seq2Seq
}

// encodeContext builds the utterance encoder over every utterance slot at
// once (N·B sequences, slot n of dialogue b is sequence n·B + b) and the
// context RNN over their final h (N steps of B), and returns the context
// vector [B, H] (Seq2Seq: the one utterance's h) or [B, Context].
func (b *bound) encodeContext(B, N, Tu int) (*contextInputs, *gorgonia.Node, error) {
	in := &contextInputs{B: B, N: N, Tu: Tu}
	var x *gorgonia.Node
	var err error
	if in.tokens, x, err = b.emb.Matrix(Tu, N*B); err != nil {
		return nil, nil, err
	}
	if in.uttMask, err = b.g.Input("utt_mask", Tu*N*B); err != nil {
		return nil, nil, err
	}
	_, fin, err := cells.Sequence(b.enc, x, N*B, nil, cells.SeqOptions{Mask: in.uttMask})
	if err != nil {
		return nil, nil, errors.Wrap(err, "hred: utterance encoder")
	}
	if b.ctx == nil {
		return in, fin[0], nil
	}
	if in.ctxMask, err = b.g.Input("ctx_mask", N*B); err != nil {
		return nil, nil, err
	}
	_, cf, err := cells.Sequence(b.ctx, fin[0], B, nil, cells.SeqOptions{Mask: in.ctxMask})
	if err != nil {
		return nil, nil, errors.Wrap(err, "hred: context RNN")
	}
	return in, cf[0], nil
}

// reparam returns z = μ + exp(½ log σ²) ⊙ ε.
func (b *bound) reparam(mu, logvar, eps *gorgonia.Node) (*gorgonia.Node, error) {
	half, err := gorgonia.Mul(logvar, b.g.Scalar(0.5))
	if err != nil {
		return nil, err
	}
	sigma, err := gorgonia.Exp(half)
	if err != nil {
		return nil, err
	}
	se, err := gorgonia.HadamardProd(sigma, eps)
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(mu, se)
}

// gaussKL returns KL(N(μq, σq²) ‖ N(μp, σp²)) per element, [B, Z]:
// ½ (log σp² − log σq² + (σq² + (μq − μp)²) / σp² − 1).
func (b *bound) gaussKL(muQ, lvQ, muP, lvP *gorgonia.Node) (*gorgonia.Node, error) {
	d, err := gorgonia.Sub(muQ, muP)
	if err != nil {
		return nil, err
	}
	d2, err := gorgonia.Square(d)
	if err != nil {
		return nil, err
	}
	vq, err := gorgonia.Exp(lvQ)
	if err != nil {
		return nil, err
	}
	num, err := gorgonia.Add(vq, d2)
	if err != nil {
		return nil, err
	}
	neg, err := gorgonia.Neg(lvP)
	if err != nil {
		return nil, err
	}
	inv, err := gorgonia.Exp(neg)
	if err != nil {
		return nil, err
	}
	ratio, err := gorgonia.HadamardProd(num, inv)
	if err != nil {
		return nil, err
	}
	diff, err := gorgonia.Sub(lvP, lvQ)
	if err != nil {
		return nil, err
	}
	s, err := gorgonia.Add(diff, ratio)
	if err != nil {
		return nil, err
	}
	if s, err = gorgonia.Sub(s, b.g.Scalar(1)); err != nil {
		return nil, err
	}
	return gorgonia.Mul(s, b.g.Scalar(0.5))
}

// decoderInit returns the decoder's initial state: tanh(init.k(cond)) for
// every state tensor k.
func (b *bound) decoderInit(cond *gorgonia.Node) (cells.State, error) {
	st := make(cells.State, len(b.init))
	for k, l := range b.init {
		y, err := l.apply(cond)
		if err != nil {
			return nil, err
		}
		if st[k], err = gorgonia.Tanh(y); err != nil {
			return nil, err
		}
	}
	return st, nil
}
