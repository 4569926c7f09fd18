package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func readBytes(b []byte) (*StateDict, error) { return Read(bytes.NewReader(b), int64(len(b))) }

// The hand-built files' good form: three views over one float32 storage.
var (
	goodFakes = []fake{
		{name: "w", storage: "FloatStorage", key: "0", numel: 6, shape: []int64{2, 3}, stride: []int64{3, 1}},
		{name: "w_t", storage: "FloatStorage", key: "0", numel: 6, shape: []int64{3, 2}, stride: []int64{1, 3}},
		{name: "tail", storage: "FloatStorage", key: "0", numel: 6, offset: 4, shape: []int64{2}, stride: []int64{1}},
	}
	goodStorage = float32s(1, 2, 3, 4, 5, 6)
	goodValues  = map[string][]float64{"w": {1, 2, 3, 4, 5, 6}, "w_t": {1, 4, 2, 5, 3, 6}, "tail": {5, 6}}
)

func goodZip(t testing.TB) []byte {
	return zipFile(t, stateDict(false, goodFakes...), record{"0", goodStorage})
}

func goodLegacy() []byte {
	return legacyFile(stateDict(true, goodFakes...), legacyStorage{"0", 6, goodStorage})
}

// TestHandBuilt: the builder of the bad-input tests makes files that read,
// so that what the tests below break is the one thing each changes.
func TestHandBuilt(t *testing.T) {
	for name, b := range map[string][]byte{"zip": goodZip(t), "legacy": goodLegacy()} {
		sd, err := readBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sd.Format != name || len(sd.Tensors) != 3 {
			t.Fatalf("%s: format %q, %d tensors", name, sd.Format, len(sd.Tensors))
		}
		for _, tn := range sd.Tensors {
			if !reflect.DeepEqual(tn.Data, goodValues[tn.Name]) {
				t.Errorf("%s: %s = %v, want %v", name, tn.Name, tn.Data, goodValues[tn.Name])
			}
		}
	}
	// A legacy storage view (PyTorch < 1.0): storage "0"[2:5].
	p := newPickle(2).global("collections", "OrderedDict").op(opEmptyTuple, opReduce).str("v")
	p.global("torch._utils", "_rebuild_tensor_v2").op(opMark)
	p.op(opMark).str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(6)
	p.op(opMark).str("view").int(2).int(3).op(opTuple, opTuple, opBinPersID)
	p.int(1).ints(2).ints(1).op(opNewFalse).op(opEmptyDict, opTuple, opReduce, opSetItem)
	sd, err := readBytes(legacyFile(p.stop(), legacyStorage{"0", 6, goodStorage}))
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Tensors[0].Data; !reflect.DeepEqual(got, []float64{4, 5}) {
		t.Errorf("storage view: %v, want [4 5]", got)
	}
}

// badCase is one damaged file and what its error must say.
type badCase struct {
	name string
	file []byte
	want string // a substring of the error
	is   error  // the sentinel it wraps
}

func checkBad(t *testing.T, cases []badCase) {
	t.Helper()
	for _, c := range cases {
		sd, err := readBytes(c.file)
		if err == nil {
			t.Errorf("%s: no error (%d tensors)", c.name, len(sd.Tensors))
			continue
		}
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want one wrapping %v and saying %q", c.name, err, c.is, c.want)
		}
	}
}

func with(f fake, change func(*fake)) fake {
	f.shape = append([]int64(nil), f.shape...)
	f.stride = append([]int64(nil), f.stride...)
	change(&f)
	return f
}

