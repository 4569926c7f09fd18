package dialog

import (
	"fmt"

	"github.com/pkg/errors"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrFormat is wrapped by every error about the content of a dialogue
	// file or release.
	ErrFormat = errors.New("dialog: bad format")
	// ErrChecksum is wrapped by a download whose SHA-256 is not the
	// expected one.
	ErrChecksum = errors.New("dialog: checksum mismatch")
)

// formatError is an error about content; it wraps ErrFormat but does not
// repeat its text.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }
func (e *formatError) Unwrap() error { return ErrFormat }

// formatf returns a formatError.
func formatf(format string, args ...any) error {
	return &formatError{fmt.Sprintf(format, args...)}
}
