package reference

import (
	"errors"
	"fmt"
	"math"
)

// The cell kinds, named as rnnkit's cells.Kind values and the fixture cases.
const (
	RNNTanh  = "rnn_tanh"      // Elman RNN, h' = tanh(…)
	RNNReLU  = "rnn_relu"      // Elman RNN, h' = max(0, …)
	LSTM     = "lstm"          // LSTM with forget gate, gates i, f, g, o
	Peephole = "peephole_lstm" // LSTM whose gates i, f see c and o sees c'
	GRU      = "gru"           // GRU, PyTorch's variant, gates r, z, n
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrKind is returned for a Cell whose Kind is not one of the kinds above.
	ErrKind = errors.New("reference: unknown cell kind")
	// ErrShape is returned for a size or a slice length that does not fit
	// the cell.
	ErrShape = errors.New("reference: wrong shape")
)

// Cell is one recurrent cell's parameters in PyTorch's layout, row-major:
// Wih [G·H, I], Whh [G·H, H], Bih [G·H], Bhh [G·H], where G is the number of
// gate blocks (see [Gates]). Pi, Pf and Po are the peephole vectors [H] of
// a "peephole_lstm" and must be empty for every other kind. The equations
// are in the package documentation.
type Cell struct {
	Kind       string // RNNTanh, RNNReLU, LSTM, Peephole or GRU
	I, H       int    // input and hidden sizes
	Wih, Whh   []float64
	Bih, Bhh   []float64
	Pi, Pf, Po []float64
}

// Gates returns the number of gate blocks stacked in the weights of a cell
// of the given kind: 1 for the RNNs, 3 for the GRU, 4 for the LSTMs.
func Gates(kind string) (int, error) {
	switch kind {
	case RNNTanh, RNNReLU:
		return 1, nil
	case GRU:
		return 3, nil
	case LSTM, Peephole:
		return 4, nil
	default:
		return 0, fmt.Errorf("%w: %q", ErrKind, kind)
	}
}

// HasCellState reports whether a kind carries a cell state c besides h (the
// two LSTMs).
func HasCellState(kind string) bool { return kind == LSTM || kind == Peephole }

// Validate checks the kind, the sizes and the length of every parameter.
func (c *Cell) Validate() error {
	if c == nil {
		return fmt.Errorf("%w: nil cell", ErrShape)
	}
	g, err := Gates(c.Kind)
	if err != nil {
		return err
	}
	if c.I <= 0 || c.H <= 0 {
		return fmt.Errorf("%w: %s: sizes I=%d, H=%d must be positive", ErrShape, c.Kind, c.I, c.H)
	}
	gh, ok := mul(g, c.H)
	if !ok {
		return fmt.Errorf("%w: %s: hidden size %d too large", ErrShape, c.Kind, c.H)
	}
	want := []struct {
		name string
		got  []float64
		rows int
		cols int
	}{
		{"Wih", c.Wih, gh, c.I},
		{"Whh", c.Whh, gh, c.H},
		{"Bih", c.Bih, gh, 1},
		{"Bhh", c.Bhh, gh, 1},
	}
	for _, w := range want {
		n, ok := mul(w.rows, w.cols)
		if !ok || len(w.got) != n {
			return fmt.Errorf("%w: %s: %s has %d values, want %d×%d", ErrShape, c.Kind, w.name, len(w.got), w.rows, w.cols)
		}
	}
	for _, p := range []struct {
		name string
		got  []float64
	}{{"Pi", c.Pi}, {"Pf", c.Pf}, {"Po", c.Po}} {
		switch {
		case c.Kind == Peephole && len(p.got) != c.H:
			return fmt.Errorf("%w: %s: %s has %d values, want %d", ErrShape, c.Kind, p.name, len(p.got), c.H)
		case c.Kind != Peephole && len(p.got) != 0:
			return fmt.Errorf("%w: %s: %s is set, but only a %s has peepholes", ErrShape, c.Kind, p.name, Peephole)
		}
	}
	return nil
}

// Step computes one time step for a batch of B rows: x is [B, I], h and cc
// are [B, H], all row-major. cc is the LSTM cell state; it must be nil or
// empty for the other kinds, whose cNext is nil. The results are new slices;
// the arguments are not modified.
func (c *Cell) Step(x, h, cc []float64, B int) (hNext, cNext []float64, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	if err := c.checkBatch(x, h, cc, B); err != nil {
		return nil, nil, err
	}
	G, _ := Gates(c.Kind)
	I, H := c.I, c.H
	gi := make([]float64, G*H) // W_ih x + b_ih
	gh := make([]float64, G*H) // W_hh h + b_hh
	hNext = make([]float64, B*H)
	if HasCellState(c.Kind) {
		cNext = make([]float64, B*H)
	}
	for b := 0; b < B; b++ {
		xb, hb := x[b*I:(b+1)*I], h[b*H:(b+1)*H]
		for r := 0; r < G*H; r++ {
			gi[r] = c.Bih[r] + dot(c.Wih[r*I:(r+1)*I], xb)
			gh[r] = c.Bhh[r] + dot(c.Whh[r*H:(r+1)*H], hb)
		}
		ho := hNext[b*H : (b+1)*H]
		switch c.Kind {
		case RNNTanh:
			for j := 0; j < H; j++ {
				ho[j] = math.Tanh(gi[j] + gh[j])
			}
		case RNNReLU:
			for j := 0; j < H; j++ {
				ho[j] = math.Max(0, gi[j]+gh[j])
			}
		case LSTM, Peephole:
			cb, co := cc[b*H:(b+1)*H], cNext[b*H:(b+1)*H]
			for j := 0; j < H; j++ {
				pi := gi[j] + gh[j]
				pf := gi[H+j] + gh[H+j]
				pg := gi[2*H+j] + gh[2*H+j]
				po := gi[3*H+j] + gh[3*H+j]
				if c.Kind == Peephole {
					pi += c.Pi[j] * cb[j]
					pf += c.Pf[j] * cb[j]
				}
				i, f, g := Sigmoid(pi), Sigmoid(pf), math.Tanh(pg)
				cn := f*cb[j] + i*g
				if c.Kind == Peephole {
					po += c.Po[j] * cn
				}
				co[j] = cn
				ho[j] = Sigmoid(po) * math.Tanh(cn)
			}
		case GRU:
			for j := 0; j < H; j++ {
				r := Sigmoid(gi[j] + gh[j])
				z := Sigmoid(gi[H+j] + gh[H+j])
				n := math.Tanh(gi[2*H+j] + r*gh[2*H+j])
				ho[j] = (1-z)*n + z*hb[j]
			}
		}
	}
	return hNext, cNext, nil
}

