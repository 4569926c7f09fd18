package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// layout is a checkpoint ready to be written: its tensors with their offsets,
// its metadata (checksum included) and the padded header.
type layout struct {
	entries []entry
	header  []byte
}

// plan checks c in full and lays it out, computing the checksum; nothing is
// written.
func plan(c *Checkpoint) (*layout, error) {
	if c == nil {
		return nil, errors.New("nil checkpoint")
	}
	if c.Params == nil {
		return nil, errors.New("nil Params")
	}
	pdt, err := dtypeCode(c.Params.Dtype())
	if err != nil {
		return nil, errors.Wrap(err, "params")
	}
	var entries []entry
	var off uint64
	add := func(name string, t *tensor.Dense) (*entry, error) {
		e, err := entryOf(name, t)
		if err != nil {
			return nil, err
		}
		e.begin = off
		e.end = off + uint64(len(e.f32))*4 + uint64(len(e.f64))*8
		off = e.end
		entries = append(entries, e)
		return &entries[len(entries)-1], nil
	}
	for _, name := range c.Params.Names() {
		if err := checkName(name); err != nil {
			return nil, errors.Wrapf(err, "parameter %q", name)
		}
		if strings.HasPrefix(name, StatePrefix) {
			return nil, errors.Errorf("parameter %q: the prefix %q is reserved for State", name, StatePrefix)
		}
		t, _ := c.Params.Get(name)
		e, err := add(name, t)
		if err != nil {
			return nil, errors.Wrapf(err, "parameter %q", name)
		}
		if e.dtype != pdt {
			return nil, errors.Wrapf(ErrUnsupported, "parameter %q is %s, params are %s", name, e.dtype, pdt)
		}
	}
	keys := make([]string, 0, len(c.State))
	for k := range c.State {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "" {
			return nil, errors.New("state: empty tensor name")
		}
		if err := checkName(k); err != nil {
			return nil, errors.Wrapf(err, "state %q", k)
		}
		if _, err := add(StatePrefix+k, c.State[k]); err != nil {
			return nil, errors.Wrapf(err, "state %q", k)
		}
	}
	meta, err := metaOf(&c.Meta, pdt)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	hashTable(h, entries, meta)
	buf := make([]byte, chunk)
	for i := range entries {
		if err := entries[i].writeData(h, buf); err != nil {
			return nil, err
		}
	}
	meta[keyChecksum] = hex.EncodeToString(h.Sum(nil))
	header := encodeHeader(entries, meta)
	if len(header) > MaxHeader {
		return nil, errors.Errorf("header of %d bytes is above MaxHeader (%d): too many tensors or too much metadata", len(header), MaxHeader)
	}
	return &layout{entries: entries, header: header}, nil
}

// checkName refuses names the file cannot carry exactly.
func checkName(name string) error {
	if !utf8.ValidString(name) {
		return errors.New("name is not valid UTF-8")
	}
	if name == metadataKey {
		return errors.Errorf("name %q is reserved", metadataKey)
	}
	return nil
}

