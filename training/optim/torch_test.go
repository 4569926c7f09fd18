package optim

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// torchScript applies torch.optim's optimisers, clip_grad_norm_ and the
// schedulers to the problems described by the JSON on its standard input,
// and prints the results as JSON.
const torchScript = `
import json, sys
import torch

spec = json.load(sys.stdin)
out = {"optims": {}, "clip": {}, "plateau": [], "pow": [x ** n for x, n in spec["pow"]]}

def make(o, plist):
    k = o["kind"]
    if k == "sgd":
        return torch.optim.SGD(plist, lr=o["lr"])
    if k == "momentum":
        return torch.optim.SGD(plist, lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"])
    if k == "adam":
        return torch.optim.Adam(plist, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    if k == "rmsprop":
        return torch.optim.RMSprop(plist, lr=o["lr"], alpha=o["alpha"], eps=o["eps"])
    if k == "adagrad":
        return torch.optim.Adagrad(plist, lr=o["lr"], weight_decay=o["weight_decay"], eps=o["eps"])
    raise ValueError(k)

for dtn in ("float64", "float32"):
    dt = getattr(torch, dtn)
    res = {}
    for o in spec["optims"]:
        params = {p["name"]: torch.nn.Parameter(torch.tensor(p["data"], dtype=dt).reshape(p["shape"]))
                  for p in spec["params"]}
        opt = make(o, list(params.values()))
        for step in spec["steps"]:
            for name, p in params.items():
                g = step.get(name)
                p.grad = None if g is None else torch.tensor(g, dtype=dt).reshape(p.shape)
            opt.step()
        res[o["id"]] = {n: p.detach().reshape(-1).tolist() for n, p in params.items()}
    out["optims"][dtn] = res
    clips = []
    for c in spec["clip"]:
        names = sorted(c["grads"])
        ps = []
        for n in names:
            g = c["grads"][n]
            p = torch.nn.Parameter(torch.zeros(g["shape"], dtype=dt))
            p.grad = torch.tensor(g["data"], dtype=dt).reshape(g["shape"])
            ps.append(p)
        norm = torch.nn.utils.clip_grad_norm_(ps, c["max_norm"])
        clips.append({"norm": float(norm), "grads": {n: p.grad.reshape(-1).tolist() for n, p in zip(names, ps)}})
    out["clip"][dtn] = clips

for c in spec["plateau"]:
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=c["lr"])
    s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=c["mode"], factor=c["factor"], patience=c["patience"],
        threshold=c["threshold"], threshold_mode=c["threshold_mode"], cooldown=c["cooldown"], min_lr=c["min_lr"])
    lrs = []
    for m in c["metrics"]:
        s.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    out["plateau"].append(lrs)

json.dump(out, sys.stdout)
`

type torchParam struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type torchOptim struct {
	ID       string  `json:"id"`
	Kind     string  `json:"kind"`
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Nesterov bool    `json:"nesterov"`
	Beta1    float64 `json:"beta1"`
	Beta2    float64 `json:"beta2"`
	Alpha    float64 `json:"alpha"`
	Eps      float64 `json:"eps"`
	WD       float64 `json:"weight_decay"`
}

func (o torchOptim) make() (Optimizer, error) {
	switch o.Kind {
	case "sgd":
		return NewSGD(o.LR)
	case "momentum":
		return NewMomentum(o.LR, o.Momentum, o.Nesterov)
	case "adam":
		return NewAdam(o.LR, o.Beta1, o.Beta2, o.Eps)
	case "adagrad":
		return NewAdagrad(o.LR, o.WD, o.Eps)
	default:
		return NewRMSProp(o.LR, o.Alpha, o.Eps)
	}
}

type torchClip struct {
	MaxNorm float64               `json:"max_norm"`
	Grads   map[string]torchParam `json:"grads"`
}

type torchPlateau struct {
	LR            float64   `json:"lr"`
	Mode          string    `json:"mode"`
	Factor        float64   `json:"factor"`
	Patience      int       `json:"patience"`
	Threshold     float64   `json:"threshold"`
	ThresholdMode string    `json:"threshold_mode"`
	Cooldown      int       `json:"cooldown"`
	MinLR         float64   `json:"min_lr"`
	Metrics       []float64 `json:"metrics"`
}

