package training

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/hred"
	"github.com/rnnkit/rnnkit/models/hred/dialog"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/optim"
)

// dialogTorchScript loads rnnkit's parameters into the PyTorch reference
// of the dialogue presets (benchmarks/torch_dialog.py, imported, so its
// own model, step and evaluation run), in float64, and reports the
// evaluation, the first batch's loss and gradients (before clipping), every
// step's loss and gradient norm, the parameters after the steps and the
// evaluation again.
const dialogTorchScript = `
import json, sys
import torch
sys.path.insert(0, sys.argv[1])
import torch_dialog as td

torch.set_num_threads(1)
spec = json.load(sys.stdin)
out = {}
torch.manual_seed(0)
fresh = td.Dialog(spec["kind"], spec["vocab"], spec["embed"], spec["hidden"], spec["context"], spec["latent"])
out["init"] = {n: p.detach().reshape(-1).tolist() for n, p in fresh.named_parameters()}
if spec.get("data"):
    ds = td.read_dialogues(spec["data"])
    train = [d for i, d in enumerate(ds) if i % 10 != 9]
    test = [d for i, d in enumerate(ds) if i % 10 == 9]
    vocab = td.build_vocab(train, spec["min_count"])
    out["vocab"] = sorted(vocab, key=vocab.get)
    out["train"] = td.examples(train, vocab, spec["max_context"], spec["max_len"])
    out["test"] = td.examples(test, vocab, spec["max_context"], spec["max_len"])
m = td.Dialog(spec["kind"], spec["vocab"], spec["embed"], spec["hidden"], spec["context"], spec["latent"]).to(getattr(torch, spec["dtype"]))
m.load_state_dict({n: torch.tensor(p["data"], dtype=getattr(torch, spec["dtype"])).reshape(p["shape"]) for n, p in spec["params"].items()}, strict=True)
ex = lambda es: [([list(u) for u in c], list(r)) for c, r in es]
eps = lambda b: None if b.get("eps") is None else torch.tensor(b["eps"], dtype=getattr(torch, spec["dtype"]))
if spec["test"]:
    out["eval_before"] = td.evaluate(m, ex(spec["test"]), spec["eval_batch"])
b0 = spec["batches"][0]
_, _, _, loss = m(ex(b0["examples"]), b0["beta"], 0, True, eps(b0))
m.zero_grad()
loss.backward()
out["loss0"] = float(loss)
out["grads0"] = {n: p.grad.reshape(-1).tolist() for n, p in m.named_parameters()}
m.zero_grad()
opt = torch.optim.Adam(m.parameters(), lr=spec["lr"])
out["losses"], out["norms"] = [], []
for b in spec["batches"]:
    l, norm = td.train_step(m, opt, ex(b["examples"]), b["beta"], 0, spec["clip"], eps(b))
    out["losses"].append(l)
    out["norms"].append(norm)
out["params"] = {n: p.detach().reshape(-1).tolist() for n, p in m.named_parameters()}
if spec["test"]:
    out["eval_after"] = td.evaluate(m, ex(spec["test"]), spec["eval_batch"])
json.dump(out, sys.stdout)
`

type dialogTorchParam struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type dialogTorchBatch struct {
	Examples [][2]any    `json:"examples"`
	Beta     float64     `json:"beta"`
	Eps      [][]float64 `json:"eps,omitempty"`
}

type dialogTorchSpec struct {
	Kind      hred.Kind                   `json:"kind"`
	Vocab     int                         `json:"vocab"`
	Embed     int                         `json:"embed"`
	Hidden    int                         `json:"hidden"`
	Context   int                         `json:"context"`
	Latent    int                         `json:"latent"`
	LR        float64                     `json:"lr"`
	Clip      float64                     `json:"clip"`
	Params    map[string]dialogTorchParam `json:"params"`
	Batches   []dialogTorchBatch          `json:"batches"`
	Test      [][2]any                    `json:"test"`
	EvalBatch int                         `json:"eval_batch"`
	Dtype     string                      `json:"dtype"` // float64 or float32
	// Data is the dialogue file the reference reads, with its settings,
	// to compare its vocabulary and examples.
	Data       string `json:"data"`
	MinCount   int    `json:"min_count"`
	MaxContext int    `json:"max_context"`
	MaxLen     int    `json:"max_len"`
}