// TestBadViews: sizes, strides and offsets that would read outside their
// storage, overflow or expand without bound; storages that disagree.
func TestBadViews(t *testing.T) {
	w := goodFakes[0]
	views := []struct {
		name string
		fs   []fake
		want string
	}{
		{"size beyond the storage", []fake{with(w, func(f *fake) { f.shape, f.stride = []int64{7}, []int64{1} })}, `tensor "w": size [7], stride [1] and offset 0 reach element 6 of a float32 storage of 6 elements`},
		{"offset beyond the storage", []fake{with(w, func(f *fake) { f.offset, f.shape, f.stride = 6, []int64{1}, []int64{1} })}, "reach element 6"},
		{"stride beyond the storage", []fake{with(w, func(f *fake) { f.stride = []int64{4, 1} })}, "reach element 6"},
		{"negative stride", []fake{with(w, func(f *fake) { f.stride = []int64{-3, 1} })}, "negative stride -3"},
		{"negative size", []fake{with(w, func(f *fake) { f.shape = []int64{2, -3} })}, "negative size -3"},
		{"negative offset", []fake{with(w, func(f *fake) { f.offset = -1 })}, "negative storage offset"},
		{"sizes and strides differ", []fake{with(w, func(f *fake) { f.stride = []int64{1} })}, "2 sizes but 1 strides"},
		{"shape product overflows", []fake{with(w, func(f *fake) { f.shape = []int64{1 << 40, 1 << 40} })}, "overflows"},
		{"shape of MaxInt64", []fake{with(w, func(f *fake) { f.shape, f.stride = []int64{math.MaxInt64, 2}, []int64{0, 0} })}, "overflows"},
		{"stride overflows", []fake{with(w, func(f *fake) { f.shape, f.stride = []int64{2, 2}, []int64{1 << 62, 1 << 62} })}, "overflows"},
		{"stride-0 expansion without bound", []fake{with(w, func(f *fake) { f.shape, f.stride = []int64{1 << 30}, []int64{0} })}, "overlapping views"},
		{"many views of one storage", func() []fake {
			// Each view is small; together they hold 100,000 values over
			// 6 elements.
			fs := make([]fake, 100)
			for i := range fs {
				fs[i] = with(w, func(f *fake) { f.name, f.shape, f.stride = fmt.Sprint("v", i), []int64{1000}, []int64{0} })
			}
			return fs
		}(), `tensor "v65": the tensors so far hold 66000 values over storages of 6 elements`},
		{"65 dimensions", []fake{with(w, func(f *fake) { f.shape, f.stride = make([]int64, 65), make([]int64, 65) })}, "size: 65 dimensions (at most 64)"},
		{"storage of 2^62 floats", []fake{with(w, func(f *fake) { f.numel = 1 << 62 })}, `storage "0" of 4611686018427387904 elements`},
		{"one key, two dtypes", []fake{w, with(w, func(f *fake) { f.name, f.storage = "d", "DoubleStorage" })}, `storage "0" is both float32×6 and float64×6`},
		{"one key, two sizes", []fake{w, with(w, func(f *fake) { f.name, f.numel = "d", 5 })}, `storage "0" is both float32×6 and float32×5`},
		{"int tensor beyond its storage", []fake{with(w, func(f *fake) { f.storage, f.numel, f.shape, f.stride = "LongStorage", 3, []int64{4}, []int64{1} })}, `size [4], stride [1] and offset 0 reach element 3 of a int64 storage of 3 elements`},
	}
	var cases []badCase
	for _, v := range views {
		cases = append(cases,
			badCase{"zip: " + v.name, zipFile(t, stateDict(false, v.fs...), record{"0", goodStorage}), v.want, ErrFormat},
			badCase{"legacy: " + v.name, legacyFile(stateDict(true, v.fs...), legacyStorage{"0", v.fs[0].numel, goodStorage}), v.want, ErrFormat})
	}
	checkBad(t, cases)
}

