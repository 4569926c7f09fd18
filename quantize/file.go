package quantize

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/internal/qgemm"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// Format is the value of the metadata key "format" of an int8 checkpoint;
// FormatVersion that of "format_version".
const (
	Format        = "rnnkit-int8"
	FormatVersion = "1"
	// ScaleSuffix is appended to a quantized matrix's name to name its
	// scales.
	ScaleSuffix = ".scale"
	// maxHeader bounds the header, as checkpoint.MaxHeader does.
	maxHeader = checkpoint.MaxHeader
)

// Tensor is a float32 tensor kept as it is (a bias, a peephole vector).
type Tensor struct {
	Shape []int
	Data  []float32
}

// File is an int8 checkpoint in memory: the float checkpoint's metadata,
// its parameters in order, each either quantized (a matrix, int8 with a
// float32 scale per row) or kept in float32.
type File struct {
	Meta        checkpoint.Meta
	ParamsDtype string   // "F32" or "F64": the dtype of the float checkpoint
	Names       []string // the parameters, in the float checkpoint's order
	Int8        map[string]*qgemm.Weights
	Float       map[string]Tensor
}

type header struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// metaStrings is the file's metadata, checksum aside.
func (f *File) metaStrings() (map[string]string, error) {
	m := map[string]string{
		"format": Format, "format_version": FormatVersion, "params_dtype": f.ParamsDtype,
		"model": string(f.Meta.Model), "step": strconv.Itoa(f.Meta.Step), "epoch": strconv.Itoa(f.Meta.Epoch),
		"seed": strconv.FormatUint(f.Meta.Seed, 10),
	}
	if len(f.Meta.Vocab) > 0 {
		m["vocab"] = string(f.Meta.Vocab)
	}
	for k, v := range f.Meta.Extra {
		m["x."+k] = v
	}
	if f.ParamsDtype != "F32" && f.ParamsDtype != "F64" {
		return nil, errors.Errorf("quantize: params dtype %q (want F32 or F64)", f.ParamsDtype)
	}
	if !json.Valid(f.Meta.Model) {
		return nil, errors.New("quantize: the model config is not valid JSON")
	}
	return m, nil
}

// entry is one stored tensor: its name, header and bytes.
type entry struct {
	name string
	h    header
	data []byte
}

