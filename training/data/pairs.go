package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// MaxLineBytes is the longest line, in bytes without its line ending, that
// [ReadPairs] accepts and [WritePairs] writes.
const MaxLineBytes = 64 << 10

// MaxPairsBytes is the largest question–answer file [ReadPairs] reads
// (64 MiB; the book's addition.txt is 650 KB, date.txt 2 MB).
const MaxPairsBytes = 64 << 20

// Pair is one question and its answer, without the file's padding.
type Pair struct {
	Question, Answer string
}

// ReadPairs reads a question–answer file in the format of "Deep Learning
// from Scratch 2" chapter 7: on each line the question padded with spaces,
// an underscore '_', then the answer padded with spaces, such as the
// addition task's line
//
//	16+75  _91
//
// (with two trailing spaces) for the pair "16+75", "91". The widths need
// not be fixed: a line is split at its first '_' and trailing spaces are
// trimmed from both sides, so questions cannot hold '_' but answers can.
// Leading spaces and other white space are kept.
//
// Lines end with "\n" or "\r\n"; a last line may lack its line ending, and
// one empty line at the very end of the file is ignored. Every other line
// must be valid UTF-8, at most MaxLineBytes long, without a carriage return
// inside it, and hold a '_' with a non-empty question before it and a
// non-empty answer after it. The file must hold at least one pair and at
// most MaxPairsBytes bytes. Errors wrap ErrFormat and name the line (1-based).
func ReadPairs(r io.Reader) ([]Pair, error) {
	return readPairs(r, MaxPairsBytes)
}

func readPairs(r io.Reader, maxBytes int64) ([]Pair, error) {
	data, err := readCapped(r, maxBytes, "pairs")
	if err != nil {
		return nil, err
	}
	var pairs []Pair
	rest := data
	for n := 1; len(rest) > 0; n++ {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 && len(rest) == 0 {
			break // one empty line at the end
		}
		p, msg := parsePairLine(line)
		if msg != "" {
			return nil, errors.Wrapf(ErrFormat, "pairs: line %d: %s", n, msg)
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 {
		return nil, errors.Wrap(ErrFormat, "pairs: no question–answer pair in the file")
	}
	return pairs, nil
}

// parsePairLine splits one line (without its line ending); it returns what
// is wrong with it, "" if nothing.
func parsePairLine(line []byte) (Pair, string) {
	if len(line) > MaxLineBytes {
		return Pair{}, fmt.Sprintf("%d bytes, longer than %d", len(line), MaxLineBytes)
	}
	if len(line) == 0 {
		return Pair{}, "empty line"
	}
	if off := invalidUTF8(line); off >= 0 {
		return Pair{}, fmt.Sprintf("invalid UTF-8 at byte %d of the line", off)
	}
	if i := bytes.IndexByte(line, '\r'); i >= 0 {
		return Pair{}, fmt.Sprintf("carriage return at byte %d of the line", i)
	}
	i := bytes.IndexByte(line, '_')
	if i < 0 {
		return Pair{}, "no '_' between question and answer"
	}
	q := bytes.TrimRight(line[:i], " ")
	a := bytes.TrimRight(line[i+1:], " ")
	if len(q) == 0 {
		return Pair{}, "empty question"
	}
	if len(a) == 0 {
		return Pair{}, "empty answer"
	}
	return Pair{Question: string(q), Answer: string(a)}, ""
}

// invalidUTF8 returns the offset of the first byte of b that starts no
// valid UTF-8 sequence, -1 if b is valid.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for off := 0; off < len(b); {
		r, size := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && size == 1 {
			return off
		}
		off += size
	}
	return -1
}

// readCapped reads all of r, at most maxBytes bytes; an empty input is an
// error.
func readCapped(r io.Reader, maxBytes int64, what string) ([]byte, error) {
	if r == nil {
		return nil, errors.Wrapf(ErrInvalid, "%s: nil reader", what)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, errors.Wrapf(err, "data: %s: reading", what)
	}
	if int64(len(data)) > maxBytes {
		return nil, errors.Wrapf(ErrFormat, "%s: larger than %d bytes", what, maxBytes)
	}
	if len(data) == 0 {
		return nil, errors.Wrapf(ErrFormat, "%s: empty file", what)
	}
	return data, nil
}