// TestBadStorages: storage records and legacy storages that are missing,
// short, long, listed twice or not at all.
func TestBadStorages(t *testing.T) {
	pkl := stateDict(false, goodFakes...)
	lpkl := stateDict(true, goodFakes...)
	huge := stateDict(false, with(goodFakes[0], func(f *fake) { f.numel = 1 << 40 }))
	checkBad(t, []badCase{
		{"zip: storage record missing", zipFile(t, pkl), `storage "0": no record "archive/data/0"`, ErrFormat},
		{"zip: storage record too short", zipFile(t, pkl, record{"0", goodStorage[:20]}), "holds 20 bytes, want 24", ErrFormat},
		{"zip: storage record too long", zipFile(t, pkl, record{"0", append(goodStorage, 0, 0, 0, 0)}), "holds 28 bytes, want 24", ErrFormat},
		{"zip: storage of 2^40 floats, 24 bytes", zipFile(t, huge, record{"0", goodStorage}), "want 4398046511104", ErrFormat},
		{"legacy: storage missing", legacyFile(lpkl), `storage "0" is referred to but not in the file`, ErrFormat},
		{"legacy: storage count differs", legacyFile(lpkl, legacyStorage{"0", 5, goodStorage[:20]}), "5 elements, the pickle says 6", ErrFormat},
		{"legacy: storage cut short", legacyFile(lpkl, legacyStorage{"0", 6, goodStorage[:20]}), `storage "0" of 6 × float32: unexpected end of data`, ErrFormat},
		{"legacy: storage listed twice", legacyFile(lpkl, legacyStorage{"0", 6, goodStorage}, legacyStorage{"0", 6, goodStorage}), "in the file twice", ErrFormat},
		{"legacy: unknown storage", legacyFile(lpkl, legacyStorage{"0", 6, goodStorage}, legacyStorage{"9", 1, goodStorage[:4]}), `storage "9" is in the file but no tensor refers to it`, ErrFormat},
		{"legacy: count of 2^62", legacyFile(lpkl, legacyStorage{"0", 1 << 62, goodStorage}), "4611686018427387904 elements", ErrFormat},
	})
}

// TestBadZip: archives that are corrupt or not state_dicts.
func TestBadZip(t *testing.T) {
	good := goodZip(t)
	flip := func(at int) []byte {
		b := append([]byte(nil), good...)
		b[at] ^= 0x40
		return b
	}
	storageAt := bytes.Index(good, goodStorage)
	pklAt := bytes.Index(good, []byte("_rebuild_tensor_v2"))
	if storageAt < 0 || pklAt < 0 {
		t.Fatal("hand-built zip: storage or pickle not found")
	}
	pkl := stateDict(false, goodFakes...)
	checkBad(t, []badCase{
		{"bit flip in a storage", flip(storageAt + 5), `record "archive/data/0": zip: checksum error`, ErrFormat},
		{"bit flip in data.pkl", flip(pklAt), "checksum error", ErrFormat},
		{"no central directory", good[:len(good)-22], "not a readable zip archive", ErrFormat},
		{"empty zip", zipOf(t), "0 <folder>/data.pkl records", ErrFormat},
		{"no data.pkl", zipOf(t, record{"archive/data/0", goodStorage}), "0 <folder>/data.pkl records", ErrFormat},
		{"two data.pkl", zipOf(t, record{"a/data.pkl", pkl}, record{"b/data.pkl", pkl}), "2 <folder>/data.pkl records", ErrFormat},
		{"data.pkl at the top", zipOf(t, record{"data.pkl", pkl}), "0 <folder>/data.pkl records", ErrFormat},
		{"record twice", zipOf(t, record{"archive/data.pkl", pkl}, record{"archive/data.pkl", pkl}), `holds "archive/data.pkl" twice`, ErrFormat},
		{"TorchScript", zipOf(t, record{"m/data.pkl", pkl}, record{"m/constants.pkl", pkl}), "TorchScript", ErrFormat},
		{"big-endian", zipOf(t, record{"archive/data.pkl", pkl}, record{"archive/byteorder", []byte("big")}, record{"archive/data/0", goodStorage}), `byteorder "big"`, ErrFormat},
		{"empty data.pkl", zipFile(t, nil, record{"0", goodStorage}), "no STOP opcode", ErrFormat},
		{"data.pkl without STOP", zipFile(t, pkl[:len(pkl)-1], record{"0", goodStorage}), "no STOP opcode", ErrFormat},
	})
	// A little-endian byteorder record, and another folder name, are fine.
	sd, err := readBytes(zipOf(t, record{"my model/data.pkl", pkl}, record{"my model/byteorder", []byte("little")}, record{"my model/data/0", goodStorage}))
	if err != nil || len(sd.Tensors) != 3 {
		t.Errorf("byteorder little: %v", err)
	}
}

