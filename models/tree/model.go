package tree

import (
	"math"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
)

// Kind names one of the three tree models.
type Kind int

// The models (see the package documentation for their equations).
const (
	// RNN is the recursive neural network of Socher et al.:
	// h = tanh(W [h_L; h_R] + b) over binary trees.
	RNN Kind = iota + 1
	// BinaryLSTM is the binary constituency Tree-LSTM (Tai et al. 2015,
	// §3.2, N = 2): one forget gate per child, over binary trees.
	BinaryLSTM
	// ChildSumLSTM is the child-sum Tree-LSTM (Tai et al. 2015, §3.1), for
	// any number of children.
	ChildSumLSTM
)

var kindNames = map[Kind]string{RNN: "rnn", BinaryLSTM: "binary-lstm", ChildSumLSTM: "childsum-lstm"}

// String returns the kind's name: rnn, binary-lstm or childsum-lstm.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return sprintf("Kind(%d)", int(k))
}

// MarshalText implements encoding.TextMarshaler (the name).
func (k Kind) MarshalText() ([]byte, error) {
	if _, ok := kindNames[k]; !ok {
		return nil, errors.Wrapf(ErrConfig, "unknown kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	for kk, s := range kindNames {
		if s == string(b) {
			*k = kk
			return nil
		}
	}
	return errors.Wrapf(ErrConfig, "unknown kind %q (rnn, binary-lstm, childsum-lstm)", clip(string(b)))
}

// Binary reports whether the model needs binary trees.
func (k Kind) Binary() bool { return k == RNN || k == BinaryLSTM }

// LSTM reports whether the model keeps a memory cell c beside h.
func (k Kind) LSTM() bool { return k == BinaryLSTM || k == ChildSumLSTM }

// Config describes a tree model and its classifier.
type Config struct {
	Kind    Kind `json:"kind"`
	Vocab   int  `json:"vocab"`   // V, words in the embedding table
	Embed   int  `json:"embed"`   // E, the word-vector size; the recursive net needs E = H (0 means H)
	Hidden  int  `json:"hidden"`  // H
	Classes int  `json:"classes"` // C, classes of the node labels
}

// embed returns E with its default.
func (c Config) embed() int {
	if c.Embed == 0 {
		return c.Hidden
	}
	return c.Embed
}

// Validate checks the config.
func (c Config) Validate() error {
	if _, ok := kindNames[c.Kind]; !ok {
		return errors.Wrapf(ErrConfig, "unknown kind %d", int(c.Kind))
	}
	if c.Vocab <= 0 || c.Hidden <= 0 || c.Classes <= 0 || c.Embed < 0 {
		return errors.Wrapf(ErrConfig, "vocab %d, embed %d, hidden %d and classes %d must be greater than zero", c.Vocab, c.Embed, c.Hidden, c.Classes)
	}
	if c.Kind == RNN && c.embed() != c.Hidden {
		return errors.Wrapf(ErrConfig, "the recursive net composes word vectors as hidden states: embed %d must equal hidden %d", c.Embed, c.Hidden)
	}
	return nil
}

// ParamSpec is a parameter's name and shape.
type ParamSpec struct {
	Name  string
	Shape []int
}

// Params returns the model's parameters, in PyTorch's (and the fixtures')
// names and layouts, weights stored [out, in] (y = x·Wᵀ + b).
func (c Config) Params() []ParamSpec {
	V, E, H, C := c.Vocab, c.embed(), c.Hidden, c.Classes
	var ps []ParamSpec
	switch c.Kind {
	case RNN:
		ps = []ParamSpec{{"embedding.weight", []int{V, H}}, {"W.weight", []int{H, 2 * H}}, {"W.bias", []int{H}}}
	case BinaryLSTM, ChildSumLSTM:
		k := 2 // children with their own slots
		if c.Kind == ChildSumLSTM {
			k = 1
		}
		ps = []ParamSpec{
			{"embedding.weight", []int{V, E}},
			{"W_iou.weight", []int{3 * H, E}},
			{"U_iou.weight", []int{3 * H, k * H}},
			{"b_iou", []int{1, 3 * H}},
			{"U_f.weight", []int{k * H, k * H}},
			{"U_f.bias", []int{k * H}},
		}
	}
	return append(ps, ParamSpec{"linear.weight", []int{C, H}}, ParamSpec{"linear.bias", []int{C}})
}

// Init creates the parameters in ps: the embedding drawn from N(0, 1), as
// torch.nn.Embedding; every weight matrix and its bias from
// U(−1/√in, 1/√in), as torch.nn.Linear, with in the matrix's columns;
// b_iou zero, as DGL's Tree-LSTM.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if ps == nil || src == nil {
		return errors.Wrap(ErrConfig, "nil params or random source")
	}
	fanIn := map[string]int{}
	for _, p := range c.Params() {
		if strings.HasSuffix(p.Name, ".weight") && len(p.Shape) == 2 {
			fanIn[strings.TrimSuffix(p.Name, ".weight")] = p.Shape[1]
		}
	}
	for _, p := range c.Params() {
		n := 1
		for _, d := range p.Shape {
			n *= d
		}
		data := make([]float64, n)
		prefix := p.Name
		if i := strings.LastIndexByte(p.Name, '.'); i >= 0 {
			prefix = p.Name[:i]
		}
		switch {
		case p.Name == "embedding.weight":
			for i := range data {
				data[i] = src.NormFloat64()
			}
		case p.Name == "b_iou":
		default:
			k := 1 / math.Sqrt(float64(fanIn[prefix]))
			for i := range data {
				data[i] = -k + 2*k*src.Float64()
			}
		}
		t, err := graph.FromFloat64s(ps.Dtype(), data, p.Shape...)
		if err != nil {
			return err
		}
		if err := ps.Add(p.Name, t); err != nil {
			return errors.Wrap(err, "tree")
		}
	}
	return nil
}
