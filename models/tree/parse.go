package tree

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// MaxLineBytes bounds the length of one line (one tree) that Read accepts.
// The longest tree of the Stanford Sentiment Treebank is under 2 kB.
const MaxLineBytes = 1 << 20

// Parse reads one tree in PTB bracket format as the Stanford Sentiment
// Treebank ships it: "(label word)" for a leaf, "(label child child …)"
// for an internal node (any number of children), a label in
// 0..classes−1 on every node, tokens separated by white space. Errors are
// *ParseError values naming the column (line 1).
func Parse(s string, classes int) (*Node, error) {
	if classes <= 0 {
		return nil, errors.Wrapf(ErrConfig, "%d classes", classes)
	}
	return parseLine(s, 1, classes)
}

// Read reads one tree per line from r (see Parse). An empty or blank line
// between trees is an error; so is a line longer than MaxLineBytes. A
// UTF-8 byte-order mark at the start, carriage returns before line ends
// (CRLF files) and blank lines at the end are tolerated.
// Errors are *ParseError values naming the line and column.
func Read(r io.Reader, classes int) ([]*Node, error) {
	return read(r, "", classes)
}

// ReadFile reads the trees of a file (see Read); errors name the file.
func ReadFile(path string, classes int) ([]*Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "tree")
	}
	defer f.Close()
	return read(f, path, classes)
}

func read(r io.Reader, file string, classes int) ([]*Node, error) {
	if classes <= 0 {
		return nil, errors.Wrapf(ErrConfig, "%d classes", classes)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	var out []*Node
	line, blank := 0, 0 // blank: the first of the blank lines just read
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		if len(bytes.TrimLeft(b, " \t\r\n\v\f")) == 0 {
			if blank == 0 {
				blank = line
			}
			continue // an error if a tree follows; blank lines at the end are tolerated
		}
		if blank > 0 {
			_, err := parseLine("", blank, classes)
			err.(*ParseError).File = file
			return nil, err
		}
		t, err := parseLine(string(b), line, classes)
		if err != nil {
			if pe, ok := err.(*ParseError); ok {
				pe.File = file
			}
			return nil, err
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{File: file, Line: line + 1, Msg: "line longer than " + strconv.Itoa(MaxLineBytes) + " bytes", Err: ErrSyntax}
		}
		name := file
		if name == "" {
			name = "input"
		}
		return nil, errors.Wrapf(err, "tree: reading %s", name)
	}
	return out, nil
}

// frame is a node being read: its label is read once set.
type frame struct {
	n        *Node
	hasLabel bool
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// parseLine reads one tree from s, the text of line number line. It keeps
// its own stack, so a tree of any depth is read without recursion.
func parseLine(s string, line, classes int) (*Node, error) {
	// colAt returns the 1-based character column of byte i; i never goes
	// back, so the count is carried forward (linear in the line's length).
	at, col := 0, 1
	colAt := func(i int) int {
		for ; at < i && at < len(s); at++ {
			if s[at]&0xC0 != 0x80 {
				col++
			}
		}
		return col
	}
	fail := func(i int, err error, format string, args ...any) error {
		c := 0
		if i >= 0 {
			c = colAt(i)
		}
		return &ParseError{Line: line, Col: c, Msg: sprintf(format, args...), Err: err}
	}
	if strings.TrimLeft(s, " \t\r\n\v\f") == "" {
		return nil, fail(-1, ErrSyntax, "empty line")
	}
	var root *Node
	var stack []frame
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '(':
			if root != nil {
				return nil, fail(i, ErrSyntax, "a second tree after the first one ended")
			}
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if !top.hasLabel {
					return nil, fail(i, ErrSyntax, "missing label: '(' where the label of the node opened at column %d should be", top.n.Col)
				}
				if top.n.Word != "" {
					return nil, fail(i, ErrSyntax, "a child node after the word %q (a node holds a word or children, not both)", top.n.Word)
				}
			}
			stack = append(stack, frame{n: &Node{Line: line, Col: colAt(i)}})
			i++
		case c == ')':
			if len(stack) == 0 {
				return nil, fail(i, ErrSyntax, "unbalanced brackets: ')' closes nothing")
			}
			top := stack[len(stack)-1]
			if !top.hasLabel {
				return nil, fail(i, ErrSyntax, "missing label: empty brackets")
			}
			if top.n.Word == "" && len(top.n.Children) == 0 {
				return nil, fail(i, ErrSyntax, "the node opened at column %d has a label but neither a word nor children", top.n.Col)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				root = top.n
			} else {
				p := stack[len(stack)-1].n
				p.Children = append(p.Children, top.n)
			}
			i++
		default:
			j := i
			for j < len(s) && !isSpace(s[j]) && s[j] != '(' && s[j] != ')' {
				j++
			}
			tok := s[i:j]
			if len(stack) == 0 {
				if root != nil {
					return nil, fail(i, ErrSyntax, "text %q after the tree ended", clip(tok))
				}
				return nil, fail(i, ErrSyntax, "text %q outside brackets (a tree starts with '(')", clip(tok))
			}
			top := &stack[len(stack)-1]
			switch {
			case !top.hasLabel:
				if !isInteger(tok) {
					return nil, fail(i, ErrSyntax, "missing label: %q is not a class number", clip(tok))
				}
				l, err := strconv.Atoi(tok)
				if err != nil || l < 0 || l >= classes {
					return nil, fail(i, ErrLabel, "label %s outside 0..%d", clip(tok), classes-1)
				}
				top.n.Label, top.hasLabel = l, true
			case len(top.n.Children) > 0:
				return nil, fail(i, ErrSyntax, "word %q beside child nodes (a node holds a word or children, not both)", clip(tok))
			case top.n.Word != "":
				return nil, fail(i, ErrSyntax, "a second word %q in the leaf %q (one word per leaf)", clip(tok), clip(top.n.Word))
			default:
				top.n.Word = tok
			}
			i = j
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, &ParseError{Line: line, Col: top.n.Col, Err: ErrSyntax,
			Msg: sprintf("unbalanced brackets: %d not closed at the end of the line (the innermost opened here)", len(stack))}
	}
	return root, nil
}

// isInteger reports whether s is an optional '-' followed by decimal digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// clip shortens a token for a message.
func clip(s string) string {
	const n = 40
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