// Forward runs the cell over the time steps xs (each [B, I]) from the
// initial state h0 (and c0 for the LSTMs; nil otherwise), and returns every
// step's output h_t ([T][B·H]), the final h and the final c (nil for the
// kinds without a cell state).
func (c *Cell) Forward(xs [][]float64, h0, c0 []float64, B int) (outs [][]float64, hT, cT []float64, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, nil, err
	}
	if len(xs) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: %s: no time steps", ErrShape, c.Kind)
	}
	h, cs := h0, c0
	outs = make([][]float64, len(xs))
	for t, x := range xs {
		if h, cs, err = c.Step(x, h, cs, B); err != nil {
			return nil, nil, nil, fmt.Errorf("step %d: %w", t, err)
		}
		outs[t] = h
	}
	return outs, h, cs, nil
}

// Sigmoid is the logistic function 1/(1+e^−v), evaluated without overflow
// for every v.
func Sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// checkBatch checks the batch size and the lengths of x, h and c.
func (c *Cell) checkBatch(x, h, cc []float64, B int) error {
	if B <= 0 {
		return fmt.Errorf("%w: %s: batch size %d must be positive", ErrShape, c.Kind, B)
	}
	bi, ok1 := mul(B, c.I)
	bh, ok2 := mul(B, c.H)
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: %s: batch size %d too large", ErrShape, c.Kind, B)
	}
	if len(x) != bi {
		return fmt.Errorf("%w: %s: x has %d values, want %d×%d", ErrShape, c.Kind, len(x), B, c.I)
	}
	if len(h) != bh {
		return fmt.Errorf("%w: %s: h has %d values, want %d×%d", ErrShape, c.Kind, len(h), B, c.H)
	}
	switch {
	case HasCellState(c.Kind) && len(cc) != bh:
		return fmt.Errorf("%w: %s: c has %d values, want %d×%d", ErrShape, c.Kind, len(cc), B, c.H)
	case !HasCellState(c.Kind) && len(cc) != 0:
		return fmt.Errorf("%w: %s: c is set, but the cell has no cell state", ErrShape, c.Kind)
	}
	return nil
}

// dot returns Σ a[k]·b[k], summed in index order.
func dot(a, b []float64) float64 {
	s := 0.0
	for k, v := range a {
		s += v * b[k]
	}
	return s
}

// mul returns a·b for positive a, b and whether it fits in an int.
func mul(a, b int) (int, bool) {
	if a <= 0 || b <= 0 {
		return 0, false
	}
	if a > math.MaxInt/b {
		return 0, false
	}
	return a * b, true
}

// StepFunc is one time step of a cell kind over its parameters by base
// name: the form the cell registry takes (cells.ReferenceStep). p holds
// "weight_ih", "weight_hh", "bias_ih", "bias_hh" and, for a peephole LSTM,
// "peephole_i", "peephole_f", "peephole_o"; x is [B, I] and prev the state
// {h} or {h, c}, each [B, H], row-major. It returns the next state in the
// same order.
type StepFunc func(p map[string][]float64, I, H, B int, x []float64, prev [][]float64) ([][]float64, error)

// Step returns the StepFunc of a kind of this package (RNNTanh, RNNReLU,
// LSTM, Peephole, GRU). For any other kind it returns a function that
// fails with ErrKind.
func Step(kind string) StepFunc {
	return func(p map[string][]float64, I, H, B int, x []float64, prev [][]float64) ([][]float64, error) {
		c := &Cell{Kind: kind, I: I, H: H, Wih: p["weight_ih"], Whh: p["weight_hh"], Bih: p["bias_ih"], Bhh: p["bias_hh"],
			Pi: p["peephole_i"], Pf: p["peephole_f"], Po: p["peephole_o"]}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		want := 1
		if HasCellState(kind) {
			want = 2
		}
		if len(prev) != want {
			return nil, fmt.Errorf("%w: %s: %d state tensors, want %d", ErrShape, kind, len(prev), want)
		}
		var cs []float64
		if want == 2 {
			cs = prev[1]
		}
		h, cn, err := c.Step(x, prev[0], cs, B)
		if err != nil {
			return nil, err
		}
		if want == 2 {
			return [][]float64{h, cn}, nil
		}
		return [][]float64{h}, nil
	}
}