type dialogTorchResult struct {
	EvalBefore []float64            `json:"eval_before"` // NLL sum, KL sum, tokens
	EvalAfter  []float64            `json:"eval_after"`
	Loss0      float64              `json:"loss0"`
	Grads0     map[string][]float64 `json:"grads0"`
	Losses     []float64            `json:"losses"`
	Norms      []float64            `json:"norms"`
	Params     map[string][]float64 `json:"params"`
	// Init are a fresh reference model's parameters (its own initialisers).
	Init map[string][]float64 `json:"init"`
	// Vocab, Train and Test are the reference's vocabulary (tokens in id
	// order) and examples read from spec.Data.
	Vocab []string `json:"vocab"`
	Train []any    `json:"train"`
	Test  []any    `json:"test"`
}

// torchDialogName maps an rnnkit parameter of models/hred to its name in
// benchmarks/torch_dialog.py.
func torchDialogName(name string) string {
	for _, r := range [][2]string{
		{"embedding.", "emb."}, {"encoder.", "enc."}, {"context.", "ctx."}, {"decoder.", "dec."}, {"init.0.", "init."},
		{"prior.hidden.", "prior.0."}, {"prior.mu.", "prior.1."}, {"prior.logvar.", "prior.2."},
		{"posterior.hidden.", "post.0."}, {"posterior.mu.", "post.1."}, {"posterior.logvar.", "post.2."},
	} {
		if strings.HasPrefix(name, r[0]) {
			return r[1] + name[len(r[0]):]
		}
	}
	return name
}

func dialogExamplesJSON(ex []hred.Example) [][2]any {
	out := make([][2]any, len(ex))
	for i, e := range ex {
		out[i] = [2]any{e.Context, e.Reply}
	}
	return out
}

// runDialogTorch runs dialogTorchScript on spec, or skips the test when
// PyTorch is not there.
func runDialogTorch(t *testing.T, spec dialogTorchSpec) dialogTorchResult {
	t.Helper()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s", python)
	}
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("PyTorch not importable: %v\n%s", err, out)
	}
	bench, err := filepath.Abs(filepath.Join("..", "benchmarks"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "dialog_ref.py")
	if err := os.WriteFile(script, []byte(dialogTorchScript), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, bench)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	var res dialogTorchResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reading PyTorch's output: %v\n%s", err, out)
	}
	return res
}

// float32Tol is the relative tolerance of the float32 comparison
// (RNNKIT_DIALOG_DTYPE=float32), where rounding differs.
var float32Tol = 1e-4

// relDiff is the largest |a−b| over the largest |b| (1 if that is 0).
func relDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d, s := 0.0, 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
		s = max(s, math.Abs(b[i]))
	}
	if s == 0 {
		s = 1
	}
	return d / s
}

// sameExamples reports the first example where got and want (PyTorch's,
// as decoded from JSON) differ.
func sameExamples(t *testing.T, what string, got [][2]any, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s examples: rnnkit %d, PyTorch %d", what, len(got), len(want))
		return
	}
	for i := range got {
		a, _ := json.Marshal(got[i])
		b, _ := json.Marshal(want[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s example %d: rnnkit %s, PyTorch %s", what, i, a, b)
			return
		}
	}
}

