package data

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// newSource is graph.NewSource without importing Gorgonia: the same PCG,
// the same stream for the same seed.
func newSource(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

func TestSpecials(t *testing.T) {
	for _, v := range []*Vocab{NewCharVocab([]string{"abc"}), NewWordVocab([]string{"a b"}, 1), {}, nil} {
		for id, want := range []string{"<pad>", "<s>", "</s>", "<unk>"} {
			got, err := v.Token(id)
			if err != nil || got != want {
				t.Errorf("Token(%d) = %q, %v; want %q", id, got, err, want)
			}
			if v.ID(want) != id {
				t.Errorf("ID(%q) = %d, want %d", want, v.ID(want), id)
			}
		}
	}
	if PAD != 0 || BOS != 1 || EOS != 2 || UNK != 3 || NumSpecial != 4 {
		t.Error("special ids moved")
	}
	var zero Vocab
	if zero.Len() != 4 || zero.ID("a") != UNK || !slices.Equal(zero.EncodeChars("ab"), []int{UNK, UNK}) {
		t.Errorf("zero Vocab: Len %d, ID(a) %d", zero.Len(), zero.ID("a"))
	}
	var nilV *Vocab
	if nilV.Len() != 4 || nilV.Decode([]int{UNK, 7}, "") != "<unk><unk>" {
		t.Error("nil Vocab is not the specials-only vocabulary")
	}
}

func TestCharVocab(t *testing.T) {
	v := NewCharVocab([]string{"ba+", "a1é", ""})
	want := []string{"<pad>", "<s>", "</s>", "<unk>", "+", "1", "a", "b", "é"}
	if !slices.Equal(v.Tokens(), want) || v.Len() != len(want) {
		t.Fatalf("Tokens = %q, want %q", v.Tokens(), want)
	}
	if got := v.EncodeChars("ab+é?"); !slices.Equal(got, []int{6, 7, 4, 8, UNK}) {
		t.Errorf("EncodeChars = %v", got)
	}
	if got := v.Decode(v.EncodeChars("1+ab"), ""); got != "1+ab" {
		t.Errorf("round trip gave %q", got)
	}
	if got := v.EncodeChars(""); len(got) != 0 {
		t.Errorf("EncodeChars(\"\") = %v", got)
	}
	// Invalid UTF-8 is U+FFFD, in the vocabulary as in encoding.
	w := NewCharVocab([]string{"a\xff"})
	if id := w.ID("\uFFFD"); id == UNK || !slices.Equal(w.EncodeChars("\xfea"), []int{id, w.ID("a")}) {
		t.Errorf("invalid UTF-8: %q, %v", w.Tokens(), w.EncodeChars("\xfea"))
	}
	// The same texts in another order give the same vocabulary.
	if !slices.Equal(NewCharVocab([]string{"a1é", "ba+"}).Tokens(), want) {
		t.Error("character order depends on the texts' order")
	}
	// Multi-rune tokens are not characters.
	if got := v.EncodeChars("<s>"); !slices.Equal(got, []int{UNK, UNK, UNK}) {
		t.Errorf("EncodeChars(<s>) = %v", got)
	}
}

func TestWordVocab(t *testing.T) {
	texts := []string{"the cat sat on the mat", "the dog\tsat  \n<unk> </s> zebra"}
	v := NewWordVocab(texts, 1)
	want := []string{"<pad>", "<s>", "</s>", "<unk>", "the", "sat", "cat", "dog", "mat", "on", "zebra"}
	if !slices.Equal(v.Tokens(), want) {
		t.Fatalf("Tokens = %q, want %q", v.Tokens(), want)
	}
	if got := v.EncodeWords(" the  bird sat </s> "); !slices.Equal(got, []int{4, UNK, 5, EOS}) {
		t.Errorf("EncodeWords = %v", got)
	}
	if got := v.Decode(v.EncodeWords("the cat sat"), " "); got != "the cat sat" {
		t.Errorf("round trip gave %q", got)
	}
	v2 := NewWordVocab(texts, 2)
	if !slices.Equal(v2.Tokens(), []string{"<pad>", "<s>", "</s>", "<unk>", "the", "sat"}) {
		t.Errorf("minCount 2: %q", v2.Tokens())
	}
	if NewWordVocab(texts, 4).Len() != NumSpecial || NewWordVocab(nil, 0).Len() != NumSpecial {
		t.Error("empty word vocabularies hold more than the specials")
	}
	if !slices.Equal(NewWordVocab(texts, -5).Tokens(), want) {
		t.Error("minCount < 1 is not every word")
	}
	// Top keeps the first n tokens, the specials always.
	for n, wantTop := range map[int][]string{6: want[:6], 0: want[:NumSpecial], -1: want[:NumSpecial], 99: want} {
		top := v.Top(n)
		if !slices.Equal(top.Tokens(), wantTop) {
			t.Errorf("Top(%d) = %q, want %q", n, top.Tokens(), wantTop)
		}
	}
	if got := v.Top(5).EncodeWords("the sat"); !slices.Equal(got, []int{4, UNK}) {
		t.Errorf("Top(5) encodes %v", got)
	}
}

func TestDecode(t *testing.T) {
	v := NewCharVocab([]string{"ab"}) // a = 4, b = 5
	for _, c := range []struct {
		ids  []int
		sep  string
		want string
	}{
		{nil, "", ""},
		{[]int{BOS, 4, 5, EOS, 4}, "", "ab"},
		{[]int{4, PAD, 5, PAD, PAD}, "-", "a-b"},
		{[]int{4, UNK, 6, -1, 5}, " ", "a <unk> <unk> <unk> b"},
		{[]int{EOS, 4}, "", ""},
		{[]int{PAD, BOS, 5}, ",", "b"},
	} {
		if got := v.Decode(c.ids, c.sep); got != c.want {
			t.Errorf("Decode(%v, %q) = %q, want %q", c.ids, c.sep, got, c.want)
		}
	}
}

func TestTokenErrors(t *testing.T) {
	v := NewCharVocab([]string{"ab"})
	for _, id := range []int{-1, 6, 1 << 40} {
		if _, err := v.Token(id); !errors.Is(err, ErrInvalid) {
			t.Errorf("Token(%d): %v, want ErrInvalid", id, err)
		}
	}
	if tok, err := v.Token(5); tok != "b" || err != nil {
		t.Errorf("Token(5) = %q, %v", tok, err)
	}
}

func TestNewVocab(t *testing.T) {
	toks := []string{"<pad>", "<s>", "</s>", "<unk>", "x", "yz"}
	v, err := NewVocab(toks)
	if err != nil || !slices.Equal(v.Tokens(), toks) || v.ID("yz") != 5 {
		t.Fatalf("NewVocab: %v, %q", err, v.Tokens())
	}
	toks[4] = "changed"
	if tok, _ := v.Token(4); tok != "x" {
		t.Error("NewVocab keeps the caller's slice")
	}
	for name, bad := range map[string][]string{
		"nil":       nil,
		"short":     {"<pad>", "<s>", "</s>"},
		"order":     {"<s>", "<pad>", "</s>", "<unk>"},
		"missing":   {"a", "<s>", "</s>", "<unk>"},
		"duplicate": {"<pad>", "<s>", "</s>", "<unk>", "a", "b", "a"},
		"special":   {"<pad>", "<s>", "</s>", "<unk>", "<s>"},
		"empty":     {"<pad>", "<s>", "</s>", "<unk>", ""},
		"utf8":      {"<pad>", "<s>", "</s>", "<unk>", "\xff"},
	} {
		if _, err := NewVocab(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestVocabJSONRoundTrip(t *testing.T) {
	for _, v := range []*Vocab{
		NewCharVocab([]string{"0123456789+_ é\"\\\n\t"}),
		NewWordVocab([]string{"the cat sat on the mat"}, 1),
		{},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Vocab
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !slices.Equal(back.Tokens(), v.Tokens()) {
			t.Errorf("round trip: %q, want %q", back.Tokens(), v.Tokens())
		}
		for i := range v.Len() {
			tok, _ := v.Token(i)
			if back.ID(tok) != i {
				t.Errorf("ID(%q) = %d after the round trip, want %d", tok, back.ID(tok), i)
			}
		}
	}
	// As a value in a checkpoint's metadata, by value and by pointer.
	meta := struct {
		V  Vocab  `json:"v"`
		P  *Vocab `json:"p"`
		NP *Vocab `json:"np"`
	}{V: *NewCharVocab([]string{"ab"}), P: NewCharVocab([]string{"c"})}
	b, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	// json.Marshal escapes < and > as \u003c and \u003e.
	want := `{"v":{"tokens":["<pad>","<s>","</s>","<unk>","a","b"]},"p":{"tokens":["<pad>","<s>","</s>","<unk>","c"]},"np":null}`
	want = strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(want)
	if string(b) != want {
		t.Errorf("metadata JSON %s, want %s", b, want)
	}
	meta.V, meta.P = Vocab{}, nil
	if err := json.Unmarshal(b, &meta); err != nil || meta.V.Len() != 6 || meta.P.Len() != 5 || meta.NP != nil {
		t.Errorf("metadata back: %v", err)
	}
}

func TestVocabJSONBad(t *testing.T) {
	good := NewCharVocab([]string{"ab"})
	for _, in := range []string{
		``,
		`null`,
		`[]`,
		`{}`,
		`{"tokens": null}`,
		`{"tokens": []}`,
		`{"tokens": ["<pad>", "<s>", "</s>"]}`,
		`{"tokens": ["<s>", "<pad>", "</s>", "<unk>"]}`,
		`{"tokens": ["<pad>", "<s>", "</s>", "<unk>", "a", "a"]}`,
		`{"tokens": ["<pad>", "<s>", "</s>", "<unk>", ""]}`,
		`{"tokens": ["<pad>", "<s>", "</s>", "<unk>", 7]}`,
		`{"tokens": ["<pad>", "<s>", "</s>", "<unk>"], "extra": 1}`,
		`{"tokens": ["<pad>", "<s>", "</s>", "<unk>"]} {}`,
		`{"tokens": ["<pad>", "<s>", "</s>", "<unk>"]`,
		`{"tokens": "abc"}`,
	} {
		v := *good
		err := v.UnmarshalJSON([]byte(in))
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", in, err)
		}
		if !slices.Equal(v.Tokens(), good.Tokens()) {
			t.Errorf("%s: the failed read changed the vocabulary", in)
		}
	}
	var nilV *Vocab
	if err := nilV.UnmarshalJSON([]byte(`{"tokens":["<pad>","<s>","</s>","<unk>"]}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil *Vocab: %v", err)
	}
	var v Vocab
	err := json.Unmarshal([]byte(`{"tokens": ["<pad>", "<s>", "</s>", "<unk>", "a", "a"]}`), &v)
	if err == nil || !strings.Contains(err.Error(), `token 5 "a" repeats token 4`) {
		t.Errorf("duplicate: %v", err)
	}
}
