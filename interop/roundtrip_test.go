package interop_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/interop"
	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

// trainCfg is the Trainer's config of a case's model.
func trainCfg(c rtCase) training.Config {
	return training.Config{Epochs: 1, Optimizer: "adam", LR: 0.05, Clip: 5, Seed: 7, Dtype: c.Dtype}
}

// newModel returns a case's rnnkit model over V tokens, with training
// data (train) or without (nil).
func newModel(c rtCase, train bool) (training.Model, error) {
	switch cfg := c.Config.(type) {
	case lm.Config:
		var ids []int
		if train {
			for i := range 200 {
				ids = append(ids, 4+(i*7+i/5)%(cfg.Vocab-4))
			}
		}
		return training.NewLM(training.LMConfig{Model: cfg, Batch: 3, Steps: 6}, charVocab(cfg.Vocab), ids)
	case seq2seq.Config:
		var pairs []data.Pair
		if train {
			for i := range 24 {
				pairs = append(pairs, data.Pair{Question: string(rune('a'+i%9)) + "bcd"[:1+i%3], Answer: "ih"[:1+i%2]})
			}
		}
		return training.NewSeq2Seq(training.Seq2SeqConfig{Model: cfg, Batch: 8, BucketWidth: 1}, charVocab(cfg.Vocab), pairs)
	}
	return nil, errors.Errorf("case %s: no training model for %T", c.Name, c.Config)
}

// A PyTorch model trained a few steps and saved with torch.save, imported
// into rnnkit, gives PyTorch's outputs on the same inputs: an LSTM and a
// GRU language model, Seq2Seq models (a bidirectional 2-layer LSTM
// encoder, peeky, additive attention, and benchmarks/torch_models.py's
// attention model with its own module names) and DGL's binary Tree-LSTM
// layout, in float32 (to 1e-6) and float64 (to 1e-12).
func TestTorchToRnnkit(t *testing.T) {
	env := pythonEnv(t)
	dir := t.TempDir()
	cases := append(recurrentCases("bench"), treeCases(t)...)
	writeCases(t, dir, cases)
	t.Log(runPython(t, env, filepath.Join("testdata", "roundtrip.py"), "torch", dir))
	got := map[string]map[string][]float64{}
	for _, c := range cases {
		sd, err := torch.Load(filepath.Join(dir, c.Name+".pt"))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		ps, err := importCase(c, sd)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got[c.Name], err = outputs(c, ps); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	report(t, dir, cases, got)
}

// importCase loads a state_dict into a case's model: through Import (the
// model's own PyTorch names) for the recurrent families, Load with
// TreeNames for the tree.
func importCase(c rtCase, sd *torch.StateDict) (*graph.Params, error) {
	if cfg, ok := c.Config.(tree.Config); ok {
		ps, err := graph.NewParams(c.dtype())
		if err != nil {
			return nil, err
		}
		if err := cfg.Init(ps, graph.NewSource(1)); err != nil {
			return nil, err
		}
		_, err = interop.Load(ps, sd, interop.Options{Prefixes: interop.TreeNames(), Model: "tree"})
		return ps, err
	}
	m, err := newModel(c, false)
	if err != nil {
		return nil, err
	}
	tr, _, err := interop.Import(trainCfg(c), m, sd, nil)
	if err != nil {
		return nil, err
	}
	tr.Close()
	return tr.Params, nil
}

// An rnnkit model trained a few steps and saved as a checkpoint, read by
// scripts/rnnkit_to_torch.py into the matching torch.nn module, gives
// rnnkit's outputs on the same inputs: the families of TestTorchToRnnkit,
// to the same tolerances.
func TestRnnkitToTorch(t *testing.T) {
	env := pythonEnv(t)
	dir := t.TempDir()
	cases := append(recurrentCases("seq2seq"), treeCases(t)...)
	got := map[string]map[string][]float64{}
	for _, c := range cases {
		ps, err := trainCase(c, filepath.Join(dir, c.Name+".safetensors"))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got[c.Name], err = outputs(c, ps); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	writeCases(t, dir, cases)
	t.Log(runPython(t, env, filepath.Join("testdata", "roundtrip.py"), "rnnkit", dir))
	report(t, dir, cases, got)
}

// trainCase trains a case's rnnkit model for a few steps, saves it at path
// and returns its parameters.
func trainCase(c rtCase, path string) (*graph.Params, error) {
	if cfg, ok := c.Config.(tree.Config); ok {
		ps, err := trainTree(c, cfg)
		if err != nil {
			return nil, err
		}
		model, err := json.Marshal(map[string]any{"train": trainCfg(c), "model": map[string]any{"model": cfg}})
		if err != nil {
			return nil, err
		}
		return ps, checkpoint.Save(path, &checkpoint.Checkpoint{
			Meta: checkpoint.Meta{Model: model, Extra: map[string]string{training.KindKey: "tree"}}, Params: ps})
	}
	m, err := newModel(c, true)
	if err != nil {
		return nil, err
	}
	tr, err := training.New(trainCfg(c), m, nil)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	if _, err := tr.RunEpoch(context.Background(), nil); err != nil {
		return nil, err
	}
	if tr.Step < 2 {
		return nil, errors.Errorf("%d training steps", tr.Step)
	}
	ck, err := tr.Checkpoint(map[string]string{training.PresetKey: "test"})
	if err != nil {
		return nil, err
	}
	return tr.Params, checkpoint.Save(path, ck)
}

// trainTree takes a few steps of gradient descent on a tree model's loss
// over the test trees, from the level-batched graph's gradients.
func trainTree(c rtCase, cfg tree.Config) (*graph.Params, error) {
	b, err := treeBatch()
	if err != nil {
		return nil, err
	}
	ps, err := graph.NewParams(c.dtype())
	if err != nil {
		return nil, err
	}
	if err := cfg.Init(ps, graph.NewSource(3)); err != nil {
		return nil, err
	}
	names := ps.Names()
	grads := make([]gorgonia.Value, len(names))
	g, tg, err := graph.Build(ps, func(g *graph.Graph) (*tree.TrainGraph, error) {
		tg, err := tree.BuildLevelGraph(g, cfg, b)
		if err != nil {
			return nil, err
		}
		var wrt gorgonia.Nodes
		for _, n := range names {
			pt, _ := ps.Get(n)
			p, err := g.Param(n, pt.Shape()...)
			if err != nil {
				return nil, err
			}
			wrt = append(wrt, p)
		}
		gs, err := gorgonia.Grad(tg.Loss, wrt...)
		if err != nil {
			return nil, err
		}
		for i := range gs {
			gorgonia.Read(gs[i], &grads[i])
		}
		return tg, nil
	})
	if err != nil {
		return nil, err
	}
	if err := tg.Set(b); err != nil {
		return nil, err
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	for range 5 {
		if err := graph.Run(m); err != nil {
			return nil, err
		}
		for i, n := range names {
			gv, err := graph.ValueFloat64s(grads[i])
			if err != nil {
				return nil, err
			}
			p, _ := ps.Get(n)
			v, err := graph.Float64s(p)
			if err != nil {
				return nil, err
			}
			for j := range v {
				v[j] -= 0.5 * gv[j]
			}
			if err := graph.SetFloat64s(p, v); err != nil {
				return nil, err
			}
		}
		m.Reset()
	}
	return ps, nil
}
