package tree

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	for in, want := range map[string]string{
		"The film isn't good.":                   "The film is n't good .",
		"I can't believe it's \"great\"...":      "I ca n't believe it 's `` great '' ...",
		"(Sort of) a mess; we'll see!":           "-LRB- Sort of -RRB- a mess ; we 'll see !",
		"They're the dogs' toys, aren't they?":   "They 're the dogs ' toys , are n't they ?",
		"  A   warm , funny , engaging film .  ": "A warm , funny , engaging film .",
		"I'd say I'm fine, you've seen":          "I 'd say I 'm fine , you 've seen",
		"":                                       "",
	} {
		if got := strings.Join(Tokenize(in), " "); got != want {
			t.Errorf("Tokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRightBranchingAndBinarize(t *testing.T) {
	r, err := RightBranching([]string{"a", "b", "c", "d"}, 2)
	if err != nil || r.String() != "(2 (2 a) (2 (2 b) (2 (2 c) (2 d))))" {
		t.Errorf("RightBranching: %v, %v", r, err)
	}
	if one, err := RightBranching([]string{"x"}, 1); err != nil || one.String() != "(1 x)" {
		t.Errorf("one word: %v, %v", one, err)
	}
	if _, err := RightBranching(nil, 2); !errors.Is(err, ErrSyntax) {
		t.Errorf("no words: %v", err)
	}
	n := Join(3, Join(1, Leaf(0, "a")), Leaf(2, "b"), Join(4, Leaf(0, "c"), Leaf(1, "d"), Leaf(2, "e")))
	b := Binarize(n)
	if got, want := b.String(), "(3 (0 a) (3 (2 b) (4 (0 c) (4 (1 d) (2 e)))))"; got != want {
		t.Errorf("Binarize = %s, want %s", got, want)
	}
	if err := b.CheckBinary(); err != nil {
		t.Error(err)
	}
	if n.String() != "(3 (1 (0 a)) (2 b) (4 (0 c) (1 d) (2 e)))" {
		t.Errorf("Binarize changed its input: %s", n)
	}
	deep := chain(5000, true, 3)
	if got := Binarize(deep); got.Size() != deep.Size() {
		t.Errorf("a chain of 5000 binarised to %d nodes", got.Size())
	}
}

// link-parser's constituent output as version 5.12 prints it.
const linkOutput = `verbosity set to 0
constituents set to 1
(S (NP it)
   (VP 's.v
       (NP (PP (NP (ADJP a lovely.a)
                       film.s)
               (PP with
                   (NP lovely.a performances.n)))))
   .)

Bye.
`

func TestReadConstituents(t *testing.T) {
	n, err := ReadConstituents(linkOutput, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(n.Words(), " "); got != "it 's a lovely film with lovely performances ." {
		t.Errorf("words %q", got)
	}
	b := Binarize(n)
	if err := b.CheckBinary(); err != nil {
		t.Error(err)
	}
	if got := b.String(); got != "(2 (2 it) (2 (2 (2 's) (2 (2 (2 (2 a) (2 lovely)) (2 film)) (2 (2 with) (2 (2 lovely) (2 performances))))) (2 .)))" {
		t.Errorf("binarised %s", got)
	}
	re := Retoken(Binarize(n), strings.Fields("It 's a lovely film with lovely performances ."), 2)
	if re.Leaves()[0].Word != "It" {
		t.Errorf("Retoken with as many words: %s", re)
	}
	marks, err := ReadConstituents("(S (NP Zorblax{!}) (VP glimfed{!}.v-d (NP the mug{~}.n)) , didn't.v-d [um] .)", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(marks.Words(), " "); got != "Zorblax glimfed the mug , didn't um ." {
		t.Errorf("marks stripped: %q", got)
	}
	split := Retoken(Binarize(marks), []string{"x"}, 2)
	if got := strings.Join(split.Words(), " "); got != "Zorblax glimfed the mug , did n't um ." {
		t.Errorf("re-tokenised: %q", got)
	}
	if err := split.CheckBinary(); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"Bye.\n", "(S (NP a)", "(S)", "(S (NP) b)"} {
		if _, err := ReadConstituents(bad, 2); !errors.Is(err, ErrSyntax) {
			t.Errorf("ReadConstituents(%q): %v", bad, err)
		}
	}
}

// FuzzReadConstituents feeds arbitrary text as link-parser's output:
// an error wrapping ErrSyntax, or a tree whose every node is labelled,
// leaves hold one token each, and whose binarised form is binary with the
// same words.
func FuzzReadConstituents(f *testing.F) {
	for _, s := range []string{linkOutput, "(S a)", "(S (NP a b) c)", "((", "))", "(S (NP) b)", "(A (B (C x.n{~})))", "( x )", "Bye."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ReadConstituents(s, 2)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ReadConstituents(%q): %v", s, err)
			}
			return
		}
		if len(n.Leaves()) == 0 {
			t.Fatalf("ReadConstituents(%q): a tree without words", s)
		}
		for _, m := range n.PostOrder() {
			if m.Label != 2 || m.IsLeaf() && (m.Word == "" || strings.ContainsAny(m.Word, "() \t\n")) {
				t.Fatalf("ReadConstituents(%q): node %+v", s, m)
			}
		}
		b := Binarize(n)
		if err := b.CheckBinary(); err != nil || !slices.Equal(b.Words(), n.Words()) {
			t.Fatalf("Binarize(%s) = %s: %v", n, b, err)
		}
	})
}
