package data

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// The special token ids, the same in every vocabulary.
const (
	PAD = 0 // padding: fills a sequence up to its batch's length
	BOS = 1 // beginning of sequence: the decoder's first input
	EOS = 2 // end of sequence: the decoder's last label
	UNK = 3 // unknown: a token the vocabulary does not hold
)

// The special tokens' strings, at ids PAD, BOS, EOS and UNK.
const (
	PADToken = "<pad>"
	BOSToken = "<s>"
	EOSToken = "</s>"
	UNKToken = "<unk>"
)

// NumSpecial is the number of special tokens; the first ordinary token has
// this id.
const NumSpecial = 4

var specials = [NumSpecial]string{PADToken, BOSToken, EOSToken, UNKToken}

// Vocab maps tokens to ids and back. Ids 0 to 3 are the special tokens
// (PAD, BOS, EOS, UNK); the others follow. Build one with [NewCharVocab],
// [NewWordVocab] or [NewVocab], or read one from JSON. The zero Vocab (and
// a nil *Vocab) holds only the special tokens. A Vocab is never modified
// after it is built (except by UnmarshalJSON), so it is safe for concurrent
// reads.
type Vocab struct {
	tokens []string       // id → token; empty means the specials only
	ids    map[string]int // token → id, every token
	runes  map[rune]int   // single-rune token → id, for EncodeChars
}

// newVocab builds a Vocab from the specials followed by extra, which must
// hold distinct, non-special tokens.
func newVocab(extra []string) *Vocab {
	toks := make([]string, 0, NumSpecial+len(extra))
	toks = append(toks, specials[:]...)
	toks = append(toks, extra...)
	v := &Vocab{tokens: toks, ids: make(map[string]int, len(toks)), runes: make(map[rune]int)}
	for id, t := range toks {
		v.ids[t] = id
		if r, size := utf8.DecodeRuneInString(t); size == len(t) && (r != utf8.RuneError || size > 1) {
			v.runes[r] = id
		}
	}
	return v
}

// NewVocab builds a vocabulary from its full token list, id order: the
// four special tokens first (PADToken, BOSToken, EOSToken, UNKToken), then
// distinct, non-empty, valid UTF-8 tokens. It is the inverse of
// [Vocab.Tokens].
func NewVocab(tokens []string) (*Vocab, error) {
	if msg := checkTokens(tokens); msg != "" {
		return nil, errors.Wrap(ErrInvalid, msg)
	}
	return newVocab(tokens[NumSpecial:]), nil
}

// checkTokens returns what is wrong with a full token list, "" if nothing.
func checkTokens(tokens []string) string {
	if len(tokens) < NumSpecial {
		return fmt.Sprintf("vocab: %d tokens, need at least the %d special tokens", len(tokens), NumSpecial)
	}
	for i, s := range specials {
		if tokens[i] != s {
			return fmt.Sprintf("vocab: token %d is %q, want %q", i, tokens[i], s)
		}
	}
	seen := make(map[string]int, len(tokens))
	for i, t := range tokens {
		if t == "" {
			return fmt.Sprintf("vocab: token %d is empty", i)
		}
		if !utf8.ValidString(t) {
			return fmt.Sprintf("vocab: token %d is not valid UTF-8", i)
		}
		if j, dup := seen[t]; dup {
			return fmt.Sprintf("vocab: token %d %q repeats token %d", i, t, j)
		}
		seen[t] = i
	}
	return ""
}

