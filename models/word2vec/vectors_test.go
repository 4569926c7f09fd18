package word2vec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testVectors(t *testing.T) *Vectors {
	t.Helper()
	v, err := NewVectors([]string{"</s>", "the", "héllo", "x"}, 3,
		[]float32{0.001, -0.002, 0.5, 1, -1, 0.25, 1e-7, -3.5, 123.456, -0.000001, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func writeBytes(t *testing.T, v *Vectors, f Format) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := v.Write(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readBytes(t *testing.T, b []byte) (*Vectors, Format) {
	t.Helper()
	v, f, err := ReadVectors(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v, f
}

// The C formats are written byte for byte as word2vec.c writes them:
// "%lld %lld\n", then "word " and "%lf " per value and "\n" (text), or the
// float32 bytes and "\n" (binary).
func TestWriteCFormatsExactly(t *testing.T) {
	v := testVectors(t)
	text := "4 3\n</s> 0.001000 -0.002000 0.500000 \nthe 1.000000 -1.000000 0.250000 \n" +
		"héllo 0.000000 -3.500000 123.456001 \nx -0.000001 0.000000 2.000000 \n"
	if got := string(writeBytes(t, v, Text)); got != text {
		t.Errorf("text:\n%q\nwant\n%q", got, text)
	}
	var bin bytes.Buffer
	bin.WriteString("4 3\n")
	for i, w := range v.Words {
		bin.WriteString(w + " ")
		for _, x := range v.Row(i) {
			binary.Write(&bin, binary.LittleEndian, x)
		}
		bin.WriteByte('\n')
	}
	if got := writeBytes(t, v, Binary); !bytes.Equal(got, bin.Bytes()) {
		t.Errorf("binary: %q, want %q", got, bin.Bytes())
	}
}

// Every format reads back what was written (text to its six decimals), and
// the reader says which format it read.
func TestVectorsRoundTrip(t *testing.T) {
	v := testVectors(t)
	for _, f := range []Format{Text, Binary, Safetensors} {
		got, format := readBytes(t, writeBytes(t, v, f))
		if format != f {
			t.Errorf("%v read as %v", f, format)
		}
		if !reflect.DeepEqual(got.Words, v.Words) || got.Dim != v.Dim {
			t.Fatalf("%v: words %q dim %d", f, got.Words, got.Dim)
		}
		for i, x := range v.Data {
			tol := 0.0
			if f == Text {
				tol = 5e-7
			}
			if d := math.Abs(float64(got.Data[i] - x)); d > tol*(1+math.Abs(float64(x))) {
				t.Errorf("%v: value %d: %v, want %v", f, i, got.Data[i], x)
			}
		}
		if i, ok := got.Index("héllo"); !ok || i != 2 {
			t.Errorf("%v: Index(héllo) = %d, %v", f, i, ok)
		}
	}
	// WriteFile goes through a temporary file and FormatOf reads the
	// extension.
	dir := t.TempDir()
	for _, name := range []string{"v.txt", "v.bin", "v.safetensors"} {
		path := filepath.Join(dir, name)
		if err := v.WriteFile(path, FormatOf(path)); err != nil {
			t.Fatal(err)
		}
		got, format, err := ReadVectorsFile(path)
		if err != nil || format != FormatOf(path) || got.Len() != 4 {
			t.Errorf("%s: %v, %v, %d words", name, err, format, got.Len())
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("%d files in the directory, want 3 (no temporary left)", len(ents))
	}
	if err := v.WriteFile(filepath.Join(dir, "missing", "v.txt"), Text); err == nil {
		t.Error("WriteFile into a missing directory: no error")
	}
}

// The variants other tools write are read: gensim's text (repr values, no
// trailing space), binary rows without the "\n", CRLF lines, tabs, an
// empty vocabulary.
func TestReadVariants(t *testing.T) {
	for name, c := range map[string]struct {
		in     string
		format Format
		words  []string
		first  float32
	}{
		"gensim text":  {"2 2\nthe 0.12345678 -1e-05\nof 3.0 4\n", Text, []string{"the", "of"}, 0.12345678},
		"crlf, tabs":   {"2 2\r\nthe\t1 2\r\nof 3 4\r\n", Text, []string{"the", "of"}, 1},
		"no final nl":  {"1 2\nthe 1 2", Text, []string{"the"}, 1},
		"empty vocab":  {"0 5\n", Text, nil, 0},
		"gensim bin":   {"2 1\nthe " + f32(0.5) + "of " + f32(-2), Binary, []string{"the", "of"}, 0.5},
		"c bin":        {"2 1\nthe " + f32(0.5) + "\nof " + f32(-2) + "\n", Binary, []string{"the", "of"}, 0.5},
		"bin newline0": {"1 2\nthe " + f32(math.Float32frombits(0x0a0a0a0a)) + f32(1) + "\n", Binary, []string{"the"}, math.Float32frombits(0x0a0a0a0a)},
	} {
		v, format, err := ReadVectors(strings.NewReader(c.in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if format != c.format || !reflect.DeepEqual(v.Words, c.words) || len(c.words) > 0 && v.Data[0] != c.first {
			t.Errorf("%s: %v %q %v", name, format, v.Words, v.Data)
		}
	}
}

func f32(x float32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
	return string(b[:])
}

// Damaged files are *FormatErrors naming the row: a bad header, rows
// missing (truncated), short or long rows, words that are not UTF-8,
// values that are not finite numbers, data past the announced rows, and a
// damaged safetensors header.
func TestReadVectorsErrors(t *testing.T) {
	good := writeBytes(t, testVectors(t), Binary)
	st := writeBytes(t, testVectors(t), Safetensors)
	for name, c := range map[string]struct {
		in  string
		row int
		say string
	}{
		"empty":             {"", 0, "empty file"},
		"no header":         {"the 1 2 3\n", 0, "want \"<words> <size>\""},
		"bad count":         {"x 3\n", 0, "word count"},
		"negative count":    {"-1 3\n", 0, "word count"},
		"zero size":         {"1 0\n", 0, "vector size"},
		"huge size":         {"1 99999999\n", 0, "vector size"},
		"truncated text":    {"3 2\nthe 1 2\nof 3 4\n", 3, "file ends"},
		"short row":         {"2 3\nthe 1 2 3\nof 3 4\n", 2, "has 2 values, want 3"},
		"long row":          {"1 2\nthe 1 2 3\n", 1, "has 3 values, want 2"},
		"not a number":      {"1 2\nthe 1 x2\n", 0, ""},
		"nan text":          {"1 2\nthe 1 NaN\n", 1, "not a finite number"},
		"non-utf8 text":     {"1 2\nth\xffe 1 2\n", 1, "not valid UTF-8"},
		"truncated binary":  {string(good[:len(good)-6]), 4, "truncated"},
		"truncated in word": {"2 1\nthe " + f32(1) + "\nof", 2, "inside a word"},
		"non-utf8 binary":   {"1 1\nth\xffe " + f32(1), 1, "not valid UTF-8"},
		"inf binary":        {"1 1\nthe " + f32(float32(math.Inf(1))), 1, "not a finite number"},
		"extra data":        {"1 2\nthe 1 2\nof 3 4\n", 2, "data after the 1 vectors"},
		"safetensors cut":   {string(st[:len(st)-3]), 4, "truncated"},
		"safetensors json":  {string(st[:8]) + strings.Repeat("{", len(st)-8), 0, "header"},
		"safetensors len":   {"\xff\xff\xff\x00\x00\x00\x00\x00{", 0, "file ends inside the"},
	} {
		_, _, err := ReadVectors(strings.NewReader(c.in))
		var fe *FormatError
		switch {
		case !errors.As(err, &fe) || !errors.Is(err, ErrFormat):
			t.Errorf("%s: %v, want a *FormatError", name, err)
		case c.say != "" && (!strings.Contains(err.Error(), c.say) || fe.Row != c.row):
			t.Errorf("%s: %v (row %d), want row %d saying %q", name, err, fe.Row, c.row, c.say)
		}
	}
	if _, _, err := ReadVectorsFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

// NewVectors refuses what no vector file can hold.
func TestNewVectorsChecks(t *testing.T) {
	for name, c := range map[string]struct {
		words []string
		dim   int
		data  []float32
	}{
		"dim 0":     {[]string{"a"}, 0, nil},
		"data size": {[]string{"a"}, 2, []float32{1}},
		"empty":     {[]string{""}, 1, []float32{1}},
		"space":     {[]string{"a b"}, 1, []float32{1}},
		"non-utf8":  {[]string{"\xff"}, 1, []float32{1}},
	} {
		if _, err := NewVectors(c.words, c.dim, c.data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// IndexFold finds a word as it is, else by its lower case, the first such
// word.
func TestIndexFold(t *testing.T) {
	v, err := NewVectors([]string{"Paris", "paris", "Rome", "ROME"}, 1, []float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for w, want := range map[string]int{"Paris": 0, "paris": 1, "PARIS": 0, "rome": 2, "ROME": 3, "Rome": 2} {
		if i, ok := v.IndexFold(w); !ok || i != want {
			t.Errorf("IndexFold(%q) = %d, %v; want %d", w, i, ok, want)
		}
	}
	if _, ok := v.IndexFold("london"); ok {
		t.Error("london found")
	}
}
