package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// rawFile returns a file made of a header, as given, and data.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// signed returns a file with the given table, metadata and data and a
// correct checksum, so that only the checks after the checksum can refuse it.
func signed(entries []entry, meta map[string]string, data []byte) []byte {
	delete(meta, keyChecksum)
	h := sha256.New()
	hashTable(h, entries, meta)
	h.Write(data)
	meta[keyChecksum] = hex.EncodeToString(h.Sum(nil))
	return rawFile(string(encodeHeader(entries, meta)), data)
}

// parts splits a valid file into its table, metadata and data.
func parts(t *testing.T, file []byte) ([]entry, map[string]string, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(file)
	entries, meta, err := parseHeader(file[8 : 8+n])
	if err != nil {
		t.Fatal(err)
	}
	return entries, meta, file[8+n:]
}

// mustRefuse checks that decoding file fails with an error wrapping want
// and containing msg.
func mustRefuse(t *testing.T, file []byte, want error, msg string) {
	t.Helper()
	c, err := decodeBytes(file)
	if err == nil {
		t.Fatalf("loaded %+v", c)
	}
	if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q, want %v containing %q", err, want, msg)
	}
}

// Every prefix of a valid file is refused, in memory and from disk.
func TestLoadTruncated(t *testing.T) {
	file := encode(t, smallCheckpoint(t))
	if _, err := decodeBytes(file); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.safetensors")
	for n := 0; n < len(file); n++ {
		if _, err := decodeBytes(file[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
		if err := os.WriteFile(path, file[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("file of %d bytes: %v", n, err)
		}
	}
	t.Logf("%d prefixes refused; e.g. %v", len(file), func() error { _, err := Load(path); return err }())
	mustRefuse(t, append(file[:len(file):len(file)], 0), ErrCorrupt, "the tensors cover")
}

// Flipping any bit of a file, header or data, makes it fail to load.
func TestLoadBitFlips(t *testing.T) {
	file := encode(t, smallCheckpoint(t))
	n := 8 + int(binary.LittleEndian.Uint64(file))
	for i := range file {
		for bit := range 8 {
			b := append([]byte(nil), file...)
			b[i] ^= 1 << bit
			_, err := decodeBytes(b)
			if err == nil {
				t.Fatalf("loaded with bit %d of byte %d flipped (header ends at %d)", bit, i, n)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("byte %d bit %d: %v", i, bit, err)
			}
			if i >= n && !strings.Contains(err.Error(), "checksum mismatch") {
				t.Fatalf("data byte %d bit %d: %v", i, bit, err)
			}
		}
	}
	t.Logf("%d flips refused (%d in the header)", 8*len(file), 8*n)
}

func TestLoadHeaderLength(t *testing.T) {
	file := encode(t, smallCheckpoint(t))
	for _, n := range []uint64{MaxHeader + 1, 1 << 40, 1<<64 - 1} {
		b := append([]byte(nil), file...)
		binary.LittleEndian.PutUint64(b, n)
		mustRefuse(t, b, ErrCorrupt, "above MaxHeader")
	}
	b := append([]byte(nil), file...)
	binary.LittleEndian.PutUint64(b, uint64(len(file)-7))
	mustRefuse(t, b, ErrCorrupt, "shorter than its header length says")
	binary.LittleEndian.PutUint64(b, 0)
	mustRefuse(t, b, ErrCorrupt, "does not start with '{'")
}

// A damaged length or table never makes Load allocate more than the file.
func TestLoadBoundedAllocation(t *testing.T) {
	big := rawFile(`{"__metadata__":{"format_version":"1","checksum":""},"w":{"dtype":"F64","shape":[1099511627776],"data_offsets":[0,8796093022208]}}`, make([]byte, 64))
	claim := binary.LittleEndian.AppendUint64(nil, MaxHeader)
	claim = append(claim, make([]byte, 100)...)
	for _, file := range [][]byte{big, claim} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := decodeBytes(file)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatal("loaded")
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("%v: allocated %d bytes for a file of %d", err, d, len(file))
		}
	}
}

// Hand-made headers, each refused before the checksum by a specific check.
func TestLoadBadTable(t *testing.T) {
	const meta = `"__metadata__":{"format_version":"1","checksum":"00"}`
	data8 := make([]byte, 8)
	tensor := func(name, dtype, shape, offs string) string {
		return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offs + `}`
	}
	ones := "[" + strings.Repeat("1,", 32) + "1]"
	cases := []struct {
		name, header string
		data         []byte
		msg          string
	}{
		{"overlap", tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("b", "F32", "[1]", "[4,8]"), data8, "overlap the previous tensor"},
		{"out of order", tensor("a", "F32", "[1]", "[4,8]") + "," + tensor("b", "F32", "[1]", "[0,4]"), data8, "leave a gap"},
		{"backwards", tensor("a", "F32", "[1]", "[8,4]"), data8, "run backwards"},
		{"past the end", tensor("a", "F32", "[3]", "[0,12]"), data8, "run past the end of the data (8 bytes)"},
		{"far past the end", tensor("a", "F32", "[1]", "[18446744073709551611,18446744073709551615]"), data8, "past the end"},
		{"gap", tensor("a", "F32", "[1]", "[0,4]") + "," + tensor("b", "F32", "[1]", "[8,12]"), make([]byte, 12), "leave a gap after 4"},
		{"data left over", tensor("a", "F32", "[1]", "[0,4]"), data8, "the tensors cover 4 bytes of data, the file holds 8"},
		{"number for a tensor", `"x.":1`, data8, "want {"},
		{"I64", tensor("a", "I64", "[1]", "[0,8]"), data8, `unsupported dtype "I64"`},
		{"BF16", tensor("a", "BF16", "[4]", "[0,8]"), data8, `unsupported dtype "BF16"`},
		{"shape size", tensor("a", "F32", "[3]", "[0,8]"), data8, "shape [3] does not match data_offsets [0, 8] (8 bytes, 2 F32 values)"},
		{"shape overflow", tensor("a", "F32", "[4294967296,4294967296,4294967296]", "[0,8]"), data8, "does not match data_offsets"},
		{"zero dimension", tensor("a", "F32", "[0]", "[0,0]") + "," + tensor("b", "F64", "[1]", "[0,8]"), data8, "not positive"},
		{"too many dimensions", tensor("a", "F64", ones, "[0,8]"), data8, "more than 32 dimensions"},
		{"partial element", tensor("a", "F64", "[1]", "[0,4]") + "," + tensor("b", "F32", "[1]", "[4,8]"), data8, "not a whole number of F64 values"},
		{"negative offset", tensor("a", "F32", "[1]", "[-1,4]"), data8, "non-negative integer"},
		{"float offset", tensor("a", "F32", "[2]", "[0.0,8]"), data8, "non-negative integer"},
		{"exponent", tensor("a", "F32", "[2]", "[0,8e0]"), data8, "non-negative integer"},
		{"three offsets", tensor("a", "F32", "[2]", "[0,4,8]"), data8, "want two integers"},
		{"one offset", tensor("a", "F32", "[2]", "[8]"), data8, "want an integer"},
		{"string dim", tensor("a", "F32", `["2"]`, "[0,8]"), data8, "want an integer"},
		{"numeric dtype", `"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}`, data8, "want a string"},
		{"unknown field", `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}`, data8, `unknown field "extra"`},
		{"field case", `"a":{"Dtype":"F32","shape":[2],"data_offsets":[0,8]}`, data8, `unknown field "Dtype"`},
		{"missing field", `"a":{"dtype":"F32","data_offsets":[0,8]}`, data8, "want dtype, shape and data_offsets"},
		{"duplicate field", `"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}`, data8, "duplicate dtype"},
		{"duplicate tensor", tensor("a", "F32", "[1]", "[0,4]") + "," + tensor("a", "F32", "[1]", "[4,8]"), data8, `duplicate key "a"`},
		{"null entry", `"a":null`, data8, "want {"},
		{"deep nesting", `"a":` + strings.Repeat("[", 100000), data8, "want {"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, rawFile("{"+meta+","+tc.header+"}", tc.data), ErrCorrupt, tc.msg)
		})
	}
	headers := []struct{ name, header, msg string }{
		{"empty", "", "does not start with '{'"},
		{"array", "[]", "does not start with '{'"},
		{"leading space", ` {"__metadata__":{}}`, "does not start with '{'"},
		{"unclosed", `{"__metadata__":{}`, "unexpected end of JSON"},
		{"trailing", `{"__metadata__":{}} x`, "after the JSON object"},
		{"second object", `{"__metadata__":{}}{}`, "after the JSON object"},
		{"no metadata", `{}`, "no __metadata__"},
		{"metadata number", `{"__metadata__":{"a":1}}`, "want a string"},
		{"metadata array", `{"__metadata__":[]}`, "want {"},
		{"duplicate metadata key", `{"__metadata__":{"a":"1","a":"1"}}`, `duplicate key "a"`},
		{"duplicate metadata", `{"__metadata__":{},"__metadata__":{}}`, "duplicate key"},
		{"no version", `{"__metadata__":{"checksum":"00"}}`, "no format_version"},
		{"no checksum", `{"__metadata__":{"format_version":"1"}}`, "no checksum"},
		{"NUL padding", "{\"__metadata__\":{}}\x00", "after the JSON object"},
	}
	for _, tc := range headers {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, rawFile(tc.header, nil), ErrCorrupt, tc.msg)
		})
	}
	for _, v := range []string{"2", "0", "01", "1.0", ""} {
		mustRefuse(t, rawFile(`{"__metadata__":{"format_version":"`+v+`","checksum":"00"}}`, nil), ErrVersion, "format_version")
	}
}

