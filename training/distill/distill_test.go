package distill

import (
	"context"
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// softmaxRows returns random distributions, rows × classes.
func softmaxRows(rows, classes int, seed uint64) []float64 {
	src := graph.NewSource(seed)
	p := make([]float64, rows*classes)
	for r := range rows {
		sum := 0.0
		for j := range classes {
			p[r*classes+j] = math.Exp(2 * src.NormFloat64())
			sum += p[r*classes+j]
		}
		for j := range classes {
			p[r*classes+j] /= sum
		}
	}
	return p
}

// SoftKL's gradient agrees with central differences, at several
// temperatures, a zero-weight (padding) row included.
func TestSoftKLGradient(t *testing.T) {
	const R, C = 4, 5
	for _, temp := range []float64{0.5, 1, 3} {
		ps, _ := graph.NewParams(tensor.Float64)
		var soft *Soft
		g, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
			z, err := g.Input("z", R, C)
			if err != nil {
				return nil, err
			}
			if soft, err = NewSoft(R, C, temp, 0.7*temp*temp); err != nil {
				return nil, err
			}
			kl, err := SoftKL(z, soft)
			if err != nil {
				return nil, err
			}
			loss, err := gorgonia.Sum(kl)
			if err != nil {
				return nil, err
			}
			return gradcheck.Prepare(g, loss, []*gorgonia.Node{z})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := soft.SetProbs(softmaxRows(R, C, 1), []float64{0.25, 0.5, 0, 0.25}); err != nil {
			t.Fatal(err)
		}
		z, _ := g.ExprGraph().ByName("z")[0], 0
		src := graph.NewSource(2)
		v := make([]float64, R*C)
		for i := range v {
			v[i] = 3 * src.NormFloat64()
		}
		if err := graph.Set(z, v); err != nil {
			t.Fatal(err)
		}
		rep, err := p.Check(g, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		if rep.MaxErr > 1e-7 || rep.Checked != R*C {
			t.Errorf("T %v: gradient error %g at %s (%d checked)", temp, rep.MaxErr, rep.Worst, rep.Checked)
		}
	}
}

// With one-hot teacher rows, T = 1 and scale 1, SoftKL is the weighted
// cross-entropy graph.CrossEntropy computes; with the teacher's own
// distribution it is zero.
func TestSoftKLValues(t *testing.T) {
	const R, C = 3, 4
	z := []float64{1, -2, 0.5, 3, 0, 0, 0, 0, -1, 4, 2, 1}
	ids, w := []int{3, 1, 0}, []float64{0.5, 0.2, 0.3}
	onehot := make([]float64, R*C)
	for r, id := range ids {
		onehot[r*C+id] = 1
	}
	kl := evalSoftKL(t, z, onehot, w, 1, 1)
	ps, _ := graph.NewParams(tensor.Float64)
	var ceV gorgonia.Value
	var tg *graph.Targets
	g, zn, err := graph.Build(ps, func(g *graph.Graph) (*gorgonia.Node, error) {
		zn, err := g.Input("z", R, C)
		if err != nil {
			return nil, err
		}
		if tg, err = graph.NewTargets(R, C); err != nil {
			return nil, err
		}
		ce, err := graph.CrossEntropy(zn, tg)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(ce, &ceV)
		return zn, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Set(ids, w); err != nil {
		t.Fatal(err)
	}
	if err := graph.Set(zn, z); err != nil {
		t.Fatal(err)
	}
	vm, _ := graph.NewMachine(g)
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	ce, _ := graph.ValueFloat64s(ceV)
	for r := range R {
		if math.Abs(ce[r]-kl[r]) > 1e-14 {
			t.Errorf("row %d: SoftKL %v, cross-entropy %v", r, kl[r], ce[r])
		}
	}
	soft, _ := NewSoft(R, C, 2, 1)
	if err := soft.SetLogits(z, w); err != nil {
		t.Fatal(err)
	}
	for r, v := range evalSoftKL(t, z, soft.p, w, 2, 1) {
		if math.Abs(v) > 1e-15 {
			t.Errorf("row %d: KL of a distribution to itself %v", r, v)
		}
	}
}

func evalSoftKL(t *testing.T, z, p, w []float64, temp, scale float64) []float64 {
	t.Helper()
	R, C := len(w), len(z)/len(w)
	ps, _ := graph.NewParams(tensor.Float64)
	var out gorgonia.Value
	var soft *Soft
	g, zn, err := graph.Build(ps, func(g *graph.Graph) (*gorgonia.Node, error) {
		zn, err := g.Input("z", R, C)
		if err != nil {
			return nil, err
		}
		if soft, err = NewSoft(R, C, temp, scale); err != nil {
			return nil, err
		}
		kl, err := SoftKL(zn, soft)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(kl, &out)
		return zn, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := soft.SetProbs(p, w); err != nil {
		t.Fatal(err)
	}
	if err := graph.Set(zn, z); err != nil {
		t.Fatal(err)
	}
	vm, _ := graph.NewMachine(g)
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	v, err := graph.ValueFloat64s(out)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const corpus = "the quick brown fox jumps over the lazy dog. a lazy fox sleeps. "

func lmTrainer(t *testing.T, hidden int, seed uint64) *training.Trainer {
	t.Helper()
	text := strings.Repeat(corpus, 8)
	v := data.NewCharVocab([]string{text})
	m, err := training.NewLM(training.LMConfig{Model: lm.Config{Embed: 6, Hidden: hidden, Cell: cells.LSTMKind}, Batch: 4, Steps: 8}, v, v.EncodeChars(text))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := training.New(training.Config{Epochs: 2, LR: 0.01, Clip: 5, Seed: seed, Dtype: "float64"}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func s2sTrainer(t *testing.T, hidden int, seed uint64) *training.Trainer {
	t.Helper()
	pairs := data.Addition(60, graph.NewSource(5))
	var texts []string
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	m, err := training.NewSeq2Seq(training.Seq2SeqConfig{
		Model: seq2seq.Config{Embed: 5, Hidden: hidden, Cell: cells.GRUKind, Decoder: seq2seq.Attention},
		Batch: 8, ReverseSource: true, BucketWidth: 2}, data.NewCharVocab(texts), pairs)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := training.New(training.Config{Epochs: 2, LR: 0.01, Clip: 5, Seed: seed, Dtype: "float64"}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// The whole distillation loss of a language-model and a Seq2Seq student
// — the student's cross-entropy and the soft term against a teacher's
// forward pass on the same batch — has the gradient finite differences
// give, for every student parameter.
func TestDistillLossGradient(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(*testing.T, int, uint64) *training.Trainer
	}{{"lm", lmTrainer}, {"seq2seq", s2sTrainer}} {
		t.Run(c.name, func(t *testing.T) {
			teacher := c.make(t, 10, 1)
			student := c.make(t, 4, 2)
			m, err := New(student.Model, teacher, Config{Alpha: 0.6, Temperature: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			bs, err := m.Batches(0, graph.NewSource(1))
			if err != nil {
				t.Fatal(err)
			}
			b := bs[0]
			var sg training.Graph
			g, p, err := graph.Build(student.Params, func(g *graph.Graph) (*gradcheck.Prepared, error) {
				var err error
				if sg, err = m.Build(g, b, true); err != nil {
					return nil, err
				}
				return gradcheck.Prepare(g, sg.Loss(), g.Learnables())
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := sg.Set(b, 0); err != nil {
				t.Fatal(err)
			}
			rep, err := p.Check(g, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			if rep.MaxErr > 1e-6 {
				t.Errorf("gradient error %g at %s (%d checked)", rep.MaxErr, rep.Worst, rep.Checked)
			}
			t.Logf("%d gradient elements, largest error %g", rep.Checked, rep.MaxErr)
		})
	}
}

// The LogitGraph of each family weighs and labels its rows as its own
// loss does: a soft term with one-hot rows of the data's tokens at α = 1,
// T = 1 is the student's loss.
func TestLogitGraphRowsMatchLoss(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(*testing.T, int, uint64) *training.Trainer
	}{{"lm", lmTrainer}, {"seq2seq", s2sTrainer}} {
		t.Run(c.name, func(t *testing.T) {
			tr := c.make(t, 6, 1)
			bs, err := tr.Model.Batches(0, graph.NewSource(1))
			if err != nil {
				t.Fatal(err)
			}
			b := bs[len(bs)-1]
			var lossV, klV gorgonia.Value
			var lg training.LogitGraph
			var soft *Soft
			g, _, err := graph.Build(tr.Params, func(g *graph.Graph) (bool, error) {
				sg, err := tr.Model.Build(g, b, false)
				if err != nil {
					return false, err
				}
				lg = sg.(training.LogitGraph)
				z := lg.Logits()
				if soft, err = NewSoft(z.Shape()[0], z.Shape()[1], 1, 1); err != nil {
					return false, err
				}
				kl, err := SoftKL(z, soft)
				if err != nil {
					return false, err
				}
				s, err := gorgonia.Sum(kl)
				if err != nil {
					return false, err
				}
				gorgonia.Read(sg.Loss(), &lossV)
				gorgonia.Read(s, &klV)
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			ids, err := lg.Targets(b)
			if err != nil {
				t.Fatal(err)
			}
			w, err := lg.RowWeights(b)
			if err != nil {
				t.Fatal(err)
			}
			V := lg.Logits().Shape()[1]
			onehot := make([]float64, len(ids)*V)
			for r, id := range ids {
				onehot[r*V+id] = 1
			}
			if err := soft.SetProbs(onehot, w); err != nil {
				t.Fatal(err)
			}
			if err := lg.Set(b, 0); err != nil {
				t.Fatal(err)
			}
			vm, _ := graph.NewMachine(g)
			defer vm.Close()
			if err := graph.Run(vm); err != nil {
				t.Fatal(err)
			}
			l, _ := graph.ValueFloat64s(lossV)
			k, _ := graph.ValueFloat64s(klV)
			if math.Abs(l[0]-k[0]) > 1e-12*math.Abs(l[0]) {
				t.Errorf("loss %v, one-hot soft term %v", l[0], k[0])
			}
		})
	}
}

// Through the Trainer: at α = 0 distillation is plain training, bit for
// bit; at α = 0.9 it differs, and the student moves towards the teacher
// (its soft term falls).
func TestDistillThroughTrainer(t *testing.T) {
	teacher := lmTrainer(t, 12, 1)
	for teacher.Epoch < 2 {
		if _, _, err := teacher.TrainEpoch(context.Background(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	run := func(alpha float64) (*training.Trainer, []float64) {
		base := lmTrainer(t, 5, 3)
		m, err := New(base.Model, teacher, Config{Alpha: alpha, Temperature: 2})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := training.New(base.Cfg, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		var losses []float64
		for tr.Epoch < 2 {
			if _, _, err := tr.TrainEpoch(context.Background(), func(s training.StepStats) { losses = append(losses, s.Loss) }, nil); err != nil {
				t.Fatal(err)
			}
		}
		return tr, losses
	}
	plain := lmTrainer(t, 5, 3)
	for plain.Epoch < 2 {
		if _, _, err := plain.TrainEpoch(context.Background(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	a0, _ := run(0)
	a9, losses := run(0.9)
	same, differ := true, false
	for _, n := range plain.Params.Names() {
		x, _ := plain.Params.Get(n)
		y, _ := a0.Params.Get(n)
		z, _ := a9.Params.Get(n)
		xv, _ := graph.Float64s(x)
		yv, _ := graph.Float64s(y)
		zv, _ := graph.Float64s(z)
		for i := range xv {
			same = same && math.Float64bits(xv[i]) == math.Float64bits(yv[i])
			differ = differ || xv[i] != zv[i]
		}
	}
	if !same || !differ {
		t.Errorf("α = 0 same as plain training: %v; α = 0.9 differs: %v", same, differ)
	}
	n := len(losses) / 2
	first, last := mean(losses[:n/2]), mean(losses[len(losses)-n/2:])
	if !(last < first) {
		t.Errorf("distillation loss did not fall: %v → %v", first, last)
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestNewRefusesMismatches(t *testing.T) {
	lmT, s2sT := lmTrainer(t, 6, 1), s2sTrainer(t, 6, 1)
	if _, err := New(s2sT.Model, lmT, Config{Alpha: 0.5, Temperature: 1}); err == nil || !strings.Contains(err.Error(), "teacher") {
		t.Errorf("seq2seq student of an lm teacher: %v", err)
	}
	text := "completely different text with other letters QXZ"
	v := data.NewCharVocab([]string{text})
	other, err := training.NewLM(training.LMConfig{Model: lm.Config{Embed: 6, Hidden: 4, Cell: cells.LSTMKind}, Batch: 2, Steps: 4}, v, v.EncodeChars(text))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(other, lmT, Config{Alpha: 0.5, Temperature: 1}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("another vocabulary: %v", err)
	}
	for _, c := range []Config{{Alpha: -0.1, Temperature: 1}, {Alpha: 1.1, Temperature: 1}, {Alpha: 0.5}, {Alpha: 0.5, Temperature: math.Inf(1)}} {
		if _, err := New(lmT.Model, lmT, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// Sequence-level distillation relabels the student's pairs with the
// teacher's beam answers, and the student then trains on them.
func TestRelabel(t *testing.T) {
	teacher := s2sTrainer(t, 10, 1)
	for teacher.Epoch < 2 {
		if _, _, err := teacher.TrainEpoch(context.Background(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	student := s2sTrainer(t, 4, 2)
	sm := student.Model.(*training.Seq2Seq)
	n, err := Relabel(sm, teacher, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || n > sm.TrainingPairs() {
		t.Errorf("%d of %d answers changed", n, sm.TrainingPairs())
	}
	if _, _, err := student.TrainEpoch(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Relabel(sm, lmTrainer(t, 4, 1), 3); err == nil || !strings.Contains(err.Error(), "Seq2Seq teacher") {
		t.Errorf("an lm teacher: %v", err)
	}
}

// A student distilled at α = 1 from a teacher with its own parameters
// sees the teacher's very distributions, window after window with the
// state carried: its loss is zero at every step, so the teacher's rows,
// weights and carried state line up with the student's. (Plain SGD: Adam
// would blow the rounding-level gradients, about 1e-17, up to steps of
// the learning rate's size within three steps.)
func TestDistillFromItselfIsZero(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(*testing.T, int, uint64) *training.Trainer
	}{{"lm", lmTrainer}, {"seq2seq", s2sTrainer}} {
		t.Run(c.name, func(t *testing.T) {
			teacher := c.make(t, 6, 1)
			base := c.make(t, 6, 1)
			m, err := New(base.Model, teacher, Config{Alpha: 1, Temperature: 1.5})
			if err != nil {
				t.Fatal(err)
			}
			cfg := base.Cfg
			cfg.Optimizer = "sgd"
			tr, err := training.New(cfg, m, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			steps := 0
			if _, _, err := tr.TrainEpoch(context.Background(), func(s training.StepStats) {
				steps++
				if math.Abs(s.Loss) > 1e-12 {
					t.Errorf("step %d: loss %g", s.Step, s.Loss)
				}
			}, nil); err != nil {
				t.Fatal(err)
			}
			if steps < 3 {
				t.Fatalf("%d steps", steps)
			}
		})
	}
}

// A language model's distillation cannot take a carried state before the
// teacher has one (a checkpoint from the middle of an epoch), and then
// changes nothing.
func TestSetCarryNeedsTheTeachers(t *testing.T) {
	teacher, student := lmTrainer(t, 6, 1), lmTrainer(t, 4, 2)
	m, err := New(student.Model, teacher, Config{Alpha: 0.5, Temperature: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := [][]float64{make([]float64, 4*4), make([]float64, 4*4)}
	if err := m.SetCarry(c); err == nil || !strings.Contains(err.Error(), "epoch's end") {
		t.Errorf("carried state without the teacher's: %v", err)
	}
	if m.Carry() != nil {
		t.Error("a failed SetCarry changed the student's state")
	}
}
