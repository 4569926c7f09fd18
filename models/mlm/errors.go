package mlm

import "github.com/pkg/errors"

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrConfig is returned for an invalid configuration: a size that is
	// not positive, an invalid encoder layer (transformer.ErrConfig is
	// wrapped too).
	ErrConfig = errors.New("mlm: invalid configuration")
	// ErrShape is returned for inputs that do not fit the graph: the wrong
	// number of ids, a length outside 0..T, more selected positions than
	// the graph's slots, an id outside the vocabulary.
	ErrShape = errors.New("mlm: shape mismatch")
	// ErrMasking is returned for invalid masking settings: a rate or
	// probability outside [0, 1], Mask + Random above 1, a [MASK] id or
	// word range outside the vocabulary.
	ErrMasking = errors.New("mlm: invalid masking")
)
