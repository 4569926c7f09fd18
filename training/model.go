package training

import (
	"context"
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/data"
)

// Model is a model family's part in training: what the [Trainer] cannot do
// without knowing the model. The Trainer owns the parameters, the
// optimiser, the loop over epochs and batches, gradient clipping, the
// learning-rate schedules, early stopping, the non-finite guard,
// checkpoints, metrics.jsonl and the loss plot; a Model supplies its
// batches, the loss graph of a batch shape and its evaluation. Batches and
// data sets are opaque to the Trainer.
//
// [Seq2Seq] and [LM] implement it. A Model that carries state from one
// batch to the next (truncated backpropagation through time) also
// implements [Carrier]; one that holds resources implements io.Closer,
// which [Trainer.Close] calls.
type Model interface {
	// Describe names the model family, its settings, vocabulary and
	// metrics. It is called often and must be cheap.
	Describe() Description
	// Init creates the model's parameters in ps, named as the model's
	// graphs bind them, drawing their values from src. The model keeps ps:
	// its graphs and decoders work on it (the Trainer restores a
	// checkpoint by copying values into ps).
	Init(ps *graph.Params, src graph.Source) error
	// Batches returns the training batches of epoch (counted from 0), in
	// the order they are trained. src is seeded by the run's seed and the
	// epoch, so the same epoch gets the same batches each time it is asked
	// for (a resumed run relies on it). An empty list is an error.
	Batches(epoch int, src graph.Source) ([]Batch, error)
	// Build builds into g the loss graph of b's shape: for training (the
	// Trainer adds the gradients) or, with train false, for evaluation
	// (forward only, dropout off). Build runs inside [graph.Build], so it
	// may be called several times for one graph and must build the same
	// graph each time.
	Build(g *graph.Graph, b Batch, train bool) (Graph, error)
	// Evaluate returns the model's metrics on d (a data set the model
	// made: [Seq2Seq.Pairs], [LM.Text]), with "loss" among them. forward
	// runs a batch through the forward-only loss graph of its shape and
	// returns the loss. Evaluate changes no parameter.
	Evaluate(ctx context.Context, d Dataset, forward Forward) (Metrics, error)
}

// Batch is one batch of a model's data. The Trainer only asks for its
// shape: batches of one shape run on one compiled graph.
type Batch interface {
	Shape() Shape
}

// Shape identifies the graph a batch runs on: its sizes (see [Dims]) or
// any other description of its structure.
type Shape string

// Dims returns the Shape of a graph built for the given sizes, "32x12x8".
func Dims(sizes ...int) Shape {
	s := make([]string, len(sizes))
	for i, n := range sizes {
		s[i] = fmt.Sprint(n)
	}
	return Shape(strings.Join(s, "x"))
}

// Graph is the loss graph a [Model] built for one batch shape.
type Graph interface {
	// Loss returns the scalar node the Trainer minimises and reports.
	Loss() *gorgonia.Node
	// Set loads a batch of the graph's shape into its inputs. seed seeds
	// the step's random choices (dropout masks, negative samples): it is a
	// function of the run's seed and the step, so a resumed run draws the
	// same (0 in evaluation graphs).
	Set(b Batch, seed uint64) error
	// After is called after each run of the graph's machine, before it is
	// reset: the model reads the values it keeps (a final state to carry
	// into the next batch, outputs to score).
	After() error
}

// Forward runs a batch through the forward-only loss graph of its shape
// and returns the loss.
type Forward func(b Batch) (float64, error)

// Dataset is a model's evaluation data, opaque to the Trainer.
type Dataset interface {
	// Examples is the number of examples the data holds, in the model's
	// unit (pairs, characters, …).
	Examples() int
}

// Metrics are a model's evaluation results by name ([Metric]).
type Metrics map[string]float64

// The metrics of the model families of this package (docs/models.md,
// "Metrics"). Every family reports MetricLoss, its training loss on the
// evaluation data (the schedules watch it).
const (
	// MetricLoss is the mean loss: for Seq2Seq the cross-entropy per
	// target token (teacher-forced), for LM the cross-entropy in nats per
	// token.
	MetricLoss = "loss"
	// MetricExactMatch is the fraction of a Seq2Seq model's answers,
	// decoded greedily, that equal the reference.
	MetricExactMatch = "exact_match"
	// MetricTokenAccuracy is the fraction of reference tokens a Seq2Seq
	// model's greedy answers get right, position by position.
	MetricTokenAccuracy = "token_accuracy"
	// MetricPerplexity is a language model's exp(MetricLoss).
	MetricPerplexity = "perplexity"
	// MetricBitsPerChar is a language model's MetricLoss in bits per token
	// (per character for a character model).
	MetricBitsPerChar = "bits_per_char"
)

