package quantize

import (
	"math"
	"strconv"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/data"
)

// LM is a language model (models/lm's: embedding, stacked recurrent
// layers, a linear output layer) for inference on int8 (or float32)
// weights. One LM serves one goroutine at a time.
type LM struct {
	Cfg    lm.Config
	Emb    *Embedding
	Layers []*Layer
	FC     Matrix
	FCBias []float32

	x, logits []float32 // scratch, reused from call to call
}

// matrix returns the parameter name of shape [n, k] as a Matrix: int8
// when the file quantized it, float32 otherwise.
func (f *File) matrix(name string, n, k int) (Matrix, error) {
	if w, ok := f.Int8[name]; ok {
		if w.N != n || w.K != k {
			return nil, errors.Errorf("quantize: %q is [%d, %d], the model wants [%d, %d]", name, w.N, w.K, n, k)
		}
		return &Int8Matrix{W: w}, nil
	}
	t, ok := f.Float[name]
	if !ok {
		return nil, errors.Errorf("quantize: the checkpoint has no parameter %q", name)
	}
	if len(t.Shape) != 2 || t.Shape[0] != n || t.Shape[1] != k {
		return nil, errors.Errorf("quantize: %q has shape %v, the model wants [%d, %d]", name, t.Shape, n, k)
	}
	return &Float32Matrix{N: n, K: k, W: t.Data}, nil
}

// vector returns the float32 parameter name of n values.
func (f *File) vector(name string, n int) ([]float32, error) {
	t, ok := f.Float[name]
	if !ok {
		return nil, errors.Errorf("quantize: the checkpoint has no float parameter %q", name)
	}
	if len(t.Data) != n || len(t.Shape) != 1 {
		return nil, errors.Errorf("quantize: %q has shape %v, the model wants [%d]", name, t.Shape, n)
	}
	return t.Data, nil
}

// NewLM builds the inference model of config c from f's parameters
// (models/lm's names: embedding.weight, rnn.weight_ih_l{k}, …, fc.weight,
// fc.bias).
func NewLM(f *File, c lm.Config) (*LM, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if _, err := gates(c.Cell); err != nil {
		return nil, err
	}
	m := &LM{Cfg: c, Emb: &Embedding{V: c.Vocab, D: c.Embed}}
	if w, ok := f.Int8["embedding.weight"]; ok {
		if w.N != c.Vocab || w.K != c.Embed {
			return nil, errors.Errorf("quantize: embedding.weight is [%d, %d], the model wants [%d, %d]", w.N, w.K, c.Vocab, c.Embed)
		}
		m.Emb.q = w
	} else if t, ok := f.Float["embedding.weight"]; ok && len(t.Data) == c.Vocab*c.Embed {
		m.Emb.f = t.Data
	} else {
		return nil, errors.Errorf("quantize: no embedding.weight [%d, %d]", c.Vocab, c.Embed)
	}
	G, _ := gates(c.Cell)
	for k := 0; k < max(1, c.Layers); k++ {
		in := c.Embed
		if k > 0 {
			in = c.Hidden
		}
		l := &Layer{Kind: c.Cell, In: in, H: c.Hidden}
		sfx := "_l" + strconv.Itoa(k)
		var err error
		if l.Wih, err = f.matrix("rnn.weight_ih"+sfx, G*c.Hidden, in); err != nil {
			return nil, err
		}
		if l.Whh, err = f.matrix("rnn.weight_hh"+sfx, G*c.Hidden, c.Hidden); err != nil {
			return nil, err
		}
		if l.Bih, err = f.vector("rnn.bias_ih"+sfx, G*c.Hidden); err != nil {
			return nil, err
		}
		if l.Bhh, err = f.vector("rnn.bias_hh"+sfx, G*c.Hidden); err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, l)
	}
	fcName := "fc.weight"
	if c.Tied {
		fcName = "embedding.weight"
	}
	var err error
	if m.FC, err = f.matrix(fcName, c.Vocab, c.Hidden); err != nil {
		return nil, err
	}
	if m.FCBias, err = f.vector("fc.bias", c.Vocab); err != nil {
		return nil, err
	}
	return m, nil
}