type torchSpec struct {
	Params  []torchParam           `json:"params"`
	Steps   []map[string][]float64 `json:"steps"`
	Optims  []torchOptim           `json:"optims"`
	Clip    []torchClip            `json:"clip"`
	Plateau []torchPlateau         `json:"plateau"`
	Pow     [][2]float64           `json:"pow"` // x, n: Python's x ** n (C's pow), as Adam's bias corrections
}

type torchClipResult struct {
	Norm  float64              `json:"norm"`
	Grads map[string][]float64 `json:"grads"`
}

type torchResult struct {
	Optims  map[string]map[string]map[string][]float64 `json:"optims"`  // dtype → id → param → values
	Clip    map[string][]torchClipResult               `json:"clip"`    // dtype → case
	Plateau [][]float64                                `json:"plateau"` // case → lr after each metric
	Pow     []float64                                  `json:"pow"`
}

// runTorch runs torchScript on spec, or skips the test when PyTorch is not there.
func runTorch(t *testing.T, spec torchSpec) torchResult {
	t.Helper()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s", python)
	}
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("PyTorch not importable: %v\n%s", err, out)
	}
	script := filepath.Join(t.TempDir(), "optim_ref.py")
	if err := os.WriteFile(script, []byte(torchScript), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	var res torchResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reading PyTorch's output: %v\n%s", err, out)
	}
	return res
}

// randData returns n values of mixed magnitudes from a seeded source,
// with a zero among them.
func randData(r *rand.Rand, n int, scale float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64() * scale * math.Pow(10, float64(r.IntN(3)-1))
	}
	out[r.IntN(n)] = 0
	return out
}

