package dialog

import "github.com/pkg/errors"

// Sentinel errors; test for them with errors.Is.
var (
	// ErrFormat is wrapped by every error about the content of a dialogue
	// file or release.
	ErrFormat = errors.New("dialog: bad format")
	// ErrChecksum is wrapped by a download whose SHA-256 is not the
	// expected one.
	ErrChecksum = errors.New("dialog: checksum mismatch")
)
