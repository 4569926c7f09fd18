package prune

import "github.com/pkg/errors"

// ErrSparsity is wrapped by the errors about a sparsity outside [0, 1).
var ErrSparsity = errors.New("prune: sparsity must be in [0, 1)")

// checkSparsity checks that s is in [0, 1); what names it.
func checkSparsity(what string, s float64) error {
	if !(s >= 0 && s < 1) {
		return errors.Wrapf(ErrSparsity, "%s %v", what, s)
	}
	return nil
}