// entryOf returns the entry of one tensor, its data in row-major order. A
// view is materialised (copied); otherwise the data is the tensor's own.
func entryOf(name string, t *tensor.Dense) (e entry, err error) {
	if t == nil {
		return e, errors.New("nil tensor")
	}
	defer func() { // the tensor package panics on some malformed values
		if r := recover(); r != nil {
			err = errors.Wrapf(ErrUnsupported, "reading the tensor panicked: %v", r)
		}
	}()
	e.name = name
	if e.dtype, err = dtypeCode(t.Dtype()); err != nil {
		return e, err
	}
	if !t.IsNativelyAccessible() {
		return e, errors.Wrap(ErrUnsupported, "memory not accessible from Go")
	}
	e.shape = t.Shape().Clone()
	if len(e.shape) > maxDims {
		return e, errors.Wrapf(ErrUnsupported, "%d dimensions (at most %d)", len(e.shape), maxDims)
	}
	n := 1
	for _, d := range e.shape {
		if d <= 0 {
			return e, errors.Wrapf(ErrUnsupported, "shape %v: dimensions must be positive", e.shape)
		}
		n *= d
	}
	if t.IsMaterializable() {
		m, ok := t.Materialize().(*tensor.Dense)
		if !ok || m == nil {
			return e, errors.Wrap(ErrUnsupported, "cannot materialise the view")
		}
		t = m
	}
	switch d := t.Data().(type) {
	case []float32:
		if len(d) < n {
			return e, errors.Wrapf(ErrUnsupported, "%d values for shape %v", len(d), e.shape)
		}
		e.f32 = d[:n:n]
	case float32:
		e.f32 = []float32{d}
	case []float64:
		if len(d) < n {
			return e, errors.Wrapf(ErrUnsupported, "%d values for shape %v", len(d), e.shape)
		}
		e.f64 = d[:n:n]
	case float64:
		e.f64 = []float64{d}
	default:
		return e, errors.Wrapf(ErrUnsupported, "data of type %T", d)
	}
	if len(e.f32)+len(e.f64) != n {
		return e, errors.Wrapf(ErrUnsupported, "%d values for shape %v", len(e.f32)+len(e.f64), e.shape)
	}
	return e, nil
}

// metaOf returns the metadata of m, checksum excluded.
func metaOf(m *Meta, pdt string) (map[string]string, error) {
	if len(m.Model) == 0 {
		return nil, errors.New("Meta.Model is empty (the model config is required)")
	}
	if !utf8.Valid(m.Model) || !json.Valid(m.Model) {
		return nil, errors.New("Meta.Model is not valid JSON")
	}
	meta := map[string]string{
		keyVersion: strconv.Itoa(FormatVersion),
		keyDtype:   pdt,
		keyModel:   string(m.Model),
		keyStep:    strconv.Itoa(m.Step),
		keyEpoch:   strconv.Itoa(m.Epoch),
		keySeed:    strconv.FormatUint(m.Seed, 10),
	}
	if len(m.Vocab) > 0 {
		if !utf8.Valid(m.Vocab) || !json.Valid(m.Vocab) {
			return nil, errors.New("Meta.Vocab is not valid JSON")
		}
		meta[keyVocab] = string(m.Vocab)
	}
	if len(m.RNG) > 0 {
		meta[keyRNG] = base64.StdEncoding.EncodeToString(m.RNG)
	}
	for k, v := range m.Extra {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, errors.Errorf("Meta.Extra[%q]: key and value must be valid UTF-8", k)
		}
		meta[extraPrefix+k] = v
	}
	return meta, nil
}

// encodeHeader returns the header JSON, metadata first, then the tensors in
// data order, padded with spaces to a multiple of 8 bytes.
func encodeHeader(entries []entry, meta map[string]string) []byte {
	var b bytes.Buffer
	str := func(s string) {
		j, _ := json.Marshal(s) // never fails for a string
		b.Write(j)
	}
	b.WriteString(`{"` + metadataKey + `":{`)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		str(k)
		b.WriteByte(':')
		str(meta[k])
	}
	b.WriteByte('}')
	for _, e := range entries {
		b.WriteByte(',')
		str(e.name)
		fmt.Fprintf(&b, `:{"dtype":%q,"shape":[`, e.dtype)
		for i, d := range e.shape {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, e.begin, e.end)
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes()
}

// write writes the whole file.
func (l *layout) write(w io.Writer) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(l.header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(l.header); err != nil {
		return err
	}
	buf := make([]byte, chunk)
	for i := range l.entries {
		if err := l.entries[i].writeData(w, buf); err != nil {
			return err
		}
	}
	return nil
}

// writeData writes e's data, little-endian, through buf.
func (e *entry) writeData(w io.Writer, buf []byte) error {
	for f := e.f32; len(f) > 0; {
		k := min(len(f), len(buf)/4)
		for i, v := range f[:k] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		f = f[k:]
	}
	for f := e.f64; len(f) > 0; {
		k := min(len(f), len(buf)/8)
		for i, v := range f[:k] {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		if _, err := w.Write(buf[:8*k]); err != nil {
			return err
		}
		f = f[k:]
	}
	return nil
}
