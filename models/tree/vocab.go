package tree

import (
	"sort"

	"github.com/pkg/errors"
)

// Unknown is the vocabulary entry that stands for every word not in it.
const Unknown = "<unk>"

// Vocab maps words to ids 0..Len()−1 and back.
type Vocab struct {
	words []string
	ids   map[string]int
}

// NewVocab returns the vocabulary whose id i is words[i]. Words must be
// non-empty and distinct. With Unknown among them, Lookup maps every other
// word to it.
func NewVocab(words []string) (*Vocab, error) {
	v := &Vocab{words: append([]string(nil), words...), ids: make(map[string]int, len(words))}
	for i, w := range words {
		if w == "" {
			return nil, errors.Wrapf(ErrConfig, "vocabulary: empty word at id %d", i)
		}
		if j, ok := v.ids[w]; ok {
			return nil, errors.Wrapf(ErrConfig, "vocabulary: word %q at ids %d and %d", w, j, i)
		}
		v.ids[w] = i
	}
	return v, nil
}

// BuildVocab returns the vocabulary of the leaves of trees (typically the
// training split): Unknown at id 0, then every word seen at least minCount
// times (minCount ≤ 1: every word), the most frequent first, ties in byte
// order of the words. Words are kept as they are (case included).
func BuildVocab(trees []*Node, minCount int) *Vocab {
	count := map[string]int{}
	for _, t := range trees {
		if t == nil {
			continue
		}
		for _, n := range t.PostOrder() {
			if n.IsLeaf() && n.Word != "" && n.Word != Unknown {
				count[n.Word]++
			}
		}
	}
	words := make([]string, 0, len(count))
	for w, k := range count {
		if k >= minCount {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		if count[words[i]] != count[words[j]] {
			return count[words[i]] > count[words[j]]
		}
		return words[i] < words[j]
	})
	v, _ := NewVocab(append([]string{Unknown}, words...)) // distinct, non-empty by construction
	return v
}

// Len returns the number of words.
func (v *Vocab) Len() int { return len(v.words) }

// Words returns the words in id order.
func (v *Vocab) Words() []string { return append([]string(nil), v.words...) }

// Word returns the word of an id, or "" for an id out of range.
func (v *Vocab) Word(id int) string {
	if id < 0 || id >= len(v.words) {
		return ""
	}
	return v.words[id]
}

// ID returns the id of a word and whether the vocabulary holds it.
func (v *Vocab) ID(w string) (int, bool) {
	id, ok := v.ids[w]
	return id, ok
}

// Lookup returns the id of a word, or that of Unknown for a word the
// vocabulary does not hold; without Unknown, such a word is an error
// wrapping ErrUnknownWord.
func (v *Vocab) Lookup(w string) (int, error) {
	if id, ok := v.ids[w]; ok {
		return id, nil
	}
	if id, ok := v.ids[Unknown]; ok {
		return id, nil
	}
	return 0, errors.Wrapf(ErrUnknownWord, "%q (the vocabulary has no %s)", clip(w), Unknown)
}
