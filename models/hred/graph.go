package hred

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// Example is one reply with its context: the utterances before it, oldest
// first, each a non-empty list of token ids, and the reply's tokens
// (without start and end tokens; at least one). A Seq2Seq model reads only
// the last utterance of Context.
type Example struct {
	Context [][]int
	Reply   []int
}

// Dims are the padded sizes of a batch: B examples, N utterance slots, Tu
// tokens per utterance, Tr decoder steps (the reply and its end token).
type Dims struct{ B, N, Tu, Tr int }

// context returns the utterances of e that the model of kind k reads.
func (k Kind) context(e Example) [][]int {
	if k == Seq2Seq && len(e.Context) > 0 {
		return e.Context[len(e.Context)-1:]
	}
	return e.Context
}

// DimsOf returns the smallest dims that hold examples, each size rounded
// up to a multiple of width (≥ 1), for a model of kind k.
func DimsOf(k Kind, examples []Example, width int) Dims {
	width = max(width, 1)
	up := func(n int) int { return (n + width - 1) / width * width }
	d := Dims{B: len(examples)}
	for _, e := range examples {
		ctx := k.context(e)
		d.N = max(d.N, len(ctx))
		for _, u := range ctx {
			d.Tu = max(d.Tu, len(u))
		}
		d.Tr = max(d.Tr, len(e.Reply)+1)
	}
	if k == Seq2Seq {
		d.N = 1
	} else {
		d.N = up(d.N)
	}
	d.Tu, d.Tr = up(d.Tu), up(d.Tr)
	return d
}

// TrainGraph is the teacher-forced model for one Dims, with its loss. Build
// it once per Dims; Set a batch and run its machine for each batch.
type TrainGraph struct {
	G *graph.Graph
	Dims
	// Loss is what training minimises: the mean cross-entropy per reply
	// token, plus (VHRED) β · KL / reply tokens.
	Loss *gorgonia.Node
	// NLL is the mean cross-entropy per reply token of the batch (a
	// scalar), KL the sum over its examples (not its padding rows) of
	// KL(q ‖ p) (VHRED; nil otherwise).
	NLL, KL *gorgonia.Node
	// TokenNLL is each reply token's cross-entropy weighted by 1 / the
	// batch's reply tokens, [Tr·B] time-major (0 at padding): NLL is its
	// sum.
	TokenNLL *gorgonia.Node
	// Logits are every decoder step's logits, [Tr·B, V], time-major.
	Logits *gorgonia.Node
	// Cond is what the decoder is conditioned on, [B, CondWidth].
	Cond *gorgonia.Node
	// Eps is ε [B, Latent], the noise of the reparameterised z (VHRED):
	// Set draws it from N(0, I) by its seed; set it afterwards to choose
	// it (zeros give z = μ).
	Eps *gorgonia.Node
	// MuQ, LogvarQ, MuP, LogvarP are the posterior's and the prior's
	// Gaussians, [B, Latent] (VHRED).
	MuQ, LogvarQ, MuP, LogvarP *gorgonia.Node

	cfg      Config
	ctx      *contextInputs
	tgtIn    *embed.Tokens
	replyEnc *embed.Tokens  // VHRED: the reply (and EOS) for the posterior
	tgtMask  *gorgonia.Node // [Tr·B]
	targets  *graph.Targets // Tr·B rows
	klWeight *gorgonia.Node // [B]: β / reply tokens, 0 for padding rows
	rowMask  *gorgonia.Node // [B]: 1 for examples, 0 for padding rows
}

// NewTrainGraph builds the training graph of d over ps, checked by
// [graph.Build]. To add nodes of one's own (gorgonia.Grad, reads), call
// [BuildTrainGraph] inside one's own graph.Build instead.
func NewTrainGraph(ps *graph.Params, c Config, d Dims) (*TrainGraph, error) {
	_, t, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) { return BuildTrainGraph(g, c, d) })
	return t, err
}