// ksDistance is the two-sample Kolmogorov–Smirnov statistic of a and b:
// the largest distance between their empirical distribution functions.
func ksDistance(a, b []float64) float64 {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	d := 0.0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		x := min(a[i], b[j])
		for i < len(a) && a[i] <= x {
			i++
		}
		for j < len(b) && b[j] <= x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// dialogParityData returns the dialogues of the comparison: the file
// RNNKIT_DIALOG_DATA names (DailyDialog's format) when set, else
// synthetic ones.
func dialogParityData(t *testing.T) (file string, train, test []dialog.Dialogue, real bool) {
	file, real = os.Getenv("RNNKIT_DIALOG_DATA"), true
	if file == "" {
		file, real = filepath.Join(t.TempDir(), "dialogues.txt"), false
		var buf bytes.Buffer
		if err := dialog.Write(&buf, dialog.Synthetic(200, graph.NewSource(7), dialog.SynthOptions{})); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := dialog.ReadFile(file, dialog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	train, test = dialog.Split(ds)
	return file, train, test, real
}

// The dialogue models of models/hred and their PyTorch references
// (benchmarks/torch_dialog.py) compute the same function and train the
// same way: from rnnkit's initial parameters, in float64, on the batches
// of rnnkit's first epoch, the test NLL (the perplexity's numerator and
// its token count), the first batch's loss and every parameter's gradient,
// each step's loss and gradient norm (Adam, the global-norm clip, the loss
// per reply token, β·KL for VHRED with rnnkit's ε), the parameters after
// the steps and the test NLL again agree to 1e-9 (relative). With
// RNNKIT_DIALOG_DATA=FILE it runs on that file at the presets' sizes
// (dialog-hred and friends: embed 64, hidden 128, context 128, latent 32,
// at most 4 utterances of 25 tokens, min count 3, batches of 32).
func TestDialogMatchesTorch(t *testing.T) {
	dataFile, train, test, real := dialogParityData(t)
	dtype := "float64"
	if os.Getenv("RNNKIT_DIALOG_DTYPE") == "float32" {
		dtype = "float32"
	}
	steps := 6
	cfg := DialogConfig{Model: hred.Config{Embed: 6, Hidden: 8, Context: 7, Latent: 3, Cell: cells.GRUKind},
		Batch: 8, BucketWidth: 2, MaxContext: 3, MaxLen: 7, KLAnneal: 4}
	minCount := 1
	if real {
		cfg = DialogConfig{Model: hred.Config{Embed: 64, Hidden: 128, Context: 128, Latent: 32, Cell: cells.GRUKind},
			Batch: 32, BucketWidth: 4, MaxContext: 4, MaxLen: 25, KLAnneal: 600}
		minCount, steps = 3, 20
	}
	vocab := data.NewWordVocab(dialog.Texts(train), minCount)
	for _, k := range []hred.Kind{hred.Seq2Seq, hred.HRED, hred.VHRED} {
		t.Run(string(k), func(t *testing.T) {
			c := cfg
			c.Model.Kind = k
			if k != hred.VHRED {
				c.KLAnneal = 0
			}
			m := must(NewDialog(c, vocab, train))(t)
			set := must(m.Dialogues(test))(t)
			tr := newTrainer(t, Config{Epochs: 1, Optimizer: "adam", LR: 2e-3, Clip: 5, Seed: 11, Dtype: dtype}, m, set)
			spec := dialogTorchSpec{Kind: k, Vocab: m.Cfg.Model.Vocab, Embed: c.Model.Embed, Hidden: c.Model.Hidden,
				Context: c.Model.Context, Latent: c.Model.Latent, LR: tr.Cfg.LR, Clip: tr.Cfg.Clip,
				Params: map[string]dialogTorchParam{}, EvalBatch: c.Batch,
				Dtype: dtype, Data: dataFile, MinCount: minCount, MaxContext: c.MaxContext, MaxLen: c.MaxLen}
			for _, name := range tr.Params.Names() {
				p, _ := tr.Params.Get(name)
				spec.Params[torchDialogName(name)] = dialogTorchParam{Shape: p.Shape(), Data: must(graph.Float64s(p))(t)}
			}
			bs := must(m.Batches(0, graph.NewSource(seed(tr.Cfg.Seed, seedBatches, 0))))(t)
			steps := min(steps, len(bs))
			for i, b := range bs[:steps] {
				db := b.(*dialogBatch)
				tb := dialogTorchBatch{Examples: dialogExamplesJSON(db.ex), Beta: m.beta(db.step)}
				if k == hred.VHRED { // ε as hred.TrainGraph.Set draws it (no word dropout here)
					src := graph.NewSource(seed(tr.Cfg.Seed, seedStep, uint64(i)))
					for range db.ex {
						row := make([]float64, c.Model.Latent)
						for j := range row {
							row[j] = src.NormFloat64()
						}
						tb.Eps = append(tb.Eps, row)
					}
				}
				spec.Batches = append(spec.Batches, tb)
			}
			ctx := context.Background()
			var evalBefore Metrics
			if k != hred.VHRED { // VHRED's evaluation draws ε of its own
				spec.Test = dialogExamplesJSON(set.examples)
				evalBefore = must(tr.Evaluate(ctx, set))(t)
			}

			// The first batch's loss and gradients, before clipping.
			g := must(tr.graph(bs[0], true))(t)
			loss0 := must(g.run(bs[0], seed(tr.Cfg.Seed, seedStep, 0)))(t)
			grads := must(optim.GradsOf(g.params))(t)
			grads0 := map[string][]float64{}
			for name, gt := range grads {
				grads0[name] = must(graph.Float64s(gt))(t)
			}
			if err := optim.ZeroGrads(g.params); err != nil {
				t.Fatal(err)
			}
			g.vm.Reset()

			var losses, norms []float64
			if _, _, err := tr.TrainEpoch(ctx, func(s StepStats) {
				losses, norms = append(losses, s.Loss), append(norms, s.GradNorm)
			}, func() bool { return tr.StepInEpoch >= steps }); err != nil {
				t.Fatal(err)
			}
			var evalAfter Metrics
			if spec.Test != nil {
				evalAfter = must(tr.Evaluate(ctx, set))(t)
			}

			res := runDialogTorch(t, spec)

			// The same data: vocabulary, examples, split.
			if !slices.Equal(m.Vocab.Tokens(), res.Vocab) {
				t.Errorf("vocabularies differ: rnnkit %d tokens, PyTorch %d", m.Vocab.Len(), len(res.Vocab))
			}
			sameExamples(t, "training", dialogExamplesJSON(m.train), res.Train)
			sameExamples(t, "test", dialogExamplesJSON(set.examples), res.Test)

			// The same initialisers: each parameter's values and the
			// reference's fresh ones are drawn from one distribution
			// (two-sample Kolmogorov–Smirnov, α = 1e-6).
			for _, name := range tr.Params.Names() {
				a, b := spec.Params[torchDialogName(name)].Data, res.Init[torchDialogName(name)]
				if d, crit := ksDistance(a, b), 2.77*math.Sqrt(float64(len(a)+len(b))/float64(len(a)*len(b))); !(d <= crit) {
					t.Errorf("initial %s: Kolmogorov–Smirnov distance %.4f to PyTorch's initialiser, above %.4f", name, d, crit)
				}
			}

			tol := 1e-9
			if dtype == "float32" {
				tol = float32Tol
			}
			check := func(what string, got, want []float64) {
				t.Helper()
				d := relDiff(got, want)
				if dtype == "float32" && testing.Verbose() {
					t.Logf("%s: relative difference %.3g", what, d)
				}
				if !(d <= tol) {
					t.Errorf("%s: relative difference %.3g (rnnkit %.12g…, PyTorch %.12g…)", what, d, got[:min(3, len(got))], want[:min(3, len(want))])
				}
			}
			evalNLL := func(ms Metrics) []float64 { // the NLL sum over the test replies
				return []float64{ms[MetricNLLPerSentence] * float64(set.Examples())}
			}
			if spec.Test != nil {
				tokens := 0
				for _, e := range set.examples {
					tokens += len(e.Reply) + 1
				}
				if res.EvalBefore[2] != float64(tokens) {
					t.Errorf("test tokens: PyTorch %v, rnnkit %d", res.EvalBefore[2], tokens)
				}
				check("test NLL before training", evalNLL(evalBefore), []float64{res.EvalBefore[0] + res.EvalBefore[1]})
				check("test NLL after the steps", evalNLL(evalAfter), []float64{res.EvalAfter[0] + res.EvalAfter[1]})
				t.Logf("test perplexity %.6f → %.6f (PyTorch %.6f → %.6f)", evalBefore[MetricPerplexity], evalAfter[MetricPerplexity],
					math.Exp((res.EvalBefore[0]+res.EvalBefore[1])/res.EvalBefore[2]), math.Exp((res.EvalAfter[0]+res.EvalAfter[1])/res.EvalAfter[2]))
			}
			check("first loss", []float64{loss0}, []float64{res.Loss0})
			if len(grads0) != len(res.Grads0) {
				t.Errorf("%d gradients, PyTorch %d", len(grads0), len(res.Grads0))
			}
			for name, gv := range grads0 {
				check("gradient of "+name, gv, res.Grads0[torchDialogName(name)])
			}
			check("losses", losses, res.Losses)
			check("gradient norms", norms, res.Norms)
			for _, name := range tr.Params.Names() {
				p, _ := tr.Params.Get(name)
				check("after the steps, "+name, must(graph.Float64s(p))(t), res.Params[torchDialogName(name)])
			}
			t.Logf("%d steps, losses %.6f … %.6f (PyTorch %.6f … %.6f)", len(losses), losses[0], losses[len(losses)-1], res.Losses[0], res.Losses[len(res.Losses)-1])
		})
	}
}

// TestDialogExportRun writes what a run of the DailyDialog presets starts
// from and draws, for benchmarks/torch_dialog.py --rnnkit-run: the initial
// parameters (PyTorch's names), every epoch's batches (indices of the
// training replies, which both sides list in one order), and where the
// run draws noise (VHRED, word dropout) every step's word-dropout choices
// and ε and the evaluation's ε (hred.Config.DrawNoise, what the training
// graph's Set draws from the step's seed). It runs only with
// RNNKIT_DIALOG_EXPORT=FILE and RNNKIT_DIALOG_DATA=FILE set;
// RNNKIT_DIALOG_KIND (hred), RNNKIT_DIALOG_SEED (1) and
// RNNKIT_DIALOG_EPOCHS (5) choose the run of `rnnkit train -preset
// dialog-KIND -seed N -epochs E`.
func TestDialogExportRun(t *testing.T) {
	out, file := os.Getenv("RNNKIT_DIALOG_EXPORT"), os.Getenv("RNNKIT_DIALOG_DATA")
	if out == "" || file == "" {
		t.Skip("set RNNKIT_DIALOG_EXPORT and RNNKIT_DIALOG_DATA to write a dialogue run's start for torch_dialog.py")
	}
	kind, seedN := hred.HRED, uint64(1)
	if k := os.Getenv("RNNKIT_DIALOG_KIND"); k != "" {
		kind = hred.Kind(k)
	}
	if s := os.Getenv("RNNKIT_DIALOG_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seedN = n
	}
	ds := must(dialog.ReadFile(file, dialog.Options{}))(t)
	train, _ := dialog.Split(ds)
	c := DialogConfig{Model: hred.Config{Kind: kind, Embed: 64, Hidden: 128, Context: 128, Latent: 32, Cell: cells.GRUKind},
		Batch: 32, BucketWidth: 4, MaxContext: 4, MaxLen: 25}
	if kind == hred.VHRED {
		c.WordDropout, c.KLAnneal = 0.1, 600 // the dialog-vhred preset's
	}
	m := must(NewDialog(c, data.NewWordVocab(dialog.Texts(train), 3), train))(t)
	epochs := 5
	if s := os.Getenv("RNNKIT_DIALOG_EPOCHS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("RNNKIT_DIALOG_EPOCHS=%q: want a positive count", s)
		}
		epochs = n
	}
	tr := newTrainer(t, Config{Epochs: epochs, Optimizer: "adam", LR: 2e-3, Clip: 5, Seed: seedN, Dtype: "float32"}, m, nil)
	// noise is one batch's draws as torch_dialog.py replays them: the
	// reply positions word dropout replaced by <unk> per example, and ε
	// per example (VHRED).
	type noise struct {
		Drop [][]int     `json:"drop,omitempty"`
		Eps  [][]float64 `json:"eps,omitempty"`
	}
	toNoise := func(n hred.Noise, examples int) noise {
		var out noise
		for _, d := range n.Drop {
			pos := []int{}
			for s, x := range d {
				if x {
					pos = append(pos, s)
				}
			}
			out.Drop = append(out.Drop, pos)
		}
		z := c.Model.Latent
		for b := 0; n.Eps != nil && b < examples; b++ {
			out.Eps = append(out.Eps, n.Eps[b*z:(b+1)*z])
		}
		return out
	}
	res := struct {
		Params map[string]dialogTorchParam `json:"params"`
		Order  [][][]int                   `json:"order"`
		// Noise is every training step's draws, EvalEps the ε of each
		// test batch (the evaluation seed's: one matrix for all of them).
		Noise   []noise     `json:"noise,omitempty"`
		EvalEps [][]float64 `json:"eval_eps,omitempty"`
	}{Params: map[string]dialogTorchParam{}}
	for _, name := range tr.Params.Names() {
		p, _ := tr.Params.Get(name)
		res.Params[torchDialogName(name)] = dialogTorchParam{Shape: p.Shape(), Data: must(graph.Float64s(p))(t)}
	}
	for e := range tr.Cfg.Epochs {
		var ep [][]int
		for _, b := range must(m.Batches(e, graph.NewSource(seed(tr.Cfg.Seed, seedBatches, uint64(e)))))(t) {
			db := b.(*dialogBatch)
			ep = append(ep, db.idx)
			if kind != hred.VHRED && c.WordDropout == 0 {
				continue
			}
			// What dialogGraph.Set draws at this step (the trainer's
			// step count is the batch's: one run, no resume).
			opt := hred.SetOptions{WordDropout: c.WordDropout, Source: graph.NewSource(seed(tr.Cfg.Seed, seedStep, uint64(db.step)))}
			res.Noise = append(res.Noise, toNoise(m.Cfg.Model.DrawNoise(db.ex, db.dims.B, opt), len(db.ex)))
		}
		res.Order = append(res.Order, ep)
	}
	if kind == hred.VHRED {
		// Evaluation runs every batch with seed 0 (Trainer.forward).
		n := m.Cfg.Model.DrawNoise(nil, c.Batch, hred.SetOptions{Source: graph.NewSource(0)})
		res.EvalEps = toNoise(n, c.Batch).Eps
	}
	js := must(json.Marshal(res))(t)
	if err := os.WriteFile(out, js, 0o644); err != nil {
		t.Fatal(err)
	}
}
