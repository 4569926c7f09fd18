package preset

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReadSentences(t *testing.T) {
	sents, lines, err := ReadSentences(strings.NewReader("the cat  sat\n\n  \n\tand ran \r\nend"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sents, "|") != "the cat sat|and ran|end" || len(lines) != 3 || lines[1] != 4 || lines[2] != 5 {
		t.Errorf("%q at lines %v", sents, lines)
	}
	if _, _, err := ReadSentences(strings.NewReader("ok\nbad \xff byte\n")); err == nil || !strings.Contains(err.Error(), "line 2: invalid UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	long := "a\n" + strings.Repeat("x", MaxSentenceBytes+1) + "\n"
	if _, _, err := ReadSentences(strings.NewReader(long)); err == nil || !strings.Contains(err.Error(), "line 2: longer than") {
		t.Errorf("an over-long line: %v", err)
	}
}

// ReadSentences never panics; what it returns is valid UTF-8, one
// sentence per non-blank line, words joined by single spaces.
func FuzzReadSentences(f *testing.F) {
	for _, s := range []string{"", "\n", "a b\nc", "the  cat\r\n\r\n", "\xff", " \t \n x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sents, lines, err := ReadSentences(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(sents) != len(lines) {
			t.Fatalf("%d sentences, %d lines", len(sents), len(lines))
		}
		for i, s := range sents {
			if s == "" || !utf8.ValidString(s) || strings.Join(strings.Fields(s), " ") != s {
				t.Fatalf("sentence %d %q", i, s)
			}
			if i > 0 && lines[i] <= lines[i-1] {
				t.Fatalf("lines %v", lines)
			}
		}
	})
}
