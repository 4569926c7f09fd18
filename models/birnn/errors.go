package birnn

import "github.com/pkg/errors"

// Sentinel errors of this package; test for them with errors.Is. An empty
// sequence is reported as cells.ErrEmpty.
var (
	// ErrConfig is returned for an invalid pairing of cells, merge mode or
	// stack description.
	ErrConfig = errors.New("birnn: invalid configuration")
	// ErrInput is returned for invalid arguments to Encode: nil or
	// misshapen inputs or masks, a wrong number of masks or initial states.
	ErrInput = errors.New("birnn: invalid input")
)
