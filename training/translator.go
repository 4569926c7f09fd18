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
// and the model's vocabulary (shared read-only). A Translator is not safe
// for concurrent use, but any number of them may decode at once, one per
// goroutine, and the model may go on training meanwhile. Each gives exactly
// the answers the model's own Translate and TranslateWith gave when it was
// made.
//
// Why a copy, not the model's parameters shared read-only: Gorgonia's
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

// NewTranslator returns a Translator over a copy of the model's current
// parameters. It may be called while other goroutines decode with the
// model (it takes turns with them), but not during training or Restore.
// Close the Translator to release its compiled graphs.
func (m *Seq2Seq) NewTranslator() (*Translator, error) {
	if m == nil || m.ps == nil || m.Vocab == nil {
		return nil, errors.New("training: NewTranslator on a model without parameters or vocabulary")
	}
	m.decoding.Lock()
	ps, err := cloneParams(m.ps)
	m.decoding.Unlock()
	if err != nil {
		return nil, err
	}
	gen, err := seq2seq.NewGenerator(ps, m.Cfg.Model)
	if err != nil {
		return nil, err
	}
	return &Translator{gen: gen, vocab: m.Vocab, reverse: m.Cfg.ReverseSource}, nil
}

// Translate answers one question by greedy decoding.
func (tr *Translator) Translate(q string) (string, error) {
	return first(tr.TranslateWith(q, decode.Options{}, nil, 0))
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
