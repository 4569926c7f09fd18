package training

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/data"
)

// Translator decodes with a trained Seq2Seq model on graphs of its own,
// over its own copy of the parameters (a snapshot taken by NewTranslator)
// and the run's vocabulary (shared read-only). A Translator is not safe
// for concurrent use, but any number of them may decode at once, one per
// goroutine, and the run may go on training meanwhile. Each gives exactly
// the answers the run's own Translate and TranslateWith gave when it was
// made.
//
// Why a copy, not the run's parameters shared read-only: Gorgonia's
// NewTapeMachine writes to every value bound in the graph it compiles (it
// sets each tensor's execution engine), parameters included, so a
// Generator compiling a graph over shared tensors races with every other
// machine reading them (go test -race reports it). A copy costs the
// parameters' size once per Translator.
type Translator struct {
	gen     *seq2seq.Generator
	vocab   *data.Vocab
	reverse bool
}

// NewTranslator returns a Translator over a copy of the run's current
// parameters. It may be called while other goroutines decode with the run
// (it takes turns with them), but not during TrainEpoch or Restore. Close
// the Translator to release its compiled graphs.
func (t *Seq2Seq) NewTranslator() (*Translator, error) {
	if t == nil || t.Params == nil || t.Vocab == nil {
		return nil, errors.New("training: NewTranslator on a run without parameters or vocabulary")
	}
	t.decoding.Lock()
	ps, err := cloneParams(t.Params)
	t.decoding.Unlock()
	if err != nil {
		return nil, err
	}
	gen, err := seq2seq.NewGenerator(ps, t.Cfg.Model)
	if err != nil {
		return nil, err
	}
	return &Translator{gen: gen, vocab: t.Vocab, reverse: t.Cfg.ReverseSource}, nil
}

// Translate answers one question by greedy decoding.
func (tr *Translator) Translate(q string) (string, error) {
	out, err := tr.TranslateWith(q, decode.Options{}, nil, 0)
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// TranslateWith answers a question as [Seq2Seq.TranslateWith] does. A
// sampling Source (so.Source) must not be shared with another goroutine.
func (tr *Translator) TranslateWith(q string, opt decode.Options, so *decode.SampleOptions, beam int) ([]string, error) {
	return translate(tr.gen, tr.vocab, tr.reverse, q, opt, so, beam)
}

// Close releases the compiled graphs.
func (tr *Translator) Close() error { return tr.gen.Close() }

// cloneParams returns a deep copy of ps: the same names, order, shapes,
// dtype and values, in new tensors.
func cloneParams(ps *graph.Params) (*graph.Params, error) {
	out, err := graph.NewParams(ps.Dtype())
	if err != nil {
		return nil, err
	}
	for _, n := range ps.Names() {
		x, _ := ps.Get(n)
		v, err := graph.Float64s(x)
		if err != nil {
			return nil, err
		}
		c, err := graph.FromFloat64s(ps.Dtype(), v, x.Shape()...)
		if err != nil {
			return nil, err
		}
		if err := out.Add(n, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}
