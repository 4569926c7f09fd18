package quantize

import "github.com/pkg/errors"

var (
	// ErrCorrupt is wrapped by the errors about a damaged int8 checkpoint.
	ErrCorrupt = errors.New("quantize: corrupt int8 checkpoint")
	// ErrNotInt8 is wrapped by the error of reading a file that is not an
	// int8 checkpoint as one.
	ErrNotInt8 = errors.New("quantize: not an int8 checkpoint")
	// ErrUnsupported is wrapped by the errors about a model the int8
	// engine does not run (a cell kind, a model family).
	ErrUnsupported = errors.New("quantize: unsupported model")
)
