package vae

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// bound is the model's parameters bound into one graph.
type bound struct {
	cfg      Config
	emb      *embed.Embedding
	enc, dec cells.Cell                   // enc nil without a latent
	lin      map[string][2]*gorgonia.Node // name → weight, bias
}

func bind(g *graph.Graph, c Config) (*bound, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b := &bound{cfg: c, lin: map[string][2]*gorgonia.Node{}}
	var err error
	if b.emb, err = embed.New(g, c.embedConfig()); err != nil {
		return nil, err
	}
	if c.Latent > 0 {
		if b.enc, err = cells.New(g, c.encoderCell()); err != nil {
			return nil, errors.Wrap(err, "vae: encoder")
		}
	}
	if b.dec, err = cells.New(g, c.decoderCell()); err != nil {
		return nil, errors.Wrap(err, "vae: decoder")
	}
	for _, l := range c.linears() {
		w, err := g.Param(l.name+".weight", l.out, l.in)
		if err != nil {
			return nil, err
		}
		bias, err := g.Param(l.name+".bias", l.out)
		if err != nil {
			return nil, err
		}
		b.lin[l.name] = [2]*gorgonia.Node{w, bias}
	}
	return b, nil
}

// affine returns x·Wᵀ + b for the linear map name.
func (b *bound) affine(name string, x *gorgonia.Node) (*gorgonia.Node, error) {
	p := b.lin[name]
	y, err := graph.Linear(x, p[0], p[1])
	return y, errors.Wrapf(err, "vae: %s", name)
}

// initState returns the decoder's initial state from z [B, Latent]:
// tanh(latent2hidden(z)), cut into the cell's state tensors.
func (b *bound) initState(z *gorgonia.Node) (cells.State, error) {
	a, err := b.affine("latent2hidden", z)
	if err != nil {
		return nil, err
	}
	t, err := gorgonia.Tanh(a)
	if err != nil {
		return nil, errors.Wrap(err, "vae: initial state")
	}
	S, H := b.cfg.numStates(), b.cfg.Hidden
	if S == 1 {
		return cells.State{t}, nil
	}
	st := make(cells.State, S)
	for s := range st {
		if st[s], err = graph.Cols(t, s*H, (s+1)*H); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Options are a graph's settings that are not the model's.
type Options struct {
	// FreeBits is λ ≥ 0, the floor of each latent dimension's KL averaged
	// over the batch (Kingma et al. 2016); 0: off. The floor is β·λ, so
	// that the KL term stays β times the floored KL.
	FreeBits float64
}

// TrainGraph is the model over one batch shape: B sentences of at most T
// words (the decoder runs T+1 steps), with the loss.
type TrainGraph struct {
	G    *graph.Graph
	B, T int
	// Loss is Recon + KLTerm: the negative ELBO per sentence (with β and
	// free bits as set).
	Loss *gorgonia.Node
	// Recon is the reconstruction cross-entropy summed over each sentence's
	// tokens and averaged over the batch's sentences.
	Recon *gorgonia.Node
	// CE holds each decoder position's cross-entropy times its sentence's
	// weight 1/(real sentences), [(T+1)·B], time-major.
	CE *gorgonia.Node
	// KLTerm is β · KL averaged over the sentences (floored per dimension
	// with free bits); nil without a latent.
	KLTerm *gorgonia.Node
	// KL is each sentence's KL per dimension, [B, Latent], Mu and LogVar
	// the posterior's parameters, Z the code (all nil without a latent).
	KL, Mu, LogVar, Z *gorgonia.Node
	// Logits are the decoder's, [(T+1)·B, Vocab], time-major.
	Logits *gorgonia.Node

	cfg             Config
	opt             Options
	src, dec        *embed.Tokens
	srcMask         *gorgonia.Node // [T·B]
	decMask         *gorgonia.Node // [(T+1)·B]
	eps, klw, floor *gorgonia.Node // [B, Latent], [1, B], [1, Latent] (floor nil without free bits)
	tgts            *graph.Targets
}

// NewTrainGraph builds the graph of B sentences of at most T words over
// ps, checked by [graph.Build]. To add nodes of one's own (gorgonia.Grad,
// reads), call [BuildTrainGraph] inside one's own graph.Build instead.
func NewTrainGraph(ps *graph.Params, c Config, B, T int, o Options) (*TrainGraph, error) {
	_, t, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) { return BuildTrainGraph(g, c, B, T, o) })
	return t, err
}

