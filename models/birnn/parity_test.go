package birnn_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/fixture"
	"github.com/rnnkit/rnnkit/models/birnn"
)

// parityTol is the largest absolute error a float64 comparison with a
// PyTorch fixture may show (internal/parity's tolerance).
const parityTol = 1e-9

// The stacked encoder reproduces PyTorch's bidirectional LSTM: outputs,
// h_n, c_n, the loss and the gradients of every parameter, input and
// initial state. The machine runs twice, so that a graph overwriting its
// parameters or inputs in place fails the second comparison.
func TestParityBiLSTM(t *testing.T) {
	for _, path := range []string{
		"../../testdata/fixtures/bilstm.json",
		"../../testdata/generated/bilstm_T5_B1_I4_H3.json",
		"../../testdata/generated/bilstm_2layer.json",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			outErr, gradErr := parity(t, path)
			t.Logf("max abs error: outputs and states %.3g, gradients %.3g", outErr, gradErr)
		})
	}
}

func parity(t *testing.T, path string) (outErr, gradErr float64) {
	f, err := fixture.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	dim := func(name string) int {
		v, err := f.Dim(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	T, B, I, H, L := dim("T"), dim("B"), dim("I"), dim("H"), dim("num_layers")
	if dim("num_directions") != 2 {
		t.Fatalf("%s is not bidirectional", path)
	}

	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, c := range birnn.StackConfigs(cells.LSTMKind, I, H, L, "") {
		for _, p := range c.Params() {
			w, err := fixture.Want("params", f.Params, p.Name, p.Shape...)
			if err != nil {
				t.Fatal(err)
			}
			v, err := graph.FromFloat64s(tensor.Float64, w.Data, p.Shape...)
			if err != nil {
				t.Fatal(err)
			}
			if err := ps.Add(p.Name, v); err != nil {
				t.Fatal(err)
			}
			used++
		}
	}
	if used != len(f.Params) {
		t.Fatalf("the stack uses %d parameters, the fixture has %d", used, len(f.Params))
	}

	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	st, err := birnn.NewStack(g, cells.LSTMKind, I, H, L, "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := fixture.Want("inputs", f.Inputs, "x", T, B, I)
	if err != nil {
		t.Fatal(err)
	}
	h0, err := fixture.Want("inputs", f.Inputs, "h0", 2*L, B, H)
	if err != nil {
		t.Fatal(err)
	}
	c0, err := fixture.Want("inputs", f.Inputs, "c0", 2*L, B, H)
	if err != nil {
		t.Fatal(err)
	}
	if f.Loss.R == nil {
		t.Fatal("fixture has no loss.R")
	}
	R, err := fixture.Want("loss", map[string]fixture.Tensor{"R": *f.Loss.R}, "R", T, B, 2*H)
	if err != nil {
		t.Fatal(err)
	}
	xs, rs := make([]*gorgonia.Node, T), make([]*gorgonia.Node, T)
	for s := range xs {
		xs[s] = input(t, g, fmt.Sprintf("x_%d", s), x.Data[s*B*I:(s+1)*B*I], B, I)
		rs[s] = input(t, g, fmt.Sprintf("R_%d", s), R.Data[s*B*2*H:(s+1)*B*2*H], B, 2*H)
	}
	bh := B * H
	s0 := make([]cells.State, 2*L)
	for k := range s0 {
		s0[k] = cells.State{
			input(t, g, fmt.Sprintf("h0_%d", k), h0.Data[k*bh:(k+1)*bh], B, H),
			input(t, g, fmt.Sprintf("c0_%d", k), c0.Data[k*bh:(k+1)*bh], B, H),
		}
	}
	outs, finals, err := st.Encode(xs, nil, s0)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != T || len(finals) != 2*L {
		t.Fatalf("%d outputs and %d final states, want %d and %d", len(outs), len(finals), T, 2*L)
	}
	loss := weightedSum(t, outs, rs)

	params := g.Learnables()
	wrt := append(gorgonia.Nodes{}, params...)
	wrt = append(wrt, xs...)
	for _, s := range s0 {
		wrt = append(wrt, s...)
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var lossV gorgonia.Value
	gorgonia.Read(loss, &lossV)
	outV := readAll(outs)
	var hN, cN []*gorgonia.Node
	for _, s := range finals {
		hN, cN = append(hN, s[0]), append(cN, s[1])
	}
	hV, cV := readAll(hN), readAll(cN)
	gradV := readAll(grads)

	want := func(group string, m map[string]fixture.Tensor, name string, shape ...int) []float64 {
		w, err := fixture.Want(group, m, name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return w.Data
	}
	check := func(isGrad bool, name string, want, got []float64) {
		t.Helper()
		e := maxAbs(want, got)
		if isGrad {
			gradErr = math.Max(gradErr, e)
		} else {
			outErr = math.Max(outErr, e)
		}
		if e > parityTol {
			t.Errorf("%s: max abs error %.3g > %g", name, e, parityTol)
		}
	}
	np := len(params)
	run(t, g, 2, func(r int) {
		check(false, "loss", []float64{f.Loss.Value}, cat(floats(t, []gorgonia.Value{lossV})))
		check(false, "output", want("outputs", f.Outputs, "output", T, B, 2*H), cat(floats(t, outV)))
		check(false, "h_n", want("outputs", f.Outputs, "h_n", 2*L, B, H), cat(floats(t, hV)))
		check(false, "c_n", want("outputs", f.Outputs, "c_n", 2*L, B, H), cat(floats(t, cV)))
		gv := floats(t, gradV)
		for i, p := range params {
			check(true, "d"+p.Name(), want("grads.params", f.Grads.Params, p.Name(), p.Shape()...), gv[i])
		}
		check(true, "dx", want("grads", f.Grads.Other, "x", T, B, I), cat(gv[np:np+T]))
		var dh, dc []float64
		for k := range s0 {
			dh = append(dh, gv[np+T+2*k]...)
			dc = append(dc, gv[np+T+2*k+1]...)
		}
		check(true, "dh0", want("grads", f.Grads.Other, "h0", 2*L, B, H), dh)
		check(true, "dc0", want("grads", f.Grads.Other, "c0", 2*L, B, H), dc)
		if t.Failed() {
			t.Fatalf("run %d differs from the fixture", r+1)
		}
	})
	return outErr, gradErr
}
