package data

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// FuzzReadPairs: ReadPairs never panics, returns only pairs that
// WritePairs accepts, and reads back what WritePairs writes.
func FuzzReadPairs(f *testing.F) {
	f.Add([]byte("16+75  _91  \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pairs, err := ReadPairs(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) || pairs != nil {
				t.Fatalf("error %v with %d pairs", err, len(pairs))
			}
			return
		}
		if len(pairs) == 0 || len(pairs) > bytes.Count(data, []byte{'\n'})+1 {
			t.Fatalf("%d pairs from %d lines", len(pairs), bytes.Count(data, []byte{'\n'})+1)
		}
		qMax, aMax := 0, 0
		for _, p := range pairs {
			if msg := checkField(p.Question, true) + checkField(p.Answer, false); msg != "" {
				t.Fatalf("pair %q: %s", p, msg)
			}
			qMax = max(qMax, utf8.RuneCountInString(p.Question))
			aMax = max(aMax, utf8.RuneCountInString(p.Answer))
		}
		var b bytes.Buffer
		if err := WritePairs(&b, pairs, 0, 0); err != nil {
			// Only padding to the longest question and answer (of
			// different lines) can make a line too long.
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "longer than") || qMax+aMax+1 <= MaxLineBytes/4 {
				t.Fatalf("WritePairs: %v", err)
			}
			return
		}
		back, err := ReadPairs(&b)
		if err != nil || !slices.Equal(back, pairs) {
			t.Fatalf("round trip: %v\n%q\n%q", err, back, pairs)
		}
	})
}

var offsetRE = regexp.MustCompile(`invalid UTF-8 at byte offset (\d+) \(line (\d+)\)`)

// FuzzReadCorpus: ReadCorpus returns exactly its valid, non-empty input,
// and reports the first invalid byte of an invalid one.
func FuzzReadCorpus(f *testing.F) {
	f.Add([]byte("the cat sat on the mat\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadCorpus(bytes.NewReader(data))
		valid := len(data) > 0 && utf8.Valid(data)
		if valid {
			if err != nil || s != string(data) {
				t.Fatalf("valid input: %q, %v", s, err)
			}
			return
		}
		if !errors.Is(err, ErrFormat) || s != "" {
			t.Fatalf("invalid input: %q, %v", s, err)
		}
		if len(data) == 0 {
			return
		}
		m := offsetRE.FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("no offset in %v", err)
		}
		off, _ := strconv.Atoi(m[1])
		line, _ := strconv.Atoi(m[2])
		r, size := utf8.DecodeRune(data[min(off, len(data)):])
		if off >= len(data) || !utf8.Valid(data[:off]) || r != utf8.RuneError || size != 1 {
			t.Fatalf("offset %d is not the first invalid byte of %q", off, data)
		}
		if line != bytes.Count(data[:off], []byte{'\n'})+1 {
			t.Fatalf("line %d for offset %d of %q", line, off, data)
		}
	})
}

// FuzzVocabJSON: UnmarshalJSON never panics, leaves the vocabulary alone
// on error, and what it accepts is a valid vocabulary that survives a
// round trip.
func FuzzVocabJSON(f *testing.F) {
	f.Add([]byte(`{"tokens":["<pad>","<s>","</s>","<unk>","a","b"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Vocab
		if err := v.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, ErrFormat) || v.Len() != NumSpecial || v.tokens != nil {
				t.Fatalf("failed read: %v, vocabulary of %d", err, v.Len())
			}
			return
		}
		toks := v.Tokens()
		if _, err := NewVocab(toks); err != nil {
			t.Fatalf("accepted an invalid vocabulary: %v", err)
		}
		for id, tok := range toks {
			if v.ID(tok) != id {
				t.Fatalf("ID(%q) = %d, want %d", tok, v.ID(tok), id)
			}
			if got, err := v.Token(id); got != tok || err != nil {
				t.Fatalf("Token(%d) = %q, %v", id, got, err)
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Vocab
		if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back.Tokens(), toks) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzEncodeChars: characters of the vocabulary's text encode to their own
// tokens, others to UNK, and Decode inverts EncodeChars on the text the
// vocabulary was built from.
func FuzzEncodeChars(f *testing.F) {
	f.Add("16+75", "0123456789+")
	f.Fuzz(func(t *testing.T, s, text string) {
		v := NewCharVocab([]string{text})
		if _, err := NewVocab(v.Tokens()); err != nil {
			t.Fatalf("NewCharVocab built an invalid vocabulary: %v", err)
		}
		ids := v.EncodeChars(s)
		if len(ids) != utf8.RuneCountInString(s) {
			t.Fatalf("%d ids for %d characters", len(ids), utf8.RuneCountInString(s))
		}
		i := 0
		for _, r := range s {
			id := ids[i]
			if strings.ContainsRune(text, r) {
				if tok, err := v.Token(id); err != nil || tok != string(r) || id < NumSpecial {
					t.Fatalf("character %q: id %d, token %q, %v", r, id, tok, err)
				}
			} else if id != UNK {
				t.Fatalf("character %q not in the text: id %d", r, id)
			}
			i++
		}
		w := NewCharVocab([]string{s, text})
		got := w.Decode(w.EncodeChars(s), "")
		if want := string([]rune(s)); got != want {
			t.Fatalf("Decode(EncodeChars(%q)) = %q, want %q", s, got, want)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("valid text %q decoded to %q", s, got)
		}
	})
}
