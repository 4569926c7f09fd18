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

	"github.com/rnnkit/rnnkit/graph"
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

// parseHeader parses the header JSON strictly, keeping the tensors in their
// order: no duplicate or unknown keys, exact field names, integers only.
func parseHeader(b []byte) ([]entry, map[string]string, error) {
	if len(b) == 0 || b[0] != '{' {
		return nil, nil, corrupt("the header does not start with '{'")
	}
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(b))}
	p.dec.UseNumber()
	if err := p.delim('{'); err != nil {
		return nil, nil, err
	}
	var entries []entry
	var meta map[string]string
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.str()
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			return nil, nil, corrupt("header: duplicate key %.80q", key)
		}
		seen[key] = true
		if key == metadataKey {
			if meta, err = p.stringMap(); err != nil {
				return nil, nil, errors.Wrap(err, metadataKey)
			}
			continue
		}
		e, err := p.entry(key)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "tensor %.80q", key)
		}
		entries = append(entries, e)
	}
	if err := p.delim('}'); err != nil {
		return nil, nil, err
	}
	if tok, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, nil, corrupt("header: after the JSON object: %v", err)
		}
		return nil, nil, corrupt("header: %v after the JSON object", tok)
	}
	if meta == nil {
		return nil, nil, corrupt("header: no %s", metadataKey)
	}
	return entries, meta, nil
}

// jsonParser reads the header's JSON token by token.
type jsonParser struct{ dec *json.Decoder }

func (p *jsonParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, corrupt("header: unexpected end of JSON")
		}
		return nil, corrupt("header: %v", err)
	}
	return tok, nil
}

func (p *jsonParser) delim(d json.Delim) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return corrupt("header: want %v, got %v", d, describe(tok))
	}
	return nil
}

func (p *jsonParser) str() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", corrupt("header: want a string, got %v", describe(tok))
	}
	return s, nil
}

func (p *jsonParser) uint() (uint64, error) {
	tok, err := p.token()
	if err != nil {
		return 0, err
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, corrupt("header: want an integer, got %v", describe(tok))
	}
	u, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0, corrupt("header: want a non-negative integer, got %.40s", num)
	}
	return u, nil
}

// describe formats a JSON token briefly for an error message.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return t.String()
	case string:
		return fmt.Sprintf("the string %.40q", t)
	case json.Number:
		return fmt.Sprintf("the number %.40s", string(t))
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", t)
	}
}

func (p *jsonParser) stringMap() (map[string]string, error) {
	if err := p.delim('{'); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for p.dec.More() {
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, corrupt("duplicate key %.80q", k)
		}
		v, err := p.str()
		if err != nil {
			return nil, errors.Wrapf(err, "%.80q", k)
		}
		m[k] = v
	}
	return m, p.delim('}')
}

func (p *jsonParser) entry(name string) (entry, error) {
	e := entry{name: name}
	if err := p.delim('{'); err != nil {
		return e, err
	}
	var haveDtype, haveShape, haveOffsets bool
	for p.dec.More() {
		k, err := p.str()
		if err != nil {
			return e, err
		}
		switch k {
		case "dtype":
			if haveDtype {
				return e, corrupt("duplicate dtype")
			}
			haveDtype = true
			if e.dtype, err = p.str(); err != nil {
				return e, errors.Wrap(err, "dtype")
			}
		case "shape":
			if haveShape {
				return e, corrupt("duplicate shape")
			}
			haveShape = true
			if err := p.delim('['); err != nil {
				return e, errors.Wrap(err, "shape")
			}
			e.shape = []int{}
			for p.dec.More() {
				d, err := p.uint()
				if err != nil {
					return e, errors.Wrap(err, "shape")
				}
				if len(e.shape) == maxDims {
					return e, corrupt("shape has more than %d dimensions", maxDims)
				}
				if d > math.MaxInt {
					return e, corrupt("shape: dimension %d is too large", d)
				}
				e.shape = append(e.shape, int(d))
			}
			if err := p.delim(']'); err != nil {
				return e, errors.Wrap(err, "shape")
			}
		case "data_offsets":
			if haveOffsets {
				return e, corrupt("duplicate data_offsets")
			}
			haveOffsets = true
			if err := p.delim('['); err != nil {
				return e, errors.Wrap(err, "data_offsets")
			}
			if e.begin, err = p.uint(); err != nil {
				return e, errors.Wrap(err, "data_offsets")
			}
			if e.end, err = p.uint(); err != nil {
				return e, errors.Wrap(err, "data_offsets")
			}
			if err := p.delim(']'); err != nil {
				return e, errors.Wrap(err, "data_offsets (want two integers)")
			}
		default:
			return e, corrupt("unknown field %.40q", k)
		}
	}
	if err := p.delim('}'); err != nil {
		return e, err
	}
	if !haveDtype || !haveShape || !haveOffsets {
		return e, corrupt("want dtype, shape and data_offsets")
	}
	return e, nil
}

// parseMeta parses the metadata of a verified file.
func parseMeta(raw map[string]string) (Meta, tensor.Dtype, error) {
	var m Meta
	var dt tensor.Dtype
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	required := map[string]bool{keyDtype: false, keyModel: false, keyStep: false, keyEpoch: false, keySeed: false}
	for _, k := range keys {
		v := raw[k]
		if _, ok := required[k]; ok {
			required[k] = true
		}
		var err error
		switch k {
		case keyVersion, keyChecksum: // checked already
		case keyDtype:
			switch v {
			case dtypeF32:
				dt = tensor.Float32
			case dtypeF64:
				dt = tensor.Float64
			default:
				err = corrupt("%.40q is not F32 or F64", v)
			}
		case keyModel, keyVocab:
			if !json.Valid([]byte(v)) {
				err = corrupt("not valid JSON")
			}
			if k == keyModel {
				m.Model = json.RawMessage(v)
			} else {
				m.Vocab = json.RawMessage(v)
			}
		case keyStep:
			m.Step, err = parseInt(v)
		case keyEpoch:
			m.Epoch, err = parseInt(v)
		case keySeed:
			m.Seed, err = strconv.ParseUint(v, 10, 64)
			if err != nil || strconv.FormatUint(m.Seed, 10) != v {
				err = corrupt("%.40q is not a decimal uint64", v)
			}
		case keyRNG:
			if m.RNG, err = base64.StdEncoding.Strict().DecodeString(v); err != nil {
				err = corrupt("not standard base64: %v", err)
			}
			if len(m.RNG) == 0 {
				m.RNG = nil
			}
		default:
			x, ok := strings.CutPrefix(k, extraPrefix)
			if !ok {
				err = corrupt("unknown key (extra keys start with %q)", extraPrefix)
				break
			}
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[x] = v
		}
		if err != nil {
			return m, dt, errors.Wrapf(err, "metadata %.80q", k)
		}
	}
	for _, k := range []string{keyDtype, keyModel, keyStep, keyEpoch, keySeed} {
		if !required[k] {
			return m, dt, corrupt("metadata: no %s", k)
		}
	}
	return m, dt, nil
}

// parseInt parses a decimal int in canonical form.
func parseInt(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, strconv.IntSize)
	if err != nil || strconv.FormatInt(n, 10) != v {
		return 0, corrupt("%.40q is not a decimal integer", v)
	}
	return int(n), nil
}