// Metric describes one number a model's Evaluate reports.
type Metric struct {
	// Name is the key in [Metrics], and in metrics.jsonl after "test_".
	Name string
	// Label is what the epoch line calls it ("" : Name with spaces).
	Label string
	// Percent says the value is a fraction, printed as a percentage.
	Percent bool
	// Lower says lower is better (a loss); otherwise higher is.
	Lower bool
}

func (m Metric) label() string {
	if m.Label != "" {
		return m.Label
	}
	return strings.ReplaceAll(m.Name, "_", " ")
}

// Description names a model family and what a checkpoint keeps of a model.
type Description struct {
	// Kind names the family ("seq2seq", "lm"); checkpoints record it, and
	// [Open] finds the family's [Opener] by it.
	Kind string
	// Config is the model's settings, stored as JSON in checkpoints; a
	// resumed run must have equal ones.
	Config any
	// Vocab is the model's vocabulary, stored in checkpoints (nil: none).
	Vocab *data.Vocab
	// Metrics are what Evaluate reports, in the order the epoch line
	// prints them; "loss" is always one of them.
	Metrics []Metric
	// Best names the metric that picks the best checkpoint.
	Best string
}

// metric returns the description of the metric name.
func (d Description) metric(name string) Metric {
	for _, m := range d.Metrics {
		if m.Name == name {
			return m
		}
	}
	return Metric{Name: name, Lower: name == "loss"}
}

// Carrier is implemented by a [Model] whose batches hand state on, each to
// the next within an epoch (a language model's hidden state under
// truncated backpropagation through time). The Trainer drops the carried
// state at the start of each epoch and after a skipped batch, puts it back
// when a step fails, and keeps it in checkpoints (as "carry.0",
// "carry.1", … among the optimiser's state).
type Carrier interface {
	// Carry returns the state the next batch starts from (nil: zeros).
	// The caller does not modify it.
	Carry() [][]float64
	// SetCarry sets the state the next batch starts from (nil: zeros),
	// checking that it fits the model; on an error nothing changes.
	SetCarry(c [][]float64) error
}

// batchOf returns b as a model's batch type B.
func batchOf[B Batch](b Batch, model string) (B, error) {
	x, ok := b.(B)
	if !ok {
		return x, errors.Errorf("training: a %T given to a %s model", b, model)
	}
	return x, nil
}

// lossGraph is what the loss graphs of this package share.
type lossGraph struct {
	loss    *gorgonia.Node
	dropout *graph.Dropout // nil: none
	train   bool
}

// Loss implements Graph.
func (g *lossGraph) Loss() *gorgonia.Node { return g.loss }

// After implements Graph: nothing to read.
func (g *lossGraph) After() error { return nil }

// setUp returns b as a model's batch type B for a graph's Set, and has
// the dropout of a training graph draw the step's masks from seed.
func setUp[B Batch](g *lossGraph, b Batch, model string, seed uint64) (B, error) {
	x, err := batchOf[B](b, model)
	if err == nil && g.train && g.dropout != nil {
		g.dropout.Reseed(seed)
	}
	return x, err
}

// vocabNet is what the models of this package share: a vocabulary, and
// the parameters Init made, which the model's graphs and decoders bind.
type vocabNet struct {
	// Vocab is the model's vocabulary.
	Vocab *data.Vocab
	ps    *graph.Params
}

// newVocabNet sets *size to the vocabulary's and then validates the
// model's config.
func newVocabNet(vocab *data.Vocab, size *int, validate func() error) (vocabNet, error) {
	if vocab == nil {
		return vocabNet{}, errors.New("training: nil vocabulary")
	}
	*size = vocab.Len()
	return vocabNet{Vocab: vocab}, validate()
}

// keep keeps the parameters ps, unless creating them failed with err.
func (n *vocabNet) keep(ps *graph.Params, err error) error {
	if err != nil {
		return err
	}
	n.ps = ps
	return nil
}

// Params returns the parameters the model works on (nil before a Trainer
// made them).
func (n *vocabNet) Params() *graph.Params { return n.ps }
