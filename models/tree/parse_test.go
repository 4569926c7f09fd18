package tree

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseShapes(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		size    int
		height  int
		words   string
		binary  bool
	}{
		{"(2 very)", "(2 very)", 1, 0, "very", true},
		{"(3 (2 not) (4 good))", "(3 (2 not) (4 good))", 3, 1, "not good", true},
		{"  (1   (2 a)\t(0 (4 b) (1 c)) ) ", "(1 (2 a) (0 (4 b) (1 c)))", 5, 2, "a b c", true},
		{"(0 (1 a) (2 b) (3 c))", "(0 (1 a) (2 b) (3 c))", 4, 1, "a b c", false},
		{"(4 (3 (2 x)))", "(4 (3 (2 x)))", 3, 2, "x", false},
		{"(2 -LRB-)\r", "(2 -LRB-)", 1, 0, "-LRB-", true},
		{"(2 naïve)", "(2 naïve)", 1, 0, "naïve", true},
	} {
		n, err := Parse(tc.in, 5)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := n.String(); got != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.out)
		}
		if n.Size() != tc.size || n.Height() != tc.height {
			t.Errorf("%q: size %d height %d, want %d %d", tc.in, n.Size(), n.Height(), tc.size, tc.height)
		}
		if got := strings.Join(n.Words(), " "); got != tc.words {
			t.Errorf("%q: words %q, want %q", tc.in, got, tc.words)
		}
		if err := n.CheckBinary(); (err == nil) != tc.binary {
			t.Errorf("%q: CheckBinary = %v, want binary %v", tc.in, err, tc.binary)
		}
		if err := n.Validate(5); err != nil {
			t.Errorf("%q: Validate: %v", tc.in, err)
		}
	}
}

func TestPostOrder(t *testing.T) {
	n, err := Parse("(0 (1 a) (2 (3 b) (4 c)))", 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, m := range n.PostOrder() {
		got = append(got, m.Label)
	}
	if want := []int{1, 3, 4, 2, 0}; !equalInts(got, want) {
		t.Errorf("post-order labels %v, want %v", got, want)
	}
	if hs, want := n.Heights(), []int{0, 0, 0, 1, 2}; !equalInts(hs, want) {
		t.Errorf("heights %v, want %v", hs, want)
	}
	// Positions: the node (3 b) opens at column 13.
	if m := n.PostOrder()[1]; m.Line != 1 || m.Col != 13 {
		t.Errorf("(3 b) at line %d column %d, want 1, 13", m.Line, m.Col)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A degenerate chain 200,000 deep is read, traversed and printed without
// recursion.
func TestDeepChain(t *testing.T) {
	const depth = 200000
	s := strings.Repeat("(1 (2 w) ", depth) + "(3 end)" + strings.Repeat(")", depth)
	n, err := Parse(s, 5)
	if err != nil {
		t.Fatal(err)
	}
	if n.Height() != depth || n.Size() != 2*depth+1 {
		t.Errorf("height %d size %d, want %d %d", n.Height(), n.Size(), depth, 2*depth+1)
	}
	if n.String() != s {
		t.Error("String does not give the text back")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in       string
		col      int
		sentinel error
		msg      string
	}{
		{"", 0, ErrSyntax, "empty line"},
		{"   \t", 0, ErrSyntax, "empty line"},
		{"(2 (1 a) (3 b)", 1, ErrSyntax, "unbalanced brackets: 1 not closed"},
		{"(2 (1 a) (3 b", 10, ErrSyntax, "unbalanced brackets: 2 not closed"},
		{"(2 a))", 6, ErrSyntax, "')' closes nothing"},
		{")", 1, ErrSyntax, "closes nothing"},
		{"(good)", 2, ErrSyntax, `missing label: "good"`},
		{"((2 a) (2 b))", 2, ErrSyntax, "missing label: '('"},
		{"()", 2, ErrSyntax, "missing label: empty brackets"},
		{"(2)", 3, ErrSyntax, "neither a word nor children"},
		{"(5 a)", 2, ErrLabel, "label 5 outside 0..4"},
		{"(2 (1 a) (-1 b))", 11, ErrLabel, "label -1 outside 0..4"},
		{"(99999999999999999999 a)", 2, ErrLabel, "outside 0..4"},
		{"(+1 a)", 2, ErrSyntax, "missing label"},
		{"(2 a b)", 6, ErrSyntax, "a second word"},
		{"(2 a (1 b))", 6, ErrSyntax, "a child node after the word"},
		{"(2 (1 b) a)", 10, ErrSyntax, "beside child nodes"},
		{"(2 a) (2 b)", 7, ErrSyntax, "a second tree"},
		{"(2 a) b", 7, ErrSyntax, "after the tree ended"},
		{"word (2 a)", 1, ErrSyntax, "outside brackets"},
		{"(2 é) x", 7, ErrSyntax, "after the tree ended"}, // columns count characters
	} {
		_, err := Parse(tc.in, 5)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): error %v, want a *ParseError", tc.in, err)
			continue
		}
		if pe.Line != 1 || pe.Col != tc.col || !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Parse(%q): %v (line %d, column %d), want column %d, %v, %q", tc.in, err, pe.Line, pe.Col, tc.col, tc.sentinel, tc.msg)
		}
	}
	if _, err := Parse("(0 a)", 0); !errors.Is(err, ErrConfig) {
		t.Errorf("0 classes: %v, want ErrConfig", err)
	}
	if _, err := Parse("(1 a)", 1); !errors.Is(err, ErrLabel) {
		t.Errorf("label 1 with 1 class: %v, want ErrLabel", err)
	}
}

