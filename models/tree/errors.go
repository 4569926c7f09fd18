package tree

import (
	"fmt"

	"github.com/pkg/errors"
)

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrSyntax is returned (inside a *ParseError) for text that is not a
	// tree in bracket format: unbalanced brackets, a missing label, a
	// word beside children, an empty line.
	ErrSyntax = errors.New("tree: syntax error")
	// ErrLabel is returned (inside a *ParseError, or by Validate) for a
	// label outside 0..classes−1.
	ErrLabel = errors.New("tree: label out of range")
	// ErrNotBinary is returned when a binary model (the recursive net, the
	// binary Tree-LSTM) is given a node with other than 0 or 2 children.
	ErrNotBinary = errors.New("tree: not a binary tree")
	// ErrUnknownWord is returned for a word outside a vocabulary that has
	// no unknown-word entry.
	ErrUnknownWord = errors.New("tree: unknown word")
	// ErrConfig is returned for an invalid model configuration.
	ErrConfig = errors.New("tree: invalid configuration")
	// ErrBatch is returned for an invalid or mismatched batch.
	ErrBatch = errors.New("tree: invalid batch")
	// ErrChecksum is returned for a download whose SHA-256 is not the one
	// expected; nothing is written.
	ErrChecksum = errors.New("tree: checksum mismatch")
	// ErrArchive is returned for data that is not the release's zip: not a
	// zip, truncated or corrupt, a split missing or too large.
	ErrArchive = errors.New("tree: not the SST release's zip")
)

// ParseError reports malformed bracket text: where (file, 1-based line and
// column, the column counted in characters) and what. Its Unwrap gives
// ErrSyntax or ErrLabel.
type ParseError struct {
	File string // empty when the text did not come from a named file
	Line int
	Col  int // 0 when the error concerns the whole line
	Msg  string
	Err  error // ErrSyntax or ErrLabel
}

// Error implements error, as "tree: file:line:col: message".
func (e *ParseError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.Col > 0 {
		where += fmt.Sprintf(", column %d", e.Col)
	}
	if e.File != "" {
		where = e.File + ": " + where
	}
	return fmt.Sprintf("tree: %s: %s", where, e.Msg)
}

// Unwrap returns the sentinel error of the kind of problem.
func (e *ParseError) Unwrap() error { return e.Err }
