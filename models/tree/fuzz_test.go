package tree

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary text to Parse and Read: either a *ParseError
// naming a line and a column inside the text, or trees that are valid,
// print as bracket text and read back the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"(2 very)", "(3 (2 not) (4 good))", "(0 (1 a) (2 b) (3 c))", "(4 (3 (2 x)))",
		"(2 (1 a) (3 b)", "(2 a))", "(good)", "()", "(5 a)", "(-1 a)", "(2 a b)", "(2 a (1 b))",
		"(2 a) (2 b)", "", "  ", "(2 é)", "\ufeff(2 a)", "(2 a)\n(3 b)\r\n", "(2 a)\n\n(2 b)",
		"(1 (2 (3 (4 (0 deep)))))", "((", "))", "(0 (1 a) (2 (3 b) (4 c)))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s, 5)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): %v is not a *ParseError", s, err)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrLabel) {
				t.Fatalf("Parse(%q): %v is neither ErrSyntax nor ErrLabel", s, err)
			}
			if pe.Line != 1 || pe.Col < 0 || pe.Col > utf8.RuneCountInString(s)+1 {
				t.Fatalf("Parse(%q): %v at line %d column %d", s, err, pe.Line, pe.Col)
			}
		} else {
			checkTree(t, s, n)
		}
		ts, err := Read(strings.NewReader(s), 5)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Line > strings.Count(s, "\n")+1 {
				t.Fatalf("Read(%q): %v", s, err)
			}
			return
		}
		for _, n := range ts {
			checkTree(t, s, n)
		}
	})
}

func checkTree(t *testing.T, s string, n *Node) {
	t.Helper()
	if n == nil {
		t.Fatalf("Parse(%q): nil tree, no error", s)
	}
	if err := n.Validate(5); err != nil {
		t.Fatalf("Parse(%q) gives an invalid tree: %v", s, err)
	}
	out := n.String()
	m, err := Parse(out, 5)
	if err != nil {
		t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, out, err)
	}
	if m.String() != out || m.Size() != n.Size() || m.Height() != n.Height() {
		t.Fatalf("Parse(%q): %q reads back as %q", s, out, m.String())
	}
	if len(n.PostOrder()) != n.Size() || n.PostOrder()[n.Size()-1] != n {
		t.Fatalf("Parse(%q): the root is not last in post-order", s)
	}
}
