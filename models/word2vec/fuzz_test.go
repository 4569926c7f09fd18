package word2vec

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadVectors: any bytes either fail with a *FormatError or give
// vectors that are consistent (Len·Dim values, valid words) and survive a
// binary and a safetensors round trip exactly. Seeded with a file of each
// format, gensim's variants and damaged files.
func FuzzReadVectors(f *testing.F) {
	v, err := NewVectors([]string{"</s>", "the", "héllo"}, 2, []float32{0.1, -0.2, 1, 2, -3.5, 1e-7})
	if err != nil {
		f.Fatal(err)
	}
	for _, format := range []Format{Text, Binary, Safetensors} {
		var b bytes.Buffer
		if err := v.Write(&b, format); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:b.Len()-5])
	}
	for _, s := range []string{"2 2\nthe 0.1 0.2\nof 3 4\n", "1 1\nthe \x00\x00\x80?", "0 3\n", "1 2\nthe 1 NaN\n", "\x10\x00\x00\x00\x00\x00\x00\x00{}      "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := ReadVectors(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(got.Data) != got.Len()*got.Dim || got.Dim < 1 {
			t.Fatalf("%d words × %d = %d values", got.Len(), got.Dim, len(got.Data))
		}
		for _, w := range got.Words {
			if checkWord(w) != nil && !utf8.ValidString(w) {
				t.Fatalf("word %q read", w)
			}
		}
		for _, format := range []Format{Binary, Safetensors} {
			var b bytes.Buffer
			if err := got.Write(&b, format); err != nil {
				if format == Binary && strings.ContainsAny(strings.Join(got.Words, ""), " \n\t") {
					continue // a safetensors file can hold such words; the C formats cannot
				}
				t.Fatalf("write %v: %v", format, err)
			}
			again, f2, err := ReadVectors(&b)
			if err != nil {
				if format == Binary {
					continue // words the C formats cannot round-trip (from safetensors)
				}
				t.Fatalf("re-read %v: %v", format, err)
			}
			if f2 != format && got.Len() > 0 || !reflect.DeepEqual(again.Words, got.Words) && got.Len() > 0 || !reflect.DeepEqual(again.Data, got.Data) {
				t.Fatalf("%v round trip changed the vectors", format)
			}
		}
	})
}

// FuzzReadCorpus: any corpus either fails or gives a consistent corpus:
// every token in the vocabulary, counts summing to TrainWords, valid
// non-empty words with "</s>" first.
func FuzzReadCorpus(f *testing.F) {
	for _, s := range []string{"a b c\nb c\nc\n", "", "\n\n", "x\xffy z\n", strings.Repeat("é", 60) + "\n", "a\r\nb\tc  d"} {
		f.Add([]byte(s), 1)
	}
	f.Add([]byte("a a b\n"), 2)
	f.Fuzz(func(t *testing.T, data []byte, minCount int) {
		if minCount > 5 {
			minCount %= 5
		}
		c, err := ReadCorpus(bytes.NewReader(data), minCount)
		if err != nil {
			return
		}
		v := c.Vocab
		if v.Words[0] != EndOfSentence || v.Len() < 2 {
			t.Fatalf("vocabulary %q", v.Words)
		}
		var sum int64
		for i, w := range v.Words {
			if w == "" || !utf8.ValidString(w) || len(w) > MaxWordBytes || strings.ContainsAny(w, " \t\n\r") {
				t.Fatalf("word %q", w)
			}
			if i > 1 && v.Counts[i] > v.Counts[i-1] {
				t.Fatalf("counts not sorted: %v", v.Counts)
			}
			sum += v.Counts[i]
		}
		if sum != c.TrainWords || int64(len(c.Tokens)) != c.TrainWords || c.Read < c.TrainWords || c.Bytes != int64(len(data)) {
			t.Fatalf("sum %d, train words %d, tokens %d, read %d, bytes %d of %d", sum, c.TrainWords, len(c.Tokens), c.Read, c.Bytes, len(data))
		}
		for _, tok := range c.Tokens {
			if tok < 0 || int(tok) >= v.Len() {
				t.Fatalf("token %d outside %d words", tok, v.Len())
			}
		}
	})
}

// FuzzAnalogyQuestions: any questions file fails with ErrEval or gives
// counts that add up.
func FuzzAnalogyQuestions(f *testing.F) {
	f.Add([]byte(questions))
	f.Add([]byte("a b c\n"))
	f.Add([]byte(":\n:x\nKING man QUEEN woman\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := analogyVectorsF()
		res, err := Analogy(v, bytes.NewReader(data), 3)
		if err != nil {
			return
		}
		if res.Seen > res.Total || res.Correct > res.Seen || res.SemanticSeen+res.SyntacticSeen != res.Seen {
			t.Fatalf("%+v", res)
		}
	})
}

// FuzzSimilarityPairs: any pairs file fails with ErrEval or gives a ρ in
// [−1, 1] and counts that add up.
func FuzzSimilarityPairs(f *testing.F) {
	f.Add([]byte("# c\nking\tqueen\t9\nman\twoman\t8\nking paris 2\n"))
	f.Add([]byte("a b\n"))
	f.Add([]byte("king queen 1e308\nman woman -1e308\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Similarity(analogyVectorsF(), bytes.NewReader(data))
		if err != nil {
			return
		}
		if res.Used+res.Skipped != res.Pairs || !(res.Spearman >= -1-1e-9 && res.Spearman <= 1+1e-9) {
			t.Fatalf("%+v", res)
		}
	})
}

// analogyVectorsF is analogyVectors for fuzz functions (no *testing.T).
func analogyVectorsF() *Vectors {
	v, err := NewVectors([]string{"</s>", "man", "woman", "king", "queen"}, 2, []float32{0, 1, 1, 0, 1, 1, 2, 0, 2, 1})
	if err != nil {
		panic(err)
	}
	return v
}
