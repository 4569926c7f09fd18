package seq2seq

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/embed"
	"github.com/rnnkit/rnnkit/models/internal/rows"
)

// Generator runs a trained model for inference: an encoder graph per
// (batch, source length) and a one-step decoder graph per number of rows,
// each compiled once and cached, driven by the algorithms of models/decode
// (greedy, sampling, beam search) in a Go loop. It implements decode.Model.
//
// For float32 LSTM decoders, plain or with dot or general attention, the
// decoder steps through a fused float32 step instead of the graph (the same
// function to float32 rounding; see fused.go), and a unidirectional
// encoder runs fused too: Encode then takes a snapshot of the weights,
// which the states it returns, and those that descend from them, use.
//
// A Generator is not safe for concurrent use; give each goroutine its own
// (they may share the Params read-only).
type Generator struct {
	ps       *graph.Params
	cfg      Config
	encoders *graph.Cache[[2]int, *encoderGraph]
	steps    *graph.Cache[[2]int, *stepGraph] // (rows, source length for Attention, else 0)
	// graphOnly turns the fused step off (tests compare the two paths).
	graphOnly bool
	scratch   fusedScratch
}

// MaxCached bounds how many compiled graphs a Generator keeps of each kind.
const MaxCached = 16

// NewGenerator returns a generator over the parameters in ps.
func NewGenerator(ps *graph.Params, c Config) (*Generator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if ps == nil {
		return nil, errors.New("seq2seq: nil params")
	}
	enc, err := graph.NewCache[[2]int, *encoderGraph](MaxCached)
	if err != nil {
		return nil, err
	}
	steps, err := graph.NewCache[[2]int, *stepGraph](MaxCached)
	if err != nil {
		return nil, err
	}
	return &Generator{ps: ps, cfg: c, encoders: enc, steps: steps}, nil
}

// Vocab implements decode.Model.
func (gen *Generator) Vocab() int { return gen.cfg.Vocab }

