package torch

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func unpickle(b []byte) (any, error) {
	return newUnpickler(newSource(bytes.NewReader(b), 0, int64(len(b))), "test", nil).load()
}

// show renders an unpickled value like Python's repr (sets as set{…}),
// to a bounded depth so that cyclic values end.
func show(v any, depth int) string {
	if depth > 8 {
		return "…"
	}
	join := func(items []any) string {
		s := make([]string, len(items))
		for i, x := range items {
			s[i] = show(x, depth+1)
		}
		return strings.Join(s, ", ")
	}
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(v, 10)
	case *big.Int:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return strconv.Quote(v)
	case []byte:
		return "b" + strconv.Quote(string(v))
	case tuple:
		if len(v) == 1 {
			return "(" + show(v[0], depth+1) + ",)"
		}
		return "(" + join(v) + ")"
	case *list:
		return "[" + join(v.items) + "]"
	case *set:
		return "set{" + join(v.items) + "}"
	case *dict:
		s := make([]string, len(v.keys))
		for i := range v.keys {
			s[i] = show(v.keys[i], depth+1) + ": " + show(v.vals[i], depth+1)
		}
		return "{" + strings.Join(s, ", ") + "}"
	}
	return fmt.Sprintf("<%T>", v)
}

// TestPythonPickles: what CPython's pickle writes at every protocol reads
// back to the same value, and the pickles that name builtins (set,
// bytearray, _codecs.encode: how protocols 1–4 write bytes and sets) are
// refused naming them.
func TestPythonPickles(t *testing.T) {
	const v0 = "{1: [1, -2, 2.5, None, True, False, 100000000000000000000, -1000000000000000000000000000000, 255, 65535, 2147483647, -2147483648], 2: (3,), 3: (), 4: (1, 2), 5: (1, 2, 3), 6: (1, 2, 3, 4)}"
	v1 := `{"s": "héllo", "b": b"\x00\xffbytes", "big": b"` + strings.Repeat("x", 300) + `", "l": ["a", "a"], "set": set{1}, "fs": set{2}, "ba": b"ab", "f": 1e-300}`
	want := map[string]string{
		"v0 protocol 0": v0, "v0 protocol 1": v0, "v0 protocol 2": v0, "v0 protocol 3": v0, "v0 protocol 4": v0, "v0 protocol 5": v0,
		"v1 protocol 1": "_codecs.encode", "v1 protocol 2": "_codecs.encode",
		"v1 protocol 3": "builtins.set", "v1 protocol 4": "builtins.bytearray",
		"v1 protocol 5": v1,
	}
	if len(pythonPickles) != len(want) {
		t.Fatalf("%d pickles, %d expectations", len(pythonPickles), len(want))
	}
	for name, h := range pythonPickles {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		v, err := unpickle(b)
		w := want[name]
		if !strings.HasPrefix(w, "{") {
			if !errors.Is(err, ErrGlobal) || !strings.Contains(err.Error(), `"`+w+`"`) {
				t.Errorf("%s: %v, want a refusal of %s", name, err, w)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := show(v, 0); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}

// TestOpcodes covers the opcodes Python's pickles above do not, one by
// one, and what the unpickler refuses.
func TestOpcodes(t *testing.T) {
	good := []struct{ name, pkl, want string }{
		{"DICT and text GET/PUT", "(I1\np0\ng0\nd.", "{1: 1}"},
		{"LIST, APPEND, self-reference", "(lp0\nI7\nag0\na.", "[7, [7, [7, [7, [7, [7, [7, [7, […, …]]]]]]]]]"},
		{"POP, POP_MARK, DUP", "(I1\nI2\n0(I3\n12t.", "(1, 1)"},
		{"POP of an empty stack drops the MARK", "I5\n(0.", "5"},
		{"SETITEM, MEMOIZE", "\x80\x04}\x94K\x01K\x02sh\x00.", "{1: 2}"},
		{"EMPTY_SET, ADDITEMS", "\x80\x04\x8f(K\x01K\x02\x90.", "set{1, 2}"},
		{"dict keys replaced, order kept", "}(K\x01K\x02K\x03K\x04K\x01K\x05u.", "{1: 5, 3: 4}"},
		{"tuple keys appended", "}(K\x01\x85K\x02K\x01\x85K\x03u.", "{(1,): 2, (1,): 3}"},
		{"FLOAT, LONG base 0", "(F-0.25\nL0x10L\nL-5\nt.", "(-0.25, 16, -5)"},
		{"INT beyond int64", "I123456789012345678901234567890\n.", "123456789012345678901234567890"},
		{"LONG1 of 0 bytes, LONG4", "(\x8a\x00\x8b\x02\x00\x00\x00\xff\x7ft.", "(0, 32767)"},
		{"LONG1 of 9 bytes that fits", "\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff.", "-1"},
		{"BINFLOAT", "G\x3f\xf8\x00\x00\x00\x00\x00\x00.", "1.5"},
		{"BINSTRING, SHORT_BINSTRING", "(T\x02\x00\x00\x00abU\x01ct.", `("ab", "c")`},
		{"BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8", "(B\x01\x00\x00\x00aC\x01b\x8e\x01\x00\x00\x00\x00\x00\x00\x00c\x96\x00\x00\x00\x00\x00\x00\x00\x00t.", `(b"a", b"b", b"c", b"")`},
		{"BINUNICODE8", "\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi.", `"hi"`},
		{"BININT negative, BININT2", "(J\xff\xff\xff\xffM\x01\x01t.", "(-1, 257)"},
		{"NONE NEWTRUE NEWFALSE TUPLE3", "N\x88\x89\x87.", "(None, True, False)"},
		{"FRAME", "\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", "None"},
	}
	for _, c := range good {
		v, err := unpickle([]byte(c.pkl))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := show(v, 0); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}

	bad := []struct{ name, pkl, want string }{
		{"empty", "", "no STOP"},
		{"protocol 6", "\x80\x06N.", "unsupported pickle protocol 6"},
		{"unknown opcode", "\xff", "unknown opcode 0xff"},
		{"STOP on an empty stack", ".", "stack underflow"},
		{"TUPLE without MARK", "t", "no MARK"},
		{"TUPLE2 on one item", "N\x86", "stack underflow"},
		{"SETITEM on one item", "}N" + "s", "stack underflow"},
		{"SETITEM on a list", "]NNs", "SETITEM on a list"},
		{"SETITEMS odd", "}(Nu", "odd number of items (1)"},
		{"APPEND to a dict", "}Na", "APPEND to a dict"},
		{"ADDITEMS to a list", "](\x90", "ADDITEMS to a list"},
		{"GET of nothing", "h\x05", "memo entry 5 was never stored"},
		{"PUT on an empty stack", "q\x00", "stack underflow"},
		{"negative text PUT", "Np-1\n", "not a non-negative integer"},
		{"REDUCE of a non-tuple", "\x80\x02ccollections\nOrderedDict\nN" + "R", "REDUCE with None arguments"},
		{"REDUCE of a non-global", "N)R", "REDUCE calls a None"},
		{"STACK_GLOBAL of ints", "K\x01K\x02\x93", "STACK_GLOBAL needs two strings"},
		{"FRAME beyond the data", "\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x40", "frame of 4611686018427387904 bytes"},
		{"BINUNICODE8 beyond the data", "\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x3f", "string of 4611686018427387903 bytes"},
		{"BINBYTES8 of 2^64-1", "\x8e\xff\xff\xff\xff\xff\xff\xff\xff", "string of 18446744073709551615 bytes"},
		{"BINUNICODE beyond the data", "X\xff\xff\xff\xffab", "string of 4294967295 bytes, 2 left"},
		{"LONG4 negative", "\x8b\xff\xff\xff\xff", "LONG4 with a negative byte count"},
		{"LONG4 beyond the data", "\x8b\xff\xff\xff\x7f", "unexpected end of data"},
		{"BINSTRING negative", "T\xff\xff\xff\xff", "BINSTRING with a negative byte count"},
		{"invalid UTF-8", "\x8c\x02\xff\xfe.", "not valid UTF-8"},
		{"protocol-0 STRING", "S'a'\n.", "protocol-0 string opcode 'S'"},
		{"protocol-0 UNICODE", "Va\n.", "protocol-0 string opcode 'V'"},
		{"bad INT", "Ix\n.", `INT "x" is not an integer`},
		{"bad LONG", "L1.5L\n.", "not an integer"},
		{"bad FLOAT", "Fone\n.", "not a number"},
		{"line without end", "I123", "unexpected end of data"},
		{"line too long", "I" + strings.Repeat("1", maxLine+10) + "\n.", "longer than 65536 bytes"},
		{"GLOBAL truncated", "ctorch\nFloatSto", "unexpected end of data"},
		{"NEXT_BUFFER", "\x97", "out-of-band buffers"},
		{"READONLY_BUFFER", "N\x98", "out-of-band buffers"},
		{"BUILD on a tuple", ")}b", "BUILD on a tuple"},
		{"BUILD with a list state", "\x80\x02ccollections\nOrderedDict\n)R]b.", "BUILD with state list"},
		{"BUILD with bad slot state", "\x80\x02ccollections\nOrderedDict\n)R}]\x86b.", "BUILD with slot state list"},
	}
	for _, c := range bad {
		_, err := unpickle([]byte(c.pkl))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrFormat saying %q", c.name, err, c.want)
		}
	}
}

// TestDecodeLong: two's-complement integers of every width.
func TestDecodeLong(t *testing.T) {
	for _, c := range []struct {
		b    string
		want string
	}{
		{"", "0"}, {"\x7f", "127"}, {"\x80", "-128"}, {"\xff\x00", "255"}, {"\x00\x80", "-32768"},
		{"\xff\xff\xff\xff\xff\xff\xff\x7f", "9223372036854775807"},
		{"\x00\x00\x00\x00\x00\x00\x00\x80", "-9223372036854775808"},
		{"\x00\x00\x00\x00\x00\x00\x00\x80\x00", "9223372036854775808"},
		{"\xff\xff\xff\xff\xff\xff\xff\x7f\xff", "-9223372036854775809"},
		{"\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", "119547037146038801333356"},
	} {
		if got := show(decodeLong([]byte(c.b)), 0); got != c.want {
			t.Errorf("% x: %s, want %s", c.b, got, c.want)
		}
	}
}
