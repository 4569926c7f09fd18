package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/plot"
)

// gradflowAliases are the short names gradflow has always taken; every
// registered cell kind is accepted under its own name too.
var gradflowAliases = map[string]cells.Kind{
	"rnn": cells.RNNTanh, "peephole": cells.PeepholeKind,
}

// gradflowKind resolves a -cell name: an alias or a registered kind.
func gradflowKind(name string) (cells.Kind, bool) {
	if k, ok := gradflowAliases[name]; ok {
		return k, true
	}
	_, ok := cells.Lookup(cells.Kind(name))
	return cells.Kind(name), ok
}

func runGradflow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gradflow", "",
		"Shows how far back in time a gradient reaches: each cell reads a sequence of random\n"+
			"symbols and must, at the last step, name the first one (the longest memory the task\n"+
			"can ask for). The command prints ‖∂loss/∂h_t‖ against the distance from the loss, for\n"+
			"each cell initialised as PyTorch does with the same seed, as a table and a PNG (log\n"+
			"scale). Every gradient shrinks with distance; how fast is the lesson: a vanilla RNN's by\n"+
			"its recurrent Jacobian, an LSTM's through the cell state by its forget gate, which\n"+
			"-forget-bias opens (Gers et al. 2000; 0 is PyTorch's default). See docs/cells.md §2.", stderr)
	which := fs.String("cell", "rnn,lstm,gru,peephole", "comma-separated cells: rnn (rnn_tanh), peephole (peephole_lstm), or any cell kind: "+cells.KindList())
	steps := fs.Int("steps", 50, "sequence length")
	hidden := fs.Int("hidden", 64, "hidden size")
	batch := fs.Int("batch", 32, "sequences averaged over")
	vocab := fs.Int("vocab", 8, "symbols")
	seed := fs.Uint64("seed", 1, "seed of the weights and the data")
	out := fs.String("out", "gradflow.png", "PNG file to write")
	forget := fs.Float64("forget-bias", 0, "added to the LSTMs' forget-gate input bias b_if")
	if help, err := parseOnlyFlags(fs, args, "gradflow"); help || err != nil {
		return err
	}
	if err := checks("gradflow", intIn("steps", *steps, 2, maxSteps), intIn("hidden", *hidden, 1, maxGradflow),
		intIn("batch", *batch, 1, maxGradflow), intIn("vocab", *vocab, 2, maxVocab),
		floatIn("forget-bias", *forget, -1e6, 1e6), nonEmpty("out", *out)); err != nil {
		return err
	}
	var kinds []string
	for _, k := range strings.Split(*which, ",") {
		k = strings.TrimSpace(k)
		if _, ok := gradflowKind(k); !ok {
			return usageError{fmt.Sprintf("gradflow: -cell: unknown cell %q (rnn, peephole, %s)", k, cells.KindList())}
		}
		kinds = append(kinds, k)
	}
	if err := outputFile("out", *out); err != nil {
		return errors.Wrap(err, "gradflow")
	}
	var series []plot.Series
	norms := map[string][]float64{}
	for _, k := range kinds {
		if err := ctx.Err(); err != nil {
			return err
		}
		kind, _ := gradflowKind(k)
		n, err := gradNorms(kind, *steps, *hidden, *batch, *vocab, *seed, *forget)
		if err != nil {
			return errors.Wrapf(err, "gradflow: %s", k)
		}
		norms[k] = n
		var s plot.Series
		s.Name = k
		for d := 0; d < *steps; d++ {
			v := n[*steps-1-d]
			if v > 0 && !math.IsInf(v, 0) {
				s.X, s.Y = append(s.X, float64(d)), append(s.Y, v)
			}
		}
		series = append(series, s)
	}
	fmt.Fprintf(stdout, "‖∂loss/∂h_t‖ (mean over %d sequences) against the distance from the loss, T = %d, H = %d, forget bias %+g\n", *batch, *steps, *hidden, *forget)
	fmt.Fprintf(stdout, "%8s", "distance")
	for _, k := range kinds {
		fmt.Fprintf(stdout, "  %10s", k)
	}
	fmt.Fprintln(stdout)
	for _, d := range []int{0, 1, 2, 5, 10, 20, 30, 40, 49, 99, 199} {
		if d >= *steps {
			continue
		}
		fmt.Fprintf(stdout, "%8d", d)
		for _, k := range kinds {
			fmt.Fprintf(stdout, "  %10.3g", norms[k][*steps-1-d])
		}
		fmt.Fprintln(stdout)
	}
	if err := plot.Lines(*out, "gradient flow through time", "distance from the loss (steps)", "‖∂loss/∂h_t‖", series, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// gradNorms returns, for t = 0…T−1, the mean over the batch of the norm of
// ∂loss/∂h_t, where loss is the cross-entropy of naming x_0 from h_{T−1}.
func gradNorms(kind cells.Kind, T, H, B, V int, seed uint64, forgetBias float64) ([]float64, error) {
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		return nil, err
	}
	src := graph.NewSource(seed)
	cfg := cells.Config{Kind: kind, InputSize: V, HiddenSize: H}
	if err := cfg.Init(ps, src); err != nil {
		return nil, err
	}
	if forgetBias != 0 && cfg.Gates() == 4 {
		b, _ := ps.Get(cfg.ParamName("bias_ih"))
		v, _ := graph.Float64s(b)
		for j := H; j < 2*H; j++ { // gate order i, f, g, o
			v[j] += forgetBias
		}
		if err := graph.SetFloat64s(b, v); err != nil {
			return nil, err
		}
	}
	root := graph.NewScope(ps)
	if _, err := root.New("out.weight", graph.PyTorchDefault(H), src, V, H); err != nil {
		return nil, err
	}
	// The data is drawn once, before the graph is built: graph.Build may
	// build it more than once.
	first := make([]int, B)
	onehots := make([][]float64, T)
	for t := range onehots {
		onehots[t] = make([]float64, B*V)
		for b := 0; b < B; b++ {
			s := src.IntN(V)
			if t == 0 {
				first[b] = s
			}
			onehots[t][b*V+s] = 1
		}
	}
	g, vals, err := graph.Build(ps, func(g *graph.Graph) ([]gorgonia.Value, error) {
		return defineGradflow(g, cfg, onehots, first)
	})
	if err != nil {
		return nil, err
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		return nil, err
	}
	out := make([]float64, T)
	for t, v := range vals {
		d, err := graph.ValueFloat64s(v)
		if err != nil {
			return nil, err
		}
		for b := 0; b < B; b++ {
			s := 0.0
			for _, x := range d[b*H : (b+1)*H] {
				s += x * x
			}
			out[t] += math.Sqrt(s) / float64(B)
		}
	}
	return out, nil
}