// BuildTrainGraph builds the training graph of d into g.
func BuildTrainGraph(g *graph.Graph, c Config, d Dims) (*TrainGraph, error) {
	if d.B <= 0 || d.N <= 0 || d.Tu <= 0 || d.Tr <= 0 {
		return nil, errors.Errorf("hred: batch %d, utterances %d, utterance length %d and reply length %d must be positive", d.B, d.N, d.Tu, d.Tr)
	}
	if c.Kind == Seq2Seq && d.N != 1 {
		return nil, errors.Errorf("hred: a seq2seq model reads 1 utterance, not %d", d.N)
	}
	m, err := bind(g, c)
	if err != nil {
		return nil, err
	}
	t := &TrainGraph{G: g, Dims: d, cfg: c}
	B, Tr := d.B, d.Tr
	if t.ctx, t.Cond, err = m.encodeContext(B, d.N, d.Tu); err != nil {
		return nil, err
	}
	if t.tgtMask, err = g.Input("tgt_mask", Tr*B); err != nil {
		return nil, err
	}
	if c.Kind == VHRED {
		ctx := t.Cond
		var r *gorgonia.Node
		if t.replyEnc, r, err = m.emb.Matrix(Tr, B); err != nil {
			return nil, err
		}
		_, rf, err := cells.Sequence(m.enc, r, B, nil, cells.SeqOptions{Mask: t.tgtMask})
		if err != nil {
			return nil, errors.Wrap(err, "hred: reply encoder")
		}
		post, err := graph.ConcatCols(ctx, rf[0])
		if err != nil {
			return nil, err
		}
		if t.MuQ, t.LogvarQ, err = m.post.apply(post); err != nil {
			return nil, errors.Wrap(err, "hred: posterior")
		}
		if t.MuP, t.LogvarP, err = m.prior.apply(ctx); err != nil {
			return nil, errors.Wrap(err, "hred: prior")
		}
		if t.Eps, err = g.Input("eps", B, c.Latent); err != nil {
			return nil, err
		}
		z, err := m.reparam(t.MuQ, t.LogvarQ, t.Eps)
		if err != nil {
			return nil, err
		}
		if t.Cond, err = graph.ConcatCols(ctx, z); err != nil {
			return nil, err
		}
		kl, err := m.gaussKL(t.MuQ, t.LogvarQ, t.MuP, t.LogvarP)
		if err != nil {
			return nil, err
		}
		if t.rowMask, err = g.Input("row_mask", B); err != nil {
			return nil, err
		}
		real, err := graph.MaskRows(kl, t.rowMask, false)
		if err != nil {
			return nil, err
		}
		if t.KL, err = graph.Sum(real); err != nil {
			return nil, err
		}
		if t.klWeight, err = g.Input("kl_weight", B); err != nil {
			return nil, err
		}
		wkl, err := graph.MaskRows(kl, t.klWeight, false)
		if err != nil {
			return nil, err
		}
		if t.Loss, err = graph.Sum(wkl); err != nil {
			return nil, err
		}
	}
	init, err := m.decoderInit(t.Cond)
	if err != nil {
		return nil, err
	}
	var y *gorgonia.Node
	if t.tgtIn, y, err = m.emb.Matrix(Tr, B); err != nil {
		return nil, err
	}
	reps := make([]*gorgonia.Node, Tr)
	for i := range reps {
		reps[i] = t.Cond
	}
	rep, err := graph.ConcatRows(reps...)
	if err != nil {
		return nil, err
	}
	in, err := graph.ConcatCols(y, rep)
	if err != nil {
		return nil, err
	}
	out, _, err := cells.Sequence(m.dec, in, B, init, cells.SeqOptions{Mask: t.tgtMask})
	if err != nil {
		return nil, errors.Wrap(err, "hred: decoder")
	}
	if t.Logits, err = m.fc.apply(out); err != nil {
		return nil, err
	}
	if t.targets, err = graph.NewTargets(Tr*B, c.Vocab); err != nil {
		return nil, err
	}
	if t.TokenNLL, err = graph.CrossEntropy(t.Logits, t.targets); err != nil {
		return nil, err
	}
	if t.NLL, err = gorgonia.Sum(t.TokenNLL); err != nil {
		return nil, err
	}
	if t.Loss == nil {
		t.Loss = t.NLL
	} else if t.Loss, err = gorgonia.Add(t.NLL, t.Loss); err != nil {
		return nil, err
	}
	return t, nil
}

// SetOptions are a batch's training settings.
type SetOptions struct {
	// Beta weighs the KL term (VHRED; KL annealing raises it from 0 to 1).
	Beta float64
	// WordDropout replaces each decoder input token but the first by UNK
	// with this probability (0 in evaluation).
	WordDropout float64
	// Source draws ε and the word-dropout choices (nil: ε = 0, no word
	// dropout).
	Source graph.Source
}

