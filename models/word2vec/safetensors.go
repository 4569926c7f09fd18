package word2vec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"

	"github.com/pkg/errors"
)

// SafetensorsName is the tensor that holds the vectors in a safetensors
// file: the name of rnnkit's embedding tables (models/embed), so a model
// can load it as it is.
const SafetensorsName = "embedding.weight"

// maxSafetensorsHeader is the longest safetensors header read (the
// vocabulary is in it).
const maxSafetensorsHeader = 1 << 30

// safetensorsMeta is what a vector file's header holds besides the tensor.
type safetensorsMeta struct {
	Format string `json:"format"`
	Words  string `json:"words"` // a JSON array of strings
}

type safetensorsEntry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// writeSafetensors writes the vectors as a safetensors file: an 8-byte
// little-endian header length, the JSON header (padded with spaces to a
// multiple of 8), then the float32 values, little-endian, row by row.
func (v *Vectors) writeSafetensors(w io.Writer) error {
	words, err := json.Marshal(v.Words)
	if err != nil {
		return errors.Wrap(err, "word2vec: safetensors")
	}
	if v.Words == nil {
		words = []byte("[]")
	}
	n := int64(len(v.Data)) * 4
	header, err := json.Marshal(map[string]any{
		"__metadata__":  safetensorsMeta{Format: "rnnkit-word2vec", Words: string(words)},
		SafetensorsName: safetensorsEntry{Dtype: "F32", Shape: []int64{int64(v.Len()), int64(v.Dim)}, DataOffsets: []int64{0, n}},
	})
	if err != nil {
		return errors.Wrap(err, "word2vec: safetensors")
	}
	if len(header) > maxSafetensorsHeader-8 {
		return errors.Errorf("word2vec: safetensors: header of %d bytes is too long", len(header))
	}
	if pad := len(header) % 8; pad != 0 {
		header = append(header, bytes.Repeat([]byte{' '}, 8-pad)...)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(header)))
	bw.Write(size[:])
	bw.Write(header)
	var four [4]byte
	for _, x := range v.Data {
		binary.LittleEndian.PutUint32(four[:], math.Float32bits(x))
		if _, err := bw.Write(four[:]); err != nil {
			return errors.Wrap(err, "word2vec: safetensors")
		}
	}
	return errors.Wrap(bw.Flush(), "word2vec: safetensors")
}

// readSafetensors reads a vector file written by writeSafetensors, or any
// safetensors file with one F32 matrix (SafetensorsName, or the only
// tensor) and the words in the metadata key "words".
func readSafetensors(r io.Reader) (*Vectors, error) {
	fail := func(off int64, format string, args ...any) error {
		return &FormatError{Row: 0, Offset: off, Msg: "safetensors: " + sprintf(format, args...)}
	}
	var size [8]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, fail(0, "no header length")
	}
	n := binary.LittleEndian.Uint64(size[:])
	if n > maxSafetensorsHeader {
		return nil, fail(0, "header length %d is too large", n)
	}
	header := make([]byte, 0, min(n, 1<<20))
	header, err := readN(r, header, int64(n))
	if err != nil {
		return nil, fail(8, "file ends inside the %d-byte header", n)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return nil, fail(8, "header: %v", err)
	}
	var meta safetensorsMeta
	if raw, ok := entries["__metadata__"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, fail(8, "__metadata__: %v", err)
		}
		delete(entries, "__metadata__")
	}
	raw, ok := entries[SafetensorsName]
	if !ok && len(entries) == 1 {
		for _, only := range entries {
			raw, ok = only, true
		}
	}
	if !ok {
		return nil, fail(8, "no tensor %q among %d", SafetensorsName, len(entries))
	}
	var e safetensorsEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fail(8, "tensor: %v", err)
	}
	switch {
	case e.Dtype != "F32":
		return nil, fail(8, "dtype %q: want F32", e.Dtype)
	case len(e.Shape) != 2 || e.Shape[0] < 0 || e.Shape[0] > MaxWords || e.Shape[1] < 1 || e.Shape[1] > MaxDim:
		return nil, fail(8, "shape %v: want [words, size] with size in 1..%d", e.Shape, MaxDim)
	case len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1]-e.DataOffsets[0] != e.Shape[0]*e.Shape[1]*4:
		return nil, fail(8, "data_offsets %v do not fit shape %v", e.DataOffsets, e.Shape)
	}
	var words []string
	if err := json.Unmarshal([]byte(meta.Words), &words); err != nil {
		return nil, fail(8, "metadata \"words\": want a JSON array of strings: %v", err)
	}
	if int64(len(words)) != e.Shape[0] {
		return nil, fail(8, "%d words for %d vectors", len(words), e.Shape[0])
	}
	for i, w := range words {
		if err := checkWord(w); err != nil {
			return nil, &FormatError{Row: i + 1, Offset: -1, Msg: "safetensors: " + err.Error()}
		}
	}
	start := 8 + int64(n)
	if _, err := io.CopyN(io.Discard, r, e.DataOffsets[0]); err != nil {
		return nil, fail(start, "file ends before the data")
	}
	dim := int(e.Shape[1])
	count := e.Shape[0] * e.Shape[1]
	data := make([]float32, 0, min(count, 1<<22))
	br := bufio.NewReader(r)
	var four [4]byte
	for i := int64(0); i < count; i++ {
		if _, err := io.ReadFull(br, four[:]); err != nil {
			return nil, &FormatError{Row: int(i)/dim + 1, Offset: start + e.DataOffsets[0] + 4*i, Msg: "safetensors: file ends inside the data (truncated)"}
		}
		x := math.Float32frombits(binary.LittleEndian.Uint32(four[:]))
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, &FormatError{Row: int(i)/dim + 1, Offset: start + e.DataOffsets[0] + 4*i, Msg: sprintf("safetensors: value %d is not a finite number", int(i)%dim+1)}
		}
		data = append(data, x)
	}
	v := &Vectors{Words: words, Dim: dim, Data: data}
	if words == nil {
		v.Words = []string{}
	}
	v.buildIndex()
	return v, nil
}

// readN appends exactly n bytes of r to b, growing b as the bytes arrive
// (so a wrong length cannot make it allocate more than the input holds).
func readN(r io.Reader, b []byte, n int64) ([]byte, error) {
	for int64(len(b)) < n {
		chunk := min(n-int64(len(b)), 1<<20)
		start := len(b)
		b = append(b, make([]byte, chunk)...)
		if _, err := io.ReadFull(r, b[start:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}
