package data

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func TestReadPairsBookLine(t *testing.T) {
	got, err := ReadPairs(strings.NewReader("16+75  _91  \n"))
	if err != nil || !slices.Equal(got, []Pair{{"16+75", "91"}}) {
		t.Fatalf("ReadPairs = %q, %v", got, err)
	}
}

func TestReadPairsTestdata(t *testing.T) {
	for _, c := range []struct {
		file string
		n    int
		want Pair
	}{
		{"testdata/addition_sample.txt", 10, Pair{"706+796", "1502"}},
		{"testdata/date_sample.txt", 10, Pair{"TUESDAY, SEPTEMBER 25, 1984", "1984-09-25"}},
	} {
		f, err := os.Open(c.file)
		if err != nil {
			t.Fatal(err)
		}
		pairs, err := ReadPairs(f)
		f.Close()
		if err != nil || len(pairs) != c.n || !slices.Contains(pairs, c.want) {
			t.Errorf("%s: %d pairs, %v; want %d holding %q", c.file, len(pairs), err, c.n, c.want)
		}
		if strings.Contains(c.file, "addition") {
			for _, p := range pairs {
				a, b, _ := strings.Cut(p.Question, "+")
				x, _ := strconv.Atoi(a)
				y, _ := strconv.Atoi(b)
				if p.Answer != strconv.Itoa(x+y) {
					t.Errorf("%q: answer %q", p.Question, p.Answer)
				}
			}
		} else {
			for _, p := range pairs {
				checkDatePair(t, p)
			}
		}
	}
}

func TestReadPairsValid(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Pair
	}{
		{"16+75  _91  ", []Pair{{"16+75", "91"}}},                          // no final newline
		{"a_b\n", []Pair{{"a", "b"}}},                                      // unpadded
		{"a_b\r\nc  _d \r\n", []Pair{{"a", "b"}, {"c", "d"}}},              // CRLF
		{"a_b\n\n", []Pair{{"a", "b"}}},                                    // one final empty line
		{"a_b\r\n\r\n", []Pair{{"a", "b"}}},                                // the same with CRLF
		{"a_b_c__\n", []Pair{{"a", "b_c__"}}},                              // the first '_' splits
		{"  x y _ z\t \n", []Pair{{"  x y", " z\t"}}},                      // only trailing spaces go
		{"1994年9月27日 _1994-09-27\n", []Pair{{"1994年9月27日", "1994-09-27"}}}, // UTF-8
		{"q\x00_a\n", []Pair{{"q\x00", "a"}}},                              // NUL is a character
	} {
		got, err := ReadPairs(strings.NewReader(c.in))
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ReadPairs(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestReadPairsErrors(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes) + "_1"
	for _, c := range []struct {
		in, want string
	}{
		{"", "pairs: empty file"},
		{"\n", "pairs: no question–answer pair"},
		{"\r\n", "pairs: no question–answer pair"},
		{"16+75  91\n", "pairs: line 1: no '_'"},
		{"1+1_2\n2+2 4\n", "pairs: line 2: no '_'"},
		{"1+1_2\n\n2+2_4\n", "pairs: line 2: empty line"},
		{"1+1_2\n\n\n", "pairs: line 2: empty line"},
		{"1+1_2\n3+3_6\n   _9\n", "pairs: line 3: empty question"},
		{"_9\n", "pairs: line 1: empty question"},
		{"1+1_2\n2+2_   \n", "pairs: line 2: empty answer"},
		{"1+1_", "pairs: line 1: empty answer"},
		{"a_b\nc\xff_d\n", "pairs: line 2: invalid UTF-8 at byte 1"},
		{"a_\xc3\n", "pairs: line 1: invalid UTF-8 at byte 2"},
		{"a_b\na\rb_c\n", "pairs: line 2: carriage return at byte 1"},
		{"a_b\r\r\n", "pairs: line 1: carriage return at byte 3"},
		{"a_b\n" + long + "\n", "pairs: line 2: 65538 bytes, longer than 65536"},
	} {
		got, err := ReadPairs(strings.NewReader(c.in))
		if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), c.want) || got != nil {
			t.Errorf("ReadPairs(%.40q) = %d pairs, %v; want %q", c.in, len(got), err, c.want)
		}
	}
	// The longest line accepted.
	ok := strings.Repeat("x", MaxLineBytes-2) + "_1\r\n"
	if got, err := ReadPairs(strings.NewReader(ok)); err != nil || len(got) != 1 {
		t.Errorf("line of MaxLineBytes: %v", err)
	}
	if _, err := ReadPairs(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := ReadPairs(errReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("failing reader: %v", err)
	}
}