// TestBadLegacy: legacy headers that are wrong.
func TestBadLegacy(t *testing.T) {
	good := goodLegacy()
	rest := good[len(legacyMagicPickle):]
	afterProto := rest[len(legacyProtoPickle):]
	var big bytes.Buffer
	big.Write(legacyMagicPickle)
	big.Write(legacyProtoPickle)
	big.Write(sysInfo(false))
	big.Write(afterProto[len(sysInfo(true)):])
	checkBad(t, []badCase{
		{"wrong magic", append(newPickle(2).int(12345).stop(), rest...), "wrong magic number (a int)", ErrFormat},
		{"magic off by one", append([]byte("\x80\x02\x8a\x0a\x6d\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."), rest...), "wrong magic number", ErrFormat},
		{"magic is a string", append(newPickle(2).str("PK").stop(), rest...), "wrong magic number (a str)", ErrFormat},
		{"protocol 1000", append(append(append([]byte(nil), legacyMagicPickle...), "\x80\x02M\xe8\x03."...), afterProto...), "want 1001", ErrFormat},
		{"big-endian", big.Bytes(), "big-endian", ErrFormat},
		{"sys info is a list", append(append(append([]byte(nil), legacyMagicPickle...), legacyProtoPickle...), newPickle(2).op(opEmptyList).stop()...), "sys info is a list", ErrFormat},
		{"magic only", legacyMagicPickle, "no STOP", ErrFormat},
		{"keys not a list", func() []byte {
			var b bytes.Buffer
			b.Write(legacyMagicPickle)
			b.Write(legacyProtoPickle)
			b.Write(sysInfo(true))
			b.Write(stateDict(true, goodFakes...))
			b.Write(newPickle(2).str("0").stop())
			return b.Bytes()
		}(), "storage keys are a str", ErrFormat},
		{"view metadata out of range", func() []byte {
			p := newPickle(2).op(opEmptyDict).str("v").global("torch._utils", "_rebuild_tensor_v2").op(opMark)
			p.op(opMark).str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(6)
			p.op(opMark).str("view").int(4).int(3).op(opTuple, opTuple, opBinPersID)
			p.int(0).ints(1).ints(1).op(opNewFalse, opEmptyDict, opTuple, opReduce, opSetItem)
			return legacyFile(p.stop(), legacyStorage{"0", 6, goodStorage})
		}(), "bad view metadata", ErrFormat},
	})
}

