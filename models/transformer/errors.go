package transformer

import "github.com/pkg/errors"

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrConfig is returned for an invalid configuration: a size that is
	// not positive, an embedding width E not divisible by the number of
	// heads, an unknown activation, a dropout outside [0, 1).
	ErrConfig = errors.New("transformer: invalid configuration")
	// ErrMask is returned for a mask of the wrong shape, or one whose
	// values are neither 0 nor −∞ (a float attention mask) or 0/1 (a key
	// padding mask).
	ErrMask = errors.New("transformer: invalid mask")
	// ErrTooLong is returned for a sequence longer than the positional
	// encoding table (Config.MaxLen).
	ErrTooLong = errors.New("transformer: sequence longer than the positional table")
	// ErrShape is returned for an input whose shape does not fit the
	// configuration or the batch a graph was built for.
	ErrShape = errors.New("transformer: shape mismatch")
)