// defineGradflow builds the unrolled cell over the one-hot inputs, the
// loss of naming first, and the gradients; it returns the values that the
// gradients ∂loss/∂h_t are read into.
func defineGradflow(g *graph.Graph, cfg cells.Config, onehots [][]float64, first []int) ([]gorgonia.Value, error) {
	T, B, V := len(onehots), len(first), cfg.InputSize
	cell, err := cells.New(g, cfg)
	if err != nil {
		return nil, err
	}
	xs := make([]*gorgonia.Node, T)
	for t := range xs {
		if xs[t], err = g.Input(fmt.Sprintf("x_%d", t), B, V); err != nil {
			return nil, err
		}
		if err := graph.Set(xs[t], onehots[t]); err != nil {
			return nil, err
		}
	}
	hs, _, err := cells.Unroll(cell, xs, nil)
	if err != nil {
		return nil, err
	}
	w, err := g.Param("out.weight", V, cfg.HiddenSize)
	if err != nil {
		return nil, err
	}
	logits, err := graph.MatMul(hs[T-1], w, false, true)
	if err != nil {
		return nil, err
	}
	tg, err := graph.NewTargets(B, V)
	if err != nil {
		return nil, err
	}
	if err := tg.Set(first, nil); err != nil {
		return nil, err
	}
	loss, err := sumOf(graph.CrossEntropy(logits, tg))
	if err != nil {
		return nil, err
	}
	if _, err := gorgonia.Grad(loss, g.Learnables()...); err != nil {
		return nil, err
	}
	vals := make([]gorgonia.Value, T)
	for t, h := range hs {
		if h.Deriv() == nil {
			return nil, errors.Errorf("no gradient for h_%d", t)
		}
		gorgonia.Read(h.Deriv(), &vals[t])
	}
	return vals, nil
}