// TestNotAStateDict: files that are something else, or hold something
// else than a dict of tensors.
func TestNotAStateDict(t *testing.T) {
	tar := make([]byte, 1024)
	copy(tar[257:], "ustar")
	sdOf := func(p *pk) []byte { return zipFile(t, p.stop(), record{"0", goodStorage}) }
	tensorPickle := func() *pk {
		return newPickle(2).op(opEmptyDict).str("outer").op(opEmptyDict).str("w").tensor(goodFakes[0], false).op(opSetItem, opSetItem)
	}
	selfList := newPickle(2).op(opEmptyList, opBinPut, 0, opBinGet, 0, opAppend)
	checkBad(t, []badCase{
		{"empty", nil, "too short", ErrFormat},
		{"one byte", []byte{0x80}, "too short", ErrFormat},
		{"text", []byte("hello, world"), "neither a zip archive nor a legacy pickle", ErrFormat},
		{"tar", tar, "tar archive", ErrFormat},
		{"a list", sdOf(newPickle(2).op(opEmptyList)), "holds a list, not a state_dict", ErrFormat},
		{"a list holding itself", sdOf(selfList), "holds a list", ErrFormat},
		{"an int value", sdOf(newPickle(2).op(opEmptyDict).str("w").int(1).op(opSetItem)), `key "w" holds a int, not a tensor`, ErrFormat},
		{"a checkpoint", sdOf(tensorPickle()), `key "outer" holds a dict, not a tensor (a training checkpoint?`, ErrFormat},
		{"an int key", sdOf(newPickle(2).op(opEmptyDict).int(3).tensor(goodFakes[0], false).op(opSetItem)), "key 0 is a int, not a string", ErrFormat},
		{"a storage, not a tensor", sdOf(newPickle(2).op(opEmptyDict).str("s").op(opMark).str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(6).op(opTuple, opBinPersID, opSetItem)), `key "s" holds a storage`, ErrFormat},
		{"persistent id of another kind", sdOf(newPickle(2).op(opMark).str("module").global("torch", "FloatStorage").str("0").str("cpu").int(6).op(opTuple, opBinPersID)), "persistent id of kind str", ErrFormat},
		{"persistent id not a tuple", sdOf(newPickle(2).str("storage").op(opBinPersID)), "persistent id is a str", ErrFormat},
		{"text persistent id", sdOf(newPickle(2).op(opPersID).op([]byte("0\n")...)), "persistent id is a str", ErrFormat},
		{"persistent id in the magic pickle", append(newPickle(2).op(opNone, opBinPersID).stop(), 0), "persistent id where none may be", ErrFormat},
		{"_rebuild_tensor_v2 of a string", sdOf(newPickle(2).op(opEmptyDict).str("w").global("torch._utils", "_rebuild_tensor_v2").op(opMark).str("x").int(0).ints(1).ints(1).op(opNewFalse, opNone, opTuple, opReduce, opSetItem)), "of a str, not a storage", ErrFormat},
		{"_rebuild_parameter of an int", sdOf(newPickle(2).op(opEmptyDict).str("w").global("torch._utils", "_rebuild_parameter").int(1).op(opNewFalse, opNone, opTuple3, opReduce, opSetItem)), "of a int, not a tensor", ErrFormat},
		{"OrderedDict with arguments", sdOf(newPickle(2).global("collections", "OrderedDict").op(opEmptyList, opTuple1, opReduce)), "OrderedDict called with 1 arguments", ErrFormat},
		{"BUILD on a list", sdOf(newPickle(2).op(opEmptyList, opEmptyDict, opBuild)), "BUILD on a list", ErrFormat},
	})
}

