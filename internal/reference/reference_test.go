package reference

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func sig(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

const handTol = 1e-15

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > handTol || math.IsNaN(got) {
		t.Errorf("%s = %.17g, want %.17g", what, got, want)
	}
}

// One step of every kind with I = H = B = 1 and a different weight in each
// gate, so a swapped gate changes the result.
func TestStepByHand(t *testing.T) {
	const x, h, c = 0.7, -0.4, 0.9
	// Per gate k: w_ih, w_hh, b_ih, b_hh.
	wih := []float64{0.5, -0.3, 0.8, 0.2}
	whh := []float64{-0.6, 0.4, 0.1, 0.9}
	bih := []float64{0.05, -0.15, 0.25, -0.35}
	bhh := []float64{0.12, 0.22, -0.32, 0.42}
	pre := func(k int) float64 { return wih[k]*x + bih[k] + whh[k]*h + bhh[k] }
	cell := func(kind string, g int) *Cell {
		return &Cell{Kind: kind, I: 1, H: 1, Wih: wih[:g], Whh: whh[:g], Bih: bih[:g], Bhh: bhh[:g]}
	}

	t.Run("rnn_tanh", func(t *testing.T) {
		hn, cn, err := cell(RNNTanh, 1).Step([]float64{x}, []float64{h}, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "h'", hn[0], math.Tanh(0.5*0.7+0.05+(-0.6)*(-0.4)+0.12))
		if cn != nil {
			t.Errorf("c' = %v, want nil", cn)
		}
	})
	t.Run("rnn_relu", func(t *testing.T) {
		hn, _, err := cell(RNNReLU, 1).Step([]float64{x}, []float64{h}, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "h'", hn[0], 0.5*0.7+0.05+(-0.6)*(-0.4)+0.12) // positive: 0.76
		// A negative pre-activation gives 0.
		hn, _, err = cell(RNNReLU, 1).Step([]float64{-3}, []float64{h}, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "h'(x=-3)", hn[0], 0)
	})
	t.Run("lstm", func(t *testing.T) {
		hn, cn, err := cell(LSTM, 4).Step([]float64{x}, []float64{h}, []float64{c}, 1)
		if err != nil {
			t.Fatal(err)
		}
		i, f, g, o := sig(pre(0)), sig(pre(1)), math.Tanh(pre(2)), sig(pre(3))
		wantC := f*c + i*g
		near(t, "c'", cn[0], wantC)
		near(t, "h'", hn[0], o*math.Tanh(wantC))
	})
	t.Run("peephole_lstm", func(t *testing.T) {
		p := cell(Peephole, 4)
		p.Pi, p.Pf, p.Po = []float64{0.3}, []float64{-0.7}, []float64{1.1}
		hn, cn, err := p.Step([]float64{x}, []float64{h}, []float64{c}, 1)
		if err != nil {
			t.Fatal(err)
		}
		i := sig(pre(0) + 0.3*c)
		f := sig(pre(1) - 0.7*c)
		g := math.Tanh(pre(2))
		wantC := f*c + i*g
		o := sig(pre(3) + 1.1*wantC)
		near(t, "c'", cn[0], wantC)
		near(t, "h'", hn[0], o*math.Tanh(wantC))
	})
	t.Run("gru", func(t *testing.T) {
		hn, cn, err := cell(GRU, 3).Step([]float64{x}, []float64{h}, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, z := sig(pre(0)), sig(pre(1))
		n := math.Tanh(wih[2]*x + bih[2] + r*(whh[2]*h+bhh[2]))
		near(t, "h'", hn[0], (1-z)*n+z*h)
		if cn != nil {
			t.Errorf("c' = %v, want nil", cn)
		}
	})
}

// The row-major layout: W[r, k] is W[r·cols + k], and batch rows are independent.
func TestStepLayoutByHand(t *testing.T) {
	c := &Cell{Kind: RNNTanh, I: 2, H: 2,
		Wih: []float64{1, 2, 3, 4},       // [[1 2] [3 4]]
		Whh: []float64{0.5, -1, 0.25, 2}, // [[0.5 -1] [0.25 2]]
		Bih: []float64{0.1, 0.2},
		Bhh: []float64{-0.3, 0.4},
	}
	x := []float64{0.1, -0.2, 0.3, 0.05} // two rows
	h := []float64{0.2, 0.1, -0.1, 0.3}
	hn, _, err := c.Step(x, h, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{
		math.Tanh(1*0.1 + 2*(-0.2) + 0.1 + 0.5*0.2 + (-1)*0.1 - 0.3),
		math.Tanh(3*0.1 + 4*(-0.2) + 0.2 + 0.25*0.2 + 2*0.1 + 0.4),
		math.Tanh(1*0.3 + 2*0.05 + 0.1 + 0.5*(-0.1) + (-1)*0.3 - 0.3),
		math.Tanh(3*0.3 + 4*0.05 + 0.2 + 0.25*(-0.1) + 2*0.3 + 0.4),
	}
	for k := range want {
		near(t, "h'", hn[k], want[k])
	}
}

// Forward is Step applied in order, and leaves its arguments alone.
func TestForwardIsRepeatedStep(t *testing.T) {
	c := &Cell{Kind: LSTM, I: 1, H: 1,
		Wih: []float64{0.5, -0.3, 0.8, 0.2}, Whh: []float64{-0.6, 0.4, 0.1, 0.9},
		Bih: []float64{0.05, -0.15, 0.25, -0.35}, Bhh: []float64{0.12, 0.22, -0.32, 0.42}}
	xs := [][]float64{{0.7}, {-1.2}, {0.3}}
	h0, c0 := []float64{-0.4}, []float64{0.9}
	outs, hT, cT, err := c.Forward(xs, h0, c0, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, cs := h0, c0
	for k, x := range xs {
		if h, cs, err = c.Step(x, h, cs, 1); err != nil {
			t.Fatal(err)
		}
		near(t, "out", outs[k][0], h[0])
	}
	near(t, "hT", hT[0], h[0])
	near(t, "cT", cT[0], cs[0])
	if h0[0] != -0.4 || c0[0] != 0.9 || xs[0][0] != 0.7 {
		t.Error("Forward modified its arguments")
	}
}

func TestSigmoidExtremes(t *testing.T) {
	for _, v := range []float64{-800, -40, -1, 0, 1, 40, 800} {
		s := Sigmoid(v)
		if math.IsNaN(s) || s < 0 || s > 1 {
			t.Errorf("Sigmoid(%v) = %v", v, s)
		}
		if math.Abs(v) < 30 {
			near(t, "Sigmoid", s, sig(v))
		}
	}
	if Sigmoid(-40) == 0 {
		t.Error("Sigmoid(-40) rounded to 0")
	}
}

func TestErrors(t *testing.T) {
	lstm := func() *Cell {
		return &Cell{Kind: LSTM, I: 1, H: 1, Wih: make([]float64, 4), Whh: make([]float64, 4), Bih: make([]float64, 4), Bhh: make([]float64, 4)}
	}
	one := []float64{0}
	cases := []struct {
		name string
		cell *Cell
		x, h []float64
		c    []float64
		B    int
		want error
	}{
		{"nil cell", nil, one, one, one, 1, ErrShape},
		{"unknown kind", &Cell{Kind: "lstmm", I: 1, H: 1}, one, one, one, 1, ErrKind},
		{"zero input size", func() *Cell { c := lstm(); c.I = 0; return c }(), one, one, one, 1, ErrShape},
		{"negative hidden size", func() *Cell { c := lstm(); c.H = -1; return c }(), one, one, one, 1, ErrShape},
		{"short Wih", func() *Cell { c := lstm(); c.Wih = c.Wih[:3]; return c }(), one, one, one, 1, ErrShape},
		{"long Whh", func() *Cell { c := lstm(); c.Whh = make([]float64, 5); return c }(), one, one, one, 1, ErrShape},
		{"short Bih", func() *Cell { c := lstm(); c.Bih = nil; return c }(), one, one, one, 1, ErrShape},
		{"short Bhh", func() *Cell { c := lstm(); c.Bhh = c.Bhh[:1]; return c }(), one, one, one, 1, ErrShape},
		{"peephole set on lstm", func() *Cell { c := lstm(); c.Po = one; return c }(), one, one, one, 1, ErrShape},
		{"peephole missing", func() *Cell { c := lstm(); c.Kind = Peephole; c.Pi, c.Pf = one, one; return c }(), one, one, one, 1, ErrShape},
		{"gru with lstm weights", func() *Cell { c := lstm(); c.Kind = GRU; return c }(), one, one, nil, 1, ErrShape},
		{"zero batch", lstm(), nil, nil, nil, 0, ErrShape},
		{"negative batch", lstm(), one, one, one, -1, ErrShape},
		{"short x", lstm(), one, []float64{0, 0}, []float64{0, 0}, 2, ErrShape},
		{"short h", lstm(), []float64{0, 0}, one, []float64{0, 0}, 2, ErrShape},
		{"missing c", lstm(), one, one, nil, 1, ErrShape},
		{"c on rnn", &Cell{Kind: RNNTanh, I: 1, H: 1, Wih: one, Whh: one, Bih: one, Bhh: one}, one, one, one, 1, ErrShape},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, c, err := tc.cell.Step(tc.x, tc.h, tc.c, tc.B)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Step error %v, want %v", err, tc.want)
			}
			if h != nil || c != nil {
				t.Errorf("Step returned values with an error")
			}
			var xs [][]float64
			if tc.x != nil {
				xs = [][]float64{tc.x}
			}
			if _, _, _, err := tc.cell.Forward(xs, tc.h, tc.c, tc.B); !errors.Is(err, tc.want) {
				t.Errorf("Forward error %v, want %v", err, tc.want)
			}
		})
	}
	if _, _, _, err := lstm().Forward(nil, one, one, 1); !errors.Is(err, ErrShape) {
		t.Errorf("Forward of no steps: %v, want ErrShape", err)
	}
	if _, _, _, err := lstm().Forward([][]float64{one, {1, 2}}, one, one, 1); !errors.Is(err, ErrShape) {
		t.Errorf("Forward with a bad second step: %v, want ErrShape", err)
	}
	if _, err := Gates("bogus"); !errors.Is(err, ErrKind) {
		t.Errorf("Gates(bogus): %v, want ErrKind", err)
	}
}

