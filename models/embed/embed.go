package embed

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// DefaultName is the table's parameter name when Config.Name is empty.
const DefaultName = "embedding.weight"

// Config describes an embedding table.
type Config struct {
	Vocab      int    `json:"vocab"`
	Dim        int    `json:"dim"`
	HasPadding bool   `json:"has_padding,omitempty"`
	PaddingID  int    `json:"padding_id,omitempty"` // used when HasPadding
	Name       string `json:"name,omitempty"`       // parameter name; DefaultName if empty
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Vocab <= 0 || c.Dim <= 0 {
		return errors.Errorf("embed: vocab %d and dim %d must be greater than zero", c.Vocab, c.Dim)
	}
	if c.HasPadding && (c.PaddingID < 0 || c.PaddingID >= c.Vocab) {
		return errors.Errorf("embed: padding id %d out of range [0, %d)", c.PaddingID, c.Vocab)
	}
	return nil
}

// ParamName returns the table's parameter name.
func (c Config) ParamName() string {
	if c.Name == "" {
		return DefaultName
	}
	return c.Name
}

func (c Config) skip() int {
	if c.HasPadding {
		return c.PaddingID
	}
	return -1
}

// Init creates the table in ps, drawn from N(0, 1) (PyTorch's default),
// with the padding row zeroed.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if ps == nil || src == nil {
		return errors.New("embed: nil params or source")
	}
	data := make([]float64, c.Vocab*c.Dim)
	for i := range data {
		data[i] = src.NormFloat64()
	}
	if c.HasPadding {
		clear(data[c.PaddingID*c.Dim : (c.PaddingID+1)*c.Dim])
	}
	t, err := graph.FromFloat64s(ps.Dtype(), data, c.Vocab, c.Dim)
	if err != nil {
		return err
	}
	return errors.Wrap(ps.Add(c.ParamName(), t), "embed")
}

// Embedding is a table bound into one graph.
type Embedding struct {
	g   *graph.Graph
	cfg Config
	w   *gorgonia.Node
}

// New binds the table of config c, which must exist in g's Params.
func New(g *graph.Graph, c Config) (*Embedding, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("embed: nil graph")
	}
	w, err := g.Param(c.ParamName(), c.Vocab, c.Dim)
	if err != nil {
		return nil, errors.Wrap(err, "embed")
	}
	return &Embedding{g: g, cfg: c, w: w}, nil
}

// Config returns the embedding's configuration.
func (e *Embedding) Config() Config { return e.cfg }

// Weight returns the table's node [Vocab, Dim].
func (e *Embedding) Weight() *gorgonia.Node { return e.w }

// Lookup returns the rows of ids as an [ids.Len(), Dim] node.
func (e *Embedding) Lookup(ids *graph.IDs) (*gorgonia.Node, error) {
	if ids == nil || ids.Vocab() != e.cfg.Vocab {
		return nil, errors.Errorf("embed: ids over a vocabulary of %d, want %d", vocabOf(ids), e.cfg.Vocab)
	}
	n, err := graph.Gather(e.w, ids, e.cfg.skip())
	return n, errors.Wrap(err, "embed")
}

func vocabOf(ids *graph.IDs) int {
	if ids == nil {
		return 0
	}
	return ids.Vocab()
}

// Tokens holds a time-major batch of token ids: one graph.IDs per step
// (Sequence), or one for all steps (Matrix).
type Tokens struct {
	steps []*graph.IDs
	whole *graph.IDs // T·B ids, time-major (Matrix)
	T     int
	batch int
}

// Steps returns the number of time steps.
func (t *Tokens) Steps() int { return t.T }

// Batch returns the batch size.
func (t *Tokens) Batch() int { return t.batch }

