package tree

import (
	"strings"
	"unicode"

	"github.com/pkg/errors"
)

// Raw sentences: a tokenizer in the Stanford Sentiment Treebank's style,
// trees from a parser's constituent output (link-grammar's link-parser), a
// fallback tree where there is no parser, and the binarisation the binary
// models need. Nodes built here carry a placeholder label, the label
// argument.

// Tokenize splits a sentence into tokens as the Penn Treebank (and so SST)
// does: white space, punctuation split from words ("film." → "film" "."),
// clitics split ("don't" → "do" "n't", "it's" → "it" "'s", "can't" → "ca"
// "n't"), brackets written -LRB- and -RRB-, a double quote two backquotes
// where it opens a quotation and two apostrophes where it closes one. It
// is close to, not exactly, the Stanford tokenizer.
func Tokenize(s string) []string {
	var out []string
	open := true // the next " opens a quotation
	for _, f := range strings.Fields(s) {
		var tail []string
		for f != "" { // leading punctuation
			r := []rune(f)[0]
			if !strings.ContainsRune("([{\"`", r) {
				break
			}
			out = append(out, punct(string(r), &open))
			f = f[len(string(r)):]
		}
		for f != "" { // trailing punctuation, "..." kept together
			if strings.HasSuffix(f, "...") && len(f) > 3 {
				tail = append([]string{"..."}, tail...)
				f = f[:len(f)-3]
				continue
			}
			rs := []rune(f)
			r := rs[len(rs)-1]
			if !strings.ContainsRune(".,;:!?)]}\"'", r) || len(rs) == 1 && r != '"' {
				break
			}
			if r == '\'' && !strings.HasSuffix(strings.ToLower(f), "s'") {
				break // a closing quote only after a plural ("dogs'"), else part of the word
			}
			tail = append([]string{string(r)}, tail...)
			f = string(rs[:len(rs)-1])
		}
		if f != "" {
			out = append(out, clitics(f)...)
		}
		for _, t := range tail {
			out = append(out, punct(t, &open))
		}
	}
	return out
}

// punct returns SST's spelling of a punctuation token.
func punct(p string, open *bool) string {
	switch p {
	case "(", "[", "{":
		return "-LRB-"
	case ")", "]", "}":
		return "-RRB-"
	case "\"":
		*open = !*open
		if !*open {
			return "``"
		}
		return "''"
	case "`":
		return "`"
	}
	return p
}

// clitics splits English clitics off a word: n't, 's, 're, 've, 'll, 'd, 'm.
func clitics(w string) []string {
	lw := strings.ToLower(w)
	if strings.HasSuffix(lw, "n't") && len(w) > 3 {
		stem := w[:len(w)-3]
		if strings.EqualFold(w, "can't") {
			stem = w[:2] // ca n't
		}
		return []string{stem, w[len(w)-3:]}
	}
	for _, c := range []string{"'s", "'re", "'ve", "'ll", "'d", "'m"} {
		if strings.HasSuffix(lw, c) && len(w) > len(c) {
			return []string{w[:len(w)-len(c)], w[len(w)-len(c):]}
		}
	}
	return []string{w}
}

// RightBranching returns the fallback tree of words when there is no
// parser: each word joined to the tree of the words after it,
// (w₁ (w₂ (… (wₙ₋₁ wₙ)))), every node labelled label. English phrases
// mostly branch to the right, so it is the usual baseline tree. No words
// is an error.
func RightBranching(words []string, label int) (*Node, error) {
	if len(words) == 0 {
		return nil, errors.Wrap(ErrSyntax, "no words")
	}
	t := Leaf(label, words[len(words)-1])
	for i := len(words) - 2; i >= 0; i-- {
		t = Join(label, Leaf(label, words[i]), t)
	}
	return t, nil
}

