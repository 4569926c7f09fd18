package data

import (
	"bytes"
	"io"

	"github.com/pkg/errors"
)

// MaxCorpusBytes is the largest corpus [ReadCorpus] reads (256 MiB).
const MaxCorpusBytes = 256 << 20

// ReadCorpus reads a text corpus for a language model: any UTF-8 text, of
// 1 to MaxCorpusBytes bytes, returned as it is (line endings and a byte
// order mark included). An empty or too large file, or invalid UTF-8, is
// an error wrapping ErrFormat; invalid UTF-8 is reported with the byte
// offset (from 0) and line (from 1) of its first bad byte.
func ReadCorpus(r io.Reader) (string, error) {
	return readCorpus(r, MaxCorpusBytes)
}

func readCorpus(r io.Reader, maxBytes int64) (string, error) {
	data, err := readCapped(r, maxBytes, "corpus")
	if err != nil {
		return "", err
	}
	if off := invalidUTF8(data); off >= 0 {
		line := bytes.Count(data[:off], []byte{'\n'}) + 1
		return "", errors.Wrapf(ErrFormat, "corpus: invalid UTF-8 at byte offset %d (line %d)", off, line)
	}
	return string(data), nil
}
