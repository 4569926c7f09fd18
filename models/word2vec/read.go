package word2vec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// Limits of the vector readers: a header asking for more is refused before
// anything is allocated, and memory grows with what is actually read.
const (
	MaxDim      = 1 << 16 // the largest vector size read
	MaxWords    = 1 << 31 // the largest vocabulary read
	maxWordRead = 1 << 16 // the longest word a binary file may hold
	maxLine     = 64 << 20
)

// ReadVectorsFile reads a vector file in any of the formats (see
// [ReadVectors]).
func ReadVectorsFile(path string) (*Vectors, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, errors.Wrap(err, "word2vec: read vectors")
	}
	defer f.Close()
	v, format, err := ReadVectors(f)
	if err != nil {
		return nil, format, errors.Wrapf(err, "%s", path)
	}
	return v, format, nil
}

// ReadVectors reads word vectors and says which format they were in:
// safetensors (the file starts with a little-endian header length and
// "{"), or the C tool's text or binary format. The two C formats share the
// header "V D\n"; the file is read as text when the rest of the first
// word's line holds only characters of numbers (NaN and Inf included) and
// spaces, a digit among them, unless the line does not hold D numbers and
// a "\n" follows the first row's 4·D value bytes, as in the C tool's
// binary files; as binary otherwise. (A binary row without that "\n",
// gensim's, passes for text only if its bytes before a "\n" are all such
// characters: about 1 file in 6,000 for random values.) Every fault is a
// *[FormatError] (wrapping [ErrFormat]) naming the row.
func ReadVectors(r io.Reader) (*Vectors, Format, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(9)
	if len(head) == 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) < maxSafetensorsHeader {
		v, err := readSafetensors(br)
		return v, Safetensors, err
	}
	cr := &cReader{br: br}
	words, dim, err := cr.header()
	if err != nil {
		return nil, Text, err
	}
	if words == 0 {
		return cr.finish(Text, nil, dim, nil)
	}
	format, err := cr.detect(dim)
	if err != nil {
		return nil, format, err
	}
	var (
		names []string
		data  = make([]float32, 0, min(words*dim, 1<<22))
	)
	for row := 1; row <= words; row++ {
		var w string
		if format == Binary {
			w, data, err = cr.binaryRow(row, dim, data)
		} else {
			w, data, err = cr.textRow(row, dim, data)
		}
		if err != nil {
			return nil, format, err
		}
		names = append(names, w)
	}
	return cr.finish(format, names, dim, data)
}

// cReader reads the C tool's formats, counting bytes for the messages.
type cReader struct {
	br  *bufio.Reader
	off int64
	buf []byte
}

func (cr *cReader) fail(row int, off int64, format string, args ...any) error {
	return &FormatError{Row: row, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// line returns the next line without its "\n" (or "\r\n"), valid until the
// next read; at the end of the input it returns io.EOF (a last line with no
// "\n" is returned first).
func (cr *cReader) line(row int) ([]byte, error) {
	start := cr.off
	cr.buf = cr.buf[:0]
	for {
		chunk, err := cr.br.ReadSlice('\n')
		cr.off += int64(len(chunk))
		cr.buf = append(cr.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			if len(cr.buf) > maxLine {
				return nil, cr.fail(row, start, "line longer than %d bytes", maxLine)
			}
			continue
		case err == io.EOF && len(cr.buf) > 0:
		case err != nil:
			return nil, err
		}
		b := bytes.TrimSuffix(cr.buf, []byte{'\n'})
		return bytes.TrimSuffix(b, []byte{'\r'}), nil
	}
}

// header reads "V D".
func (cr *cReader) header() (words, dim int, err error) {
	b, err := cr.line(0)
	if err == io.EOF {
		return 0, 0, cr.fail(0, 0, "empty file")
	}
	if err != nil {
		return 0, 0, errors.Wrap(err, "word2vec: read vectors")
	}
	f := bytes.Fields(b)
	if len(f) != 2 {
		return 0, 0, cr.fail(0, 0, "want \"<words> <size>\", have %s", quoteBytes(b))
	}
	n, err1 := strconv.ParseInt(string(f[0]), 10, 64)
	d, err2 := strconv.ParseInt(string(f[1]), 10, 64)
	switch {
	case err1 != nil || n < 0 || n > MaxWords:
		return 0, 0, cr.fail(0, 0, "word count %s: want an integer in 0..%d", quoteBytes(f[0]), MaxWords)
	case err2 != nil || d < 1 || d > MaxDim:
		return 0, 0, cr.fail(0, 0, "vector size %s: want an integer in 1..%d", quoteBytes(f[1]), MaxDim)
	}
	return int(n), int(d), nil
}

// numberByte reports whether c can appear in a text row after the word.
func numberByte(c byte) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '.', '-', '+', 'e', 'E', ' ', '\t', '\r', 'n', 'a', 'i', 'f', 'N', 'A', 'I', 'F':
		return true // and NaN and Inf, to be refused as values
	}
	return false
}

