package torch

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// The unpickler below reads Python pickles (protocols 0–5) into plain Go
// values and never runs code: a GLOBAL or STACK_GLOBAL must name an entry of
// the allow-list (allowed, in globals.go), a REDUCE may only call the
// allow-list's functions, and the opcodes that build arbitrary instances
// (INST, OBJ, NEWOBJ, NEWOBJ_EX), the extension registry (EXT1/2/4) and
// out-of-band buffers are refused. Python values map to Go values as
// follows: None → nil, bool → bool, int → int64 (or *big.Int beyond
// 64 bits), float → float64, str → string, bytes/bytearray → []byte,
// tuple → tuple, list → *list, dict/OrderedDict → *dict, set/frozenset →
// *set, an allowed global → global.

// tuple is a Python tuple.
type tuple []any

// list is a Python list (mutable, so shared through the memo by pointer).
type list struct{ items []any }

// set is a Python set or frozenset; its items are kept as they came.
type set struct{ items []any }

// dict is a Python dict or collections.OrderedDict, in insertion order.
type dict struct {
	ordered bool
	keys    []any
	vals    []any
	index   map[any]int // for keys of hashable Go kinds
}

func newDict(ordered bool) *dict { return &dict{ordered: ordered, index: map[any]int{}} }

// hashable reports whether k can index a Go map with Python's equality (a
// tuple or a big integer cannot; such keys are appended without merging).
func hashable(k any) bool {
	switch k.(type) {
	case nil, bool, int64, float64, string, global:
		return true
	}
	return false
}