// Close releases the compiled machines.
func (gen *Generator) Close() error {
	err1 := gen.encoders.Close()
	err2 := gen.steps.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// State is the decoder state of a batch of rows: every state tensor of
// every layer, [rows][H] each, and what the decoder reads of the encoder
// (its summary for Peeky; its outputs and source mask for Attention). It
// implements decode.State.
type State struct {
	tensors []rows.Matrix // [state tensor][row][H]
	summary rows.Matrix   // [row][H]
	memory  []rows.Matrix // [source step][row][H]
	mask    rows.Matrix   // [row][source step]
	// Attention holds, after a Step, the attention weights [row][source
	// step] that produced it (Attention decoders only).
	Attention [][]float64
	// fused, when set, holds the state instead of the fields above but
	// Attention (the fused step's).
	fused *fusedState
}

// Rows implements decode.State.
func (s *State) Rows() int {
	if s.fused != nil {
		return len(s.fused.src)
	}
	if len(s.tensors) == 0 {
		return 0
	}
	return len(s.tensors[0])
}

// Select implements decode.State.
func (s *State) Select(idx []int) (decode.State, error) {
	out := &State{}
	var err error
	if s.fused != nil {
		if out.fused, err = s.fused.selectRows(idx); err != nil {
			return nil, err
		}
		if out.Attention, err = selectFlat(s.Attention, idx); err != nil {
			return nil, err
		}
		return out, nil
	}
	if out.tensors, err = rows.SelectAll(s.tensors, idx); err != nil {
		return nil, err
	}
	if out.memory, err = rows.SelectAll(s.memory, idx); err != nil {
		return nil, err
	}
	if out.summary, err = rows.Select(s.summary, idx); err != nil {
		return nil, err
	}
	if out.mask, err = rows.Select(s.mask, idx); err != nil {
		return nil, err
	}
	if out.Attention, err = rows.Select(s.Attention, idx); err != nil {
		return nil, err
	}
	return out, nil
}

type encoderGraph struct {
	m      gorgonia.VM
	src    *embed.Tokens
	mask   *gorgonia.Node // [T·B], time-major
	finalV []gorgonia.Value
	outV   []gorgonia.Value // per source step (Attention)
}

func (e *encoderGraph) Close() error { return e.m.Close() }

type stepGraph struct {
	m       gorgonia.VM
	ids     *graph.IDs
	state   cells.State
	summary *gorgonia.Node   // Peeky
	memory  []*gorgonia.Node // Attention
	mask    *gorgonia.Node   // Attention
	logitV  gorgonia.Value
	alphaV  gorgonia.Value
	nextV   []gorgonia.Value
}

func (s *stepGraph) Close() error { return s.m.Close() }

// Encode runs the encoder over a batch of sources (batch-major, each of its
// own length ≥ 1; shorter ones are padded internally) and returns the
// state that starts the decoder, one row per source.
func (gen *Generator) Encode(src [][]int) (*State, error) {
	if len(src) == 0 {
		return nil, errors.New("seq2seq: no sources")
	}
	T := 0
	lens := make([]int, len(src))
	for i, s := range src {
		if len(s) == 0 {
			return nil, errors.Errorf("seq2seq: source %d is empty", i)
		}
		lens[i] = len(s)
		T = max(T, len(s))
	}
	B := len(src)
	if gen.fusedEncodable() {
		padded := make([][]int, B)
		for i, s := range src {
			for j, t := range s {
				if t < 0 || t >= gen.cfg.Vocab {
					return nil, errors.Errorf("seq2seq: source %d: token %d at %d outside the vocabulary [0, %d)", i, t, j, gen.cfg.Vocab)
				}
			}
			padded[i] = make([]int, T)
			copy(padded[i], s)
		}
		return gen.fusedEncode(padded, lens, T)
	}
	e, err := gen.encoders.Get([2]int{B, T}, func() (*encoderGraph, error) { return gen.buildEncoder(B, T) })
	if err != nil {
		return nil, err
	}
	padded := make([][]int, B)
	for i, s := range src {
		padded[i] = make([]int, T)
		copy(padded[i], s)
	}
	if err := e.src.SetBatchMajor(padded); err != nil {
		return nil, err
	}
	if err := graph.Set(e.mask, seqMask(lens, T)); err != nil {
		return nil, err
	}
	if err := graph.Run(e.m); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	e.m.Reset()
	if gen.fusable() {
		return gen.fusedEncoded(e, lens, T)
	}
	st := &State{}
	if st.tensors, err = rows.FromValues(e.finalV, B, gen.cfg.Hidden); err != nil {
		return nil, err
	}
	switch gen.cfg.decoder() {
	case Peeky:
		if st.summary, err = rows.Select(st.tensors[0], rows.Identity(B)); err != nil {
			return nil, err
		}
	case Attention:
		if st.memory, err = rows.FromValues(e.outV, B, gen.cfg.Hidden); err != nil { // one matrix per source step
			return nil, err
		}
		st.mask = make(rows.Matrix, B)
		for i, l := range lens {
			st.mask[i] = make([]float64, T)
			for j := 0; j < l; j++ {
				st.mask[i][j] = 1
			}
		}
	}
	return st, nil
}

func (gen *Generator) buildEncoder(B, T int) (*encoderGraph, error) {
	g, e, err := graph.Build(gen.ps, func(g *graph.Graph) (*encoderGraph, error) { return gen.encoderGraph(g, B, T) })
	if err != nil {
		return nil, err
	}
	if e.m, err = graph.NewMachine(g); err != nil {
		return nil, err
	}
	return e, nil
}

func (gen *Generator) encoderGraph(g *graph.Graph, B, T int) (*encoderGraph, error) {
	m, err := bind(g, gen.cfg, nil)
	if err != nil {
		return nil, err
	}
	// The whole source at once: each encoder layer one fused node.
	e := &encoderGraph{}
	var x *gorgonia.Node
	if e.src, x, err = m.emb.Matrix(T, B); err != nil {
		return nil, err
	}
	if e.mask, err = g.Input("src_mask", T*B); err != nil {
		return nil, err
	}
	mem, final, err := m.encodeSeq(x, B, e.mask)
	if err != nil {
		return nil, err
	}
	e.finalV = readAll(final)
	if gen.cfg.decoder() == Attention {
		outs := make([]*gorgonia.Node, T)
		for j := range outs {
			if outs[j], err = graph.Rows(mem, j*B, (j+1)*B); err != nil {
				return nil, err
			}
		}
		e.outV = readAll(outs)
	}
	return e, nil
}

func (gen *Generator) buildStep(rows, srcLen int) (*stepGraph, error) {
	g, s, err := graph.Build(gen.ps, func(g *graph.Graph) (*stepGraph, error) { return gen.stepGraph(g, rows, srcLen) })
	if err != nil {
		return nil, err
	}
	if s.m, err = graph.NewMachine(g); err != nil {
		return nil, err
	}
	return s, nil
}

func (gen *Generator) stepGraph(g *graph.Graph, rows, srcLen int) (*stepGraph, error) {
	m, err := bind(g, gen.cfg, nil)
	if err != nil {
		return nil, err
	}
	s := &stepGraph{}
	if s.ids, err = graph.NewIDs(rows, gen.cfg.Vocab); err != nil {
		return nil, err
	}
	x, err := m.emb.Lookup(s.ids)
	if err != nil {
		return nil, err
	}
	zero, err := m.dec.ZeroState(rows)
	if err != nil {
		return nil, err
	}
	s.state = make(cells.State, len(zero))
	for k := range zero {
		if s.state[k], err = g.Input(fmt.Sprintf("state_%d", k), rows, gen.cfg.Hidden); err != nil {
			return nil, err
		}
	}
	H := gen.cfg.Hidden
	switch gen.cfg.decoder() {
	case Peeky:
		if s.summary, err = g.Input("summary", rows, H); err != nil {
			return nil, err
		}
	case Attention:
		s.memory = make([]*gorgonia.Node, srcLen)
		for j := range s.memory {
			if s.memory[j], err = g.Input(fmt.Sprintf("memory_%d", j), rows, H); err != nil {
				return nil, err
			}
		}
		if s.mask, err = g.Input("src_mask_matrix", rows, srcLen); err != nil {
			return nil, err
		}
	}
	mem, err := m.newMemory(s.memory, s.summary, s.mask)
	if err != nil {
		return nil, err
	}
	logits, alpha, next, err := m.step(x, s.state, mem)
	if err != nil {
		return nil, err
	}
	gorgonia.Read(logits, &s.logitV)
	if alpha != nil {
		gorgonia.Read(alpha, &s.alphaV)
	}
	s.nextV = readAll(next)
	return s, nil
}

// Step implements decode.Model: it feeds one token per row and returns the
// logits [rows][V] and the next state.
func (gen *Generator) Step(st decode.State, tokens []int) ([][]float64, decode.State, error) {
	s, ok := st.(*State)
	if !ok || s == nil {
		return nil, nil, errors.Errorf("seq2seq: state of type %T, want *seq2seq.State", st)
	}
	if s.fused != nil {
		if gen.fusable() && s.fused.net.L == gen.cfg.layers() && s.fused.net.H == gen.cfg.Hidden && s.fused.net.V == gen.cfg.Vocab {
			return gen.fusedStep(s, tokens)
		}
		s = s.fused.toRows()
	}
	n := s.Rows()
	if n == 0 || len(tokens) != n {
		return nil, nil, errors.Errorf("seq2seq: %d tokens for %d rows", len(tokens), n)
	}
	srcLen := len(s.memory)
	if gen.cfg.decoder() == Attention && (srcLen == 0 || len(s.mask) != n) {
		return nil, nil, errors.New("seq2seq: an attention decoder's state lacks the encoder outputs (use Generator.Encode)")
	}
	if gen.cfg.decoder() == Peeky && len(s.summary) != n {
		return nil, nil, errors.New("seq2seq: a peeky decoder's state lacks the encoder summary (use Generator.Encode)")
	}
	sg, err := gen.steps.Get([2]int{n, srcLen}, func() (*stepGraph, error) { return gen.buildStep(n, srcLen) })
	if err != nil {
		return nil, nil, err
	}
	if len(s.tensors) != len(sg.state) {
		return nil, nil, errors.Errorf("seq2seq: state has %d tensors, the decoder %d", len(s.tensors), len(sg.state))
	}
	if err := sg.ids.Set(tokens); err != nil {
		return nil, nil, err
	}
	for k, t := range s.tensors {
		if err := rows.Set(sg.state[k], t); err != nil {
			return nil, nil, err
		}
	}
	if sg.summary != nil {
		if err := rows.Set(sg.summary, s.summary); err != nil {
			return nil, nil, err
		}
	}
	for j, m := range sg.memory {
		if err := rows.Set(m, s.memory[j]); err != nil {
			return nil, nil, err
		}
	}
	if sg.mask != nil {
		if err := rows.Set(sg.mask, s.mask); err != nil {
			return nil, nil, err
		}
	}
	if err := graph.Run(sg.m); err != nil {
		return nil, nil, errors.Wrap(err, "seq2seq: decoder step")
	}
	sg.m.Reset()
	logits, err := rows.Logits(sg.logitV, n, gen.cfg.Vocab)
	if err != nil {
		return nil, nil, err
	}
	next := &State{}
	if next.tensors, err = rows.FromValues(sg.nextV, n, gen.cfg.Hidden); err != nil {
		return nil, nil, err
	}
	next.summary, next.memory, next.mask = s.summary, s.memory, s.mask // read-only: Select copies
	if sg.alphaV != nil {
		a, err := graph.ValueFloat64s(sg.alphaV)
		if err != nil {
			return nil, nil, err
		}
		next.Attention = make([][]float64, n)
		for r := range next.Attention {
			next.Attention[r] = a[r*srcLen : (r+1)*srcLen]
		}
	}
	return logits, next, nil
}

// selectFlat returns the rows idx of m (nil for nil), copied into one
// backing array.
func selectFlat(m [][]float64, idx []int) ([][]float64, error) {
	if m == nil {
		return nil, nil
	}
	size := 0
	for _, r := range idx {
		if r < 0 || r >= len(m) {
			return nil, errors.Errorf("rows: select row %d of %d", r, len(m))
		}
		size += len(m[r])
	}
	flat := make([]float64, 0, size)
	out := make([][]float64, len(idx))
	for i, r := range idx {
		start := len(flat)
		flat = append(flat, m[r]...)
		out[i] = flat[start:len(flat):len(flat)]
	}
	return out, nil
}

func readAll(ns []*gorgonia.Node) []gorgonia.Value {
	vs := make([]gorgonia.Value, len(ns))
	for i, n := range ns {
		gorgonia.Read(n, &vs[i])
	}
	return vs
}
