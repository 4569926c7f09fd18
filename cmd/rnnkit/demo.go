package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/preset"
)

// demoConfig is the delayed-recall task and the model that learns it.
type demoConfig struct {
	Cell    cells.Kind
	Vocab   int // symbols 0..Vocab−1, fed one-hot
	Delay   int // the target at step t is the symbol seen at step t−Delay
	Steps   int // sequence length T
	Batch   int
	Hidden  int
	Iters   int
	LR      float64
	Clip    float64
	Seed    uint64
	Every   int
	Seconds float64
}

// runDemo is the README's main job: the date-format run with attention
// (the date-attention preset), which trains in about two minutes on two
// cores and prints its test accuracy and sample translations.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "",
		"Trains a small Seq2Seq model with attention to rewrite human-written dates as YYYY-MM-DD\n"+
			"(rnnkit train -preset date-attention: 50,000 examples, 5 epochs), then prints the\n"+
			"test exact match per epoch and sample translations. About two minutes on two cores.", stderr)
	examples := fs.Int("examples", 50000, "generated examples (90% train, 10% test)")
	epochs := fs.Int("epochs", 5, "epochs")
	lr := fs.Float64("lr", 1e-3, "Adam learning rate")
	out := fs.String("out", filepath.Join("runs", "demo"), "run directory")
	seed := fs.Uint64("seed", 1, "seed of every random choice")
	if help, err := parseOnlyFlags(fs, args, "demo"); help || err != nil {
		return err
	}
	if err := checks("demo", intIn("examples", *examples, 20, preset.MaxExamples), intIn("epochs", *epochs, 1, preset.MaxEpochs),
		positive("lr", *lr), nonEmpty("out", *out)); err != nil {
		return err
	}
	return runTrain(ctx, []string{"-preset", "date-attention", "-examples", fmt.Sprint(*examples),
		"-epochs", fmt.Sprint(*epochs), "-lr", fmt.Sprint(*lr), "-out", *out, "-seed", fmt.Sprint(*seed), "-log-every", "100", "-overwrite"}, stdout, stderr)
}

// runRecall is the first demo: an LSTM learns delayed recall by BPTT.
func runRecall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c demoConfig
	fs := newFlags("recall", "",
		"Trains a small recurrent network by backpropagation through time on a generated\n"+
			"delayed-recall task: read a stream of random symbols and, at every step, output the\n"+
			"symbol seen -delay steps earlier. Chance is 1/vocab; a network that remembers gets\n"+
			"every symbol right. Prints the loss falling and a few predictions.", stderr)
	cell := fs.String("cell", string(cells.LSTMKind), "cell kind: "+cells.KindList())
	fs.IntVar(&c.Vocab, "vocab", 8, "number of symbols")
	fs.IntVar(&c.Delay, "delay", 8, "how many steps back the target lies")
	fs.IntVar(&c.Steps, "steps", 24, "time steps per sequence")
	fs.IntVar(&c.Batch, "batch", 32, "sequences per batch")
	fs.IntVar(&c.Hidden, "hidden", 64, "hidden size")
	fs.IntVar(&c.Iters, "iters", 2000, "training iterations (one fresh batch each)")
	fs.Float64Var(&c.LR, "lr", 0.01, "Adam learning rate")
	fs.Float64Var(&c.Clip, "clip", 5, "clip each gradient element to ±clip (0: off)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of every random choice")
	fs.IntVar(&c.Every, "every", 200, "report every N iterations")
	fs.Float64Var(&c.Seconds, "seconds", 0, "stop after this many seconds (0: no limit)")
	if help, err := parseOnlyFlags(fs, args, "recall"); help || err != nil {
		return err
	}
	c.Cell = cells.Kind(*cell)
	if err := c.validate(); err != nil {
		return usageError{"recall: " + err.Error()}
	}
	_, err := trainDemo(ctx, c, stdout)
	return err
}

