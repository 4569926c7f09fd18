// Package torch reads PyTorch state_dict files — what
// torch.save(model.state_dict(), path) writes — without Python and without
// running any code from the file.
//
// # Formats
//
// Read and Load take both formats torch.save writes:
//
//   - the zip format (PyTorch 1.6 and later): <folder>/data.pkl, the
//     pickled state_dict, and <folder>/data/<key>, one record per storage,
//     where <folder> is whatever name the writer chose (the file's stem, or
//     "archive" when saved to a file object). A <folder>/byteorder record,
//     where present, must say "little". Records may be stored or deflated;
//     each is checked against its CRC-32.
//   - the legacy format (_use_new_zipfile_serialization=False): the pickles
//     of the magic number, protocol version 1001 and the system info
//     (little_endian must be true), the object pickle, the pickle of the
//     storage keys, then each storage as an int64 element count and its
//     bytes. Storage views of PyTorch before 1.0 (view_metadata) are read.
//
// Pickle protocols 1 to 5 are read (torch.save writes 2 unless given
// pickle_protocol). TorchScript archives (torch.jit.save), whole models
// (torch.save(model)), the tar format of PyTorch before 0.4 and big-endian
// files are refused with an error saying so.
//
// # Tensors
//
// The file must hold a dict or OrderedDict of tensors (or parameters).
// float32, float64, float16 and bfloat16 tensors are read into
// Tensor.Data as float64 in row-major order: every value exactly, the half
// types converted as PyTorch converts them to float32 (subnormals,
// infinities and NaN payloads included; a signaling NaN comes back quiet).
// Views are honoured: a storage offset, any non-negative strides (a
// transposed tensor saved as-is, a column, a stride-0 expanded tensor) and
// several tensors over one storage (tied weights) give each tensor its own
// values. Tensors of other dtypes (int64, int32, int16, int8, uint8, bool,
// complex) are not read: they are listed in StateDict.Skipped with their
// key, dtype and shape, StateDict.Get refuses them with an error naming the
// key and dtype (ErrNotFloat), and StateDict.CheckFloat turns their
// presence into an error for callers that want none. A PyTorch state_dict
// holds such buffers legitimately (BatchNorm's num_batches_tracked is
// int64), which is why they do not fail Read.
//
// Keys keep the file's order. StateDict.Strip removes a module prefix
// ("module." of DataParallel) and StateDict.Rename maps every key through
// a function.
//
// # Safety
//
// The pickles are read by this package's own unpickler, which builds plain
// Go values and calls nothing: a GLOBAL or STACK_GLOBAL must name one of
//
//	collections.OrderedDict
//	torch._utils._rebuild_tensor
//	torch._utils._rebuild_tensor_v2
//	torch._utils._rebuild_parameter
//	torch._utils._rebuild_parameter_with_state
//	torch._tensor._rebuild_from_type_v2 (only around the functions above,
//	    for torch.Tensor or torch.nn.parameter.Parameter)
//	torch.Tensor, torch.nn.parameter.Parameter (as types only)
//	torch.FloatStorage, DoubleStorage, HalfStorage, BFloat16Storage,
//	    LongStorage, IntStorage, ShortStorage, CharStorage, ByteStorage,
//	    BoolStorage, ComplexHalfStorage, ComplexFloatStorage,
//	    ComplexDoubleStorage (in persistent ids only)
//
// and anything else (os.system, builtins.eval, a model's class…) is refused
// with an error naming the global (ErrGlobal), as are the opcodes that
// build instances of arbitrary classes (INST, OBJ, NEWOBJ, NEWOBJ_EX) and
// the extension registry (EXT1/2/4). The functions on the list are not
// Python's: each is this package's reading of its arguments.
//
// Hostile or damaged input gives an error, never a panic, and is checked
// before anything is allocated for it: lengths in the pickle against the
// bytes left; a storage record's size against its element count and dtype,
// and against the bytes of the file that hold it (deflate cannot expand
// more than 1032:1); sizes, strides and offsets against overflow,
// negatives and the storage they view; each legacy storage's element
// count against the pickle's. The tensors together may hold at most 16
// times the elements of the storages they view, plus 65,536, so a few bytes
// of storage cannot be expanded into gigabytes through stride-0 or
// repeated views. A tensor may have at most 64 dimensions (PyTorch's kernels
// stop at 25), so that a shape the pickle shares among many tensors costs
// little for each. data.pkl may be at most 1 GiB. Memory otherwise follows
// the file: reading a file of n bytes of float32 storages allocates about
// 2n bytes of float64 values.
package torch