// Binarize returns a copy of the tree in which every node has zero or two
// children, as the binary models need: a node with one child is replaced
// by its child, a node with k > 2 children becomes a right-branching chain
// of k − 1 binary nodes (c₁ (c₂ (… (cₖ₋₁ cₖ)))) with the node's label.
// It does not recurse on the tree's depth.
func Binarize(n *Node) *Node {
	copies := map[*Node]*Node{}
	for _, m := range n.PostOrder() {
		var kids []*Node
		for _, c := range m.Children {
			kids = append(kids, copies[c])
		}
		switch len(kids) {
		case 0:
			copies[m] = &Node{Label: m.Label, Word: m.Word, Line: m.Line, Col: m.Col}
		case 1:
			copies[m] = kids[0]
		default:
			t := kids[len(kids)-1]
			for i := len(kids) - 2; i >= 0; i-- {
				t = &Node{Label: m.Label, Children: []*Node{kids[i], t}, Line: m.Line, Col: m.Col}
			}
			copies[m] = t
		}
	}
	return copies[n]
}

// ReadConstituents reads the first constituent tree in the output of
// link-grammar's link-parser run with -constituents=1 (Penn-style
// brackets, "(S (NP the movie.n) (VP was.v-d good.a) .)"): its phrase
// types are dropped, every node gets label, and each word loses the
// dictionary's marks (".n", ".v-d", "{!}" for an unknown word, "{~}" for
// a spelling guess, "[…]" for a skipped one). Output without a tree, or
// with unbalanced brackets, is an error wrapping ErrSyntax.
func ReadConstituents(out string, label int) (*Node, error) {
	start := strings.Index(out, "(")
	if start < 0 {
		return nil, errors.Wrap(ErrSyntax, "link-parser printed no constituent tree")
	}
	toks := strings.FieldsFunc(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(out[start:]), unicode.IsSpace)
	type frame struct {
		kids   []*Node
		header bool // the phrase type is still to come
	}
	var stack []frame
	for _, t := range toks {
		switch {
		case t == "(":
			stack = append(stack, frame{header: true})
		case t == ")":
			if len(stack) == 0 {
				return nil, errors.Wrap(ErrSyntax, "link-parser's tree has an unbalanced )")
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(f.kids) == 0 {
				return nil, errors.Wrap(ErrSyntax, "link-parser's tree has an empty phrase")
			}
			n := Join(label, f.kids...)
			if len(stack) == 0 {
				return n, nil
			}
			stack[len(stack)-1].kids = append(stack[len(stack)-1].kids, n)
		case len(stack) == 0:
			return nil, errors.Wrapf(ErrSyntax, "link-parser's output has %q outside its tree", clip(t))
		case stack[len(stack)-1].header:
			stack[len(stack)-1].header = false
		default:
			if w := cleanWord(t); w != "" {
				stack[len(stack)-1].kids = append(stack[len(stack)-1].kids, Leaf(label, w))
			}
		}
	}
	return nil, errors.Wrap(ErrSyntax, "link-parser's tree is not closed")
}

// cleanWord strips link-grammar's marks from a word of its output.
func cleanWord(w string) string {
	if i := strings.IndexAny(w, "{["); i > 0 {
		w = w[:i]
	}
	w = strings.Trim(w, "[]")
	if i := strings.LastIndexByte(w, '.'); i > 0 && i < len(w)-1 && isSubscript(w[i+1:]) {
		w = w[:i]
	}
	return w
}

// isSubscript reports whether s is a dictionary subscript ("n", "v-d",
// "a", "e", "j-n", "s"): lower-case letters, digits and hyphens.
func isSubscript(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Retoken returns the tree with its leaves' words replaced by words, in
// order, when their number equals its leaves' (a parser that rewrote a
// word: case, spelling); otherwise each leaf is split by Tokenize, a word
// that becomes several tokens a right-branching subtree of them, so that
// the leaves are tokens of the training data's kind.
func Retoken(n *Node, words []string, label int) *Node {
	leaves := n.Leaves()
	if len(leaves) == len(words) {
		for i, l := range leaves {
			l.Word = words[i]
		}
		return n
	}
	for _, l := range leaves {
		toks := Tokenize(l.Word)
		if len(toks) > 1 {
			sub, _ := RightBranching(toks, label) // toks is not empty
			l.Word, l.Children = "", sub.Children
		} else if len(toks) == 1 {
			l.Word = toks[0]
		}
	}
	return n
}