func (d *dict) set(k, v any) {
	if hashable(k) {
		if i, ok := d.index[k]; ok {
			d.vals[i] = v
			return
		}
		d.index[k] = len(d.keys)
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

func (d *dict) get(k string) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// global is a module-level name a pickle refers to (module.name).
type global struct{ module, name string }

func (g global) String() string { return g.module + "." + g.name }

// pyType names a value's Python type for error messages. It never prints
// the value itself: a hostile pickle can build cyclic values.
func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case tuple:
		return fmt.Sprintf("tuple of %d", len(v))
	case *list:
		return "list"
	case *set:
		return "set"
	case *dict:
		if v.ordered {
			return "OrderedDict"
		}
		return "dict"
	case global:
		return v.String()
	case *storageRef:
		return "storage"
	case *tensorRef:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

// Pickle opcodes (Python's Lib/pickle.py).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'

	opProto          = 0x80
	opNewObj         = 0x81
	opExt1           = 0x82
	opExt2           = 0x83
	opExt4           = 0x84
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

// highestProtocol is the newest pickle protocol Python writes (3.8+).
const highestProtocol = 5

// unpickler reads one pickle from a source.
type unpickler struct {
	src   *source
	where string // names the pickle in errors ("data.pkl", "the object pickle")
	start int64  // the pickle's first byte, for offsets in errors
	stack []any
	marks [][]any
	memo  map[int64]any
	// persistentLoad resolves a persistent id (PERSID, BINPERSID); nil
	// refuses them.
	persistentLoad func(pid any) (any, error)
}

func newUnpickler(src *source, where string, load func(any) (any, error)) *unpickler {
	return &unpickler{src: src, where: where, start: src.pos, memo: map[int64]any{}, persistentLoad: load}
}

// fail wraps ErrFormat with the pickle's name and the opcode's offset.
func (u *unpickler) fail(at int64, format string, args ...any) error {
	return errors.Wrapf(ErrFormat, "%s, byte %d: %s", u.where, at-u.start, fmt.Sprintf(format, args...))
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop(at int64) (any, error) {
	if len(u.stack) == 0 {
		return nil, u.fail(at, "stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top(at int64) (any, error) {
	if len(u.stack) == 0 {
		return nil, u.fail(at, "stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark returns the items pushed since the last MARK and restores the
// stack below it.
func (u *unpickler) popMark(at int64) ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.fail(at, "no MARK on the stack")
	}
	items := u.stack
	u.stack = u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	return items, nil
}

// load runs the pickle to its STOP and returns the value it built.
func (u *unpickler) load() (any, error) {
	for {
		at := u.src.pos
		op, err := u.src.readByte()
		if err != nil {
			return nil, errors.Wrapf(err, "%s: no STOP opcode", u.where)
		}
		v, stop, err := u.step(op, at)
		if err != nil {
			return nil, err
		}
		if stop {
			return v, nil
		}
	}
}

// step runs one opcode; stop is true at STOP, with the pickle's value.
func (u *unpickler) step(op byte, at int64) (value any, stop bool, err error) {
	switch op {
	case opProto:
		b, err := u.src.readByte()
		if err != nil {
			return nil, false, err
		}
		if b > highestProtocol {
			return nil, false, u.fail(at, "unsupported pickle protocol %d", b)
		}
	case opFrame:
		// A frame only announces how many bytes follow; they are read as
		// they come.
		n, err := u.uint(8)
		if err != nil {
			return nil, false, err
		}
		if n > uint64(u.src.remaining()) {
			return nil, false, u.fail(at, "frame of %d bytes, %d left", n, u.src.remaining())
		}
	case opStop:
		v, err := u.pop(at)
		return v, true, err
	case opMark:
		u.marks = append(u.marks, u.stack)
		u.stack = nil
	case opPop:
		if len(u.stack) == 0 {
			_, err = u.popMark(at)
			return nil, false, err
		}
		u.stack = u.stack[:len(u.stack)-1]
	case opPopMark:
		_, err = u.popMark(at)
	case opDup:
		v, err := u.top(at)
		if err != nil {
			return nil, false, err
		}
		u.push(v)

	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	case opNewFalse:
		u.push(false)
	case opBinInt:
		n, err := u.uint(4)
		if err != nil {
			return nil, false, err
		}
		u.push(int64(int32(uint32(n))))
	case opBinInt1:
		n, err := u.uint(1)
		if err != nil {
			return nil, false, err
		}
		u.push(int64(n))
	case opBinInt2:
		n, err := u.uint(2)
		if err != nil {
			return nil, false, err
		}
		u.push(int64(n))
	case opLong1, opLong4:
		size := 1
		if op == opLong4 {
			size = 4
		}
		n, err := u.uint(size)
		if err != nil {
			return nil, false, err
		}
		if op == opLong4 && int32(uint32(n)) < 0 {
			return nil, false, u.fail(at, "LONG4 with a negative byte count")
		}
		b, err := u.src.read(int64(n))
		if err != nil {
			return nil, false, err
		}
		u.push(decodeLong(b))
	case opInt:
		line, err := u.src.readLine()
		if err != nil {
			return nil, false, err
		}
		switch string(line) {
		case "00":
			u.push(false)
		case "01":
			u.push(true)
		default:
			v, ok := parseInt(string(line), 10)
			if !ok {
				return nil, false, u.fail(at, "INT %s is not an integer", truncate(line))
			}
			u.push(v)
		}
	case opLong:
		line, err := u.src.readLine()
		if err != nil {
			return nil, false, err
		}
		if n := len(line); n > 0 && line[n-1] == 'L' {
			line = line[:n-1]
		}
		v, ok := parseInt(string(line), 0)
		if !ok {
			return nil, false, u.fail(at, "LONG %s is not an integer", truncate(line))
		}
		u.push(v)
	case opFloat:
		line, err := u.src.readLine()
		if err != nil {
			return nil, false, err
		}
		f, err := strconv.ParseFloat(string(line), 64)
		if err != nil {
			return nil, false, u.fail(at, "FLOAT %s is not a number", truncate(line))
		}
		u.push(f)
	case opBinFloat:
		n, err := u.src.read(8)
		if err != nil {
			return nil, false, err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(n)))

	case opShortBinUni, opBinUnicode, opBinUnicode8:
		b, err := u.counted(op, at)
		if err != nil {
			return nil, false, err
		}
		if !utf8.Valid(b) {
			return nil, false, u.fail(at, "string is not valid UTF-8")
		}
		u.push(string(b))
	case opShortBinString, opBinString:
		// Python 2 str; Python 3 reads it as text.
		b, err := u.counted(op, at)
		if err != nil {
			return nil, false, err
		}
		u.push(string(b))
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		b, err := u.counted(op, at)
		if err != nil {
			return nil, false, err
		}
		u.push(b)
	case opString, opUnicode:
		return nil, false, u.fail(at, "protocol-0 string opcode %q is not supported", rune(op))

	case opEmptyTuple:
		u.push(tuple{})
	case opTuple:
		items, err := u.popMark(at)
		if err != nil {
			return nil, false, err
		}
		u.push(tuple(append([]any(nil), items...)))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(u.stack) < n {
			return nil, false, u.fail(at, "stack underflow")
		}
		t := make(tuple, n)
		copy(t, u.stack[len(u.stack)-n:])
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	case opEmptyList:
		u.push(&list{})
	case opList:
		items, err := u.popMark(at)
		if err != nil {
			return nil, false, err
		}
		u.push(&list{items: append([]any(nil), items...)})
	case opAppend, opAppends:
		var items []any
		if op == opAppend {
			v, err := u.pop(at)
			if err != nil {
				return nil, false, err
			}
			items = []any{v}
		} else if items, err = u.popMark(at); err != nil {
			return nil, false, err
		}
		t, err := u.top(at)
		if err != nil {
			return nil, false, err
		}
		l, ok := t.(*list)
		if !ok {
			return nil, false, u.fail(at, "APPEND to a %s", pyType(t))
		}
		l.items = append(l.items, items...)
	case opEmptyDict:
		u.push(newDict(false))
	case opDict:
		items, err := u.popMark(at)
		if err != nil {
			return nil, false, err
		}
		d := newDict(false)
		if err := u.setItems(d, items, at); err != nil {
			return nil, false, err
		}
		u.push(d)
	case opSetItem, opSetItems:
		var items []any
		if op == opSetItem {
			if len(u.stack) < 2 {
				return nil, false, u.fail(at, "stack underflow")
			}
			items = []any{u.stack[len(u.stack)-2], u.stack[len(u.stack)-1]}
			u.stack = u.stack[:len(u.stack)-2]
		} else if items, err = u.popMark(at); err != nil {
			return nil, false, err
		}
		t, err := u.top(at)
		if err != nil {
			return nil, false, err
		}
		d, ok := t.(*dict)
		if !ok {
			return nil, false, u.fail(at, "SETITEM on a %s", pyType(t))
		}
		if err := u.setItems(d, items, at); err != nil {
			return nil, false, err
		}
	case opEmptySet:
		u.push(&set{})
	case opFrozenSet:
		items, err := u.popMark(at)
		if err != nil {
			return nil, false, err
		}
		u.push(&set{items: append([]any(nil), items...)})
	case opAddItems:
		items, err := u.popMark(at)
		if err != nil {
			return nil, false, err
		}
		t, err := u.top(at)
		if err != nil {
			return nil, false, err
		}
		s, ok := t.(*set)
		if !ok {
			return nil, false, u.fail(at, "ADDITEMS to a %s", pyType(t))
		}
		s.items = append(s.items, items...)

	case opGet, opBinGet, opLongBinGet, opPut, opBinPut, opLongBinPut, opMemoize:
		return nil, false, u.memoOp(op, at)

	case opGlobal:
		module, err := u.src.readLine()
		if err != nil {
			return nil, false, err
		}
		name, err := u.src.readLine()
		if err != nil {
			return nil, false, err
		}
		g, err := u.findGlobal(string(module), string(name), at)
		if err != nil {
			return nil, false, err
		}
		u.push(g)
	case opStackGlobal:
		name, err := u.pop(at)
		if err != nil {
			return nil, false, err
		}
		module, err := u.pop(at)
		if err != nil {
			return nil, false, err
		}
		ms, ok1 := module.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return nil, false, u.fail(at, "STACK_GLOBAL needs two strings, got %s and %s", pyType(module), pyType(name))
		}
		g, err := u.findGlobal(ms, ns, at)
		if err != nil {
			return nil, false, err
		}
		u.push(g)
	case opReduce:
		args, err := u.pop(at)
		if err != nil {
			return nil, false, err
		}
		fn, err := u.pop(at)
		if err != nil {
			return nil, false, err
		}
		t, ok := args.(tuple)
		if !ok {
			return nil, false, u.fail(at, "REDUCE with %s arguments, not a tuple", pyType(args))
		}
		g, ok := fn.(global)
		if !ok {
			return nil, false, u.fail(at, "REDUCE calls a %s", pyType(fn))
		}
		v, err := call(g, t)
		if err != nil {
			return nil, false, errors.Wrapf(err, "%s, byte %d", u.where, at-u.start)
		}
		u.push(v)
	case opBuild:
		state, err := u.pop(at)
		if err != nil {
			return nil, false, err
		}
		inst, err := u.top(at)
		if err != nil {
			return nil, false, err
		}
		if err := build(inst, state); err != nil {
			return nil, false, errors.Wrapf(err, "%s, byte %d", u.where, at-u.start)
		}

	case opPersID, opBinPersID:
		var pid any
		if op == opPersID {
			line, err := u.src.readLine()
			if err != nil {
				return nil, false, err
			}
			pid = string(line)
		} else if pid, err = u.pop(at); err != nil {
			return nil, false, err
		}
		if u.persistentLoad == nil {
			return nil, false, u.fail(at, "persistent id where none may be")
		}
		v, err := u.persistentLoad(pid)
		if err != nil {
			return nil, false, errors.Wrapf(err, "%s, byte %d", u.where, at-u.start)
		}
		u.push(v)

	case opInst, opObj, opNewObj, opNewObjEx:
		return nil, false, errors.Wrapf(ErrGlobal, "%s, byte %d: opcode 0x%02x builds an instance of a class; only the allow-list's functions may run", u.where, at-u.start, op)
	case opExt1, opExt2, opExt4:
		return nil, false, errors.Wrapf(ErrGlobal, "%s, byte %d: opcode 0x%02x refers to the copyreg extension registry", u.where, at-u.start, op)
	case opNextBuffer, opReadonlyBuffer:
		return nil, false, u.fail(at, "out-of-band buffers (opcode 0x%02x) are not supported", op)
	default:
		return nil, false, u.fail(at, "unknown opcode 0x%02x", op)
	}
	return nil, false, err
}

// uint reads an n-byte little-endian unsigned integer.
func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.src.read(int64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// counted reads a length-prefixed string or bytes opcode's payload.
func (u *unpickler) counted(op byte, at int64) ([]byte, error) {
	size := 4
	switch op {
	case opShortBinUni, opShortBinString, opShortBinBytes:
		size = 1
	case opBinUnicode8, opBinBytes8, opByteArray8:
		size = 8
	}
	n, err := u.uint(size)
	if err != nil {
		return nil, err
	}
	if op == opBinString && int32(uint32(n)) < 0 {
		return nil, u.fail(at, "BINSTRING with a negative byte count")
	}
	if n > uint64(u.src.remaining()) {
		return nil, u.fail(at, "string of %d bytes, %d left (truncated file?)", n, u.src.remaining())
	}
	return u.src.read(int64(n))
}

func (u *unpickler) setItems(d *dict, items []any, at int64) error {
	if len(items)%2 != 0 {
		return u.fail(at, "odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		d.set(items[i], items[i+1])
	}
	return nil
}

func (u *unpickler) memoOp(op byte, at int64) error {
	var idx int64
	switch op {
	case opMemoize:
		idx = int64(len(u.memo))
	case opGet, opPut:
		line, err := u.src.readLine()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil || n < 0 {
			return u.fail(at, "memo index %s is not a non-negative integer", truncate(line))
		}
		idx = n
	case opBinGet, opBinPut:
		n, err := u.uint(1)
		if err != nil {
			return err
		}
		idx = int64(n)
	default: // LONG_BINGET, LONG_BINPUT
		n, err := u.uint(4)
		if err != nil {
			return err
		}
		idx = int64(n)
	}
	switch op {
	case opGet, opBinGet, opLongBinGet:
		v, ok := u.memo[idx]
		if !ok {
			return u.fail(at, "memo entry %d was never stored", idx)
		}
		u.push(v)
	default:
		v, err := u.top(at)
		if err != nil {
			return err
		}
		u.memo[idx] = v
	}
	return nil
}

// findGlobal admits only the allow-list's globals.
func (u *unpickler) findGlobal(module, name string, at int64) (global, error) {
	g := global{module, name}
	if _, ok := allowed[g]; ok {
		return g, nil
	}
	return global{}, errors.Wrapf(ErrGlobal, "%s, byte %d: global %s is not on the allow-list%s",
		u.where, at-u.start, truncate([]byte(g.String())), globalHint(module))
}

// decodeLong decodes a little-endian two's-complement integer (LONG1,
// LONG4) into an int64 where it fits and a *big.Int where not.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*len(b))
		return int64(v<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

// parseInt parses a protocol-0 integer (base 10, or Python's base 0 rules
// for LONG) into an int64 or *big.Int.
func parseInt(s string, base int) (any, bool) {
	if v, err := strconv.ParseInt(s, base, 64); err == nil {
		return v, true
	}
	if len(s) > maxLine {
		return nil, false
	}
	v, ok := new(big.Int).SetString(s, base)
	if !ok {
		return nil, false
	}
	if v.IsInt64() {
		return v.Int64(), true
	}
	return v, true
}

// truncate shortens what a hostile file controls before it goes into an
// error message, and quotes it.
func truncate(b []byte) string {
	const n = 80
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "…"
	}
	return strconv.Quote(string(b))
}