// BuildTrainGraph builds the graph of B sentences of at most T words into
// g (typically inside [graph.Build]).
func BuildTrainGraph(g *graph.Graph, c Config, B, T int, o Options) (*TrainGraph, error) {
	if g == nil {
		return nil, errors.New("vae: nil graph")
	}
	if B <= 0 || T <= 0 {
		return nil, errors.Wrapf(ErrConfig, "batch %d and length %d must be positive", B, T)
	}
	if !(o.FreeBits >= 0) || math.IsInf(o.FreeBits, 0) {
		return nil, errors.Wrapf(ErrConfig, "free bits %v must be finite and not negative", o.FreeBits)
	}
	m, err := bind(g, c)
	if err != nil {
		return nil, err
	}
	t := &TrainGraph{G: g, B: B, T: T, cfg: c, opt: o}
	Td := T + 1
	var init cells.State
	if c.Latent > 0 {
		if err := t.buildLatent(m); err != nil {
			return nil, err
		}
		if init, err = m.initState(t.Z); err != nil {
			return nil, err
		}
	}
	var y *gorgonia.Node
	if t.dec, y, err = m.emb.Matrix(Td, B); err != nil {
		return nil, err
	}
	if c.ZInput {
		reps := make([]*gorgonia.Node, Td)
		for i := range reps {
			reps[i] = t.Z
		}
		rep, err := graph.ConcatRows(reps...)
		if err != nil {
			return nil, err
		}
		if y, err = graph.ConcatCols(y, rep); err != nil {
			return nil, err
		}
	}
	if t.decMask, err = g.Input("dec_mask", Td*B); err != nil {
		return nil, err
	}
	hs, _, err := cells.Sequence(m.dec, y, B, init, cells.SeqOptions{Mask: t.decMask})
	if err != nil {
		return nil, errors.Wrap(err, "vae: decoder")
	}
	if t.Logits, err = m.affine("fc", hs); err != nil {
		return nil, err
	}
	if t.tgts, err = graph.NewTargets(Td*B, c.Vocab); err != nil {
		return nil, err
	}
	if t.CE, err = graph.CrossEntropy(t.Logits, t.tgts); err != nil {
		return nil, err
	}
	if t.Recon, err = gorgonia.Sum(t.CE); err != nil {
		return nil, err
	}
	t.Loss = t.Recon
	if t.KLTerm != nil {
		if t.Loss, err = gorgonia.Add(t.Recon, t.KLTerm); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// buildLatent builds the encoder, the posterior, z and the KL term.
func (t *TrainGraph) buildLatent(m *bound) error {
	g, c, B := t.G, t.cfg, t.B
	var x *gorgonia.Node
	var err error
	if t.src, x, err = m.emb.Matrix(t.T, B); err != nil {
		return err
	}
	if t.srcMask, err = g.Input("src_mask", t.T*B); err != nil {
		return err
	}
	_, final, err := cells.Sequence(m.enc, x, B, nil, cells.SeqOptions{Mask: t.srcMask})
	if err != nil {
		return errors.Wrap(err, "vae: encoder")
	}
	if t.Mu, err = m.affine("mu", final[0]); err != nil {
		return err
	}
	if t.LogVar, err = m.affine("logvar", final[0]); err != nil {
		return err
	}
	if t.eps, err = g.Input("eps", B, c.Latent); err != nil {
		return err
	}
	// z = μ + exp(½ log σ²) ⊙ ε
	half, err := gorgonia.Mul(t.LogVar, g.Scalar(0.5))
	if err != nil {
		return errors.Wrap(err, "vae: σ")
	}
	sigma, err := gorgonia.Exp(half)
	if err != nil {
		return errors.Wrap(err, "vae: σ")
	}
	noise, err := gorgonia.HadamardProd(sigma, t.eps)
	if err != nil {
		return errors.Wrap(err, "vae: σ ⊙ ε")
	}
	if t.Z, err = gorgonia.Add(t.Mu, noise); err != nil {
		return errors.Wrap(err, "vae: z")
	}
	// KL_bj = ½ (μ² + σ² − 1 − log σ²)
	mu2, err := gorgonia.Square(t.Mu)
	if err != nil {
		return err
	}
	s2, err := gorgonia.Exp(t.LogVar)
	if err != nil {
		return err
	}
	k, err := gorgonia.Add(mu2, s2)
	if err != nil {
		return err
	}
	if k, err = gorgonia.Sub(k, t.LogVar); err != nil {
		return err
	}
	if k, err = gorgonia.Sub(k, g.Scalar(1)); err != nil {
		return err
	}
	if t.KL, err = gorgonia.Mul(k, g.Scalar(0.5)); err != nil {
		return errors.Wrap(err, "vae: KL")
	}
	// β/B' Σ_b KL_bj per dimension, B' the real sentences (klw = β/B' or 0).
	if t.klw, err = g.Input("kl_weight", 1, B); err != nil {
		return err
	}
	dims, err := graph.MatMul(t.klw, t.KL, false, false)
	if err != nil {
		return err
	}
	if t.opt.FreeBits > 0 { // max(β·λ, ·) = β·λ + relu(· − β·λ)
		if t.floor, err = g.Input("free_bits", 1, c.Latent); err != nil {
			return err
		}
		d, err := gorgonia.Sub(dims, t.floor)
		if err != nil {
			return err
		}
		if d, err = gorgonia.Rectify(d); err != nil {
			return errors.Wrap(err, "vae: free bits")
		}
		// The floor is added back after the sum: a constant of the batch.
		if dims, err = gorgonia.Add(d, t.floor); err != nil {
			return err
		}
	}
	if t.KLTerm, err = gorgonia.Sum(dims); err != nil {
		return errors.Wrap(err, "vae: KL term")
	}
	return nil
}

// Inputs are what a batch gives the graph besides its sentences.
type Inputs struct {
	// Eps is ε, one row of Latent values per sentence (padding rows
	// included: B rows); nil means zeros (z = μ).
	Eps [][]float64
	// Beta weighs the KL term (1: the ELBO).
	Beta float64
	// DecoderInput, if not nil, replaces the words the decoder reads
	// (after <s>) for each sentence: the sentences with word dropout
	// applied ([WordDropout]); each must have its sentence's length.
	DecoderInput [][]int
}

// Set loads a batch: sents holds at most B sentences of 1 to T token ids
// each (without <s> and </s>); rows after them, and empty sentences, are
// padding and weigh nothing. Each real sentence weighs 1/(their number).
func (t *TrainGraph) Set(sents [][]int, in Inputs) error {
	B, T, Td := t.B, t.T, t.T+1
	if len(sents) > B {
		return errors.Wrapf(ErrInput, "%d sentences for a batch of %d", len(sents), B)
	}
	if in.DecoderInput != nil && len(in.DecoderInput) != len(sents) {
		return errors.Wrapf(ErrInput, "%d decoder inputs for %d sentences", len(in.DecoderInput), len(sents))
	}
	if !(in.Beta >= 0) || math.IsInf(in.Beta, 0) {
		return errors.Wrapf(ErrInput, "β %v must be finite and not negative", in.Beta)
	}
	real := 0
	for i, s := range sents {
		if len(s) > T {
			return errors.Wrapf(ErrInput, "sentence %d has %d words, the graph takes %d", i, len(s), T)
		}
		if in.DecoderInput != nil && len(in.DecoderInput[i]) != len(s) {
			return errors.Wrapf(ErrInput, "sentence %d: decoder input of %d words for %d", i, len(in.DecoderInput[i]), len(s))
		}
		if len(s) > 0 {
			real++
		}
	}
	if real == 0 {
		return errors.Wrap(ErrInput, "a batch without a sentence")
	}
	w := 1 / float64(real)
	src, dec := make([][]int, B), make([][]int, B)
	srcMask, decMask := make([]float64, T*B), make([]float64, Td*B)
	ids, weights := make([]int, Td*B), make([]float64, Td*B)
	klw := make([]float64, B)
	for b := range B {
		src[b], dec[b] = make([]int, T), make([]int, Td)
		dec[b][0] = BOS
		var s []int
		if b < len(sents) {
			s = sents[b]
		}
		n := len(s)
		if n > 0 {
			klw[b] = in.Beta * w
		}
		di := s
		if in.DecoderInput != nil && b < len(sents) {
			di = in.DecoderInput[b]
		}
		for j := range n {
			src[b][j] = s[j]
			srcMask[j*B+b] = 1
			dec[b][j+1] = di[j]
		}
		for j := 0; j <= n && n > 0; j++ {
			r := j*B + b
			decMask[r], weights[r] = 1, w
			if j < n {
				ids[r] = s[j]
			} else {
				ids[r] = EOS
			}
		}
	}
	if err := t.dec.SetBatchMajor(dec); err != nil {
		return errors.Wrap(err, "vae: decoder input")
	}
	if err := graph.Set(t.decMask, decMask); err != nil {
		return err
	}
	if err := t.tgts.Set(ids, weights); err != nil {
		return errors.Wrap(err, "vae: labels")
	}
	if t.cfg.Latent == 0 {
		return nil
	}
	if err := t.src.SetBatchMajor(src); err != nil {
		return errors.Wrap(err, "vae: encoder input")
	}
	if err := graph.Set(t.srcMask, srcMask); err != nil {
		return err
	}
	Z := t.cfg.Latent
	eps := make([]float64, B*Z)
	if in.Eps != nil {
		if len(in.Eps) != B {
			return errors.Wrapf(ErrInput, "ε has %d rows, want %d", len(in.Eps), B)
		}
		for b, e := range in.Eps {
			if len(e) != Z {
				return errors.Wrapf(ErrInput, "ε row %d has %d values, want %d", b, len(e), Z)
			}
			copy(eps[b*Z:], e)
		}
	}
	if err := graph.Set(t.eps, eps); err != nil {
		return errors.Wrap(err, "vae: ε")
	}
	if err := graph.Set(t.klw, klw); err != nil {
		return err
	}
	if t.floor != nil {
		f := make([]float64, Z)
		for j := range f {
			f[j] = in.Beta * t.opt.FreeBits
		}
		return graph.Set(t.floor, f)
	}
	return nil
}
