package torch

import (
	"io"
	"math"
	"os"

	"github.com/pkg/errors"
)

// Sentinel errors. Every error Read returns wraps one of ErrFormat and
// ErrGlobal (test with errors.Is or errors.Cause); StateDict.Get returns
// ErrMissing and ErrNotFloat.
var (
	// ErrFormat: the file is not a state_dict this package reads —
	// truncated, corrupt, another kind of file, or beyond a limit.
	ErrFormat = errors.New("torch: malformed or unsupported file")
	// ErrGlobal: the pickle names a global (a class or function) that is
	// not on the allow-list, or an opcode that would build an arbitrary
	// object. Nothing it names is ever run.
	ErrGlobal = errors.New("torch: pickle global refused")
	// ErrNotFloat: the tensor asked for has an integer, boolean or complex
	// dtype (see StateDict.Skipped).
	ErrNotFloat = errors.New("torch: not a floating-point tensor")
	// ErrMissing: the state_dict has no tensor of that name.
	ErrMissing = errors.New("torch: no such tensor")
)

const (
	// Magic number and protocol version of the legacy format.
	legacyMagic    = "1950a86a20f9469cfc6c"
	legacyProtocol = 1001

	// aliasFactor and aliasSlack bound how many values the tensors may hold
	// together: aliasFactor times the elements of the storages they view,
	// plus aliasSlack. Tied weights and views over one storage stay far
	// below it; a hostile file cannot make a few bytes of storage expand
	// into gigabytes through stride-0 or repeated views.
	aliasFactor = 16
	aliasSlack  = 1 << 16
)

// Tensor is one floating-point tensor of a state_dict.
type Tensor struct {
	// Name is the state_dict key, e.g. "rnn.weight_ih_l0".
	Name string
	// Shape is the tensor's size; empty for a 0-dim (scalar) tensor.
	Shape []int
	// DType is the dtype in the file: "float32", "float64", "float16" or
	// "bfloat16".
	DType string
	// Data holds the values in row-major (C) order, whatever the strides
	// in the file. Every float32, float16 and bfloat16 value is exactly
	// representable as a float64, so Data is exact for every dtype;
	// signaling NaNs come back quiet.
	Data []float64
}

// Size is the number of elements (the product of Shape).
func (t Tensor) Size() int { return len(t.Data) }

// Float32s returns the values as float32: exact for float32, float16 and
// bfloat16 tensors, rounded to nearest for float64 ones.
func (t Tensor) Float32s() []float32 {
	out := make([]float32, len(t.Data))
	for i, v := range t.Data {
		out[i] = float32(v)
	}
	return out
}

// Skipped records a tensor the file holds whose dtype is not a
// floating-point one (an int64 num_batches_tracked, a bool mask, …): it is
// read no further, but its key stays visible.
type Skipped struct {
	// Name is the state_dict key.
	Name string
	// Shape is the tensor's size.
	Shape []int
	// DType is PyTorch's name for it: "int64", "int32", "int16", "int8",
	// "uint8", "bool", "complex32", "complex64" or "complex128".
	DType string
}

// StateDict is a PyTorch state_dict as read from a file.
type StateDict struct {
	// Tensors holds the floating-point tensors, in the file's order.
	Tensors []Tensor
	// Skipped holds the tensors of other dtypes, in the file's order.
	Skipped []Skipped
	// Format is "zip" (torch.save since PyTorch 1.6) or "legacy"
	// (_use_new_zipfile_serialization=False).
	Format string
}

// Load reads the state_dict file at path (see Read).
func Load(path string) (*StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "torch: opening state_dict")
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, errors.Wrapf(err, "torch: reading %s", path)
	}
	sd, err := Read(f, info.Size())
	if err != nil {
		return nil, errors.Wrapf(err, "torch: reading %s", path)
	}
	return sd, nil
}

// Read reads a state_dict written by torch.save(model.state_dict(), …)
// from the size bytes of r, in the zip format or the legacy one. It never
// runs code from the file and refuses globals not on the allow-list
// (ErrGlobal); a file it cannot read gives an error wrapping ErrFormat.
func Read(r io.ReaderAt, size int64) (*StateDict, error) {
	if size < 0 {
		return nil, errors.Wrapf(ErrFormat, "negative size %d", size)
	}
	head := make([]byte, 2)
	if size < int64(len(head)) {
		return nil, errors.Wrapf(ErrFormat, "%d bytes: too short for a PyTorch file", size)
	}
	if err := newSource(r, 0, size).readAt(head, 0); err != nil {
		return nil, err
	}
	switch {
	case head[0] == 'P' && head[1] == 'K':
		return readZip(r, size)
	case head[0] == opProto:
		return readLegacy(r, size)
	case isTar(r, size):
		return nil, errors.Wrap(ErrFormat, "a tar archive: the tar format of PyTorch before 0.4 is not read")
	}
	return nil, errors.Wrapf(ErrFormat, "starts with %#x %#x: neither a zip archive nor a legacy pickle", head[0], head[1])
}

func isTar(r io.ReaderAt, size int64) bool {
	if size < 512 {
		return false
	}
	b := make([]byte, 5)
	n, _ := r.ReadAt(b, 257)
	return n == 5 && string(b) == "ustar"
}

// pending is a float tensor waiting for its storage's bytes.
type pending struct {
	name  string
	t     *tensorRef
	shape []int
	numel int64
}