func (c demoConfig) validate() error {
	if err := (cells.Config{Kind: c.Cell, InputSize: 1, HiddenSize: 1}).Validate(); err != nil {
		return errors.Errorf("-cell %q: want one of %v", c.Cell, cells.Kinds())
	}
	for _, err := range []error{
		intIn("vocab", c.Vocab, 2, maxVocab), intIn("steps", c.Steps, 1, maxSteps), intIn("delay", c.Delay, 0, c.Steps-1),
		intIn("batch", c.Batch, 1, preset.MaxBatch), intIn("hidden", c.Hidden, 1, preset.MaxWidth),
		intIn("iters", c.Iters, 1, maxIters), intIn("every", c.Every, 1, maxIters), positive("lr", c.LR),
		floatIn("clip", c.Clip, 0, math.MaxFloat64), floatIn("seconds", c.Seconds, 0, math.MaxFloat64),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// demoResult is what a run ends with.
type demoResult struct {
	FirstLoss, LastLoss float64
	Accuracy            float64 // over the last report window
	Iters               int
}

// demoModel is the unrolled graph: one-hot inputs → cell → linear → log-softmax.
type demoModel struct {
	g       *graph.Graph
	xs, ys  []*gorgonia.Node // inputs and one-hot targets per step
	loss    *gorgonia.Node
	lossV   gorgonia.Value
	logits  []gorgonia.Value
	machine gorgonia.VM
	params  gorgonia.Nodes
}

// buildDemo builds the model's graph (through graph.Build, which checks it
// for Gorgonia's hash collisions) and compiles it.
func buildDemo(ps *graph.Params, c demoConfig) (*demoModel, error) {
	g, m, err := graph.Build(ps, func(g *graph.Graph) (*demoModel, error) { return defineDemo(g, c) })
	if err != nil {
		return nil, err
	}
	if m.machine, err = graph.NewMachine(g, gorgonia.BindDualValues(m.params...)); err != nil {
		return nil, err
	}
	return m, nil
}

// defineDemo builds the model into g, its gradients included.
func defineDemo(g *graph.Graph, c demoConfig) (*demoModel, error) {
	m := &demoModel{g: g}
	cell, err := cells.New(g, cells.Config{Kind: c.Cell, InputSize: c.Vocab, HiddenSize: c.Hidden})
	if err != nil {
		return nil, err
	}
	var w, b *gorgonia.Node
	w, err = g.Param("out.weight", c.Vocab, c.Hidden)
	if err != nil {
		return nil, err
	}
	if b, err = g.Param("out.bias", c.Vocab); err != nil {
		return nil, err
	}
	for t := 0; t < c.Steps; t++ {
		x, err := g.Input(fmt.Sprintf("x_%d", t), c.Batch, c.Vocab)
		if err != nil {
			return nil, err
		}
		m.xs = append(m.xs, x)
	}
	hs, _, err := cells.Unroll(cell, m.xs, nil)
	if err != nil {
		return nil, err
	}
	m.logits = make([]gorgonia.Value, c.Steps)
	var total *gorgonia.Node
	for t := c.Delay; t < c.Steps; t++ {
		z, err := graph.MatMul(hs[t], w, false, true)
		if err != nil {
			return nil, err
		}
		if z, err = graph.AddRow(z, b); err != nil {
			return nil, err
		}
		gorgonia.Read(z, &m.logits[t])
		lp, err := gorgonia.LogSoftMax(z)
		if err != nil {
			return nil, err
		}
		y, err := g.Input(fmt.Sprintf("y_%d", t), c.Batch, c.Vocab)
		if err != nil {
			return nil, err
		}
		m.ys = append(m.ys, y)
		s, err := sumOf(gorgonia.HadamardProd(lp, y))
		if err != nil {
			return nil, err
		}
		if total == nil {
			total = s
		} else if total, err = gorgonia.Add(total, s); err != nil {
			return nil, err
		}
	}
	// Mean cross-entropy over every scored position.
	n := float64(c.Batch * (c.Steps - c.Delay))
	if m.loss, err = gorgonia.Mul(total, g.Scalar(-1/n)); err != nil {
		return nil, err
	}
	gorgonia.Read(m.loss, &m.lossV)
	m.params = g.Learnables()
	if _, err := gorgonia.Grad(m.loss, m.params...); err != nil {
		return nil, errors.Wrap(err, "demo: gradient")
	}
	return m, nil
}

// sumOf returns the sum of x's elements, or the error that came with x.
func sumOf(x *gorgonia.Node, err error) (*gorgonia.Node, error) {
	if err != nil {
		return nil, err
	}
	return gorgonia.Sum(x)
}

// batch draws a fresh batch of symbol streams and sets inputs and targets.
func (m *demoModel) batch(c demoConfig, src graph.Source) ([][]int, error) {
	seqs := make([][]int, c.Batch)
	for b := range seqs {
		seqs[b] = make([]int, c.Steps)
		for t := range seqs[b] {
			seqs[b][t] = src.IntN(c.Vocab)
		}
	}
	onehot := func(t int) []float64 {
		v := make([]float64, c.Batch*c.Vocab)
		for b := range seqs {
			v[b*c.Vocab+seqs[b][t]] = 1
		}
		return v
	}
	for t, x := range m.xs {
		if err := graph.Set(x, onehot(t)); err != nil {
			return nil, err
		}
	}
	for i, y := range m.ys {
		if err := graph.Set(y, onehot(i)); err != nil { // target at step Delay+i is symbol i
			return nil, err
		}
	}
	return seqs, nil
}

// predictions returns the arg-max symbol per sequence at each scored step.
func (m *demoModel) predictions(c demoConfig) ([][]int, error) {
	out := make([][]int, c.Batch)
	for b := range out {
		out[b] = make([]int, c.Steps)
		for t := range out[b] {
			out[b][t] = -1
		}
	}
	for t := c.Delay; t < c.Steps; t++ {
		v, err := graph.ValueFloat64s(m.logits[t])
		if err != nil {
			return nil, err
		}
		for b := 0; b < c.Batch; b++ {
			row := v[b*c.Vocab : (b+1)*c.Vocab]
			best := 0
			for k := range row {
				if row[k] > row[best] {
					best = k
				}
			}
			out[b][t] = best
		}
	}
	return out, nil
}

func trainDemo(ctx context.Context, c demoConfig, w io.Writer) (demoResult, error) {
	var res demoResult
	src := graph.NewSource(c.Seed)
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		return res, err
	}
	if err := (cells.Config{Kind: c.Cell, InputSize: c.Vocab, HiddenSize: c.Hidden}).Init(ps, src); err != nil {
		return res, err
	}
	out, err := graph.NewScope(ps).Sub("out")
	if err != nil {
		return res, err
	}
	if _, err := out.New("weight", graph.GlorotUniform{}, src, c.Vocab, c.Hidden); err != nil {
		return res, err
	}
	if _, err := out.New("bias", graph.Constant(0), src, c.Vocab); err != nil {
		return res, err
	}
	start := time.Now()
	m, err := buildDemo(ps, c)
	if err != nil {
		return res, err
	}
	defer m.machine.Close()
	opts := []gorgonia.SolverOpt{gorgonia.WithLearnRate(c.LR)}
	if c.Clip > 0 {
		opts = append(opts, gorgonia.WithClip(c.Clip))
	}
	solver := gorgonia.NewAdamSolver(opts...)
	fmt.Fprintf(w, "delayed recall: %d symbols, recall the one %d steps back, %d steps per sequence, batch %d\n",
		c.Vocab, c.Delay, c.Steps, c.Batch)
	fmt.Fprintf(w, "model: one-hot → %s(%d) → linear → softmax, %d parameters, float32, Adam lr %g; graph built and compiled in %v\n",
		c.Cell, c.Hidden, countParams(ps), c.LR, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(w, "chance: loss %.3f, accuracy %.1f%%\n\n", math.Log(float64(c.Vocab)), 100/float64(c.Vocab))
	fmt.Fprintf(w, "%6s  %8s  %9s  %8s\n", "iter", "loss", "accuracy", "elapsed")

	var windowLoss float64
	var correct, scored, inWindow int
	var seqs, preds [][]int
	start = time.Now()
	for it := 1; it <= c.Iters; it++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if seqs, err = m.batch(c, src); err != nil {
			return res, err
		}
		if err := graph.Run(m.machine); err != nil {
			return res, errors.Wrapf(err, "iteration %d", it)
		}
		lv, err := graph.ValueFloat64s(m.lossV)
		if err != nil {
			return res, err
		}
		if math.IsNaN(lv[0]) || math.IsInf(lv[0], 0) {
			return res, errors.Errorf("iteration %d: loss is %v (too high a -lr?)", it, lv[0])
		}
		if preds, err = m.predictions(c); err != nil {
			return res, err
		}
		for b := range seqs {
			for t := c.Delay; t < c.Steps; t++ {
				scored++
				if preds[b][t] == seqs[b][t-c.Delay] {
					correct++
				}
			}
		}
		if err := solver.Step(gorgonia.NodesToValueGrads(m.params)); err != nil {
			return res, errors.Wrapf(err, "iteration %d: solver", it)
		}
		m.machine.Reset()
		if it == 1 {
			res.FirstLoss = lv[0]
		}
		windowLoss += lv[0]
		inWindow++
		res.Iters = it
		timeUp := c.Seconds > 0 && time.Since(start).Seconds() >= c.Seconds
		if it%c.Every == 0 || it == c.Iters || timeUp {
			res.LastLoss = windowLoss / float64(inWindow)
			res.Accuracy = float64(correct) / float64(scored)
			fmt.Fprintf(w, "%6d  %8.4f  %8.1f%%  %8v\n", it, res.LastLoss, 100*res.Accuracy, time.Since(start).Round(100*time.Millisecond))
			windowLoss, inWindow, correct, scored = 0, 0, 0, 0
		}
		if timeUp {
			break
		}
	}
	if ok, name := ps.AllFinite(); !ok {
		return res, errors.Errorf("parameter %s is not finite", name)
	}
	fmt.Fprintf(w, "\npredictions on the last batch (target = the symbol %d steps back; '.' = not scored):\n", c.Delay)
	for b := 0; b < min(4, len(seqs)); b++ {
		in, want, got := make([]string, c.Steps), make([]string, c.Steps), make([]string, c.Steps)
		for t := 0; t < c.Steps; t++ {
			in[t] = fmt.Sprint(seqs[b][t])
			want[t], got[t] = ".", "."
			if t >= c.Delay {
				want[t] = fmt.Sprint(seqs[b][t-c.Delay])
				got[t] = fmt.Sprint(preds[b][t])
			}
		}
		fmt.Fprintf(w, "  input  %s\n  target %s\n  output %s\n\n", strings.Join(in, " "), strings.Join(want, " "), strings.Join(got, " "))
	}
	return res, nil
}

func countParams(ps *graph.Params) int {
	n := 0
	for _, name := range ps.Names() {
		t, _ := ps.Get(name)
		n += t.Shape().TotalSize()
	}
	return n
}