func TestReadPairsSizeCap(t *testing.T) {
	in := strings.Repeat("1+1_2\n", 10) // 60 bytes
	if _, err := readPairs(strings.NewReader(in), 60); err != nil {
		t.Errorf("at the cap: %v", err)
	}
	_, err := readPairs(strings.NewReader(in), 59)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "larger than 59 bytes") {
		t.Errorf("over the cap: %v", err)
	}
	if MaxPairsBytes != 64<<20 || MaxLineBytes != 64<<10 {
		t.Error("caps changed")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritePairs(t *testing.T) {
	pairs := []Pair{{"16+75", "91"}, {"706+796", "1502"}, {"8+4", "12"}}
	var b bytes.Buffer
	if err := WritePairs(&b, pairs, 7, 4); err != nil {
		t.Fatal(err)
	}
	want := "16+75  _91  \n706+796_1502\n8+4    _12  \n"
	if b.String() != want {
		t.Errorf("WritePairs wrote %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := WritePairs(&b, pairs, 0, 0); err != nil || b.String() != want {
		t.Errorf("widths 0 wrote %q, %v; want %q", b.String(), err, want)
	}
	b.Reset()
	if err := WritePairs(&b, []Pair{{"x", "y"}, {}}, 0, 0); !errors.Is(err, ErrInvalid) || b.Len() != 0 {
		t.Errorf("zero Pair: %v, wrote %q", err, b.String())
	}
	b.Reset()
	if err := WritePairs(&b, []Pair{{"é+ü", "ß"}, {" q", "a_b"}}, 4, 0); err != nil || b.String() != "é+ü _ß  \n q  _a_b\n" {
		t.Errorf("runes and '_' in answers: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := WritePairs(&b, nil, 3, 3); err != nil || b.Len() != 0 {
		t.Errorf("no pairs: %q, %v", b.String(), err)
	}
	if err := WritePairs(errWriter{}, pairs, 0, 0); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %v", err)
	}
}

func TestWritePairsErrors(t *testing.T) {
	for _, c := range []struct {
		pairs  []Pair
		qw, aw int
		want   string
	}{
		{[]Pair{{"a", "b"}}, -1, 0, "widths -1 and 0"},
		{[]Pair{{"a", "b"}}, 0, -2, "widths 0 and -2"},
		{[]Pair{{"a", "b"}, {"", "c"}}, 0, 0, "pair 1: question is empty"},
		{[]Pair{{"a", ""}}, 0, 0, "pair 0: answer is empty"},
		{[]Pair{{"a_b", "c"}}, 0, 0, "pair 0: question holds '_'"},
		{[]Pair{{"a", "b\nc"}}, 0, 0, "pair 0: answer holds a line break"},
		{[]Pair{{"a\r", "b"}}, 0, 0, "pair 0: question holds a line break"},
		{[]Pair{{"a ", "b"}}, 0, 0, "pair 0: question ends with a space"},
		{[]Pair{{"a", "b "}}, 0, 0, "pair 0: answer ends with a space"},
		{[]Pair{{"a\xff", "b"}}, 0, 0, "pair 0: question is not valid UTF-8"},
		{[]Pair{{"a", "b"}, {"abcd", "b"}}, 3, 0, "pair 1: question of 4 characters, wider than 3"},
		{[]Pair{{"a", "bcd"}}, 0, 2, "pair 0: answer of 3 characters, wider than 2"},
		{[]Pair{{"a", "b"}}, MaxLineBytes, 0, "pair 0: line of 65538 bytes"},
	} {
		var b bytes.Buffer
		err := WritePairs(&b, c.pairs, c.qw, c.aw)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) || b.Len() != 0 {
			t.Errorf("WritePairs(%q, %d, %d): %v, wrote %q; want %q", c.pairs, c.qw, c.aw, err, b.String(), c.want)
		}
	}
	if err := WritePairs(nil, nil, 0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil writer: %v", err)
	}
}

func TestPairsRoundTrip(t *testing.T) {
	for name, pairs := range map[string][]Pair{
		"addition": Addition(500, newSource(1)),
		"dates":    Dates(500, newSource(2)),
	} {
		var b bytes.Buffer
		if err := WritePairs(&b, pairs, 0, 0); err != nil {
			t.Fatal(err)
		}
		back, err := ReadPairs(io.MultiReader(&b))
		if err != nil || !slices.Equal(back, pairs) {
			t.Errorf("%s: round trip: %v", name, err)
		}
	}
	// The book's layouts.
	var b bytes.Buffer
	if err := WritePairs(&b, Addition(1000, newSource(3)), 7, 4); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if len(line) != 12 || line[7] != '_' {
			t.Fatalf("addition line %q is not 7 + '_' + 4", line)
		}
	}
	b.Reset()
	if err := WritePairs(&b, Dates(1000, newSource(4)), 29, 10); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if len(line) != 40 || line[29] != '_' {
			t.Fatalf("date line %q is not 29 + '_' + 10", line)
		}
	}
}
