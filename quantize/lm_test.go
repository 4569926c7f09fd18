package quantize

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// lmCheckpoint returns a float32 checkpoint of a random language model.
func lmCheckpoint(t testing.TB, c lm.Config, seed uint64) *checkpoint.Checkpoint {
	t.Helper()
	ps, _ := graph.NewParams(tensor.Float32)
	if err := c.Init(ps, graph.NewSource(seed)); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"model": c, "batch": 2, "steps": 3})
	return &checkpoint.Checkpoint{Meta: checkpoint.Meta{Model: cfg, Step: 7, Seed: seed, Extra: map[string]string{"kind": "lm"}}, Params: ps}
}

// graphLogits runs models/lm's Gorgonia graph and returns its logits
// [T·B, V] and its loss.
func graphLogits(t *testing.T, ps *graph.Params, c lm.Config, seqs [][]int, T int) ([]float64, float64) {
	t.Helper()
	m, err := lm.NewTrainGraph(ps, c, len(seqs), T)
	if err != nil {
		t.Fatal(err)
	}
	var lv, lossV gorgonia.Value
	gorgonia.Read(m.Logits, &lv)
	gorgonia.Read(m.Loss, &lossV)
	vm, err := graph.NewMachine(m.G)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	lengths := make([]int, len(seqs))
	for i := range lengths {
		lengths[i] = T
	}
	if err := m.Set(seqs, lengths); err != nil {
		t.Fatal(err)
	}
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	out, err := graph.ValueFloat64s(lv)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := graph.ValueFloat64s(lossV)
	if err != nil {
		t.Fatal(err)
	}
	return out, loss[0]
}

func randSeqs(r *rand.Rand, B, T, V int) [][]int {
	seqs := make([][]int, B)
	for b := range seqs {
		for i := 0; i <= T; i++ {
			seqs[b] = append(seqs[b], r.IntN(V))
		}
	}
	return seqs
}

var lmConfigs = []lm.Config{
	{Vocab: 11, Embed: 5, Hidden: 7, Cell: cells.LSTMKind, Layers: 2},
	{Vocab: 9, Embed: 6, Hidden: 6, Cell: cells.GRUKind, Tied: true},
	{Vocab: 8, Embed: 4, Hidden: 9, Cell: cells.RNNTanh, Layers: 2},
	{Vocab: 8, Embed: 4, Hidden: 5, Cell: cells.RNNReLU},
}

// The engine with float32 weights computes what models/lm's graph
// computes: the same layout, gate order and equations. The tolerance is
// float32 rounding through a few layers (and vmath's sigmoid and tanh,
// within a few ulps), far below the int8 steps checked elsewhere.
func TestLMFloatMatchesGraph(t *testing.T) {
	for _, c := range lmConfigs {
		t.Run(string(c.Cell), func(t *testing.T) {
			ck := lmCheckpoint(t, c, 3)
			const B, T = 3, 4
			seqs := randSeqs(rand.New(rand.NewPCG(1, 1)), B, T, c.Vocab)
			want, wantLoss := graphLogits(t, ck.Params, c, seqs, T)
			f, err := KeepFloat(ck)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewLM(f, c)
			if err != nil {
				t.Fatal(err)
			}
			st := m.ZeroState(B)
			got, err := m.Logits(seqs, T, st)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*(1+math.Abs(want[i])) {
					t.Fatalf("logit [%d, %d] = %v, the graph's %v", i/c.Vocab, i%c.Vocab, got[i], want[i])
				}
			}
			tg := make([]int, T*B)
			for b := range seqs {
				for s := 0; s < T; s++ {
					tg[s*B+b] = seqs[b][s+1]
				}
			}
			loss, err := CrossEntropy(got, tg, c.Vocab)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(loss-wantLoss) > 1e-5 {
				t.Errorf("loss %v, the graph's %v", loss, wantLoss)
			}
		})
	}
}