func TestLoadChecksum(t *testing.T) {
	file := encode(t, smallCheckpoint(t))
	entries, meta, data := parts(t, file)
	sum := meta[keyChecksum]
	for _, bad := range []string{strings.Repeat("0", 64), strings.ToUpper(sum), sum[:63], sum + "0", ""} {
		meta[keyChecksum] = bad
		mustRefuse(t, rawFile(string(encodeHeader(entries, meta)), data), ErrCorrupt, "checksum mismatch")
	}
	// The checksum covers the metadata: a changed step is caught.
	_, meta, _ = parts(t, file)
	meta[keyStep] = "13"
	mustRefuse(t, rawFile(string(encodeHeader(entries, meta)), data), ErrCorrupt, "checksum mismatch")
	// Re-signed, the same file loads: the checks above are the checksum's.
	if _, err := decodeBytes(signed(entries, meta, data)); err != nil {
		t.Fatal(err)
	}
}

// Files with a correct checksum and bad contents, refused after it.
func TestLoadBadMeta(t *testing.T) {
	file := encode(t, smallCheckpoint(t))
	cases := []struct {
		name   string
		change func(e []entry, m map[string]string) []entry
		msg    string
	}{
		{"unknown key", func(e []entry, m map[string]string) []entry { m["foo"] = "1"; return e }, `"foo": unknown key`},
		{"no model", func(e []entry, m map[string]string) []entry { delete(m, keyModel); return e }, "no model"},
		{"bad model", func(e []entry, m map[string]string) []entry { m[keyModel] = "{"; return e }, "not valid JSON"},
		{"bad vocab", func(e []entry, m map[string]string) []entry { m[keyVocab] = "[1"; return e }, "not valid JSON"},
		{"no dtype", func(e []entry, m map[string]string) []entry { delete(m, keyDtype); return e }, "no params_dtype"},
		{"F16 params", func(e []entry, m map[string]string) []entry { m[keyDtype] = "F16"; return e }, "not F32 or F64"},
		{"F64 params", func(e []entry, m map[string]string) []entry { m[keyDtype] = "F64"; return e }, `"w" is F32, but params_dtype is F64`},
		{"no step", func(e []entry, m map[string]string) []entry { delete(m, keyStep); return e }, "no step"},
		{"step +1", func(e []entry, m map[string]string) []entry { m[keyStep] = "+1"; return e }, "not a decimal integer"},
		{"step 012", func(e []entry, m map[string]string) []entry { m[keyStep] = "012"; return e }, "not a decimal integer"},
		{"epoch 1.5", func(e []entry, m map[string]string) []entry { m[keyEpoch] = "1.5"; return e }, "not a decimal integer"},
		{"step overflow", func(e []entry, m map[string]string) []entry { m[keyStep] = "9223372036854775808"; return e }, "not a decimal integer"},
		{"seed -1", func(e []entry, m map[string]string) []entry { m[keySeed] = "-1"; return e }, "not a decimal uint64"},
		{"rng", func(e []entry, m map[string]string) []entry { m[keyRNG] = "AQ"; return e }, "not standard base64"},
		{"empty state name", func(e []entry, m map[string]string) []entry { e[2].name = "state/"; return e }, "empty state name"},
		{"scalar parameter", func(e []entry, m map[string]string) []entry {
			e[1].shape = []int{}
			return e
		}, "no dimensions"},
		{"empty parameter name", func(e []entry, m map[string]string) []entry { e[0].name = ""; return e }, "empty parameter name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, m, d := parts(t, file)
			e = tc.change(e, m)
			mustRefuse(t, signed(e, m, d), ErrCorrupt, tc.msg)
		})
	}
}

func TestLoadGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 100, 4096} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if _, err := decodeBytes(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d random bytes: %v", n, err)
		}
	}
	dir := t.TempDir()
	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte("this is not a checkpoint, only some text\n"), 0o644)
	for _, path := range []string{text, dir} {
		_, err := Load(path)
		if err == nil {
			t.Errorf("%s loaded", path)
		}
		t.Logf("%v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
