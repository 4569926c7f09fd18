package word2vec

import (
	"bufio"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// EndOfSentence is the word the C tool reads for a newline; it is word 0 of
// every vocabulary, whatever its count.
const EndOfSentence = "</s>"

// MaxWordBytes is the longest word kept: longer words are cut to it (at a
// character boundary). The C tool keeps MAX_STRING − 2 = 98 bytes and the
// word's last byte.
const MaxWordBytes = 99

// MaxSentence is the longest sentence trained, in words kept after
// sub-sampling (the C tool's MAX_SENTENCE_LENGTH); a longer line goes on
// as a new sentence.
const MaxSentence = 1000

// Vocab is a corpus's vocabulary as the C tool builds it: word 0 is
// [EndOfSentence], the others are sorted by count, most frequent first,
// words of equal count in the order they first appear in the corpus (the
// C tool's qsort, a stable merge sort in glibc), and words that occur fewer
// than min-count times are left out.
type Vocab struct {
	Words  []string // the words, word 0 is "</s>"
	Counts []int64  // each word's count in the corpus
	index  map[string]int32
}

// NewVocab returns the vocabulary of the given words and counts, in that
// order (the caller's: no sorting); the words must be distinct and there
// must be at least two.
func NewVocab(words []string, counts []int64) (*Vocab, error) {
	if len(words) != len(counts) {
		return nil, errors.Errorf("word2vec: vocab: %d words, %d counts", len(words), len(counts))
	}
	if len(words) < 2 {
		return nil, errors.Wrapf(ErrNoVocab, "vocab of %d words", len(words))
	}
	v := &Vocab{Words: words, Counts: counts, index: make(map[string]int32, len(words))}
	for i, w := range words {
		if _, dup := v.index[w]; dup {
			return nil, errors.Errorf("word2vec: vocab: word %q twice", w)
		}
		if counts[i] < 0 {
			return nil, errors.Errorf("word2vec: vocab: word %q has count %d", w, counts[i])
		}
		v.index[w] = int32(i)
	}
	return v, nil
}

// Len returns the number of words, "</s>" included.
func (v *Vocab) Len() int { return len(v.Words) }

// ID returns a word's index.
func (v *Vocab) ID(w string) (int, bool) {
	i, ok := v.index[w]
	return int(i), ok
}

// Corpus is a training corpus read as the C tool reads it: words are
// separated by spaces, tabs and newlines, carriage returns are ignored, and
// each newline is the word "</s>" (id 0), which ends a sentence.
type Corpus struct {
	Vocab *Vocab
	// Tokens is the corpus as word ids, in order; words below min-count are
	// left out (as the C tool skips them), "</s>" is 0.
	Tokens []int32
	// TrainWords is the number of tokens kept, len(Tokens): the C tool's
	// train_words, the sum of the vocabulary's counts.
	TrainWords int64
	// Read is the number of words read, before min-count ("</s>" included).
	Read int64
	// Bytes is the size of the corpus in bytes.
	Bytes int64
}

// ReadCorpusFile reads the corpus in the file at path (see [ReadCorpus]).
func ReadCorpusFile(path string, minCount int) (*Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "word2vec: corpus")
	}
	defer f.Close()
	c, err := ReadCorpus(f, minCount)
	return c, errors.Wrapf(err, "%s", path)
}

