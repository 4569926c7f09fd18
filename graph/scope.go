package graph

import (
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Scope creates parameters under a dotted name prefix, so that models made
// of parts ("encoder", "decoder") keep PyTorch's state_dict names. A Scope
// shares its Params: the Params refuses duplicates across all scopes.
type Scope struct {
	params *Params
	prefix string
}

// NewScope returns the root scope of p (no prefix).
func NewScope(p *Params) Scope { return Scope{params: p} }

// Params returns the Params the scope writes into.
func (s Scope) Params() *Params { return s.params }

// Prefix returns the scope's prefix, "" at the root, otherwise ending in ".".
func (s Scope) Prefix() string { return s.prefix }

// Sub returns a child scope: names created in it are prefixed with name and a dot.
func (s Scope) Sub(name string) (Scope, error) {
	if name == "" || strings.Contains(name, ".") {
		return Scope{}, errors.Errorf("graph: scope name %q must be non-empty and have no dot", name)
	}
	return Scope{params: s.params, prefix: s.prefix + name + "."}, nil
}

// Name returns the full name of a parameter called name in this scope.
func (s Scope) Name(name string) string { return s.prefix + name }

// New creates a parameter of the given shape, filled by init from rng (if
// init is nil, zeros). The full name must not exist yet.
func (s Scope) New(name string, init Initializer, src Source, shape ...int) (*tensor.Dense, error) {
	if s.params == nil {
		return nil, errors.New("graph: scope without params")
	}
	full := s.Name(name)
	if err := checkDims(full, shape); err != nil {
		return nil, err
	}
	if _, ok := s.params.byName[full]; ok {
		return nil, errors.Wrapf(ErrDuplicate, "parameter %q", full)
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(s.params.dtype))
	if init != nil {
		if err := init.Fill(src, t); err != nil {
			return nil, errors.Wrapf(err, "initialising %q", full)
		}
	}
	if err := s.params.Add(full, t); err != nil {
		return nil, err
	}
	return t, nil
}