func TestReadLines(t *testing.T) {
	ts, err := Read(strings.NewReader("\ufeff(2 a)\r\n(3 (2 b) (4 c))\n(1 d)"), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 || ts[1].String() != "(3 (2 b) (4 c))" || ts[2].Line != 3 || ts[1].Children[1].Col != 10 {
		t.Errorf("read %v", ts)
	}
	for _, tc := range []struct {
		in        string
		line, col int
		msg       string
	}{
		{"(2 a)\n\n(2 b)\n", 2, 0, "empty line"},
		{"(2 a)\n(2 b)\n(2 (1 c) (3 d)\n", 3, 1, "unbalanced"},
		{"(2 a)\n(2 (1 c) (7 d))\n", 2, 11, "label 7 outside 0..4"},
		{"(2 a)\n \n\r\n(2 b)", 2, 0, "empty line"},
		{"\n(2 a)", 1, 0, "empty line"},
	} {
		_, err := Read(strings.NewReader(tc.in), 5)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || pe.Col != tc.col || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Read(%q): %v, want line %d column %d %q", tc.in, err, tc.line, tc.col, tc.msg)
		}
	}
	long := "(2 " + strings.Repeat("x", MaxLineBytes) + ")\n"
	if _, err := Read(strings.NewReader("(2 a)\n"+long), 5); err == nil || !strings.Contains(err.Error(), "line 2: line longer") {
		t.Errorf("a line over MaxLineBytes: %v", err)
	}
	for _, in := range []string{"(2 a)\n(3 b)\n\n", "(2 a)\r\n(3 b)\r\n \r\n\t\n"} {
		if ts, err := Read(strings.NewReader(in), 5); err != nil || len(ts) != 2 {
			t.Errorf("Read(%q), blank lines at the end: %v, %d trees", in, err, len(ts))
		}
	}
	ts, err = Read(strings.NewReader(""), 5)
	if err != nil || len(ts) != 0 {
		t.Errorf("empty input: %v, %d trees", err, len(ts))
	}
}

func TestReadFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(path, []byte("(2 a)\n(2 (1 b) (3 c)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path, 5)
	if err == nil || !strings.Contains(err.Error(), path+": line 2, column 1: unbalanced") {
		t.Errorf("ReadFile: %v, want the file, line and column", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.txt"), 5); err == nil {
		t.Error("a missing file: no error")
	}
}

func TestValidate(t *testing.T) {
	shared := Leaf(1, "a")
	for _, tc := range []struct {
		n    *Node
		want error
	}{
		{Join(2, Leaf(1, "a"), Leaf(3, "b")), nil},
		{Join(5, Leaf(1, "a")), ErrLabel},
		{Join(2, Leaf(1, "")), ErrSyntax},
		{Join(2, Leaf(1, "a b")), ErrSyntax},
		{&Node{Label: 1, Word: "x", Children: []*Node{Leaf(1, "a")}}, ErrSyntax},
		{Join(2, shared, shared), ErrSyntax},
		{Join(2, nil), ErrSyntax},
	} {
		if err := tc.n.Validate(5); !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
			t.Errorf("Validate(%v) = %v, want %v", tc.n, err, tc.want)
		}
	}
}

// sstDir is where the Stanford Sentiment Treebank's standard split lies:
// $RNNKIT_SST, or the shared data folder beside the repository.
func sstDir() string {
	if d := os.Getenv("RNNKIT_SST"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data", "sst")
}

func TestSST(t *testing.T) {
	for _, split := range []struct {
		file  string
		trees int
	}{{"train.txt", 8544}, {"dev.txt", 1101}} {
		path := filepath.Join(sstDir(), split.file)
		if _, err := os.Stat(path); err != nil {
			t.Skipf("skipping: the SST split is not there (%v); set RNNKIT_SST to the folder of train.txt and dev.txt", err)
		}
		ts, err := ReadFile(path, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != split.trees {
			t.Errorf("%s: %d trees, want %d", split.file, len(ts), split.trees)
		}
		nodes, labels := 0, [5]int{}
		for i, n := range ts {
			if err := n.CheckBinary(); err != nil {
				t.Fatalf("%s, tree %d: %v", split.file, i+1, err)
			}
			for _, m := range n.PostOrder() {
				nodes++
				labels[m.Label]++
			}
			if s := n.String(); n.Line != i+1 || len(s) == 0 {
				t.Fatalf("%s: tree %d at line %d", split.file, i+1, n.Line)
			}
		}
		t.Logf("%s: %d trees, %d nodes, labels %v", split.file, len(ts), nodes, labels)
		if split.file == "train.txt" {
			v := BuildVocab(ts, 1)
			t.Logf("vocabulary of train: %d words with %s", v.Len(), Unknown)
			if v.Len() < 10000 || v.Word(0) != Unknown {
				t.Errorf("vocabulary of %d words, first %q", v.Len(), v.Word(0))
			}
		}
	}
}