// Set copies tokens[t][b] (time-major, [T][B]) in; every id is checked.
func (t *Tokens) Set(tokens [][]int) error {
	if len(tokens) != t.T {
		return errors.Errorf("embed: %d steps of tokens, want %d", len(tokens), t.T)
	}
	if t.whole != nil {
		flat := make([]int, 0, t.T*t.batch)
		for i, row := range tokens {
			if len(row) != t.batch {
				return errors.Errorf("embed: step %d has %d tokens, want %d", i, len(row), t.batch)
			}
			flat = append(flat, row...)
		}
		return errors.Wrap(t.whole.Set(flat), "embed")
	}
	for i, row := range tokens {
		if err := t.steps[i].Set(row); err != nil {
			return errors.Wrapf(err, "embed: step %d", i)
		}
	}
	return nil
}

// Values returns a copy of the ids as set, time-major ([T][B]).
func (t *Tokens) Values() [][]int {
	out := make([][]int, t.T)
	var all []int
	if t.whole != nil {
		all = t.whole.Values()
	}
	for i := range out {
		if all != nil {
			out[i] = all[i*t.batch : (i+1)*t.batch : (i+1)*t.batch]
		} else {
			out[i] = t.steps[i].Values()
		}
	}
	return out
}

// SetBatchMajor copies seqs[b][t] ([B][T]) in.
func (t *Tokens) SetBatchMajor(seqs [][]int) error {
	if len(seqs) != t.batch {
		return errors.Errorf("embed: %d sequences, want %d", len(seqs), t.batch)
	}
	tm := make([][]int, t.T)
	for s := range tm {
		tm[s] = make([]int, t.batch)
		for b, seq := range seqs {
			if len(seq) != t.T {
				return errors.Errorf("embed: sequence %d has %d tokens, want %d", b, len(seq), t.T)
			}
			tm[s][b] = seq[s]
		}
	}
	return t.Set(tm)
}

// Sequence returns T per-step look-ups of B tokens each ([B, Dim] nodes)
// and the Tokens to set before every run.
func (e *Embedding) Sequence(T, B int) (*Tokens, []*gorgonia.Node, error) {
	if T <= 0 || B <= 0 {
		return nil, nil, errors.Errorf("embed: sequence of %d steps × %d must be non-empty", T, B)
	}
	tok := &Tokens{batch: B, T: T}
	xs := make([]*gorgonia.Node, T)
	for s := range xs {
		ids, err := graph.NewIDs(B, e.cfg.Vocab)
		if err != nil {
			return nil, nil, err
		}
		if xs[s], err = e.Lookup(ids); err != nil {
			return nil, nil, errors.Wrapf(err, "step %d", s)
		}
		tok.steps = append(tok.steps, ids)
	}
	return tok, xs, nil
}

// Matrix returns one look-up of T·B tokens, time-major ([T·B, Dim]: rows
// t·B … t·B+B−1 are step t, the input cells.Sequence takes), and the
// Tokens to set before every run.
func (e *Embedding) Matrix(T, B int) (*Tokens, *gorgonia.Node, error) {
	if T <= 0 || B <= 0 {
		return nil, nil, errors.Errorf("embed: sequence of %d steps × %d must be non-empty", T, B)
	}
	ids, err := graph.NewIDs(T*B, e.cfg.Vocab)
	if err != nil {
		return nil, nil, err
	}
	x, err := e.Lookup(ids)
	if err != nil {
		return nil, nil, err
	}
	return &Tokens{whole: ids, T: T, batch: B}, x, nil
}

// Logits returns h·Wᵀ (+ bias, if not nil) for h [B, Dim]: the tied output
// projection onto the vocabulary, [B, Vocab].
func (e *Embedding) Logits(h, bias *gorgonia.Node) (*gorgonia.Node, error) {
	z, err := graph.MatMul(h, e.w, false, true)
	if err != nil {
		return nil, errors.Wrap(err, "embed: tied projection")
	}
	if bias == nil {
		return z, nil
	}
	z, err = graph.AddRow(z, bias)
	return z, errors.Wrap(err, fmt.Sprintf("embed: bias %s", bias.Name()))
}