// Set loads examples (at most B of them; missing rows are padding of
// weight 0) into the graph's inputs. It returns the number of reply
// tokens (each reply and its end token), which the loss is the mean over.
func (t *TrainGraph) Set(examples []Example, opt SetOptions) (int, error) {
	d, c := t.Dims, t.cfg
	if len(examples) == 0 || len(examples) > d.B {
		return 0, errors.Errorf("hred: %d examples for a graph of %d", len(examples), d.B)
	}
	uttTok := make([][]int, d.Tu) // [Tu][N·B]
	for s := range uttTok {
		uttTok[s] = make([]int, d.N*d.B)
	}
	uttMask := make([]float64, d.Tu*d.N*d.B)
	ctxMask := make([]float64, d.N*d.B)
	tgtIn, tgtOut := make([][]int, d.Tr), make([]int, d.Tr*d.B)
	for s := range tgtIn {
		tgtIn[s] = make([]int, d.B)
	}
	tgtMask := make([]float64, d.Tr*d.B)
	noise := c.DrawNoise(examples, d.B, opt)
	tokens := 0
	for b, e := range examples {
		ctx := c.Kind.context(e)
		if len(ctx) == 0 {
			return 0, errors.Errorf("hred: example %d has no context", b)
		}
		if len(ctx) > d.N {
			return 0, errors.Errorf("hred: example %d has %d utterances, the graph %d", b, len(ctx), d.N)
		}
		if len(e.Reply) == 0 || len(e.Reply)+1 > d.Tr {
			return 0, errors.Errorf("hred: example %d's reply has %d tokens, the graph room for 1 to %d", b, len(e.Reply), d.Tr-1)
		}
		for n, u := range ctx {
			if len(u) == 0 || len(u) > d.Tu {
				return 0, errors.Errorf("hred: example %d utterance %d has %d tokens, the graph room for 1 to %d", b, n, len(u), d.Tu)
			}
			j := n*d.B + b
			ctxMask[j] = 1
			for s, id := range u {
				uttTok[s][j] = id
				uttMask[s*d.N*d.B+j] = 1
			}
		}
		for s := 0; s <= len(e.Reply); s++ {
			in, out := c.BOS, c.EOS
			if s > 0 {
				in = e.Reply[s-1]
				if noise.Drop != nil && noise.Drop[b][s-1] {
					in = c.UNK
				}
			}
			if s < len(e.Reply) {
				out = e.Reply[s]
			}
			tgtIn[s][b], tgtOut[s*d.B+b] = in, out
			tgtMask[s*d.B+b] = 1
			tokens++
		}
	}
	w := make([]float64, len(tgtMask))
	for i, m := range tgtMask {
		w[i] = m / float64(tokens)
	}
	if err := t.ctx.tokens.Set(uttTok); err != nil {
		return 0, errors.Wrap(err, "hred: context")
	}
	if err := graph.Set(t.ctx.uttMask, uttMask); err != nil {
		return 0, err
	}
	if t.ctx.ctxMask != nil {
		if err := graph.Set(t.ctx.ctxMask, ctxMask); err != nil {
			return 0, err
		}
	}
	if err := t.tgtIn.Set(tgtIn); err != nil {
		return 0, errors.Wrap(err, "hred: reply")
	}
	if err := t.targets.Set(tgtOut, w); err != nil {
		return 0, errors.Wrap(err, "hred: reply")
	}
	if err := graph.Set(t.tgtMask, tgtMask); err != nil {
		return 0, err
	}
	if c.Kind != VHRED {
		return tokens, nil
	}
	rep := make([][]int, d.Tr)
	for s := range rep {
		rep[s] = tgtOut[s*d.B : (s+1)*d.B]
	}
	if err := t.replyEnc.Set(rep); err != nil {
		return 0, errors.Wrap(err, "hred: reply")
	}
	if err := graph.Set(t.Eps, noise.Eps); err != nil {
		return 0, err
	}
	kw, rm := make([]float64, d.B), make([]float64, d.B)
	for b := range examples {
		kw[b], rm[b] = opt.Beta/float64(tokens), 1
	}
	if err := graph.Set(t.rowMask, rm); err != nil {
		return 0, err
	}
	return tokens, graph.Set(t.klWeight, kw)
}

// Noise is what one training batch draws from its source: the decoder
// inputs that word dropout replaces by UNK and VHRED's ε.
type Noise struct {
	// Drop[b][s] is true when example b's reply token s (the decoder's
	// input at step s+1) is replaced by UNK; nil without word dropout.
	Drop [][]bool
	// Eps is VHRED's ε, rows × Latent row-major (zeros without a
	// source); nil for the other kinds.
	Eps []float64
}

// DrawNoise draws a batch's [Noise] from opt.Source in the order
// [TrainGraph.Set] does (each example's word-dropout choices in turn,
// then ε for rows rows), so the same source gives the same noise: what a
// reference implementation needs to replay a training run draw for draw.
func (c Config) DrawNoise(examples []Example, rows int, opt SetOptions) Noise {
	var n Noise
	if opt.WordDropout > 0 && opt.Source != nil {
		n.Drop = make([][]bool, len(examples))
		for b, e := range examples {
			n.Drop[b] = make([]bool, len(e.Reply))
			for s := range e.Reply {
				n.Drop[b][s] = opt.Source.Float64() < opt.WordDropout
			}
		}
	}
	if c.Kind == VHRED {
		n.Eps = make([]float64, rows*c.Latent)
		if opt.Source != nil {
			for i := range n.Eps {
				n.Eps[i] = opt.Source.NormFloat64()
			}
		}
	}
	return n
}