func torchProblem() torchSpec {
	r := rand.New(rand.NewPCG(7, 11))
	params := []torchParam{
		{Name: "weight", Shape: []int{2, 3}, Data: randData(r, 6, 1)},
		{Name: "bias", Shape: []int{4}, Data: randData(r, 4, 1)},
		{Name: "big", Shape: []int{3, 5}, Data: randData(r, 15, 1)},   // long enough for PyTorch's vectorised loops
		{Name: "wide", Shape: []int{4, 10}, Data: randData(r, 40, 1)}, // several vectors of 8 (rnnkit's AVX2 Adagrad too)
	}
	steps := make([]map[string][]float64, 5)
	for i := range steps {
		steps[i] = map[string][]float64{}
		for _, p := range params {
			if p.Name == "bias" && i == 2 {
				continue // no gradient for bias at step 3: its own step count lags
			}
			steps[i][p.Name] = randData(r, len(p.Data), 0.5)
		}
	}
	clipGrads := func(scale float64) map[string]torchParam {
		return map[string]torchParam{
			"a": {Shape: []int{2, 3}, Data: randData(r, 6, scale)},
			"b": {Shape: []int{5}, Data: randData(r, 5, scale)},
			"c": {Shape: []int{3, 4}, Data: randData(r, 12, scale)},
		}
	}
	return torchSpec{
		Params: params,
		Steps:  steps,
		Optims: []torchOptim{
			{ID: "sgd", Kind: "sgd", LR: 0.1},
			{ID: "momentum", Kind: "momentum", LR: 0.05, Momentum: 0.9},
			{ID: "nesterov", Kind: "momentum", LR: 0.05, Momentum: 0.9, Nesterov: true},
			{ID: "adam_default", Kind: "adam", LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
			{ID: "adam_other", Kind: "adam", LR: 0.03, Beta1: 0.8, Beta2: 0.95, Eps: 1e-6},
			{ID: "rmsprop_default", Kind: "rmsprop", LR: 1e-2, Alpha: 0.99, Eps: 1e-8},
			{ID: "rmsprop_other", Kind: "rmsprop", LR: 3e-3, Alpha: 0.9, Eps: 1e-6},
			{ID: "adagrad_default", Kind: "adagrad", LR: 1e-2, Eps: 1e-10},
			{ID: "adagrad_decay", Kind: "adagrad", LR: 0.05, WD: 1e-4, Eps: 1e-10}, // the Tree-LSTM's settings
			{ID: "adagrad_other", Kind: "adagrad", LR: 0.3, WD: 0.07, Eps: 1e-3},
		},
		Clip: []torchClip{
			{MaxNorm: 1, Grads: clipGrads(1)},     // clipped
			{MaxNorm: 1000, Grads: clipGrads(1)},  // not clipped
			{MaxNorm: 0.25, Grads: clipGrads(30)}, // strongly clipped
		},
		Pow: powCases(),
		Plateau: []torchPlateau{
			{LR: 0.1, Mode: "min", Factor: 0.5, Patience: 2, Threshold: 1e-4, ThresholdMode: "rel",
				Metrics: []float64{5, 4, 4, 4, 4, 3.9999, 3.9, 3.9, 3.9, 3.9, 3.9, 3.9, 3.9, 3.9}},
			{LR: 0.1, Mode: "max", Factor: 0.1, Patience: 1, Threshold: 0.01, ThresholdMode: "abs", Cooldown: 2,
				MinLR: 2e-4, Metrics: []float64{0.5, 0.6, 0.605, 0.6, 0.7, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69, 0.69}},
			{LR: 1, Mode: "min", Factor: 0.3, Patience: 0, Threshold: 0, ThresholdMode: "rel", Cooldown: 1,
				Metrics: []float64{-1, -2, -2, -2, -1, -3, -3, -3, -3, -3}},
		},
	}
}

func powCases() [][2]float64 {
	var out [][2]float64
	for _, x := range []float64{0.9, 0.99, 0.999, 0.9999, 0.95, 0.8, 0.5, 0.3, 0.123456789} {
		for n := 1; n <= 40; n++ {
			out = append(out, [2]float64{x, float64(n)})
		}
		for _, n := range []float64{100, 1000, 4321, 12345, 1e5, 1e6} {
			out = append(out, [2]float64{x, n})
		}
	}
	return out
}

// TestAgainstPyTorch runs torch.optim's SGD, SGD with momentum (and
// Nesterov), Adam, RMSprop and Adagrad (with weight decay), clip_grad_norm_ and ReduceLROnPlateau on
// the same problems as this package and compares: to 1e-12 in float64,
// and to 1e-6 in float32 (on this machine's PyTorch 1.13 both agree bit
// for bit, except float32 gradient norms, which PyTorch sums in float32).
func TestAgainstPyTorch(t *testing.T) {
	prob := torchProblem()
	ref := runTorch(t, prob)

	t.Run("optimisers", func(t *testing.T) {
		for _, dt := range dtypes {
			dtn := dt.String()
			for _, o := range prob.Optims {
				want, ok := ref.Optims[dtn][o.ID]
				if !ok {
					t.Fatalf("PyTorch gave no result for %s %s", dtn, o.ID)
				}
				var specs []spec
				for _, p := range prob.Params {
					specs = append(specs, spec{p.Name, p.Shape, p.Data})
				}
				ps := newParams(t, dt, specs...)
				opt, err := o.make()
				if err != nil {
					t.Fatal(err)
				}
				for i, step := range prob.Steps {
					g := Grads{}
					for _, p := range prob.Params {
						if d, ok := step[p.Name]; ok {
							g[p.Name] = dense(t, dt, d, p.Shape...)
						}
					}
					if err := opt.Step(ps, g); err != nil {
						t.Fatalf("%s %s step %d: %v", dtn, o.ID, i+1, err)
					}
				}
				maxAbs, maxULP := 0.0, 0.0
				for _, p := range prob.Params {
					got := values(t, ps, p.Name)
					for i := range got {
						maxAbs = math.Max(maxAbs, math.Abs(got[i]-want[p.Name][i]))
						maxULP = math.Max(maxULP, ulps(dt, got[i], want[p.Name][i]))
					}
				}
				t.Logf("%-7s %-16s max abs error %.3g (%g ulp)", dtn, o.ID, maxAbs, maxULP)
				if dt == tensor.Float64 && maxAbs > 1e-12 {
					t.Errorf("%s %s: max abs error %g against PyTorch, want ≤ 1e-12", dtn, o.ID, maxAbs)
				}
				if dt == tensor.Float32 && maxAbs > 1e-6 {
					t.Errorf("%s %s: max abs error %g against PyTorch, want ≤ 1e-6", dtn, o.ID, maxAbs)
				}
			}
		}
	})

	t.Run("clip", func(t *testing.T) {
		for _, dt := range dtypes {
			dtn := dt.String()
			for ci, c := range prob.Clip {
				want := ref.Clip[dtn][ci]
				g := Grads{}
				for n, p := range c.Grads {
					g[n] = dense(t, dt, p.Data, p.Shape...)
				}
				norm, err := ClipGlobalNorm(g, c.MaxNorm)
				if err != nil {
					t.Fatal(err)
				}
				normErr := math.Abs(norm-want.Norm) / want.Norm
				maxAbs, maxULP := 0.0, 0.0
				names := make([]string, 0, len(g))
				for n := range g {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					got, err := graph.Float64s(g[n])
					if err != nil {
						t.Fatal(err)
					}
					for i := range got {
						maxAbs = math.Max(maxAbs, math.Abs(got[i]-want.Grads[n][i]))
						maxULP = math.Max(maxULP, ulps(dt, got[i], want.Grads[n][i]))
					}
				}
				t.Logf("%-7s clip case %d: norm %.6g (relative error %.3g), max abs error of the gradients %.3g (%g ulp)",
					dtn, ci, norm, normErr, maxAbs, maxULP)
				if dt == tensor.Float64 && (normErr > 1e-12 || maxAbs > 1e-12) {
					t.Errorf("%s clip case %d: norm error %g, gradient error %g; want ≤ 1e-12", dtn, ci, normErr, maxAbs)
				}
				if dt == tensor.Float32 && (normErr > 1e-6 || maxAbs > 1e-6) {
					t.Errorf("%s clip case %d: norm error %g, gradient error %g; want ≤ 1e-6", dtn, ci, normErr, maxAbs)
				}
			}
		}
	})

	t.Run("pow", func(t *testing.T) {
		exact, goExact := 0, 0
		for i, c := range prob.Pow {
			got, want := powInt(c[0], c[1]), ref.Pow[i]
			if got == want {
				exact++
			} else if u := ulps(tensor.Float64, got, want); u > 1 {
				t.Errorf("powInt(%v, %v) = %v, Python %v (%g ulp)", c[0], c[1], got, want, u)
			}
			if math.Pow(c[0], c[1]) == want {
				goExact++
			}
		}
		t.Logf("powInt equals Python's x ** n in %d of %d cases (math.Pow in %d)", exact, len(prob.Pow), goExact)
	})

	t.Run("plateau", func(t *testing.T) {
		for ci, c := range prob.Plateau {
			r := &ReduceOnPlateau{Factor: c.Factor, Patience: c.Patience, MinLR: c.MinLR, Mode: c.Mode,
				Threshold: c.Threshold, ThresholdMode: c.ThresholdMode, Cooldown: c.Cooldown}
			lr := c.LR
			for i, m := range c.Metrics {
				var err error
				if lr, err = r.Observe(m, lr); err != nil {
					t.Fatal(err)
				}
				if lr != ref.Plateau[ci][i] {
					t.Errorf("plateau case %d, epoch %d: lr %v, PyTorch %v", ci, i, lr, ref.Plateau[ci][i])
				}
			}
		}
	})
}

// ulps returns the distance between a and b in units of the last place of
// dt at b.
func ulps(dt tensor.Dtype, a, b float64) float64 {
	if a == b {
		return 0
	}
	if dt == tensor.Float32 {
		f := float32(b)
		return math.Abs(a-b) / float64(math.Nextafter32(f, float32(math.Inf(1)))-f)
	}
	return math.Abs(a-b) / (math.Nextafter(b, math.Inf(1)) - b)
}