func (f *File) entries() ([]entry, error) {
	var out []entry
	for _, name := range f.Names {
		if w, ok := f.Int8[name]; ok {
			q := make([]byte, len(w.Q))
			for i, v := range w.Q {
				q[i] = byte(v)
			}
			out = append(out, entry{name, header{Dtype: "I8", Shape: []int{w.N, w.K}}, q},
				entry{name + ScaleSuffix, header{Dtype: "F32", Shape: []int{w.N}}, f32bytes(w.Scale)})
			continue
		}
		t, ok := f.Float[name]
		if !ok {
			return nil, errors.Errorf("quantize: parameter %q is neither quantized nor kept", name)
		}
		out = append(out, entry{name, header{Dtype: "F32", Shape: t.Shape}, f32bytes(t.Data)})
	}
	return out, nil
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// checksum is the SHA-256 of the tensor table, the metadata (sorted by
// key) and the data, each string preceded by its length.
func checksum(es []entry, meta map[string]string) string {
	h := sha256.New()
	u := func(n int) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	s := func(x string) { u(len(x)); io.WriteString(h, x) }
	u(len(es))
	for _, e := range es {
		s(e.name)
		s(e.h.Dtype)
		u(len(e.h.Shape))
		for _, d := range e.h.Shape {
			u(d)
		}
		u(int(e.h.Offsets[0]))
		u(int(e.h.Offsets[1]))
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	u(len(keys))
	for _, k := range keys {
		s(k)
		s(meta[k])
	}
	for _, e := range es {
		h.Write(e.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Save writes f to path (a temporary file renamed over path, so a failed
// Save leaves no half file).
func (f *File) Save(path string) (err error) {
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".quantize-*.tmp")
	if err != nil {
		return errors.Wrap(err, "quantize")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(b); err != nil {
		return errors.Wrap(err, "quantize")
	}
	if err = tmp.Sync(); err != nil {
		return errors.Wrap(err, "quantize")
	}
	if err = tmp.Close(); err != nil {
		return errors.Wrap(err, "quantize")
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return errors.Wrap(err, "quantize")
	}
	return errors.Wrap(os.Rename(tmp.Name(), path), "quantize")
}

// Marshal returns the file's bytes (the layout of docs/compression.md).
func (f *File) Marshal() ([]byte, error) {
	meta, err := f.metaStrings()
	if err != nil {
		return nil, err
	}
	es, err := f.entries()
	if err != nil {
		return nil, err
	}
	off := int64(0)
	for i := range es {
		es[i].h.Offsets = [2]int64{off, off + int64(len(es[i].data))}
		off += int64(len(es[i].data))
	}
	meta["checksum"] = checksum(es, meta)
	// The header: __metadata__ first, then the tensors in order.
	var hb bytes.Buffer
	hb.WriteString(`{"__metadata__":`)
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, errors.Wrap(err, "quantize")
	}
	hb.Write(mb)
	for _, e := range es {
		nb, _ := json.Marshal(e.name)
		eb, _ := json.Marshal(e.h)
		hb.WriteByte(',')
		hb.Write(nb)
		hb.WriteByte(':')
		hb.Write(eb)
	}
	hb.WriteByte('}')
	for (8+hb.Len())%8 != 0 {
		hb.WriteByte(' ')
	}
	if hb.Len() > maxHeader {
		return nil, errors.Errorf("quantize: a header of %d bytes, more than %d", hb.Len(), maxHeader)
	}
	out := make([]byte, 8, 8+hb.Len()+int(off))
	binary.LittleEndian.PutUint64(out, uint64(hb.Len()))
	out = append(out, hb.Bytes()...)
	for _, e := range es {
		out = append(out, e.data...)
	}
	return out, nil
}

// IsInt8 reports whether the file at path is an int8 checkpoint (its
// header's metadata says format rnnkit-int8); it reads only the header.
func IsInt8(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	r := bufio.NewReader(fh)
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return false
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > maxHeader {
		return false
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return false
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	return json.Unmarshal(hb, &h) == nil && h.Meta["format"] == Format
}

// Load reads an int8 checkpoint written by [File.Save], checking all of it.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "quantize")
	}
	f, err := Unmarshal(b)
	return f, errors.Wrapf(err, "%s", path)
}

func corrupt(format string, a ...any) error {
	return errors.Wrapf(ErrCorrupt, format, a...)
}

// Unmarshal parses an int8 checkpoint's bytes.
func Unmarshal(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, corrupt("%d bytes, shorter than the header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, corrupt("a header of %d bytes in a file of %d", n, len(b))
	}
	hb, data := b[8:8+n], b[8+n:]
	dec := json.NewDecoder(bytes.NewReader(hb))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, corrupt("header: %v", err)
	}
	var meta map[string]string
	if err := json.Unmarshal(raw["__metadata__"], &meta); err != nil || meta == nil {
		return nil, corrupt("header: no __metadata__ object of strings")
	}
	delete(raw, "__metadata__")
	if meta["format"] != Format {
		return nil, errors.Wrapf(ErrNotInt8, "format %q", meta["format"])
	}
	if v := meta["format_version"]; v != FormatVersion {
		return nil, corrupt("format_version %q, this package reads %q", v, FormatVersion)
	}
	// The tensors in data order.
	var es []entry
	for name, r := range raw {
		var h header
		d := json.NewDecoder(bytes.NewReader(r))
		d.DisallowUnknownFields()
		if err := d.Decode(&h); err != nil {
			return nil, corrupt("tensor %q: %v", name, err)
		}
		es = append(es, entry{name: name, h: h})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].h.Offsets[0] < es[j].h.Offsets[0] })
	off := int64(0)
	for i := range es {
		e := &es[i]
		size := int64(1)
		if len(e.h.Shape) == 0 || len(e.h.Shape) > 2 {
			return nil, corrupt("tensor %q: shape %v (want 1 or 2 dimensions)", e.name, e.h.Shape)
		}
		for _, d := range e.h.Shape {
			if d < 1 || int64(d) > int64(len(data)) {
				return nil, corrupt("tensor %q: shape %v", e.name, e.h.Shape)
			}
			size *= int64(d)
			if size > int64(len(data)) {
				return nil, corrupt("tensor %q: shape %v larger than the file", e.name, e.h.Shape)
			}
		}
		switch e.h.Dtype {
		case "F32":
			size *= 4
		case "I8":
		default:
			return nil, corrupt("tensor %q: dtype %q (want I8 or F32)", e.name, e.h.Dtype)
		}
		if e.h.Offsets[0] != off || e.h.Offsets[1] != off+size || e.h.Offsets[1] > int64(len(data)) {
			return nil, corrupt("tensor %q: bytes %v, want [%d, %d] within %d", e.name, e.h.Offsets, off, off+size, len(data))
		}
		e.data = data[off : off+size]
		off += size
	}
	if off != int64(len(data)) {
		return nil, corrupt("%d bytes of data, the tensors cover %d", len(data), off)
	}
	want := meta["checksum"]
	delete(meta, "checksum")
	if got := checksum(es, meta); got != want {
		return nil, corrupt("checksum %q, the contents give %q", want, got)
	}
	f := &File{ParamsDtype: meta["params_dtype"], Int8: map[string]*qgemm.Weights{}, Float: map[string]Tensor{}}
	var err error
	if f.Meta, err = parseMeta(meta); err != nil {
		return nil, err
	}
	byName := map[string]*entry{}
	for i := range es {
		byName[es[i].name] = &es[i]
	}
	for _, e := range es {
		if strings.HasSuffix(e.name, ScaleSuffix) {
			if q, ok := byName[strings.TrimSuffix(e.name, ScaleSuffix)]; ok && q.h.Dtype == "I8" {
				continue
			}
		}
		f.Names = append(f.Names, e.name)
		if e.h.Dtype == "F32" {
			f.Float[e.name] = Tensor{Shape: e.h.Shape, Data: f32s(e.data)}
			continue
		}
		if len(e.h.Shape) != 2 {
			return nil, corrupt("int8 tensor %q: shape %v, want a matrix", e.name, e.h.Shape)
		}
		s, ok := byName[e.name+ScaleSuffix]
		if !ok || s.h.Dtype != "F32" || len(s.h.Shape) != 1 || s.h.Shape[0] != e.h.Shape[0] {
			return nil, corrupt("int8 tensor %q [%d, %d] has no F32 %q of %d scales", e.name, e.h.Shape[0], e.h.Shape[1], e.name+ScaleSuffix, e.h.Shape[0])
		}
		q := make([]int8, len(e.data))
		for i, v := range e.data {
			q[i] = int8(v)
		}
		w, err := qgemm.NewWeights(q, f32s(s.data), e.h.Shape[0], e.h.Shape[1])
		if err != nil {
			return nil, corrupt("int8 tensor %q: %v", e.name, err)
		}
		f.Int8[e.name] = w
	}
	return f, nil
}

func f32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func parseMeta(m map[string]string) (checkpoint.Meta, error) {
	var c checkpoint.Meta
	if m["params_dtype"] != "F32" && m["params_dtype"] != "F64" {
		return c, corrupt("params_dtype %q", m["params_dtype"])
	}
	if !json.Valid([]byte(m["model"])) {
		return c, corrupt("metadata model is not JSON")
	}
	c.Model = json.RawMessage(m["model"])
	if v, ok := m["vocab"]; ok {
		if !json.Valid([]byte(v)) {
			return c, corrupt("metadata vocab is not JSON")
		}
		c.Vocab = json.RawMessage(v)
	}
	var err error
	if c.Step, err = strconv.Atoi(m["step"]); err != nil || c.Step < 0 {
		return c, corrupt("metadata step %q", m["step"])
	}
	if c.Epoch, err = strconv.Atoi(m["epoch"]); err != nil || c.Epoch < 0 {
		return c, corrupt("metadata epoch %q", m["epoch"])
	}
	if c.Seed, err = strconv.ParseUint(m["seed"], 10, 64); err != nil {
		return c, corrupt("metadata seed %q", m["seed"])
	}
	for k, v := range m {
		if x, ok := strings.CutPrefix(k, "x."); ok {
			if c.Extra == nil {
				c.Extra = map[string]string{}
			}
			c.Extra[x] = v
		}
	}
	return c, nil
}