// linearBound is the largest change of each output of x·Wᵀ from
// quantizing W (row scales sw) and x (its row scale sx): rounding moves
// each weight by at most sw/2 and each activation by at most sx/2, so
// |Δy_n| ≤ Σ_k (|x_k|·sw_n/2 + |W_nk|·sx/2 + sx·sw_n/4), plus float32
// rounding of the sum.
func linearBound(x []float32, w []float32, k int, sw []float32, sx float32) []float64 {
	n := len(w) / k
	out := make([]float64, n)
	for r := 0; r < n; r++ {
		s, mag := 0.0, 0.0
		for c := 0; c < k; c++ {
			xv, wv := math.Abs(float64(x[c])), math.Abs(float64(w[r*k+c]))
			s += xv*float64(sw[r])/2 + wv*float64(sx)/2 + float64(sx*sw[r])/4
			mag += xv * wv
		}
		out[r] = s + 1e-5*(1+mag)
	}
	return out
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// One step of each kind with int8 weights stays within the bound that the
// quantization steps give: the gate pre-activations move by at most the
// linear bounds e, the sigmoid by at most e/4, tanh and ReLU by at most e,
// and the products by the sums of the factors' changes times the other
// factors (the second-order terms included).
func TestStepWithinQuantizationBound(t *testing.T) {
	for _, kind := range []cells.Kind{cells.LSTMKind, cells.GRUKind, cells.RNNTanh, cells.RNNReLU} {
		t.Run(string(kind), func(t *testing.T) {
			G, _ := gates(kind)
			const in, H, B = 24, 16, 3
			r := rand.New(rand.NewPCG(5, uint64(G)))
			mat := func(n, k int, s float32) []float32 {
				v := make([]float32, n*k)
				for i := range v {
					v[i] = (r.Float32()*2 - 1) * s
				}
				return v
			}
			wih, whh, bih, bhh := mat(G*H, in, 0.4), mat(G*H, H, 0.4), mat(1, G*H, 0.2), mat(1, G*H, 0.2)
			x, h0, c0 := mat(B, in, 1.5), mat(B, H, 0.9), mat(B, H, 1.2)
			qih, _ := qgemmWeights(t, wih, G*H, in)
			qhh, _ := qgemmWeights(t, whh, G*H, H)
			fl := &Layer{Kind: kind, In: in, H: H, Wih: &Float32Matrix{G * H, in, wih}, Whh: &Float32Matrix{G * H, H, whh}, Bih: bih, Bhh: bhh}
			ql := &Layer{Kind: kind, In: in, H: H, Wih: qih, Whh: qhh, Bih: bih, Bhh: bhh}
			state := func() [][]float32 {
				if kind == cells.LSTMKind {
					return [][]float32{append([]float32(nil), h0...), append([]float32(nil), c0...)}
				}
				return [][]float32{append([]float32(nil), h0...)}
			}
			sf, sq := state(), state()
			hf, err := fl.Forward(x, 1, B, sf)
			if err != nil {
				t.Fatal(err)
			}
			hq, err := ql.Forward(x, 1, B, sq)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for b := 0; b < B; b++ {
				// The float pre-activations, in float64, and their bounds.
				xb, hb := x[b*in:(b+1)*in], h0[b*H:(b+1)*H]
				ei := linearBound(xb, wih, in, qih.W.Scale, qih.act.Scale[b])
				eh := linearBound(hb, whh, H, qhh.W.Scale, qhh.act.Scale[b])
				pi, ph := make([]float64, G*H), make([]float64, G*H)
				for n := 0; n < G*H; n++ {
					pi[n], ph[n] = float64(bih[n]), float64(bhh[n])
					for k := 0; k < in; k++ {
						pi[n] += float64(wih[n*in+k]) * float64(xb[k])
					}
					for k := 0; k < H; k++ {
						ph[n] += float64(whh[n*H+k]) * float64(hb[k])
					}
				}
				for j := 0; j < H; j++ {
					a := func(g int) float64 { return pi[g*H+j] + ph[g*H+j] }
					e := func(g int) float64 { return ei[g*H+j] + eh[g*H+j] }
					var bound float64
					switch kind {
					case cells.LSTMKind:
						i, f, g, o := sigm(a(0)), sigm(a(1)), math.Tanh(a(2)), sigm(a(3))
						di, df, dg, do := e(0)/4, e(1)/4, e(2), e(3)/4
						c := f*float64(c0[b*H+j]) + i*g
						dc := math.Abs(float64(c0[b*H+j]))*df + math.Abs(g)*di + i*dg + di*dg
						bound = math.Abs(math.Tanh(c))*do + o*dc + do*dc
					case cells.GRUKind:
						rg, z := sigm(a(0)), sigm(a(1))
						dr, dz := e(0)/4, e(1)/4
						n := math.Tanh(pi[2*H+j] + rg*ph[2*H+j])
						dn := ei[2*H+j] + math.Abs(ph[2*H+j])*dr + rg*eh[2*H+j] + dr*eh[2*H+j]
						bound = math.Abs(n-float64(hb[j]))*dz + (1-z)*dn + dz*dn
					default:
						bound = e(0)
					}
					d := math.Abs(float64(hq[b*H+j]) - float64(hf[b*H+j]))
					if d > bound+1e-6 {
						t.Errorf("h[%d][%d] int8 %v, float %v: off by %.3g, more than the bound %.3g", b, j, hq[b*H+j], hf[b*H+j], d, bound)
					}
					worst = max(worst, d/(bound+1e-6))
				}
			}
			t.Logf("largest change / its bound: %.3f", worst)
		})
	}
}

func qgemmWeights(t *testing.T, w []float32, n, k int) (*Int8Matrix, error) {
	t.Helper()
	f, err := quantizeMatrix(w, n, k)
	if err != nil {
		t.Fatal(err)
	}
	return f, nil
}

// The whole int8 model against the float one: the logits move by a small
// fraction of their spread (reported), and the file keeps what it was
// given.
func TestLMInt8NearFloat(t *testing.T) {
	for _, c := range lmConfigs {
		t.Run(string(c.Cell), func(t *testing.T) {
			ck := lmCheckpoint(t, c, 4)
			ff, _ := KeepFloat(ck)
			qf, err := FromCheckpoint(ck)
			if err != nil {
				t.Fatal(err)
			}
			mf, _ := NewLM(ff, c)
			mq, err := NewLM(qf, c)
			if err != nil {
				t.Fatal(err)
			}
			const B, T = 4, 6
			seqs := randSeqs(rand.New(rand.NewPCG(2, 2)), B, T, c.Vocab)
			lf, _ := mf.Logits(seqs, T, mf.ZeroState(B))
			lq, err := mq.Logits(seqs, T, mq.ZeroState(B))
			if err != nil {
				t.Fatal(err)
			}
			worst, spread := 0.0, 0.0
			for i := range lf {
				worst = max(worst, math.Abs(float64(lq[i]-lf[i])))
				spread = max(spread, math.Abs(float64(lf[i])))
			}
			t.Logf("largest logit change %.3g (largest logit %.3g)", worst, spread)
			if worst == 0 {
				t.Error("the int8 model's logits equal the float model's: nothing was quantized")
			}
		})
	}
}

func ExampleFromCheckpoint() {
	c := lm.Config{Vocab: 20, Embed: 8, Hidden: 16, Cell: cells.LSTMKind}
	ps, _ := graph.NewParams(tensor.Float32)
	_ = c.Init(ps, graph.NewSource(1))
	cfg, _ := json.Marshal(map[string]any{"model": c})
	f, err := FromCheckpoint(&checkpoint.Checkpoint{Meta: checkpoint.Meta{Model: cfg}, Params: ps})
	if err != nil {
		panic(err)
	}
	for _, name := range f.Names {
		if w, ok := f.Int8[name]; ok {
			fmt.Printf("%s int8 [%d, %d]\n", name, w.N, w.K)
		} else {
			fmt.Printf("%s float32 %v\n", name, f.Float[name].Shape)
		}
	}
	// Output:
	// embedding.weight int8 [20, 8]
	// rnn.weight_ih_l0 int8 [64, 8]
	// rnn.weight_hh_l0 int8 [64, 16]
	// rnn.bias_ih_l0 float32 [64]
	// rnn.bias_hh_l0 float32 [64]
	// fc.weight int8 [20, 16]
	// fc.bias float32 [20]
}

// A model the engine does not run is refused with ErrUnsupported (the
// commands then fall back on the dequantized float graph).
func TestUnsupportedCell(t *testing.T) {
	c := lm.Config{Vocab: 7, Embed: 3, Hidden: 4, Cell: cells.PeepholeKind}
	f, err := FromCheckpoint(lmCheckpoint(t, c, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLM(f, c); !errors.Is(err, ErrUnsupported) {
		t.Errorf("a peephole LSTM: %v", err)
	}
	// A file whose matrices do not fit the config is an error, not a panic.
	c2 := lmConfigs[0]
	g, _ := FromCheckpoint(lmCheckpoint(t, c2, 1))
	c2.Hidden++
	if _, err := NewLM(g, c2); err == nil {
		t.Error("a file of hidden 7 opened as hidden 8")
	}
}