// TestHostileGlobals: pickles that name code to run. Each is refused with
// ErrGlobal, naming the global, before anything could be called — in the
// zip's data.pkl, in a legacy file's object pickle and in its first
// pickle.
func TestHostileGlobals(t *testing.T) {
	reduce := func(p *pk) []byte { return p.str("echo pwned").op(opTuple1, opReduce).stop() }
	pickles := []struct {
		name, want string
		pkl        []byte
	}{
		{"os.system", `global "os.system" is not on the allow-list`, reduce(newPickle(2).global("os", "system"))},
		{"posix.system", `"posix.system"`, reduce(newPickle(2).global("posix", "system"))},
		{"builtins.eval by STACK_GLOBAL", `"builtins.eval"`, reduce(newPickle(4).op(opShortBinUni, 8).op([]byte("builtins")...).op(opShortBinUni, 4).op([]byte("eval")...).op(opStackGlobal))},
		{"builtins.exec", `"builtins.exec"`, reduce(newPickle(2).global("builtins", "exec"))},
		{"subprocess.Popen", `"subprocess.Popen"`, reduce(newPickle(2).global("subprocess", "Popen"))},
		{"builtins.getattr", `"builtins.getattr"`, reduce(newPickle(2).global("builtins", "getattr"))},
		{"torch.load", `"torch.load"`, reduce(newPickle(2).global("torch", "load"))},
		{"a model's class", `"__main__.Net" is not on the allow-list (a whole model saved with torch.save(model)?`, newPickle(2).global("__main__", "Net").stop()},
		{"torch.nn module", `"torch.nn.modules.rnn.LSTM"`, newPickle(2).global("torch.nn.modules.rnn", "LSTM").stop()},
		{"numpy", `"numpy.core.multiarray._reconstruct" is not on the allow-list (numpy arrays`, newPickle(2).global("numpy.core.multiarray", "_reconstruct").stop()},
		{"INST", "builds an instance of a class", newPickle(0).op([]byte("(ios\nsystem\nS'ls'\n.")...).Bytes()},
		{"OBJ", "builds an instance", newPickle(2).op(opMark).global("collections", "OrderedDict").op(opObj, opStop).Bytes()},
		{"NEWOBJ of an allowed class", "builds an instance", newPickle(2).global("collections", "OrderedDict").op(opEmptyTuple, opNewObj, opStop).Bytes()},
		{"NEWOBJ_EX", "builds an instance", newPickle(4).global("collections", "OrderedDict").op(opEmptyTuple, opEmptyDict, opNewObjEx, opStop).Bytes()},
		{"EXT1", "extension registry", newPickle(2).op(opExt1, 1, opStop).Bytes()},
		{"EXT4", "extension registry", newPickle(2).op(opExt4, 1, 0, 0, 0, opStop).Bytes()},
		{"a storage type called", "torch.FloatStorage is not callable", newPickle(2).global("torch", "FloatStorage").op(opEmptyTuple, opReduce, opStop).Bytes()},
		{"a tensor type called", "torch.Tensor is not callable", newPickle(2).global("torch", "Tensor").op(opEmptyTuple, opReduce, opStop).Bytes()},
	}
	var cases []badCase
	for _, p := range pickles {
		var lb bytes.Buffer
		lb.Write(legacyMagicPickle)
		lb.Write(legacyProtoPickle)
		lb.Write(sysInfo(true))
		lb.Write(p.pkl)
		cases = append(cases,
			badCase{"zip: " + p.name, zipFile(t, p.pkl), p.want, ErrGlobal},
			badCase{"legacy: " + p.name, lb.Bytes(), p.want, ErrGlobal},
			badCase{"legacy, first pickle: " + p.name, p.pkl, p.want, ErrGlobal})
	}
	checkBad(t, cases)

	// _rebuild_from_type_v2 only wraps the tensor functions, for tensor
	// types.
	wrap := func(fn, typ global) []byte {
		p := newPickle(2).op(opEmptyDict).str("w").global("torch._tensor", "_rebuild_from_type_v2").op(opMark)
		p.global(fn.module, fn.name).global(typ.module, typ.name).op(opEmptyTuple, opEmptyDict)
		return zipFile(t, p.op(opTuple, opReduce, opSetItem).stop())
	}
	checkBad(t, []badCase{
		{"from_type with OrderedDict", wrap(global{"collections", "OrderedDict"}, global{"torch", "Tensor"}), "with function collections.OrderedDict", ErrFormat},
		{"from_type of itself", wrap(global{"torch._tensor", "_rebuild_from_type_v2"}, global{"torch", "Tensor"}), "with function torch._tensor._rebuild_from_type_v2", ErrFormat},
		{"from_type with a storage type", wrap(global{"torch._utils", "_rebuild_tensor_v2"}, global{"torch", "FloatStorage"}), "with type torch.FloatStorage", ErrFormat},
	})
}