// ReadCorpus reads a training corpus and builds its vocabulary, keeping
// the words that occur at least minCount times. A corpus with no word is
// [ErrEmptyCorpus]; one where no word reaches minCount is [ErrNoVocab]; a
// word that is not valid UTF-8 is a *[CorpusError] giving its byte offset.
// Unlike the C tool, a last word with no space or newline after it is
// counted (the C tool drops it), and the vocabulary is never pruned (the C
// tool prunes it while reading once it passes 21M words).
func ReadCorpus(r io.Reader, minCount int) (*Corpus, error) {
	if minCount < 1 {
		return nil, errors.Wrapf(ErrConfig, "-min-count %d: want at least 1", minCount)
	}
	rd := corpusReader{ids: map[string]int32{EndOfSentence: 0}, words: []string{EndOfSentence}, counts: []int64{0}}
	if err := rd.read(r); err != nil {
		return nil, err
	}
	if len(rd.words) == 1 {
		return nil, errors.Wrapf(ErrEmptyCorpus, "%d bytes, %d lines", rd.offset, rd.counts[0])
	}
	// Sort words 1.. by count, stably, and drop those below minCount.
	order := make([]int32, len(rd.words)-1)
	for i := range order {
		order[i] = int32(i + 1)
	}
	sort.SliceStable(order, func(a, b int) bool { return rd.counts[order[a]] > rd.counts[order[b]] })
	newID := make([]int32, len(rd.words))
	words, counts := []string{EndOfSentence}, []int64{rd.counts[0]}
	for _, old := range order {
		if rd.counts[old] < int64(minCount) {
			newID[old] = -1
			continue
		}
		newID[old] = int32(len(words))
		words = append(words, rd.words[old])
		counts = append(counts, rd.counts[old])
	}
	if len(words) == 1 {
		return nil, errors.Wrapf(ErrNoVocab, "-min-count %d: the most frequent of %d words occurs %d times",
			minCount, len(rd.words)-1, rd.counts[order[0]])
	}
	toks := rd.tokens[:0]
	for _, t := range rd.tokens {
		if id := newID[t]; id >= 0 {
			toks = append(toks, id)
		}
	}
	v, err := NewVocab(words, counts)
	if err != nil {
		return nil, err
	}
	return &Corpus{Vocab: v, Tokens: toks, TrainWords: int64(len(toks)), Read: int64(len(rd.tokens)), Bytes: rd.offset}, nil
}

// corpusReader splits a corpus into words and counts them, giving each new
// word the next id in order of first appearance.
type corpusReader struct {
	ids    map[string]int32
	words  []string
	counts []int64
	tokens []int32
	offset int64 // bytes read so far
}

func (rd *corpusReader) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	word := make([]byte, 0, MaxWordBytes)
	var start int64 // the offset of the current word
	long := false   // the current word was cut
	for {
		chunk, err := br.ReadSlice('\n')
		for _, c := range chunk {
			switch c {
			case '\r':
			case ' ', '\t', '\n':
				if len(word) > 0 {
					if err := rd.add(word, long, start); err != nil {
						return err
					}
					word, long = word[:0], false
				}
				if c == '\n' {
					rd.counts[0]++
					rd.tokens = append(rd.tokens, 0)
				}
			default:
				if len(word) == 0 {
					start = rd.offset
				}
				if len(word) < MaxWordBytes {
					word = append(word, c)
				} else {
					long = true
				}
			}
			rd.offset++
		}
		switch {
		case err == nil, err == bufio.ErrBufferFull:
		case err == io.EOF:
			if len(word) > 0 {
				return rd.add(word, long, start)
			}
			return nil
		default:
			return errors.Wrapf(err, "word2vec: corpus byte %d", rd.offset)
		}
	}
}

// add counts one word read at byte offset start; long says it was cut (at
// MaxWordBytes, perhaps inside a character, which is then dropped).
func (rd *corpusReader) add(w []byte, long bool, start int64) error {
	if long {
		for k := 0; k < utf8.UTFMax-1 && len(w) > 1 && !utf8.Valid(w); k++ {
			w = w[:len(w)-1]
		}
	}
	id, ok := rd.ids[string(w)]
	if !ok {
		if !utf8.Valid(w) {
			return &CorpusError{Offset: start, Msg: "word " + quoteBytes(w) + " is not valid UTF-8"}
		}
		if len(rd.words) >= math.MaxInt32 {
			return &CorpusError{Offset: start, Msg: "more than 2³¹ − 1 distinct words"}
		}
		id = int32(len(rd.words))
		rd.ids[string(w)] = id
		rd.words = append(rd.words, string(w))
		rd.counts = append(rd.counts, 0)
	}
	rd.counts[id]++
	rd.tokens = append(rd.tokens, id)
	return nil
}

// quoteBytes quotes b for a message, escaping bytes that are not UTF-8.
func quoteBytes(b []byte) string {
	const max = 40
	if len(b) > max {
		return quoteBytes(b[:max]) + "…"
	}
	out := []byte{'"'}
	for _, c := range b {
		switch {
		case c >= 0x20 && c < 0x7f && c != '"' && c != '\\':
			out = append(out, c)
		default:
			const hex = "0123456789abcdef"
			out = append(out, '\\', 'x', hex[c>>4], hex[c&15])
		}
	}
	return string(append(out, '"'))
}
