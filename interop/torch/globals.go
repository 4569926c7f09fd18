package torch

import (
	"strings"

	"github.com/pkg/errors"
)

// globalKind says what an allowed global may be used for.
type globalKind int

const (
	kindNone        globalKind = iota // not on the allow-list
	kindCall                          // a function REDUCE may call
	kindStorageType                   // a storage class in a persistent id
	kindTensorType                    // a tensor class given to _rebuild_from_type_v2
)

// allowed is the allow-list: the only globals a pickle may name.
var allowed = map[global]globalKind{
	{"collections", "OrderedDict"}:                    kindCall,
	{"torch._utils", "_rebuild_tensor"}:               kindCall,
	{"torch._utils", "_rebuild_tensor_v2"}:            kindCall,
	{"torch._utils", "_rebuild_parameter"}:            kindCall,
	{"torch._utils", "_rebuild_parameter_with_state"}: kindCall,
	{"torch._tensor", "_rebuild_from_type_v2"}:        kindCall,
	{"torch", "Tensor"}:                               kindTensorType,
	{"torch.nn.parameter", "Parameter"}:               kindTensorType,
}

func init() {
	for name := range storageTypes {
		allowed[global{"torch", name}] = kindStorageType
	}
}

// dtype describes the elements of a storage type.
type dtype struct {
	name  string // PyTorch's name: float32, int64, …
	size  int64  // bytes per element
	float bool   // read into Tensor.Data; other dtypes are only listed
}

// storageTypes maps torch.<Name>Storage to its element type. Quantized
// storages are left out: their tensors are rebuilt by functions that are
// not on the allow-list.
var storageTypes = map[string]*dtype{
	"FloatStorage":         {"float32", 4, true},
	"DoubleStorage":        {"float64", 8, true},
	"HalfStorage":          {"float16", 2, true},
	"BFloat16Storage":      {"bfloat16", 2, true},
	"LongStorage":          {"int64", 8, false},
	"IntStorage":           {"int32", 4, false},
	"ShortStorage":         {"int16", 2, false},
	"CharStorage":          {"int8", 1, false},
	"ByteStorage":          {"uint8", 1, false},
	"BoolStorage":          {"bool", 1, false},
	"ComplexHalfStorage":   {"complex32", 4, false},
	"ComplexFloatStorage":  {"complex64", 8, false},
	"ComplexDoubleStorage": {"complex128", 16, false},
}

// globalHint adds advice to the error for a refused global.
func globalHint(module string) string {
	switch {
	case module == "__main__" || strings.HasPrefix(module, "torch.nn.modules"):
		return " (a whole model saved with torch.save(model)? save model.state_dict() instead)"
	case strings.HasPrefix(module, "__torch__"):
		return " (a TorchScript module? save its state_dict() instead)"
	case strings.HasPrefix(module, "numpy"):
		return " (numpy arrays are not read; save torch tensors)"
	}
	return ""
}

// rootStorage is one storage record of the file: its key, element type and
// element count; data is filled in when its bytes are read.
type rootStorage struct {
	key   string
	dt    *dtype
	numel int64
	data  []byte
}

// storageRef is what a persistent id stands for: a root storage, or (in
// legacy files) a slice of one.
type storageRef struct {
	root   *rootStorage
	offset int64 // in elements of root
	numel  int64
}

// tensorRef is a rebuilt tensor: a strided view into a storage, checked
// only when the state_dict is assembled (where its key is known).
type tensorRef struct {
	st     *storageRef
	offset int64 // storage offset, in elements
	shape  []int64
	stride []int64
}