// WritePairs writes pairs in the format [ReadPairs] reads: each question
// padded with spaces to qWidth characters (runes), '_', then the answer
// padded to aWidth characters, and "\n". The book's addition.txt is
// WritePairs(w, pairs, 7, 4), its lines 12 characters wide ("16+75", two
// spaces, "_91", two spaces); its date.txt is WritePairs(w, pairs, 29, 10).
// A width of 0 is the longest question (answer) in pairs.
//
// Every pair must read back as itself: questions and answers non-empty,
// valid UTF-8, without line breaks ('\n', '\r') or trailing spaces, and no
// '_' in a question; none longer than its width, no line longer than
// MaxLineBytes. Invalid pairs or widths give an error wrapping ErrInvalid
// before anything is written; errors from w are returned with context.
func WritePairs(w io.Writer, pairs []Pair, qWidth, aWidth int) error {
	if w == nil {
		return errors.Wrap(ErrInvalid, "pairs: nil writer")
	}
	if qWidth < 0 || aWidth < 0 {
		return errors.Wrapf(ErrInvalid, "pairs: widths %d and %d, want ≥ 0", qWidth, aWidth)
	}
	qMax, aMax := 0, 0
	for i, p := range pairs {
		if msg := checkField(p.Question, true); msg != "" {
			return errors.Wrapf(ErrInvalid, "pairs: pair %d: question %s", i, msg)
		}
		if msg := checkField(p.Answer, false); msg != "" {
			return errors.Wrapf(ErrInvalid, "pairs: pair %d: answer %s", i, msg)
		}
		qMax = max(qMax, utf8.RuneCountInString(p.Question))
		aMax = max(aMax, utf8.RuneCountInString(p.Answer))
	}
	if qWidth == 0 {
		qWidth = qMax
	}
	if aWidth == 0 {
		aWidth = aMax
	}
	if qMax > qWidth || aMax > aWidth {
		for i, p := range pairs {
			if n := utf8.RuneCountInString(p.Question); n > qWidth {
				return errors.Wrapf(ErrInvalid, "pairs: pair %d: question of %d characters, wider than %d", i, n, qWidth)
			}
			if n := utf8.RuneCountInString(p.Answer); n > aWidth {
				return errors.Wrapf(ErrInvalid, "pairs: pair %d: answer of %d characters, wider than %d", i, n, aWidth)
			}
		}
	}
	for i, p := range pairs {
		n := len(p.Question) + len(p.Answer) + 1 +
			(qWidth - utf8.RuneCountInString(p.Question)) + (aWidth - utf8.RuneCountInString(p.Answer))
		if n > MaxLineBytes {
			return errors.Wrapf(ErrInvalid, "pairs: pair %d: line of %d bytes, longer than %d", i, n, MaxLineBytes)
		}
	}
	bw := bufio.NewWriter(w)
	for _, p := range pairs {
		bw.WriteString(p.Question)
		bw.WriteString(strings.Repeat(" ", qWidth-utf8.RuneCountInString(p.Question)))
		bw.WriteByte('_')
		bw.WriteString(p.Answer)
		bw.WriteString(strings.Repeat(" ", aWidth-utf8.RuneCountInString(p.Answer)))
		bw.WriteByte('\n')
	}
	return errors.Wrap(bw.Flush(), "data: pairs: writing")
}

// checkField returns what keeps s from being read back as itself, "" if
// nothing.
func checkField(s string, question bool) string {
	switch {
	case s == "":
		return "is empty"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsAny(s, "\n\r"):
		return "holds a line break"
	case strings.HasSuffix(s, " "):
		return "ends with a space"
	case question && strings.Contains(s, "_"):
		return "holds '_'"
	}
	return ""
}
