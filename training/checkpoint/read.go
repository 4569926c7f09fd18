package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// corrupt returns an error wrapping ErrCorrupt.
func corrupt(format string, args ...any) error {
	return errors.Wrapf(ErrCorrupt, format, args...)
}

// decode reads a checkpoint of size bytes from r; see Load.
func decode(r io.Reader, size int64) (*Checkpoint, error) {
	if size < 8 {
		return nil, corrupt("file of %d bytes is shorter than the 8-byte header length", size)
	}
	var lb [8]byte
	if err := readFull(r, lb[:], "header length"); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > MaxHeader {
		return nil, corrupt("header length %d is above MaxHeader (%d)", n, MaxHeader)
	}
	if n > uint64(size-8) {
		return nil, corrupt("file of %d bytes is shorter than its header length says (8 + %d)", size, n)
	}
	hb := make([]byte, n)
	if err := readFull(r, hb, "header"); err != nil {
		return nil, err
	}
	entries, meta, err := parseHeader(hb)
	if err != nil {
		return nil, err
	}
	v, ok := meta[keyVersion]
	if !ok {
		return nil, corrupt("no %s in the metadata", keyVersion)
	}
	if v != strconv.Itoa(FormatVersion) {
		return nil, errors.Wrapf(ErrVersion, "format_version %q (this package reads %d)", v, FormatVersion)
	}
	want, ok := meta[keyChecksum]
	if !ok {
		return nil, corrupt("no %s in the metadata", keyChecksum)
	}
	dataLen := uint64(size-8) - n
	if err := checkTable(entries, dataLen); err != nil {
		return nil, err
	}

	// Offsets, dtypes and shapes agree and cover exactly dataLen bytes, all
	// within the file: the allocations below add up to dataLen.
	h := sha256.New()
	hashTable(h, entries, meta)
	buf := make([]byte, min(chunk, dataLen))
	for i := range entries {
		if err := entries[i].readData(r, h, buf); err != nil {
			return nil, err
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return nil, corrupt("checksum mismatch: the file says %.80q, its contents hash to %s", want, got)
	}

	m, pdt, err := parseMeta(meta)
	if err != nil {
		return nil, err
	}
	ps, err := graph.NewParams(pdt)
	if err != nil {
		return nil, corrupt("%v", err)
	}
	c := &Checkpoint{Meta: m, Params: ps}
	pcode, _ := dtypeCode(pdt)
	for i := range entries {
		e := &entries[i]
		if key, ok := strings.CutPrefix(e.name, StatePrefix); ok {
			if key == "" {
				return nil, corrupt("tensor %q: empty state name", e.name)
			}
			if c.State == nil {
				c.State = map[string]*tensor.Dense{}
			}
			c.State[key] = e.dense()
			continue
		}
		if e.dtype != pcode {
			return nil, corrupt("parameter %q is %s, but params_dtype is %s", e.name, e.dtype, pcode)
		}
		if err := ps.Add(e.name, e.dense()); err != nil {
			return nil, corrupt("parameter %q: %v", e.name, err)
		}
	}
	return c, nil
}

// dense returns a tensor over e's data.
func (e *entry) dense() *tensor.Dense {
	if len(e.shape) == 0 {
		if e.f32 != nil {
			return tensor.New(tensor.FromScalar(e.f32[0]))
		}
		return tensor.New(tensor.FromScalar(e.f64[0]))
	}
	if e.f32 != nil {
		return tensor.New(tensor.WithShape(e.shape...), tensor.WithBacking(e.f32))
	}
	return tensor.New(tensor.WithShape(e.shape...), tensor.WithBacking(e.f64))
}

// checkTable checks that the tensors' dtypes are known, that their shapes
// match their offsets, and that the offsets tile [0, dataLen) in header
// order: no overlap, no gap, nothing out of bounds.
func checkTable(entries []entry, dataLen uint64) error {
	var next uint64
	for _, e := range entries {
		es := elemSize(e.dtype)
		if es == 0 {
			return corrupt("tensor %q: unsupported dtype %.40q (want F32 or F64)", e.name, e.dtype)
		}
		switch {
		case e.end < e.begin:
			return corrupt("tensor %q: data_offsets [%d, %d] run backwards", e.name, e.begin, e.end)
		case e.begin < next:
			return corrupt("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", e.name, e.begin, e.end, next)
		case e.end > dataLen:
			return corrupt("tensor %q: data_offsets [%d, %d] run past the end of the data (%d bytes)", e.name, e.begin, e.end, dataLen)
		case e.begin > next:
			return corrupt("tensor %q: data_offsets [%d, %d] leave a gap after %d", e.name, e.begin, e.end, next)
		}
		nbytes := e.end - e.begin
		if nbytes%es != 0 {
			return corrupt("tensor %q: %d bytes is not a whole number of %s values", e.name, nbytes, e.dtype)
		}
		count := nbytes / es
		elems := uint64(1) // stays at most count, so never overflows
		for _, d := range e.shape {
			if d <= 0 {
				return corrupt("tensor %q: shape %v has a dimension that is not positive", e.name, e.shape)
			}
			if uint64(d) > count/elems {
				elems = count + 1
				break
			}
			elems *= uint64(d)
		}
		if elems != count {
			return corrupt("tensor %q: shape %v does not match data_offsets [%d, %d] (%d bytes, %d %s values)", e.name, e.shape, e.begin, e.end, nbytes, count, e.dtype)
		}
		next = e.end
	}
	if next != dataLen {
		return corrupt("the tensors cover %d bytes of data, the file holds %d", next, dataLen)
	}
	return nil
}

// readData reads e's data from r into a new slice, hashing the bytes.
func (e *entry) readData(r io.Reader, h io.Writer, buf []byte) error {
	count := int((e.end - e.begin) / elemSize(e.dtype)) // fits: bounded by the file size
	what := fmt.Sprintf("data of tensor %q", e.name)
	if e.dtype == dtypeF32 {
		e.f32 = make([]float32, count)
		for f := e.f32; len(f) > 0; {
			k := min(len(f), len(buf)/4)
			b := buf[:4*k]
			if err := readFull(r, b, what); err != nil {
				return err
			}
			h.Write(b)
			for i := range f[:k] {
				f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			f = f[k:]
		}
		return nil
	}
	e.f64 = make([]float64, count)
	for f := e.f64; len(f) > 0; {
		k := min(len(f), len(buf)/8)
		b := buf[:8*k]
		if err := readFull(r, b, what); err != nil {
			return err
		}
		h.Write(b)
		for i := range f[:k] {
			f[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		f = f[k:]
	}
	return nil
}
