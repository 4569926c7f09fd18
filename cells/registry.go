package cells

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// Spec describes a cell kind: everything rnnkit needs to create, bind, run
// and check a cell of that kind. It is the one place a kind is described;
// Config, New, Sequence, the conformance suite (cells/celltest), the
// PyTorch parity runner, the benchmarks and the command's -cell flags read
// it through [Lookup] and [Kinds]. A new kind is one file that defines its
// cell and its Spec, plus one call of [Register].
type Spec struct {
	// Kind names the kind: a Config's Kind, the fixture case of a PyTorch
	// parity test, the value of the command's -cell flags.
	Kind Kind
	// Doc is one line about the kind, for help texts.
	Doc string
	// Gates is G, the number of gate blocks stacked in the rows of the
	// four parameters every kind has, in PyTorch's layout:
	// weight_ih_l{k} [G·H, I], weight_hh_l{k} [G·H, H], bias_ih_l{k} and
	// bias_hh_l{k} [G·H].
	Gates int
	// States names the state tensors, each [B, H], h first: {"h"} or
	// {"h", "c"}. The initial state's inputs are named after them ("h0",
	// "c0"), and so are the PyTorch fixtures' tensors.
	States []string
	// Extra lists the kind's parameters beyond the four, in order (the
	// peephole LSTM's peephole_i, peephole_f, peephole_o).
	Extra []ParamDef
	// Init returns the initialisers of a cell of hidden size H; nil means
	// PyTorch's default, U(−1/√H, 1/√H) for every parameter.
	Init func(hidden int) Inits
	// New is the step subgraph: it returns the cell over the parameters
	// bound into one graph (a, whose methods check inputs and build the
	// affine projections). Required.
	New func(a Affine) (Cell, error)
	// Fused, if not nil, returns the fused kernel that runs a whole
	// sequence of cell c as one node, or nil when c is not a cell the
	// kernel computes (a type of one's own that embeds this kind's cell
	// and changes its Step, say). Where it is nil, or returns nil,
	// Sequence builds New's step-by-step subgraph.
	Fused func(c Cell) SequenceFunc
	// Reference, if not nil, is the kind's step in plain Go, independent of
	// Gorgonia: the definition the conformance suite checks the step
	// subgraph and the fused kernel against.
	Reference ReferenceStep
}

// ParamDef defines a parameter of a kind beyond the four of PyTorch's
// layout. Its full name is Config.ParamName(Base) (prefix, base, layer and
// direction suffix: "peephole_i_l0"); it is initialised with the Bias
// initialiser of the kind's Inits.
type ParamDef struct {
	Base  string                        // base name: "peephole_i"
	Shape func(input, hidden int) []int // its shape for the cell's sizes
}

// Inits are the initialisers of a cell's parameters: Input for weight_ih,
// Recurrent for weight_hh, Bias for bias_ih, bias_hh and the extra
// parameters.
type Inits struct {
	Input, Recurrent, Bias graph.Initializer
}

// SequenceFunc runs a whole sequence of batch B, x [T·B, I] time-major
// from the state s0, as one fused node, and returns the outputs [T·B, H]
// and the final state: what a Spec's Fused returns. It must compute what Unroll computes
// (UnrollReverse with opt.Reverse, UnrollMasked with opt.Mask), and may
// skip x's gradient when opt.NoInputGrad is set. Sequence has checked that
// x is a matrix of whole steps, that s0 is not nil and that the mask has
// T·B elements; the function checks the rest (Affine.CheckRows).
type SequenceFunc func(x *gorgonia.Node, batch int, s0 State, opt SeqOptions) (*gorgonia.Node, State, error)

// ReferenceStep computes one time step of a kind in plain Go, in float64,
// without Gorgonia. p holds every parameter by base name ("weight_ih",
// "bias_hh", the Extra ones), row-major in PyTorch's layout; x is
// [batch, input] and prev the state tensors [batch, hidden] in the order of
// Spec.States, row-major. It returns the next state in that order, h
// first, and does not modify its arguments.
type ReferenceStep func(p map[string][]float64, input, hidden, batch int, x []float64, prev [][]float64) ([][]float64, error)

// registry holds the registered kinds in registration order.
var registry = struct {
	sync.RWMutex
	order []Kind
	specs map[Kind]Spec
}{specs: map[Kind]Spec{}}

// errBuiltin is the first error of registering the built-in kinds: nil
// unless one of their Specs is malformed, in which case that kind is left
// out (TestBuiltinKinds then fails) and Config.Validate refuses it,
// naming this error.
var errBuiltin error

