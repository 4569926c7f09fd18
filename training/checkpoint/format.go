package checkpoint

import (
	"encoding/binary"
	"io"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Header keys and dtype names of the file format (see doc.go).
const (
	metadataKey = "__metadata__"
	extraPrefix = "x."

	keyVersion  = "format_version"
	keyDtype    = "params_dtype"
	keyModel    = "model"
	keyVocab    = "vocab"
	keyStep     = "step"
	keyEpoch    = "epoch"
	keySeed     = "seed"
	keyRNG      = "rng"
	keyChecksum = "checksum"

	dtypeF32 = "F32"
	dtypeF64 = "F64"
)

// chunk is the size of the buffer through which tensor data is encoded and
// decoded.
const chunk = 1 << 16

// entry is one tensor of the file: its header record and, once read or
// planned, its data (f32 or f64, by dtype).
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64
	f32        []float32
	f64        []float64
}

// elemSize returns the size in bytes of one element of a dtype, or 0 for a
// dtype the format does not allow.
func elemSize(dtype string) uint64 {
	switch dtype {
	case dtypeF32:
		return 4
	case dtypeF64:
		return 8
	}
	return 0
}

// dtypeCode returns the file's name for a tensor dtype.
func dtypeCode(dt tensor.Dtype) (string, error) {
	switch dt {
	case tensor.Float32:
		return dtypeF32, nil
	case tensor.Float64:
		return dtypeF64, nil
	}
	return "", errors.Wrapf(ErrUnsupported, "dtype %s (want float32 or float64)", dtypeName(dt))
}

// dtypeName formats a dtype without panicking on the zero Dtype.
func dtypeName(dt tensor.Dtype) string {
	if dt.Type == nil {
		return "<none>"
	}
	return dt.String()
}

// hashTable writes the canonical form of the tensor table and the metadata
// (all but the checksum) that the checksum covers; see doc.go.
func hashTable(w io.Writer, entries []entry, meta map[string]string) {
	var b []byte
	u := func(x uint64) { b = binary.LittleEndian.AppendUint64(b, x) }
	s := func(x string) { u(uint64(len(x))); b = append(b, x...) }
	u(uint64(len(entries)))
	for _, e := range entries {
		s(e.name)
		s(e.dtype)
		u(uint64(len(e.shape)))
		for _, d := range e.shape {
			u(uint64(d))
		}
		u(e.begin)
		u(e.end)
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != keyChecksum {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	u(uint64(len(keys)))
	for _, k := range keys {
		s(k)
		s(meta[k])
	}
	w.Write(b)
}