// assemble turns the unpickled top-level object into a StateDict: the
// views are checked against their storages, the float storages read with
// fetch, and the values gathered.
func assemble(top any, format string, fetch func(*rootStorage) ([]byte, error)) (*StateDict, error) {
	d, ok := top.(*dict)
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "the file holds a %s, not a state_dict (a dict of tensors)", pyType(top))
	}
	sd := &StateDict{Format: format, Tensors: []Tensor{}, Skipped: []Skipped{}}
	var todo []pending
	var roots []*rootStorage
	seen := map[*rootStorage]bool{}
	var rootElems, total int64
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "key %d is a %s, not a string", i, pyType(k))
		}
		t, ok := d.vals[i].(*tensorRef)
		if !ok {
			hint := ""
			if _, isDict := d.vals[i].(*dict); isDict {
				hint = " (a training checkpoint? save or pass its model's state_dict)"
			}
			return nil, errors.Wrapf(ErrFormat, "key %q holds a %s, not a tensor%s", name, pyType(d.vals[i]), hint)
		}
		shape, numel, err := checkView(t)
		if err != nil {
			return nil, errors.Wrapf(err, "tensor %q", name)
		}
		root := t.st.root
		if !root.dt.float {
			sd.Skipped = append(sd.Skipped, Skipped{Name: name, Shape: shape, DType: root.dt.name})
			continue
		}
		todo = append(todo, pending{name: name, t: t, shape: shape, numel: numel})
		if !seen[root] {
			seen[root] = true
			roots = append(roots, root)
			rootElems = satAdd(rootElems, root.numel)
		}
		total = satAdd(total, numel)
		if limit := satAdd(satMul(aliasFactor, rootElems), aliasSlack); total > limit {
			return nil, errors.Wrapf(ErrFormat, "tensor %q: the tensors so far hold %d values over storages of %d elements (at most %d×%d+%d allowed: overlapping views?)",
				name, total, rootElems, aliasFactor, rootElems, aliasSlack)
		}
	}
	for _, root := range roots {
		data, err := fetch(root)
		if err != nil {
			return nil, err
		}
		if int64(len(data)) != root.numel*root.dt.size {
			return nil, errors.Wrapf(ErrFormat, "storage %q: %d bytes, want %d", root.key, len(data), root.numel*root.dt.size)
		}
		root.data = data
	}
	for _, p := range todo {
		sd.Tensors = append(sd.Tensors, Tensor{Name: p.name, Shape: p.shape, DType: p.t.st.root.dt.name, Data: gather(p.t, p.numel)})
	}
	return sd, nil
}

// checkView checks a tensor's size, strides and offset against its
// storage and returns its shape and element count.
func checkView(t *tensorRef) ([]int, int64, error) {
	if len(t.shape) != len(t.stride) {
		return nil, 0, errors.Wrapf(ErrFormat, "%d sizes but %d strides", len(t.shape), len(t.stride))
	}
	if t.offset < 0 {
		return nil, 0, errors.Wrapf(ErrFormat, "negative storage offset %d", t.offset)
	}
	shape := make([]int, len(t.shape))
	numel := int64(1)
	for i, n := range t.shape {
		if n < 0 {
			return nil, 0, errors.Wrapf(ErrFormat, "negative size %d in dimension %d", n, i)
		}
		if n > math.MaxInt {
			return nil, 0, errors.Wrapf(ErrFormat, "size %d in dimension %d too large", n, i)
		}
		if t.stride[i] < 0 {
			return nil, 0, errors.Wrapf(ErrFormat, "negative stride %d in dimension %d", t.stride[i], i)
		}
		shape[i] = int(n)
	}
	for _, n := range t.shape {
		if n == 0 {
			return shape, 0, nil
		}
	}
	last := t.offset // the highest element the view reads
	for i, n := range t.shape {
		if numel > math.MaxInt64/n {
			return nil, 0, errors.Wrapf(ErrFormat, "size %v overflows", t.shape)
		}
		numel *= n
		if n > 1 {
			if t.stride[i] > (math.MaxInt64-last)/(n-1) {
				return nil, 0, errors.Wrapf(ErrFormat, "size %v with stride %v and offset %d overflows", t.shape, t.stride, t.offset)
			}
			last += (n - 1) * t.stride[i]
		}
	}
	if last >= t.st.numel {
		return nil, 0, errors.Wrapf(ErrFormat, "size %v, stride %v and offset %d reach element %d of a %s storage of %d elements (%q)",
			t.shape, t.stride, t.offset, last, t.st.root.dt.name, t.st.numel, t.st.root.key)
	}
	return shape, numel, nil
}

// gather copies a checked view's elements, in row-major order, into a new
// slice of float64.
func gather(t *tensorRef, numel int64) []float64 {
	out := make([]float64, numel)
	if numel == 0 {
		return out
	}
	dec := decoder(t.st.root.dt.name)
	raw := t.st.root.data
	// Dimensions of size 1 move nothing: leave them out, so that each
	// element costs O(1) on average.
	var shape, stride []int64
	for i, n := range t.shape {
		if n > 1 {
			shape = append(shape, n)
			stride = append(stride, t.stride[i])
		}
	}
	nd := len(shape)
	idx := make([]int64, nd)
	off := t.st.offset + t.offset
	for i := range out {
		out[i] = dec(raw, off)
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < shape[d] {
				break
			}
			off -= stride[d] * shape[d]
			idx[d] = 0
		}
	}
	return out
}

// satAdd and satMul add and multiply non-negative int64s, saturating at
// math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
