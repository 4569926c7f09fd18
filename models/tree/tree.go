package tree

import (
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Node is a node of a labelled constituency tree: a leaf holds a word, an
// internal node holds its children, left to right, and never a word. Every
// node carries a class label (SST's sentiment, 0..4).
type Node struct {
	Label    int
	Word     string  // leaves only
	Children []*Node // internal nodes only
	// Line and Col locate the node's opening bracket in the text it was
	// read from (1-based; Col counts characters); 0 for a node built in code.
	Line, Col int
}

// Leaf returns a leaf with a label and a word.
func Leaf(label int, word string) *Node { return &Node{Label: label, Word: word} }

// Join returns an internal node with a label over children.
func Join(label int, children ...*Node) *Node {
	return &Node{Label: label, Children: children}
}

// IsLeaf reports whether n has no children.
func (n *Node) IsLeaf() bool { return len(n.Children) == 0 }

// PostOrder returns the nodes of the tree rooted at n in post-order: each
// node's subtrees, left to right, then the node; the root comes last. This
// is the order in which the models compute nodes and in which they lay out
// their outputs. It does not recurse, so a degenerate tree of any depth is
// fine.
func (n *Node) PostOrder() []*Node {
	var out []*Node
	type frame struct {
		n    *Node
		next int
	}
	stack := []frame{{n: n}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.n.Children) {
			c := top.n.Children[top.next]
			top.next++
			stack = append(stack, frame{n: c})
			continue
		}
		out = append(out, top.n)
		stack = stack[:len(stack)-1]
	}
	return out
}

// Size returns the number of nodes in the tree.
func (n *Node) Size() int { return len(n.PostOrder()) }

// Leaves returns the leaves, left to right.
func (n *Node) Leaves() []*Node {
	var out []*Node
	for _, m := range n.PostOrder() {
		if m.IsLeaf() {
			out = append(out, m)
		}
	}
	return out
}

// Words returns the words of the leaves, left to right: the sentence.
func (n *Node) Words() []string {
	ls := n.Leaves()
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Word
	}
	return out
}

// Heights returns the height of every node, in post-order (a leaf is 0, a
// node one more than its highest child); the last is the tree's height.
func (n *Node) Heights() []int {
	nodes := n.PostOrder()
	idx := make(map[*Node]int, len(nodes))
	hs := make([]int, len(nodes))
	for i, m := range nodes {
		idx[m] = i
		for _, c := range m.Children {
			hs[i] = max(hs[i], hs[idx[c]]+1)
		}
	}
	return hs
}

// Height returns the height of the tree: 0 for a single leaf.
func (n *Node) Height() int {
	hs := n.Heights()
	return hs[len(hs)-1]
}

// where names a node's position for messages.
func (n *Node) where() string {
	if n.Line == 0 {
		return "node " + strconv.Quote(n.String())
	}
	return "node at line " + strconv.Itoa(n.Line) + ", column " + strconv.Itoa(n.Col)
}

// CheckBinary returns an error wrapping ErrNotBinary, naming the first node
// (in post-order) with other than 0 or 2 children, or nil.
func (n *Node) CheckBinary() error {
	for _, m := range n.PostOrder() {
		if k := len(m.Children); k != 0 && k != 2 {
			return errors.Wrapf(ErrNotBinary, "%s has %d children, the binary models need 2", m.where(), k)
		}
	}
	return nil
}

// Validate checks a tree built in code as Parse checks text: every label
// in 0..classes−1, every leaf with a word that is one bracket-format token
// (not empty, no spaces or brackets), no internal node with a word, and no
// node reached twice.
func (n *Node) Validate(classes int) error {
	if classes <= 0 {
		return errors.Wrapf(ErrConfig, "%d classes", classes)
	}
	if n == nil {
		return errors.Wrap(ErrSyntax, "nil tree")
	}
	seen := map[*Node]bool{}
	stack := []*Node{n}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if m == nil {
			return errors.Wrap(ErrSyntax, "nil child")
		}
		if seen[m] {
			return errors.Wrapf(ErrSyntax, "%s is reached twice (a tree is not a graph)", m.where())
		}
		seen[m] = true
		if m.Label < 0 || m.Label >= classes {
			return errors.Wrapf(ErrLabel, "%s: label %d outside 0..%d", m.where(), m.Label, classes-1)
		}
		if m.IsLeaf() {
			if m.Word == "" || strings.ContainsAny(m.Word, "() \t\r\n\v\f") {
				return errors.Wrapf(ErrSyntax, "%s: leaf word %q is not one token", m.where(), m.Word)
			}
		} else if m.Word != "" {
			return errors.Wrapf(ErrSyntax, "%s: an internal node holds word %q", m.where(), m.Word)
		}
		stack = append(stack, m.Children...)
	}
	return nil
}

// String returns the tree in bracket format, "(label word)" for a leaf and
// "(label child child …)" for an internal node: what Parse reads.
func (n *Node) String() string {
	var b strings.Builder
	type frame struct {
		n    *Node
		next int
	}
	stack := []frame{{n: n}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.n == nil {
			b.WriteString("<nil>")
			stack = stack[:len(stack)-1]
			continue
		}
		if top.next == 0 {
			b.WriteByte('(')
			b.WriteString(strconv.Itoa(top.n.Label))
			if top.n.IsLeaf() {
				b.WriteByte(' ')
				b.WriteString(top.n.Word)
			}
		}
		if top.next < len(top.n.Children) {
			c := top.n.Children[top.next]
			top.next++
			b.WriteByte(' ')
			stack = append(stack, frame{n: c})
			continue
		}
		b.WriteByte(')')
		stack = stack[:len(stack)-1]
	}
	return b.String()
}
