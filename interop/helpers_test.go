package interop_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training/data"
)

const python = "/usr/bin/python3"

// pythonEnv returns the environment to run PyTorch in, or skips the test
// saying why PyTorch cannot run.
func pythonEnv(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not running PyTorch")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	env := append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE", "OMP_NUM_THREADS=1")
	probe := exec.Command(python, "-c", "import torch, numpy")
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("%s cannot import torch and numpy (CI installs python3-torch): %v\n%s", python, err, out)
	}
	return env
}

// runPython runs a script with args in env and fails the test on an error.
func runPython(t *testing.T, env []string, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(script), args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// rtCase is one model of the round-trip tests, as roundtrip.py reads it
// from cases.json.
type rtCase struct {
	Name   string         `json:"name"`
	Family string         `json:"family"` // lm, seq2seq, bench (benchmarks/torch_models.py's Seq2Seq) or tree
	Dtype  string         `json:"dtype"`
	Config any            `json:"config"` // lm.Config, seq2seq.Config or tree.Config
	Inputs map[string]any `json:"inputs"`
}

func (c rtCase) dtype() tensor.Dtype {
	if c.Dtype == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

// tol is the round trips' tolerance: 1e-6 in float32, 1e-12 in float64.
func (c rtCase) tol() float64 {
	if c.Dtype == "float64" {
		return 1e-12
	}
	return 1e-6
}

// charVocab is a vocabulary of n tokens: the specials, then letters.
func charVocab(n int) *data.Vocab {
	toks := []string{data.PADToken, data.BOSToken, data.EOSToken, data.UNKToken}
	for i := 0; len(toks) < n; i++ {
		toks = append(toks, string(rune('a'+i)))
	}
	v, err := data.NewVocab(toks)
	if err != nil {
		panic(err) // a test helper over constant tokens
	}
	return v
}

// The inputs every case of a family is run on.
var (
	lmInputs = map[string]any{"x": [][]int{{4, 5, 6}, {7, 8, 9}, {10, 11, 12}, {12, 4, 7}, {5, 5, 5}, {9, 10, 4}}} // [T][B]
	// Sources of their own lengths (padding and masks on the rnnkit side,
	// packed sequences on PyTorch's) and decoder inputs [B][Tt] from BOS.
	s2sInputs = map[string]any{
		"src":    [][]int{{4, 5, 6, 7, 8, 9}, {10, 11, 12}, {4, 12, 5, 11, 6}, {7}},
		"tgt_in": [][]int{{1, 4, 5, 6}, {1, 7, 8, 9}, {1, 10, 11, 12}, {1, 12, 4, 7}},
	}
	benchInputs = map[string]any{ // benchmarks/torch_models.py's model has no masks: equal lengths
		"src":    [][]int{{4, 5, 6, 7, 8}, {10, 11, 12, 4, 4}, {4, 12, 5, 11, 6}, {7, 7, 8, 9, 10}},
		"tgt_in": [][]int{{1, 4, 5, 6}, {1, 7, 8, 9}, {1, 10, 11, 12}, {1, 12, 4, 7}},
	}
)

// treeBatch is the trees of the tree cases: words w1 … w8 of a vocabulary
// with <unk> at id 0, labels 0..2.
func treeBatch() (*tree.Batch, error) {
	trees, err := tree.Read(strings.NewReader("(1 (0 w1) (2 (1 w2) (0 w3)))\n(2 w4)\n(0 (1 (2 w5) (1 w6)) (0 (2 w7) (1 w8)))\n"), 3)
	if err != nil {
		return nil, err
	}
	v, err := tree.NewVocab([]string{tree.Unknown, "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"})
	if err != nil {
		return nil, err
	}
	return tree.NewBatch(trees, v)
}

func treeInputs(b *tree.Batch) map[string]any {
	kids := make([][]int, len(b.Children))
	for i, k := range b.Children {
		kids[i] = append([]int{}, k...)
	}
	return map[string]any{"children": kids, "words": b.Words}
}

// outputs runs a case's model with the parameters ps on its inputs and
// returns what roundtrip.py writes for it.
func outputs(c rtCase, ps *graph.Params) (map[string][]float64, error) {
	switch cfg := c.Config.(type) {
	case lm.Config:
		return lmOutputs(ps, cfg, c.Inputs["x"].([][]int))
	case seq2seq.Config:
		return s2sOutputs(ps, cfg, c.Inputs["src"].([][]int), c.Inputs["tgt_in"].([][]int))
	case tree.Config:
		b, err := treeBatch()
		if err != nil {
			return nil, err
		}
		return treeOutputs(ps, cfg, b)
	}
	return nil, errors.Errorf("case %s: config %T", c.Name, c.Config)
}

// lmOutputs returns a language model's logits [T, B, V] on x [T][B] from
// the zero state, one step at a time.
func lmOutputs(ps *graph.Params, cfg lm.Config, x [][]int) (map[string][]float64, error) {
	gen, err := lm.NewGenerator(ps, cfg)
	if err != nil {
		return nil, err
	}
	defer gen.Close()
	st0, err := gen.Start(len(x[0]))
	if err != nil {
		return nil, err
	}
	var st decode.State = st0
	var logits []float64
	for _, tokens := range x {
		var rows [][]float64
		if rows, st, err = gen.Step(st, tokens); err != nil {
			return nil, err
		}
		for _, r := range rows {
			logits = append(logits, r...)
		}
	}
	return map[string][]float64{"logits": logits}, nil
}

// s2sOutputs returns a Seq2Seq model's teacher-forced logits [Tt, B, V]:
// the sources encoded (each of its own length), then the decoder stepped
// through tgtIn [B][Tt].
func s2sOutputs(ps *graph.Params, cfg seq2seq.Config, src, tgtIn [][]int) (map[string][]float64, error) {
	gen, err := seq2seq.NewGenerator(ps, cfg)
	if err != nil {
		return nil, err
	}
	defer gen.Close()
	st0, err := gen.Encode(src)
	if err != nil {
		return nil, err
	}
	var st decode.State = st0
	var logits []float64
	for t := range tgtIn[0] {
		tokens := make([]int, len(tgtIn))
		for b := range tgtIn {
			tokens[b] = tgtIn[b][t]
		}
		var rows [][]float64
		if rows, st, err = gen.Step(st, tokens); err != nil {
			return nil, err
		}
		for _, r := range rows {
			logits = append(logits, r...)
		}
	}
	return map[string][]float64{"logits": logits}, nil
}

// treeOutputs returns a tree model's h, c (LSTMs) and logits on b, from
// the definition's graph.
func treeOutputs(ps *graph.Params, cfg tree.Config, b *tree.Batch) (map[string][]float64, error) {
	var h, c, logits gorgonia.Value
	g, t, err := graph.Build(ps, func(g *graph.Graph) (*tree.TrainGraph, error) {
		t, err := tree.BuildTrainGraph(g, cfg, b)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(t.H, &h)
		gorgonia.Read(t.Logits, &logits)
		if t.C != nil {
			gorgonia.Read(t.C, &c)
		}
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	if err := t.Set(b); err != nil {
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
	out := map[string][]float64{}
	for name, v := range map[string]gorgonia.Value{"h": h, "c": c, "logits": logits} {
		if v == nil {
			continue
		}
		if out[name], err = graph.ValueFloat64s(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readOutputs reads what roundtrip.py wrote for a case.
func readOutputs(dir, name string) (map[string][]float64, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+".out.json"))
	if err != nil {
		return nil, err
	}
	var out map[string][]float64
	return out, json.Unmarshal(b, &out)
}

// maxDiff returns the largest difference between two sets of outputs,
// which must have the same names and sizes.
func maxDiff(want, got map[string][]float64) (float64, error) {
	if len(want) != len(got) {
		return 0, errors.Errorf("outputs %v, want %v", keys(got), keys(want))
	}
	d := 0.0
	for name, w := range want {
		g, ok := got[name]
		if !ok || len(g) != len(w) {
			return 0, errors.Errorf("output %s: %d values, want %d", name, len(g), len(w))
		}
		for i := range w {
			if x := math.Abs(w[i] - g[i]); x > d || math.IsNaN(x) {
				d = x
			}
		}
	}
	return d, nil
}

func keys(m map[string][]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// writeCases writes cases.json for roundtrip.py.
func writeCases(t *testing.T, dir string, cases []rtCase) {
	t.Helper()
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recurrentCases are the language-model and Seq2Seq cases, in both
// dtypes: an LSTM language model, a 2-layer GRU language model, a Seq2Seq
// whose encoder is a bidirectional 2-layer LSTM (general attention), a
// peeky GRU and an additive-attention Seq2Seq, and the attention Seq2Seq
// (dot scores; "bench" on the PyTorch side is benchmarks/torch_models.py's).
func recurrentCases(attention string) []rtCase {
	const V = 13
	var out []rtCase
	for _, dt := range []string{"float32", "float64"} {
		sfx := "_" + dt[len(dt)-2:]
		s2s := func(name string, c seq2seq.Config) rtCase {
			c.Vocab, c.Embed, c.Hidden = V, 5, 6
			return rtCase{Name: name + sfx, Family: "seq2seq", Dtype: dt, Config: c, Inputs: s2sInputs}
		}
		att := s2s("s2s_attention", seq2seq.Config{Cell: cells.LSTMKind, Decoder: seq2seq.Attention, Score: seq2seq.Dot})
		if attention == "bench" {
			att.Family, att.Inputs = "bench", benchInputs
		}
		out = append(out,
			rtCase{Name: "lm_lstm" + sfx, Family: "lm", Dtype: dt, Config: lm.Config{Vocab: V, Embed: 5, Hidden: 7, Cell: cells.LSTMKind, Layers: 1}, Inputs: lmInputs},
			rtCase{Name: "lm_gru" + sfx, Family: "lm", Dtype: dt, Config: lm.Config{Vocab: V, Embed: 5, Hidden: 7, Cell: cells.GRUKind, Layers: 2}, Inputs: lmInputs},
			s2s("s2s_bilstm2", seq2seq.Config{Cell: cells.LSTMKind, Layers: 2, Bidirectional: true, Decoder: seq2seq.Attention, Score: seq2seq.General}),
			s2s("s2s_peeky_gru", seq2seq.Config{Cell: cells.GRUKind, Decoder: seq2seq.Peeky}),
			s2s("s2s_additive", seq2seq.Config{Cell: cells.LSTMKind, Decoder: seq2seq.Attention, Score: seq2seq.Additive}),
			att,
		)
	}
	return out
}

// treeCases are the binary Tree-LSTM in both dtypes.
func treeCases(t *testing.T) []rtCase {
	b, err := treeBatch()
	if err != nil {
		t.Fatal(err)
	}
	var out []rtCase
	for _, dt := range []string{"float32", "float64"} {
		out = append(out, rtCase{Name: "tree_binary_" + dt[len(dt)-2:], Family: "tree", Dtype: dt,
			Config: tree.Config{Kind: tree.BinaryLSTM, Vocab: 9, Embed: 5, Hidden: 6, Classes: 3}, Inputs: treeInputs(b)})
	}
	return out
}

// report logs the largest difference of each case and fails those beyond
// their tolerance.
func report(t *testing.T, dir string, cases []rtCase, got map[string]map[string][]float64) {
	t.Helper()
	var lines []string
	for _, c := range cases {
		want, err := readOutputs(dir, c.Name)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		d, err := maxDiff(want, got[c.Name])
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !(d <= c.tol()) {
			t.Errorf("%s: outputs differ by %.3g, more than %g", c.Name, d, c.tol())
		}
		lines = append(lines, fmt.Sprintf("%-20s max |Δ| %.3g", c.Name, d))
	}
	t.Logf("largest differences:\n%s", strings.Join(lines, "\n"))
}