// NewCharVocab returns the vocabulary of the characters (runes) in texts,
// sorted by code point after the special tokens. Invalid UTF-8 bytes count
// as U+FFFD, as they do in [Vocab.EncodeChars].
func NewCharVocab(texts []string) *Vocab {
	set := make(map[rune]bool)
	for _, s := range texts {
		for _, r := range s {
			set[r] = true
		}
	}
	rs := make([]rune, 0, len(set))
	for r := range set {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	toks := make([]string, len(rs))
	for i, r := range rs {
		toks[i] = string(r)
	}
	return newVocab(toks)
}

// NewWordVocab returns the vocabulary of the whitespace-separated words in
// texts (strings.Fields) that occur at least minCount times (every word if
// minCount ≤ 1), most frequent first, ties in lexical (byte) order. A word
// spelled like a special token ("<unk>", …) is that special token and is
// not added again. Each run of invalid UTF-8 bytes in a word counts as
// U+FFFD, as it does in [Vocab.EncodeWords], so the vocabulary is always
// valid (it saves and loads as JSON).
func NewWordVocab(texts []string, minCount int) *Vocab {
	counts := make(map[string]int)
	for _, s := range texts {
		for _, w := range strings.Fields(s) {
			counts[validWord(w)]++
		}
	}
	for _, s := range specials {
		delete(counts, s)
	}
	words := make([]string, 0, len(counts))
	for w, c := range counts {
		if c >= minCount {
			words = append(words, w)
		}
	}
	slices.SortFunc(words, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return newVocab(words)
}

// Top returns the vocabulary of v's first n tokens (the special tokens
// always included): for one from [NewWordVocab], its n − NumSpecial most
// frequent words.
func (v *Vocab) Top(n int) *Vocab {
	l := v.list()
	n = min(max(n, NumSpecial), len(l))
	return newVocab(slices.Clone(l[NumSpecial:n]))
}

// list returns the id → token table.
func (v *Vocab) list() []string {
	if v == nil || len(v.tokens) == 0 {
		return specials[:]
	}
	return v.tokens
}

// Len returns the number of tokens, special tokens included.
func (v *Vocab) Len() int { return len(v.list()) }

// ID returns tok's id, UNK if the vocabulary does not hold it.
func (v *Vocab) ID(tok string) int {
	if v != nil {
		if id, ok := v.ids[tok]; ok {
			return id
		}
	}
	for id, s := range specials {
		if tok == s {
			return id
		}
	}
	return UNK
}

// Token returns the token of an id; an id outside [0, Len()) is an error
// wrapping ErrInvalid.
func (v *Vocab) Token(id int) (string, error) {
	l := v.list()
	if id < 0 || id >= len(l) {
		return "", errors.Wrapf(ErrInvalid, "vocab: id %d outside [0, %d)", id, len(l))
	}
	return l[id], nil
}

// Tokens returns a copy of the token list in id order, special tokens
// first; [NewVocab] rebuilds the vocabulary from it.
func (v *Vocab) Tokens() []string { return slices.Clone(v.list()) }

// EncodeChars returns the id of every character (rune) of s, UNK for
// characters not in the vocabulary. An invalid UTF-8 byte is the character
// U+FFFD. For a valid UTF-8 s whose characters are all in the vocabulary,
// Decode(EncodeChars(s), "") == s.
func (v *Vocab) EncodeChars(s string) []int {
	ids := make([]int, 0, utf8.RuneCountInString(s))
	for _, r := range s {
		id, ok := UNK, false
		if v != nil {
			id, ok = v.runes[r]
		}
		if !ok {
			id = UNK
		}
		ids = append(ids, id)
	}
	return ids
}

// EncodeWords returns the id of every whitespace-separated word of s
// (strings.Fields), UNK for words not in the vocabulary. The words "<pad>",
// "<s>", "</s>" and "<unk>" are the special tokens. Each run of invalid
// UTF-8 bytes in a word is read as U+FFFD.
func (v *Vocab) EncodeWords(s string) []int {
	words := strings.Fields(s)
	ids := make([]int, len(words))
	for i, w := range words {
		ids[i] = v.ID(validWord(w))
	}
	return ids
}

// validWord returns w with each run of invalid UTF-8 bytes replaced by
// U+FFFD.
func validWord(w string) string {
	if utf8.ValidString(w) {
		return w
	}
	return strings.ToValidUTF8(w, string(utf8.RuneError))
}

// Decode joins the tokens of ids with sep. It stops at the first EOS and
// skips PAD and BOS; UNK and ids outside [0, Len()) are written as
// UNKToken. Decode(ids, "") inverts EncodeChars, Decode(ids, " ")
// EncodeWords.
func (v *Vocab) Decode(ids []int, sep string) string {
	l := v.list()
	var b strings.Builder
	first := true
	for _, id := range ids {
		if id == EOS {
			break
		}
		if id == PAD || id == BOS {
			continue
		}
		tok := UNKToken
		if id >= 0 && id < len(l) {
			tok = l[id]
		}
		if !first {
			b.WriteString(sep)
		}
		first = false
		b.WriteString(tok)
	}
	return b.String()
}

// vocabJSON is the JSON form of a Vocab.
type vocabJSON struct {
	Tokens []string `json:"tokens"`
}

// MarshalJSON writes the vocabulary as {"tokens": [...]}, the tokens in id
// order, special tokens first.
func (v Vocab) MarshalJSON() ([]byte, error) {
	return json.Marshal(vocabJSON{Tokens: v.list()})
}

// UnmarshalJSON reads a vocabulary written by MarshalJSON. It checks it as
// [NewVocab] does (special tokens in place, tokens distinct and non-empty)
// and rejects unknown fields and trailing data; errors wrap ErrFormat and
// leave v unchanged.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	if v == nil {
		return errors.Wrap(ErrInvalid, "vocab: UnmarshalJSON into a nil *Vocab")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j vocabJSON
	if err := dec.Decode(&j); err != nil {
		return errors.Wrapf(ErrFormat, "vocab: json: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.Wrap(ErrFormat, "vocab: trailing data after the JSON object")
	}
	if j.Tokens == nil {
		return errors.Wrap(ErrFormat, `vocab: missing "tokens"`)
	}
	if msg := checkTokens(j.Tokens); msg != "" {
		return errors.Wrap(ErrFormat, msg)
	}
	*v = *newVocab(j.Tokens[NumSpecial:])
	return nil
}
