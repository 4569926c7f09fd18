package data

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// FuzzEncodeWords: NewWordVocab builds a valid vocabulary from any text,
// every word of that text encodes to its own token (a special token's
// spelling to the special id), other words to UNK, and Decode(…, " ")
// inverts EncodeWords on the fields of the text.
//
//	go test ./training/data -run '^$' -fuzz '^FuzzEncodeWords$' -fuzztime 2m -parallel 1
func FuzzEncodeWords(f *testing.F) {
	f.Add("the cat sat on the mat", "the dog", 1)
	f.Add("a a b <unk> </s>", "a <pad> c", 2)
	f.Add("\xff\xfe x\ty\nz", "\u00a0 x", 0)
	f.Add("", "", -3)
	f.Fuzz(func(t *testing.T, text, s string, minCount int) {
		v := NewWordVocab([]string{text}, minCount)
		if _, err := NewVocab(v.Tokens()); err != nil {
			t.Fatalf("NewWordVocab built an invalid vocabulary: %v", err)
		}
		ids := v.EncodeWords(s)
		words := strings.Fields(s)
		if len(ids) != len(words) {
			t.Fatalf("%d ids for %d words", len(ids), len(words))
		}
		for i, w := range words {
			id := ids[i]
			if id < 0 || id >= v.Len() {
				t.Fatalf("word %q: id %d outside [0, %d)", w, id, v.Len())
			}
			if id == UNK && w != UNKToken {
				continue
			}
			if tok, err := v.Token(id); err != nil || tok != validWord(w) {
				t.Fatalf("word %q: id %d is token %q (%v)", w, id, tok, err)
			}
		}
		// A vocabulary built from s itself holds every word of s.
		w := NewWordVocab([]string{s}, 1)
		var keep []string
		for _, word := range words {
			word = validWord(word)
			if word != PADToken && word != BOSToken && word != EOSToken {
				keep = append(keep, word)
			}
			if word == EOSToken {
				break
			}
		}
		if got, want := w.Decode(w.EncodeWords(s), " "), strings.Join(keep, " "); got != want {
			t.Fatalf("Decode(EncodeWords(%q)) = %q, want %q", s, got, want)
		}
	})
}

// FuzzEncodePairs: EncodePairs never panics, gives ids inside the
// vocabulary with the lengths its contract states, and PadBatch pads any
// selection of the rows back to the same ids.
//
//	go test ./training/data -run '^$' -fuzz '^FuzzEncodePairs$' -fuzztime 2m -parallel 1
func FuzzEncodePairs(f *testing.F) {
	f.Add("16+75", "91", "0123456789+", true, uint8(3))
	f.Add("september 27, 1994", "1994-09-27", "", false, uint8(0))
	f.Add("", "x", "x", false, uint8(1))
	f.Add("\xff", "\u00e9", "\u00e9", true, uint8(9))
	f.Fuzz(func(t *testing.T, q, a, text string, reverse bool, width uint8) {
		v := NewCharVocab([]string{text})
		pairs := []Pair{{q, a}, {a, q}, {q + q, a}}
		e, err := EncodePairs(pairs, v, reverse)
		if q == "" || a == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("empty question or answer: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pairs {
			if e.SrcLen[i] != utf8.RuneCountInString(p.Question) || e.TgtLen[i] != utf8.RuneCountInString(p.Answer)+1 {
				t.Fatalf("pair %d: lengths %d, %d for %q", i, e.SrcLen[i], e.TgtLen[i], p)
			}
			if e.TgtIn[i][0] != BOS || e.TgtOut[i][e.TgtLen[i]-1] != EOS || !slices.Equal(e.TgtIn[i][1:], e.TgtOut[i][:e.TgtLen[i]-1]) {
				t.Fatalf("pair %d: TgtIn %v, TgtOut %v", i, e.TgtIn[i], e.TgtOut[i])
			}
			for _, row := range [][]int{e.Src[i], e.TgtIn[i], e.TgtOut[i]} {
				for _, id := range row {
					if id < 0 || id >= v.Len() {
						t.Fatalf("pair %d: id %d outside [0, %d)", i, id, v.Len())
					}
				}
			}
		}
		idx := []int{2, 0, 2, 1}
		b, err := PadBatch(e, idx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k, i := range idx {
			if !slices.Equal(b.Src[k][:b.SrcLen[k]], e.Src[i]) || !slices.Equal(b.TgtOut[k][:b.TgtLen[k]], e.TgtOut[i]) {
				t.Fatalf("row %d (pair %d) padded wrongly", k, i)
			}
		}
		if w := int(width); w > 0 && w < b.TgtLen[0] {
			if _, err := PadBatch(e, idx, w, w); !errors.Is(err, ErrInvalid) {
				t.Fatalf("padding to %d, shorter than the rows: %v", w, err)
			}
		}
	})
}
