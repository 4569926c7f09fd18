package data

import (
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func TestReadCorpus(t *testing.T) {
	for _, in := range []string{
		"a",
		"the cat sat on the mat\n",
		"\ufeffline one\r\nline two\n\n\n",
		"吾輩は猫である。名前はまだ無い。\n",
		"\x00\ufffd",
	} {
		got, err := ReadCorpus(strings.NewReader(in))
		if err != nil || got != in {
			t.Errorf("ReadCorpus(%q) = %q, %v", in, got, err)
		}
	}
}

func TestReadCorpusErrors(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", "corpus: empty file"},
		{"\xff", "corpus: invalid UTF-8 at byte offset 0 (line 1)"},
		{"ab\ncd\n\xc3(", "corpus: invalid UTF-8 at byte offset 6 (line 3)"},
		{"é\n\xed\xa0\x80", "corpus: invalid UTF-8 at byte offset 3 (line 2)"}, // a surrogate
		{"ok\xe2\x82", "corpus: invalid UTF-8 at byte offset 2 (line 1)"},      // truncated
	} {
		got, err := ReadCorpus(strings.NewReader(c.in))
		if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), c.want) || got != "" {
			t.Errorf("ReadCorpus(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := ReadCorpus(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := ReadCorpus(errReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("failing reader: %v", err)
	}
	if _, err := readCorpus(strings.NewReader("12345"), 5); err != nil {
		t.Errorf("at the cap: %v", err)
	}
	if _, err := readCorpus(strings.NewReader("123456"), 5); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "larger than 5 bytes") {
		t.Errorf("over the cap: %v", err)
	}
	if MaxCorpusBytes != 256<<20 {
		t.Error("cap changed")
	}
}