// call runs an allowed function on its arguments.
func call(g global, args tuple) (any, error) {
	if allowed[g] != kindCall {
		return nil, errors.Wrapf(ErrGlobal, "%s is not callable", g)
	}
	switch g.name {
	case "OrderedDict":
		if len(args) != 0 {
			return nil, errors.Wrapf(ErrFormat, "collections.OrderedDict called with %d arguments", len(args))
		}
		return newDict(true), nil
	case "_rebuild_tensor", "_rebuild_tensor_v2":
		return rebuildTensor(g, args)
	case "_rebuild_parameter", "_rebuild_parameter_with_state":
		want := 3
		if g.name == "_rebuild_parameter_with_state" {
			want = 4
		}
		if len(args) != want {
			return nil, errors.Wrapf(ErrFormat, "%s with %d arguments, want %d", g, len(args), want)
		}
		t, ok := args[0].(*tensorRef)
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "%s of a %s, not a tensor", g, pyType(args[0]))
		}
		return t, nil
	case "_rebuild_from_type_v2":
		// (func, new_type, args, state): a tensor subclass rebuilt by func.
		if len(args) != 4 {
			return nil, errors.Wrapf(ErrFormat, "%s with %d arguments, want 4", g, len(args))
		}
		fn, ok := args[0].(global)
		if !ok || allowed[fn] != kindCall || fn.name == "_rebuild_from_type_v2" || fn.name == "OrderedDict" {
			return nil, errors.Wrapf(ErrFormat, "%s with function %s", g, pyType(args[0]))
		}
		if typ, ok := args[1].(global); !ok || allowed[typ] != kindTensorType {
			return nil, errors.Wrapf(ErrFormat, "%s with type %s", g, pyType(args[1]))
		}
		inner, ok := args[2].(tuple)
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "%s with %s arguments, not a tuple", g, pyType(args[2]))
		}
		return call(fn, inner)
	}
	return nil, errors.Wrapf(ErrGlobal, "%s is not callable", g)
}

// rebuildTensor reads _rebuild_tensor(storage, storage_offset, size,
// stride) and _rebuild_tensor_v2(…, requires_grad, backward_hooks[,
// metadata]).
func rebuildTensor(g global, args tuple) (*tensorRef, error) {
	min, max := 6, 7
	if g.name == "_rebuild_tensor" {
		min, max = 4, 4
	}
	if len(args) < min || len(args) > max {
		return nil, errors.Wrapf(ErrFormat, "%s with %d arguments", g, len(args))
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "%s of a %s, not a storage", g, pyType(args[0]))
	}
	offset, ok := args[1].(int64)
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "%s: storage offset is a %s", g, pyType(args[1]))
	}
	shape, err := ints(args[2])
	if err != nil {
		return nil, errors.Wrapf(err, "%s: size", g)
	}
	stride, err := ints(args[3])
	if err != nil {
		return nil, errors.Wrapf(err, "%s: stride", g)
	}
	if len(args) > 4 {
		if _, ok := args[4].(bool); !ok {
			return nil, errors.Wrapf(ErrFormat, "%s: requires_grad is a %s", g, pyType(args[4]))
		}
	}
	return &tensorRef{st: st, offset: offset, shape: shape, stride: stride}, nil
}

// maxDims bounds a tensor's dimensions. PyTorch's own kernels stop at 25;
// the bound keeps a shape tuple the pickle shares among many tensors (one
// memo entry, two bytes a reference) from costing its length for each.
const maxDims = 64

// ints reads a tuple of Python ints, a tensor's size or stride.
func ints(v any) ([]int64, error) {
	t, ok := v.(tuple)
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "a %s, not a tuple", pyType(v))
	}
	if len(t) > maxDims {
		return nil, errors.Wrapf(ErrFormat, "%d dimensions (at most %d)", len(t), maxDims)
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "element %d is a %s, not an int", i, pyType(x))
		}
		out[i] = n
	}
	return out, nil
}

// build applies BUILD's state: only an OrderedDict's attributes (a
// state_dict's _metadata) are accepted, and dropped.
func build(inst, state any) error {
	d, ok := inst.(*dict)
	if !ok || !d.ordered {
		return errors.Wrapf(ErrFormat, "BUILD on a %s", pyType(inst))
	}
	if t, ok := state.(tuple); ok && len(t) == 2 {
		state = t[0] // (dict state, slot state)
		if _, ok := t[1].(*dict); !ok && t[1] != nil {
			return errors.Wrapf(ErrFormat, "BUILD with slot state %s", pyType(t[1]))
		}
	}
	if _, ok := state.(*dict); !ok && state != nil {
		return errors.Wrapf(ErrFormat, "BUILD with state %s", pyType(state))
	}
	return nil
}