// TestRebuildFromType: a tensor wrapped in _rebuild_from_type_v2 (how
// PyTorch pickles tensor subclasses and tensors with attributes) and a
// parameter with state read as the tensor inside.
func TestRebuildFromType(t *testing.T) {
	// MARK func type args state TUPLE, then REDUCE.
	q := newPickle(2).global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opMark)
	q.str("w").global("torch._tensor", "_rebuild_from_type_v2").op(opMark)
	q.global("torch._utils", "_rebuild_tensor_v2").global("torch.nn.parameter", "Parameter")
	q.op(opMark).op(opMark).str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(6).op(opTuple, opBinPersID)
	q.int(0).ints(2, 3).ints(3, 1).op(opNewTrue, opEmptyDict, opTuple)
	q.op(opEmptyDict, opTuple, opReduce)
	q.str("p").global("torch._utils", "_rebuild_parameter_with_state").op(opMark)
	q.tensor(goodFakes[2], false).op(opNewTrue, opEmptyDict, opEmptyDict, opTuple, opReduce)
	q.op(opSetItems)
	sd, err := readBytes(zipFile(t, q.stop(), record{"0", goodStorage}))
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Keys(); !reflect.DeepEqual(got, []string{"w", "p"}) {
		t.Fatalf("keys %q", got)
	}
	if !reflect.DeepEqual(sd.Tensors[0].Data, goodValues["w"]) || !reflect.DeepEqual(sd.Tensors[1].Data, goodValues["tail"]) {
		t.Errorf("values %v %v", sd.Tensors[0].Data, sd.Tensors[1].Data)
	}
}

// TestTruncated: every proper prefix of every committed file is refused
// with ErrFormat.
func TestTruncated(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pt"))
	if len(files) == 0 {
		t.Fatal("no .pt files")
	}
	n := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		step := 1
		if testing.Short() {
			step = 7
		}
		for cut := 0; cut < len(b); cut += step {
			_, err := readBytes(b[:cut])
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("%s cut to %d of %d bytes: %v", file, cut, len(b), err)
			}
			n++
		}
	}
	t.Logf("%d prefixes of %d files refused", n, len(files))
}

// TestBitFlips: every byte of two small files flipped in turn gives an
// error (wrapping ErrFormat or ErrGlobal) or a state_dict whose tensors
// are consistent — never a panic.
func TestBitFlips(t *testing.T) {
	for _, file := range []string{"views.pt", "views_legacy.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		refused := 0
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 0xff
			sd, err := readBytes(c)
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrGlobal) {
					t.Fatalf("%s, byte %d flipped: %v", file, i, err)
				}
				refused++
				continue
			}
			checkConsistent(t, sd)
		}
		// Most bytes matter; the zip's timestamps, unread records and the
		// like do not.
		if refused < len(b)/3 {
			t.Errorf("%s: only %d of %d flips refused", file, refused, len(b))
		}
		t.Logf("%s: %d of %d flips refused", file, refused, len(b))
	}
}

// checkConsistent checks what Read returned: sizes match shapes, dtypes
// are the ones documented, names are unique.
func checkConsistent(t testing.TB, sd *StateDict) {
	t.Helper()
	if sd.Format != "zip" && sd.Format != "legacy" {
		t.Fatalf("format %q", sd.Format)
	}
	names := map[string]bool{}
	for _, tn := range sd.Tensors {
		n := 1
		for _, d := range tn.Shape {
			n *= d
		}
		if n != len(tn.Data) {
			t.Fatalf("%q: shape %v, %d values", tn.Name, tn.Shape, len(tn.Data))
		}
		switch tn.DType {
		case "float32", "float64", "float16", "bfloat16":
		default:
			t.Fatalf("%q: dtype %q", tn.Name, tn.DType)
		}
		if names[tn.Name] {
			t.Fatalf("%q twice", tn.Name)
		}
		names[tn.Name] = true
	}
	for _, s := range sd.Skipped {
		if names[s.Name] {
			t.Fatalf("%q twice", s.Name)
		}
		names[s.Name] = true
	}
}

// failingReader fails every read after the first n bytes.
type failingReader struct {
	b []byte
	n int64
}

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.n {
		return 0, errors.New("disk on fire")
	}
	return copy(p, r.b[off:]), nil
}

// TestReaderErrors: an I/O error is returned (wrapped), and a size larger
// than the data is a truncated file.
func TestReaderErrors(t *testing.T) {
	b := goodLegacy()
	if _, err := Read(failingReader{b, 100}, int64(len(b))); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("failing reader: %v", err)
	}
	if _, err := Read(bytes.NewReader(b), int64(len(b))+1000); !errors.Is(err, ErrFormat) {
		t.Errorf("size beyond the data: %v", err)
	}
	if _, err := Read(bytes.NewReader(b), -1); !errors.Is(err, ErrFormat) {
		t.Errorf("negative size: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.pt")); err == nil || !strings.Contains(err.Error(), "absent.pt") {
		t.Errorf("missing file: %v", err)
	}
	var _ io.ReaderAt = failingReader{}
}