// The built-in kinds, registered in this order; each is described in its
// own file.
func init() {
	for _, s := range []Spec{rnnTanhSpec(), rnnReLUSpec(), lstmSpec(), peepholeSpec(), gruSpec()} {
		if err := Register(s); err != nil && errBuiltin == nil {
			errBuiltin = err
		}
	}
}

// Register adds a cell kind. The Spec must name a new kind, have a one-line
// Doc, at least one gate, states starting with "h", extra parameters with
// distinct names and shapes, and a New function; otherwise Register
// returns an error wrapping ErrSpec and registers nothing. It is safe for
// concurrent use. A registered kind stays for the life of the process.
func Register(s Spec) error {
	if err := s.validate(); err != nil {
		return err
	}
	registry.Lock()
	defer registry.Unlock()
	if _, ok := registry.specs[s.Kind]; ok {
		return errors.Wrapf(ErrSpec, "kind %q is already registered", string(s.Kind))
	}
	s.States = append([]string(nil), s.States...)
	s.Extra = append([]ParamDef(nil), s.Extra...)
	registry.specs[s.Kind] = s
	registry.order = append(registry.order, s.Kind)
	return nil
}

func (s Spec) validate() error {
	fail := func(format string, a ...any) error {
		return errors.Wrapf(ErrSpec, "kind %q: "+format, append([]any{string(s.Kind)}, a...)...)
	}
	switch {
	case s.Kind == "" || strings.ContainsAny(string(s.Kind), " \t\n,"):
		return fail("a kind is a non-empty name without spaces or commas")
	case s.Doc == "" || strings.Contains(s.Doc, "\n"):
		return fail("Doc must be one line")
	case s.Gates < 1:
		return fail("%d gates", s.Gates)
	case len(s.States) == 0 || s.States[0] != "h":
		return fail("states %q must start with h", s.States)
	case s.New == nil:
		return fail("no New function")
	}
	seen := map[string]bool{"weight_ih": true, "weight_hh": true, "bias_ih": true, "bias_hh": true}
	for _, st := range s.States {
		if st == "" || seen["state "+st] {
			return fail("states %q are not distinct names", s.States)
		}
		seen["state "+st] = true
	}
	for _, p := range s.Extra {
		if p.Base == "" || seen[p.Base] {
			return fail("extra parameter %q is unnamed or named twice", p.Base)
		}
		if p.Shape == nil {
			return fail("extra parameter %q has no shape", p.Base)
		}
		seen[p.Base] = true
	}
	return nil
}

// Lookup returns the Spec of a registered kind.
func Lookup(k Kind) (Spec, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.specs[k]
	return s, ok
}

// Kinds returns the registered kinds in registration order: the built-in
// RNNTanh, RNNReLU, LSTMKind, PeepholeKind and GRUKind first.
func Kinds() []Kind {
	registry.RLock()
	defer registry.RUnlock()
	return append([]Kind(nil), registry.order...)
}

// KindList returns the registered kinds as a phrase for help texts:
// "rnn_tanh, rnn_relu, lstm, peephole_lstm or gru".
func KindList() string {
	ks := Kinds()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// KindHelp returns one line per registered kind, "kind  doc", for help
// texts.
func KindHelp() string {
	var b strings.Builder
	for _, k := range Kinds() {
		s, _ := Lookup(k)
		fmt.Fprintf(&b, "  %-14s %s\n", k, s.Doc)
	}
	return b.String()
}

// spec returns the Spec of c's kind, or an error naming the kind.
func (c Config) spec() (Spec, error) {
	s, ok := Lookup(c.Kind)
	if !ok {
		if errBuiltin != nil {
			return Spec{}, errors.Wrapf(ErrConfig, "unknown cell kind %q (known: %s; a built-in kind was not registered: %v)", string(c.Kind), KindList(), errBuiltin)
		}
		return Spec{}, errors.Wrapf(ErrConfig, "unknown cell kind %q (known: %s)", string(c.Kind), KindList())
	}
	return s, nil
}

// fusedKernel returns the fused kernel registered for c's kind that
// computes c, or nil: for a cell that is not a registered kind's (it has no
// Config), for a kind without a fused kernel, and for a cell of a type its
// kind's kernel does not compute.
func fusedKernel(c Cell) SequenceFunc {
	cc, ok := c.(interface{ Config() Config })
	if !ok {
		return nil
	}
	s, ok := Lookup(cc.Config().Kind)
	if !ok || s.Fused == nil {
		return nil
	}
	return s.Fused(c)
}
