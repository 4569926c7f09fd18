package word2vec

import (
	"fmt"

	"github.com/pkg/errors"
)

var (
	// ErrEmptyCorpus is wrapped by the error of [ReadCorpus] for a corpus
	// with no word in it.
	ErrEmptyCorpus = errors.New("word2vec: empty corpus")
	// ErrNoVocab is wrapped by the error of [ReadCorpus] when no word
	// occurs min-count times (nothing would be trained).
	ErrNoVocab = errors.New("word2vec: no word occurs min-count times")
	// ErrConfig is wrapped by the error of [Config.Validate] (and everything
	// that validates a Config) for a setting out of range.
	ErrConfig = errors.New("word2vec: bad configuration")
	// ErrFormat is wrapped by every error of the vector readers about a file
	// that is damaged or in no format they read: a bad header, a truncated
	// or malformed row, a word that is not UTF-8, a value that is not a
	// finite number.
	ErrFormat = errors.New("word2vec: bad vector file")
	// ErrEval is wrapped by the errors of the evaluations about their input
	// files (a malformed question or pair line) and about results that
	// cannot be computed (fewer than two pairs with known words).
	ErrEval = errors.New("word2vec: evaluation")
	// ErrUnknownWord is wrapped by [Vectors.Neighbors]' error for a word
	// that has no vector.
	ErrUnknownWord = errors.New("word2vec: unknown word")
)

// FormatError is a vector file's fault and where it is: the row (1 is the
// first vector; 0 the header) and, when known, the byte offset.
type FormatError struct {
	Row    int    // the vector's row, 1-based; 0 for the header
	Offset int64  // the byte offset in the file, −1 if unknown
	Msg    string // what is wrong
}

// Error says what is wrong and where: the row and the byte offset.
func (e *FormatError) Error() string {
	where := "header"
	if e.Row > 0 {
		where = fmt.Sprintf("vector %d", e.Row)
	}
	if e.Offset >= 0 {
		where += fmt.Sprintf(" (byte %d)", e.Offset)
	}
	return fmt.Sprintf("%v: %s: %s", ErrFormat, where, e.Msg)
}

// Unwrap makes errors.Is(err, ErrFormat) true.
func (e *FormatError) Unwrap() error { return ErrFormat }

// CorpusError is a fault of a training corpus at a byte offset.
type CorpusError struct {
	Offset int64  // byte offset of the word in the corpus
	Msg    string // what is wrong
}

// Error says what is wrong and at which byte.
func (e *CorpusError) Error() string {
	return fmt.Sprintf("word2vec: corpus byte %d: %s", e.Offset, e.Msg)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
