package distill

import (
	"bytes"
	"context"
	"encoding/json"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training"
)

// Config is the word-level distillation's part of a run's settings.
type Config struct {
	// Alpha weighs the soft term against the data's cross-entropy, in
	// [0, 1]: 0 trains on the data alone, 1 on the teacher alone.
	Alpha float64 `json:"alpha"`
	// Temperature T softens both distributions; > 0.
	Temperature float64 `json:"temperature"`
}

// Validate checks the config; errors name distill's flags.
func (c Config) Validate() error {
	if !(c.Alpha >= 0 && c.Alpha <= 1) {
		return errors.Errorf("distill: -alpha %v must be in [0, 1]", c.Alpha)
	}
	if !(c.Temperature > 0) || math.IsInf(c.Temperature, 0) {
		return errors.Errorf("distill: -temperature %v must be positive and finite", c.Temperature)
	}
	return nil
}

// Model is a student training.Model trained by word-level distillation
// from a teacher (see the package doc). It is the student to the Trainer
// (Describe, Init, Batches and Evaluate are the student's), but its
// training graphs add the soft term.
type Model struct {
	Student training.Model
	Cfg     Config

	teacher  training.Model
	tps      *graph.Params
	graphs   *graph.Cache[training.Shape, *teacherGraph]
	snapshot [][]float64 // the teacher's carried state when Carry was last called
}

// New returns the Model that trains student from teacher (a Trainer
// opened from the teacher's checkpoint, which Model then uses: it is not
// to train or close it before the Model is closed). The two must be of one
// family and vocabulary; a language-model teacher is run on the student's
// windows (its batch and BPTT window set to the student's), a Seq2Seq
// teacher must read questions in the student's direction.
func New(student training.Model, teacher *training.Trainer, cfg Config) (*Model, error) {
	if student == nil || teacher == nil {
		return nil, errors.New("distill: nil student or teacher")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sd, td := student.Describe(), teacher.Model.Describe()
	if sd.Kind != td.Kind {
		return nil, errors.Errorf("distill: a %s student cannot learn from a %s teacher", sd.Kind, td.Kind)
	}
	if err := sameVocab(sd, td); err != nil {
		return nil, err
	}
	switch s := student.(type) {
	case *training.LM:
		t, ok := teacher.Model.(*training.LM)
		if !ok {
			return nil, errors.Errorf("distill: a %T teacher of kind lm", teacher.Model)
		}
		t.Cfg.Batch, t.Cfg.Steps = s.Cfg.Batch, s.Cfg.Steps
	case *training.Seq2Seq:
		t, ok := teacher.Model.(*training.Seq2Seq)
		if !ok {
			return nil, errors.Errorf("distill: a %T teacher of kind seq2seq", teacher.Model)
		}
		if t.Cfg.ReverseSource != s.Cfg.ReverseSource {
			return nil, errors.Errorf("distill: the teacher reads questions reversed=%v, the student reversed=%v (-reverse)", t.Cfg.ReverseSource, s.Cfg.ReverseSource)
		}
	default:
		return nil, errors.Errorf("distill: %s models are not distilled (lm and seq2seq are)", sd.Kind)
	}
	c, err := graph.NewCache[training.Shape, *teacherGraph](8)
	if err != nil {
		return nil, err
	}
	return &Model{Student: student, Cfg: cfg, teacher: teacher.Model, tps: teacher.Params, graphs: c}, nil
}

// sameVocab is an error unless both descriptions hold the same vocabulary.
func sameVocab(s, t training.Description) error {
	if s.Vocab == nil || t.Vocab == nil {
		return errors.New("distill: the student or the teacher has no vocabulary")
	}
	a, err := json.Marshal(s.Vocab)
	if err != nil {
		return err
	}
	b, err := json.Marshal(t.Vocab)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return errors.Errorf("distill: the teacher's vocabulary (%d tokens) is not the student's (%d tokens): train the student on the teacher's data", t.Vocab.Len(), s.Vocab.Len())
	}
	return nil
}

// Describe implements training.Model: the student's.
func (m *Model) Describe() training.Description { return m.Student.Describe() }

// Init implements training.Model: the student's parameters.
func (m *Model) Init(ps *graph.Params, src graph.Source) error { return m.Student.Init(ps, src) }

// Batches implements training.Model: the student's.
func (m *Model) Batches(epoch int, src graph.Source) ([]training.Batch, error) {
	return m.Student.Batches(epoch, src)
}

// Evaluate implements training.Model: the student's metrics.
func (m *Model) Evaluate(ctx context.Context, d training.Dataset, forward training.Forward) (training.Metrics, error) {
	return m.Student.Evaluate(ctx, d, forward)
}

// Carry implements training.Carrier: the student's carried state (the
// teacher's is kept aside, for SetCarry to put back).
func (m *Model) Carry() [][]float64 {
	if tc, ok := m.teacher.(training.Carrier); ok {
		m.snapshot = tc.Carry()
	}
	if sc, ok := m.Student.(training.Carrier); ok {
		return sc.Carry()
	}
	return nil
}