// TestDeflatedRecords: a state_dict re-zipped with compression reads the
// same; a record whose stated size its compressed bytes cannot give is
// refused before anything is allocated for it.
func TestDeflatedRecords(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, r := range []record{{"archive/data.pkl", stateDict(false, goodFakes...)}, {"archive/data/0", goodStorage}} {
		f, err := w.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	sd, err := readBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Tensors[1].Data; !reflect.DeepEqual(got, goodValues["w_t"]) {
		t.Errorf("deflated: w_t = %v", got)
	}

	// setSize patches the uncompressed size of the central directory
	// entry of name (archive/zip reads sizes from there).
	setSize := func(b []byte, name string, size uint32) []byte {
		b = append([]byte(nil), b...)
		at := bytes.Index(b, []byte("PK\x01\x02"))
		for at >= 0 {
			n := int(binary.LittleEndian.Uint16(b[at+28:]))
			if string(b[at+46:at+46+n]) == name {
				binary.LittleEndian.PutUint32(b[at+24:], size)
				return b
			}
			next := bytes.Index(b[at+4:], []byte("PK\x01\x02"))
			if next < 0 {
				break
			}
			at += 4 + next
		}
		t.Fatalf("no central directory entry %q", name)
		return nil
	}
	stored := goodZip(t)
	checkBad(t, []badCase{
		{"deflated data.pkl of 2 GiB", setSize(good, "archive/data.pkl", 1<<31), "cannot become 2147483648", ErrFormat},
		{"stored data.pkl longer than its bytes", setSize(stored, "archive/data.pkl", 1<<20), "stored, but", ErrFormat},
		{"stored storage of 2 GiB", setSize(stored, "archive/data/0", 1<<31), "holds 2147483648 bytes, want 24", ErrFormat},
	})
}

// TestLargeStorage: storages longer than the reading buffer and the
// allocation step, in both formats, read whole.
func TestLargeStorage(t *testing.T) {
	const n = 300001 // 1.2 MB of float32
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(i) / 8
	}
	data := float32s(vals...)
	f := fake{name: "big", storage: "FloatStorage", key: "0", numel: n, offset: 1, shape: []int64{n - 1}, stride: []int64{1}}
	for name, b := range map[string][]byte{
		"zip":    zipFile(t, stateDict(false, f), record{"0", data}),
		"legacy": legacyFile(stateDict(true, f), legacyStorage{"0", n, data}),
	} {
		sd, err := readBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := sd.Tensors[0].Data
		if len(got) != n-1 || got[0] != 0.125 || got[n-2] != float64(n-1)/8 {
			t.Errorf("%s: %d values, first %v, last %v", name, len(got), got[0], got[len(got)-1])
		}
	}
}

// TestManyDimensions: 64 dimensions, most of size 1, read in the right
// order.
func TestManyDimensions(t *testing.T) {
	shape, stride := make([]int64, 64), make([]int64, 64)
	for i := range shape {
		shape[i], stride[i] = 1, 1000 // size-1 dimensions: any stride
	}
	shape[10], stride[10] = 2, 3 // [2, 3] transposed over the storage
	shape[50], stride[50] = 3, 1
	f := fake{name: "t", storage: "FloatStorage", key: "0", numel: 6, shape: shape, stride: stride}
	sd, err := readBytes(zipFile(t, stateDict(false, f), record{"0", goodStorage}))
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Tensors[0]; len(got.Shape) != 64 || !reflect.DeepEqual(got.Data, goodValues["w"]) {
		t.Errorf("%d dimensions, values %v", len(got.Shape), got.Data)
	}
}