// detect tells text from binary by the bytes after the first word (see
// ReadVectors).
func (cr *cReader) detect(dim int) (Format, error) {
	peek, err := cr.br.Peek(min(cr.br.Size(), 64+16*dim))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return Text, errors.Wrap(err, "word2vec: read vectors")
	}
	for len(peek) > 0 && peek[0] == '\n' {
		peek = peek[1:]
	}
	sp := bytes.IndexAny(peek, " \t")
	if sp < 0 {
		return Text, nil // no complete first row: the text reader says why
	}
	body := peek[sp+1:]
	nl := bytes.IndexByte(body, '\n')
	if nl >= 0 {
		body = body[:nl]
	}
	digit := false
	for _, c := range body {
		if !numberByte(c) {
			return Binary, nil
		}
		digit = digit || c >= '0' && c <= '9'
	}
	switch {
	case !digit:
		return Binary, nil
	case len(bytes.Fields(body)) == dim:
		return Text, nil
	case nl >= 0 && nl < 4*dim && sp+1+4*dim < len(peek) && peek[sp+1+4*dim] == '\n' && peek[sp] == ' ':
		return Binary, nil // a C-tool binary row: "\n" right after its 4·dim value bytes
	}
	return Text, nil
}

// textRow reads "word v1 … vD".
func (cr *cReader) textRow(row, dim int, data []float32) (string, []float32, error) {
	start := cr.off
	b, err := cr.line(row)
	if err == io.EOF {
		return "", nil, cr.fail(row, start, "file ends (truncated, or the header's word count is too large)")
	}
	if err != nil {
		return "", nil, errors.Wrap(err, "word2vec: read vectors")
	}
	f := bytes.FieldsFunc(b, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(f) == 0 {
		return "", nil, cr.fail(row, start, "empty line")
	}
	w, err := rowWord(f[0])
	if err != nil {
		return "", nil, cr.fail(row, start, "%v", err)
	}
	if len(f)-1 != dim {
		return "", nil, cr.fail(row, start, "word %q has %d values, want %d", w, len(f)-1, dim)
	}
	for i, s := range f[1:] {
		x, err := strconv.ParseFloat(string(s), 32)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return "", nil, cr.fail(row, start, "word %q value %d: %s is not a finite number", w, i+1, quoteBytes(s))
		}
		data = append(data, float32(x))
	}
	return w, data, nil
}

// rowWord checks a word read from a file.
func rowWord(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errors.Errorf("word %s is not valid UTF-8", quoteBytes(b))
	}
	w := string(b)
	if err := checkWord(w); err != nil {
		return "", errors.Errorf("word %s: %v", quoteBytes(b), err)
	}
	return w, nil
}

// binaryRow reads "word " and dim float32 values, after any "\n".
func (cr *cReader) binaryRow(row, dim int, data []float32) (string, []float32, error) {
	start := cr.off
	for {
		c, err := cr.br.ReadByte()
		if err == io.EOF {
			return "", nil, cr.fail(row, start, "file ends (truncated, or the header's word count is too large)")
		}
		if err != nil {
			return "", nil, errors.Wrap(err, "word2vec: read vectors")
		}
		cr.off++
		if c != '\n' {
			if err := cr.br.UnreadByte(); err != nil {
				return "", nil, errors.Wrap(err, "word2vec: read vectors")
			}
			cr.off--
			break
		}
	}
	start = cr.off
	cr.buf = cr.buf[:0]
	for {
		c, err := cr.br.ReadByte()
		if err == io.EOF {
			return "", nil, cr.fail(row, start, "file ends inside a word (truncated)")
		}
		if err != nil {
			return "", nil, errors.Wrap(err, "word2vec: read vectors")
		}
		cr.off++
		if c == ' ' {
			break
		}
		if len(cr.buf) >= maxWordRead {
			return "", nil, cr.fail(row, start, "word longer than %d bytes (not a binary vector file?)", maxWordRead)
		}
		cr.buf = append(cr.buf, c)
	}
	if len(cr.buf) == 0 {
		return "", nil, cr.fail(row, start, "empty word")
	}
	w, err := rowWord(cr.buf)
	if err != nil {
		return "", nil, cr.fail(row, start, "%v", err)
	}
	var four [4]byte
	for i := range dim {
		if _, err := io.ReadFull(cr.br, four[:]); err != nil {
			return "", nil, cr.fail(row, cr.off, "word %q: file ends after %d of %d values (truncated)", w, i, dim)
		}
		cr.off += 4
		x := math.Float32frombits(binary.LittleEndian.Uint32(four[:]))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return "", nil, cr.fail(row, start, "word %q value %d is not a finite number", w, i+1)
		}
		data = append(data, x)
	}
	return w, data, nil
}

// finish checks that nothing but white space follows the last row.
func (cr *cReader) finish(format Format, words []string, dim int, data []float32) (*Vectors, Format, error) {
	for {
		c, err := cr.br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, format, errors.Wrap(err, "word2vec: read vectors")
		}
		if c != '\n' && c != ' ' && c != '\r' && c != '\t' {
			return nil, format, cr.fail(len(words)+1, cr.off, "data after the %d vectors the header announces", len(words))
		}
		cr.off++
	}
	if data == nil {
		data = []float32{}
	}
	v := &Vectors{Words: words, Dim: dim, Data: data}
	v.buildIndex()
	return v, format, nil
}