// SetCarry implements training.Carrier: nil drops both models' carried
// state; otherwise the student's is set and the teacher's goes back to
// what it was at the last Carry (the Trainer's undoing of a failed step).
// Checkpoints do not hold the teacher's state: restoring a carried state
// before any Carry is an error, so a language-model distillation resumes
// only from the end of an epoch.
func (m *Model) SetCarry(c [][]float64) error {
	sc, ok := m.Student.(training.Carrier)
	if !ok {
		if c != nil {
			return errors.Errorf("distill: a %s student carries no state", m.Student.Describe().Kind)
		}
		return nil
	}
	tc, teacherCarries := m.teacher.(training.Carrier)
	t := m.snapshot
	if c == nil {
		t = nil
	} else if teacherCarries && t == nil {
		return errors.New("distill: a carried state, but none of the teacher's: a distillation resumes only from a checkpoint at an epoch's end")
	}
	if err := sc.SetCarry(c); err != nil {
		return err
	}
	if teacherCarries {
		return tc.SetCarry(t)
	}
	return nil
}

// Close releases the teacher's compiled graphs and the student's
// resources.
func (m *Model) Close() error {
	err := m.graphs.Close()
	if c, ok := m.Student.(interface{ Close() error }); ok {
		if e := c.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Build implements training.Model: for training, the student's loss
// graph with its loss L replaced by (1 − α)·L + Σ SoftKL; for evaluation
// the student's graph as it is.
func (m *Model) Build(g *graph.Graph, b training.Batch, train bool) (training.Graph, error) {
	sg, err := m.Student.Build(g, b, train)
	if err != nil || !train {
		return sg, err
	}
	lg, ok := sg.(training.LogitGraph)
	if !ok || lg.Logits() == nil {
		return nil, errors.Errorf("distill: the student's %s graph exposes no logits matrix", m.Student.Describe().Kind)
	}
	z := lg.Logits()
	s, err := NewSoft(z.Shape()[0], z.Shape()[1], m.Cfg.Temperature, m.Cfg.Alpha*m.Cfg.Temperature*m.Cfg.Temperature)
	if err != nil {
		return nil, err
	}
	kl, err := SoftKL(z, s)
	if err != nil {
		return nil, err
	}
	soft, err := gorgonia.Sum(kl)
	if err != nil {
		return nil, errors.Wrap(err, "distill")
	}
	hard, err := gorgonia.Mul(sg.Loss(), g.Scalar(1-m.Cfg.Alpha))
	if err != nil {
		return nil, errors.Wrap(err, "distill")
	}
	loss, err := gorgonia.Add(hard, soft)
	if err != nil {
		return nil, errors.Wrap(err, "distill")
	}
	return &studentGraph{LogitGraph: lg, m: m, soft: s, loss: loss}, nil
}

// studentGraph is a distillation training graph.
type studentGraph struct {
	training.LogitGraph
	m    *Model
	soft *Soft
	loss *gorgonia.Node
}

// Loss implements training.Graph.
func (g *studentGraph) Loss() *gorgonia.Node { return g.loss }

// Set implements training.Graph: the student's batch, and the teacher's
// distributions on it (the teacher runs forward first).
func (g *studentGraph) Set(b training.Batch, seed uint64) error {
	if err := g.LogitGraph.Set(b, seed); err != nil {
		return err
	}
	logits, err := g.m.teacherLogits(b)
	if err != nil {
		return err
	}
	w, err := g.LogitGraph.RowWeights(b)
	if err != nil {
		return err
	}
	return g.soft.SetLogits(logits, w)
}

// teacherGraph is the teacher's compiled forward graph of a batch shape.
type teacherGraph struct {
	g      training.LogitGraph
	vm     gorgonia.VM
	logitV gorgonia.Value
}

// Close releases the machine.
func (t *teacherGraph) Close() error { return t.vm.Close() }

// teacherLogits runs the teacher forward on b and returns its logits.
func (m *Model) teacherLogits(b training.Batch) ([]float64, error) {
	tg, err := m.graphs.Get(b.Shape(), func() (*teacherGraph, error) {
		eg, tg, err := graph.Build(m.tps, func(g *graph.Graph) (*teacherGraph, error) {
			mg, err := m.teacher.Build(g, b, false)
			if err != nil {
				return nil, err
			}
			lg, ok := mg.(training.LogitGraph)
			if !ok || lg.Logits() == nil {
				return nil, errors.Errorf("distill: the teacher's %s graph exposes no logits matrix", m.teacher.Describe().Kind)
			}
			tg := &teacherGraph{g: lg}
			gorgonia.Read(lg.Logits(), &tg.logitV)
			return tg, nil
		})
		if err != nil {
			return nil, errors.Wrap(err, "distill: the teacher's graph")
		}
		if tg.vm, err = graph.NewMachine(eg); err != nil {
			return nil, err
		}
		return tg, nil
	})
	if err != nil {
		return nil, err
	}
	defer tg.vm.Reset()
	if err := tg.g.Set(b, 0); err != nil {
		return nil, errors.Wrap(err, "distill: teacher")
	}
	if err := graph.Run(tg.vm); err != nil {
		return nil, errors.Wrap(err, "distill: teacher")
	}
	out, err := graph.ValueFloat64s(tg.logitV)
	if err != nil {
		return nil, err
	}
	return out, tg.g.After()
}
