package torch

import (
	"io"

	"github.com/pkg/errors"
)

const (
	// sourceChunk is how much a source reads ahead for single bytes and short
	// runs.
	sourceChunk = 64 << 10
	// allocStep bounds what one allocation may take before the bytes it is
	// for have been read: longer runs grow as data arrives, so a length
	// field that lies costs no more memory than the bytes that are there.
	allocStep = 1 << 20
	// maxLine bounds a text opcode's line (GLOBAL's names, INT, GET…).
	maxLine = 64 << 10
)

// source reads the bytes [pos, end) of an io.ReaderAt, in order, never
// past end.
type source struct {
	r      io.ReaderAt
	pos    int64 // next byte to read
	end    int64 // one past the last byte that may be read
	buf    []byte
	bufPos int64 // offset of buf[0]
}

func newSource(r io.ReaderAt, pos, end int64) *source {
	return &source{r: r, pos: pos, end: end, bufPos: pos}
}

// remaining is the number of bytes left before end.
func (s *source) remaining() int64 { return s.end - s.pos }

func errTruncated(pos int64) error {
	return errors.Wrapf(ErrFormat, "unexpected end of data at byte %d (truncated file?)", pos)
}

// readAt fills p from offset off, treating a short read as truncation.
func (s *source) readAt(p []byte, off int64) error {
	n, err := s.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated(off + int64(n))
	}
	return errors.Wrapf(err, "reading at byte %d", off+int64(n))
}

// fill makes buf hold the n bytes at pos (n ≤ sourceChunk, n ≤ remaining).
func (s *source) fill(n int) error {
	if s.pos >= s.bufPos && s.pos+int64(n) <= s.bufPos+int64(len(s.buf)) {
		return nil
	}
	size := int64(sourceChunk)
	if r := s.remaining(); r < size {
		size = r
	}
	if cap(s.buf) < int(size) {
		s.buf = make([]byte, size)
	}
	s.buf = s.buf[:size]
	s.bufPos = s.pos
	return s.readAt(s.buf, s.pos)
}

// readByte returns the next byte.
func (s *source) readByte() (byte, error) {
	if s.remaining() < 1 {
		return 0, errTruncated(s.pos)
	}
	if err := s.fill(1); err != nil {
		return 0, err
	}
	b := s.buf[s.pos-s.bufPos]
	s.pos++
	return b, nil
}

// read returns the next n bytes in a new slice.
func (s *source) read(n int64) ([]byte, error) {
	if n < 0 || n > s.remaining() {
		return nil, errTruncated(s.end)
	}
	if n <= sourceChunk {
		if err := s.fill(int(n)); err != nil {
			return nil, err
		}
		i := s.pos - s.bufPos
		out := make([]byte, n)
		copy(out, s.buf[i:i+n])
		s.pos += n
		return out, nil
	}
	// Long runs: read in steps so that memory follows the bytes read.
	var out []byte
	for done := int64(0); done < n; {
		step := n - done
		if step > allocStep {
			step = allocStep
		}
		out = append(out, make([]byte, step)...)
		if err := s.readAt(out[done:done+step], s.pos+done); err != nil {
			return nil, err
		}
		done += step
	}
	s.pos += n
	return out, nil
}

// skip moves past n bytes without reading them.
func (s *source) skip(n int64) error {
	if n < 0 || n > s.remaining() {
		return errTruncated(s.end)
	}
	s.pos += n
	return nil
}

// readLine returns the bytes up to the next '\n', without it.
func (s *source) readLine() ([]byte, error) {
	start := s.pos
	var line []byte
	for {
		b, err := s.readByte()
		if err != nil {
			return nil, err
		}
		if b == '\n' {
			return line, nil
		}
		if len(line) >= maxLine {
			return nil, errors.Wrapf(ErrFormat, "line at byte %d longer than %d bytes", start, maxLine)
		}
		line = append(line, b)
	}
}