// ZeroState returns the zero state of B streams: per layer, h (and c for
// an LSTM), B·Hidden values each.
func (m *LM) ZeroState(B int) [][][]float32 {
	st := make([][][]float32, len(m.Layers))
	for i, l := range m.Layers {
		st[i] = make([][]float32, l.States())
		for j := range st[i] {
			st[i][j] = make([]float32, B*l.H)
		}
	}
	return st
}

// Logits runs the model over B streams of T tokens each (ids[b], time
// t at ids[b][t]) from state (updated to the final state) and returns the
// logits [T·B, Vocab], time-major, which stay valid until the next call
// (the model reuses its buffers).
func (m *LM) Logits(ids [][]int, T int, state [][][]float32) ([]float32, error) {
	B := len(ids)
	if B == 0 || T < 1 {
		return nil, errors.Errorf("quantize: lm: %d streams of %d tokens", B, T)
	}
	tok := make([]int, T*B)
	for b, s := range ids {
		if len(s) < T {
			return nil, errors.Errorf("quantize: lm: stream %d has %d tokens, want %d", b, len(s), T)
		}
		for t := 0; t < T; t++ {
			tok[t*B+b] = s[t]
		}
	}
	x := grow(&m.x, T*B*m.Cfg.Embed)
	if err := m.Emb.Lookup(x, tok); err != nil {
		return nil, errors.Wrap(err, "quantize: lm")
	}
	if len(state) != len(m.Layers) {
		return nil, errors.Errorf("quantize: lm: state of %d layers, the model has %d", len(state), len(m.Layers))
	}
	for k, l := range m.Layers {
		var err error
		if x, err = l.Forward(x, T, B, state[k]); err != nil {
			return nil, errors.Wrapf(err, "quantize: lm layer %d", k)
		}
	}
	logits := grow(&m.logits, T*B*m.Cfg.Vocab)
	if err := m.FC.Apply(logits, x, T*B, m.FCBias); err != nil {
		return nil, errors.Wrap(err, "quantize: lm output layer")
	}
	return logits, nil
}

// CrossEntropy returns the mean cross-entropy (nats) of logits [n, V]
// against the targets (n ids), computed in float64.
func CrossEntropy(logits []float32, targets []int, V int) (float64, error) {
	if len(logits) != len(targets)*V || len(targets) == 0 {
		return 0, errors.Errorf("quantize: %d logits for %d targets of %d classes", len(logits), len(targets), V)
	}
	sum := 0.0
	for i, y := range targets {
		if y < 0 || y >= V {
			return 0, errors.Errorf("quantize: target %d (position %d) outside %d classes", y, i, V)
		}
		row := logits[i*V : (i+1)*V]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, float64(v))
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		sum += mx + math.Log(s) - float64(row[y])
	}
	return sum / float64(len(targets)), nil
}

// Loss returns the mean next-token cross-entropy over the windows, walked
// in order with the state carried from one to the next as training's
// LM.Evaluate walks them (each chunk: B streams of T+1 tokens, full
// length), and the mean of the windows' losses.
func (m *LM) Loss(chunks []data.Chunk) (float64, error) {
	if len(chunks) == 0 {
		return math.NaN(), nil
	}
	var st [][][]float32
	sum := 0.0
	for i, c := range chunks {
		B := len(c.Seqs)
		if st == nil {
			st = m.ZeroState(B)
		}
		T := len(c.Seqs[0]) - 1
		if T < 1 {
			return 0, errors.Errorf("quantize: lm: window %d is empty", i)
		}
		logits, err := m.Logits(c.Seqs, T, st)
		if err != nil {
			return 0, errors.Wrapf(err, "quantize: lm: window %d", i)
		}
		tg := make([]int, T*B)
		for b, s := range c.Seqs {
			if len(s) != T+1 {
				return 0, errors.Errorf("quantize: lm: window %d stream %d has %d tokens, want %d", i, b, len(s), T+1)
			}
			for t := 0; t < T; t++ {
				tg[t*B+b] = s[t+1]
			}
		}
		l, err := CrossEntropy(logits, tg, m.Cfg.Vocab)
		if err != nil {
			return 0, err
		}
		sum += l
	}
	return sum / float64(len(chunks)), nil
}