// Step over parameters by base name computes what Cell.Step computes, and
// refuses an unknown kind and a state of the wrong length.
func TestStepFunc(t *testing.T) {
	const I, H, B = 2, 3, 2
	fill := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * float64(i%5-2)
		}
		return v
	}
	x, h, c := fill(B*I, 0.3), fill(B*H, 0.2), fill(B*H, -0.1)
	for _, kind := range []string{RNNTanh, RNNReLU, LSTM, Peephole, GRU} {
		G, _ := Gates(kind)
		p := map[string][]float64{"weight_ih": fill(G*H*I, 0.1), "weight_hh": fill(G*H*H, -0.2), "bias_ih": fill(G*H, 0.05), "bias_hh": fill(G*H, 0.07)}
		cell := &Cell{Kind: kind, I: I, H: H, Wih: p["weight_ih"], Whh: p["weight_hh"], Bih: p["bias_ih"], Bhh: p["bias_hh"]}
		prev := [][]float64{h}
		var cc []float64
		if kind == Peephole {
			p["peephole_i"], p["peephole_f"], p["peephole_o"] = fill(H, 0.4), fill(H, 0.5), fill(H, 0.6)
			cell.Pi, cell.Pf, cell.Po = p["peephole_i"], p["peephole_f"], p["peephole_o"]
		}
		if HasCellState(kind) {
			prev, cc = append(prev, c), c
		}
		got, err := Step(kind)(p, I, H, B, x, prev)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		wantH, wantC, err := cell.Step(x, h, cc, B)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(prev) || fmt.Sprint(got[0]) != fmt.Sprint(wantH) || (wantC != nil && fmt.Sprint(got[1]) != fmt.Sprint(wantC)) {
			t.Errorf("%s: Step gives %v, Cell.Step %v %v", kind, got, wantH, wantC)
		}
		if _, err := Step(kind)(p, I, H, B, x, append(prev, h)); !errors.Is(err, ErrShape) {
			t.Errorf("%s: a state with an extra tensor: %v", kind, err)
		}
	}
	if _, err := Step("sum_rnn")(nil, I, H, B, x, [][]float64{h}); !errors.Is(err, ErrKind) {
		t.Errorf("an unknown kind: %v", err)
	}
}
