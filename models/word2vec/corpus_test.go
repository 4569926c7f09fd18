package word2vec

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func readCorpus(t *testing.T, text string, minCount int) *Corpus {
	t.Helper()
	c, err := ReadCorpus(strings.NewReader(text), minCount)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The corpus is split as word2vec.c's ReadWord splits it: spaces, tabs and
// newlines separate words, carriage returns vanish, each newline is
// "</s>"; the vocabulary has "</s>" first, then words by count, ties in
// order of first appearance; words below min-count leave the vocabulary
// and the token stream.
func TestReadCorpusAsTheCTool(t *testing.T) {
	c := readCorpus(t, "b a\tc a\r\n\nc b  a\nd\n", 1)
	want := []string{"</s>", "a", "b", "c", "d"}
	if !reflect.DeepEqual(c.Vocab.Words, want) {
		t.Errorf("words %q, want %q", c.Vocab.Words, want)
	}
	if want := []int64{4, 3, 2, 2, 1}; !reflect.DeepEqual(c.Vocab.Counts, want) {
		t.Errorf("counts %v, want %v", c.Vocab.Counts, want)
	}
	// b a c a </s> </s> c b a </s> d </s>
	if want := []int32{2, 1, 3, 1, 0, 0, 3, 2, 1, 0, 4, 0}; !reflect.DeepEqual(c.Tokens, want) {
		t.Errorf("tokens %v, want %v", c.Tokens, want)
	}
	if c.TrainWords != 12 || c.Read != 12 || c.Bytes != 19 {
		t.Errorf("train words %d, read %d, bytes %d; want 12, 12, 19", c.TrainWords, c.Read, c.Bytes)
	}
	c = readCorpus(t, "b a\tc a\r\n\nc b  a\nd\n", 3)
	if want := []string{"</s>", "a"}; !reflect.DeepEqual(c.Vocab.Words, want) {
		t.Errorf("min-count 3: words %q, want %q", c.Vocab.Words, want)
	}
	if want := []int32{1, 1, 0, 0, 1, 0, 0}; !reflect.DeepEqual(c.Tokens, want) || c.TrainWords != 7 || c.Read != 12 {
		t.Errorf("min-count 3: tokens %v (train %d, read %d)", c.Tokens, c.TrainWords, c.Read)
	}
	// Equal counts keep their first appearance's order (a stable sort),
	// whatever the map does.
	c = readCorpus(t, "z y x w v u t s r q p o\n", 1)
	if want := strings.Fields("</s> z y x w v u t s r q p o"); !reflect.DeepEqual(c.Vocab.Words, want) {
		t.Errorf("ties: %q, want %q", c.Vocab.Words, want)
	}
	// A last word with no newline is counted; "</s>" stays word 0 even
	// when rare.
	c = readCorpus(t, "a a a", 1)
	if want := []string{"</s>", "a"}; !reflect.DeepEqual(c.Vocab.Words, want) || c.Vocab.Counts[0] != 0 || c.TrainWords != 3 {
		t.Errorf("no newline: %q %v", c.Vocab.Words, c.Vocab.Counts)
	}
	if id, ok := c.Vocab.ID("a"); !ok || id != 1 {
		t.Errorf(`ID("a") = %d, %v`, id, ok)
	}
	if _, ok := c.Vocab.ID("b"); ok {
		t.Error(`ID("b") found`)
	}
}

// A long word is cut to MaxWordBytes at a character boundary, and the cut
// words of one prefix are one word.
func TestReadCorpusLongWords(t *testing.T) {
	long := strings.Repeat("a", 98) + "é" + "xyz" // "é" straddles byte 99
	c := readCorpus(t, long+" "+long+"q\n", 1)
	if len(c.Vocab.Words) != 2 || c.Vocab.Words[1] != strings.Repeat("a", 98) || c.Vocab.Counts[1] != 2 {
		t.Errorf("words %q, counts %v", c.Vocab.Words, c.Vocab.Counts)
	}
}

// Bad corpora are clear errors: empty, nothing at min-count, a word that
// is not UTF-8 (with its byte offset), a bad min-count.
func TestReadCorpusErrors(t *testing.T) {
	for _, c := range []struct {
		name, text string
		minCount   int
		is         error
		say        string
	}{
		{"empty", "", 5, ErrEmptyCorpus, "empty corpus"},
		{"blank lines", "\n \n\t\r\n", 5, ErrEmptyCorpus, "empty corpus"},
		{"below min-count", "a b c\n", 2, ErrNoVocab, "occurs 1 times"},
		{"min-count 0", "a\n", 0, ErrConfig, "-min-count 0"},
	} {
		_, err := ReadCorpus(strings.NewReader(c.text), c.minCount)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s: %v, want %v saying %q", c.name, err, c.is, c.say)
		}
	}
	_, err := ReadCorpus(strings.NewReader("good words\nthen a b\xffd word\n"), 1)
	var ce *CorpusError
	if !errors.As(err, &ce) || ce.Offset != 18 || !strings.Contains(err.Error(), `"b\xffd" is not valid UTF-8`) {
		t.Errorf("non-UTF-8: %v", err)
	}
	_, err = ReadCorpusFile("/nonexistent/corpus.txt", 1)
	if err == nil || !strings.Contains(err.Error(), "corpus") {
		t.Errorf("missing file: %v", err)
	}
}

// NewVocab checks its input.
func TestNewVocab(t *testing.T) {
	for name, c := range map[string]struct {
		words  []string
		counts []int64
	}{
		"lengths":   {[]string{"</s>", "a"}, []int64{1}},
		"one word":  {[]string{"</s>"}, []int64{1}},
		"duplicate": {[]string{"</s>", "a", "a"}, []int64{1, 1, 1}},
		"negative":  {[]string{"</s>", "a"}, []int64{1, -1}},
	} {
		if _, err := NewVocab(c.words, c.counts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// cUnigramTable is word2vec.c's InitUnigramTable, line by line, for a table
// of size slots (the C tool's is 10⁸).
func cUnigramTable(counts []int64, size int) []int32 {
	const power = 0.75
	var total int64
	for _, c := range counts {
		total = int64(float64(total) + math.Pow(float64(c), power))
	}
	table := make([]int32, size)
	i := 0
	d1 := float32(math.Pow(float64(counts[i]), power) / float64(float32(total)))
	for a := range size {
		table[a] = int32(i)
		if float32(a)/float32(size) > d1 {
			i++
			if i < len(counts) {
				d1 = float32(float64(d1) + math.Pow(float64(counts[i]), power)/float64(float32(total)))
			}
		}
		if i >= len(counts) {
			i = len(counts) - 1
		}
	}
	return table
}

// zipfCounts returns n counts falling like a Zipf law, "</s>" first.
func zipfCounts(n int, seed uint64) []int64 {
	r := rand.New(rand.NewPCG(seed, 9))
	c := make([]int64, n)
	for i := range c {
		c[i] = int64(1e6/float64(i+1)) + int64(r.IntN(5)) + 1
	}
	sort.Slice(c[1:], func(a, b int) bool { return c[1+a] > c[1+b] })
	return c
}

// The unigram table stored as slot ranges gives exactly the C tool's
// table's entry at every slot, for vocabularies of a few words (where the
// last word takes the rest), thousands of words, and words that get no
// slot at all (more words than slots).
func TestUnigramEqualsCTable(t *testing.T) {
	for _, c := range []struct {
		name   string
		counts []int64
		size   int
	}{
		{"two words", []int64{3, 5}, 1000},
		{"few words", []int64{10, 1, 1, 1}, 10007},
		{"zipf", zipfCounts(3000, 1), 1_000_000},
		{"more words than slots", zipfCounts(300, 2), 100},
		{"zero counts", []int64{0, 5, 0, 3}, 5000},
	} {
		want := cUnigramTable(c.counts, c.size)
		u := newUnigram(c.counts, c.size)
		for i, w := range want {
			if got := u.word(i); got != w {
				t.Fatalf("%s: slot %d: word %d, want %d", c.name, i, got, w)
			}
		}
	}
}

// The same at the C tool's own size, 10⁸ slots (compared at every slot
// where the table changes word and at random slots).
func TestUnigramEqualsCTableFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10⁸-slot table (-short)")
	}
	counts := zipfCounts(50_000, 3)
	want := cUnigramTable(counts, unigramTableSize)
	u := newUnigram(counts, unigramTableSize)
	r := rand.New(rand.NewPCG(4, 4))
	checked := 0
	for i := 0; i < unigramTableSize; i++ {
		if i > 0 && want[i] == want[i-1] && r.IntN(1000) != 0 {
			continue
		}
		if got := u.word(i); got != want[i] {
			t.Fatalf("slot %d: word %d, want %d", i, got, want[i])
		}
		checked++
	}
	t.Logf("%d slots checked", checked)
}

// The sub-sampling thresholds are word2vec.c's formula, in its rounding.
func TestKeepThresholds(t *testing.T) {
	counts := []int64{1000, 50000, 300, 5, 0}
	keep := keepThresholds(counts, 1e-3, 1_000_000)
	for w, c := range counts {
		if c == 0 {
			if !math.IsInf(float64(keep[w]), 1) {
				t.Errorf("count 0: %v", keep[w])
			}
			continue
		}
		st := 1e-3 * 1e6
		want := (math.Sqrt(float64(c)/st) + 1) * st / float64(c)
		if math.Abs(float64(keep[w])-want) > 1e-6*want {
			t.Errorf("count %d: %v, want %v", c, keep[w], want)
		}
	}
	// Words rarer than the threshold are always kept (ran ≥ 1).
	if keep[3] < 1 || keep[1] >= 1 {
		t.Errorf("keep %v", keep)
	}
}

// The σ table and the generator are the C tool's.
func TestExpTableAndGenerator(t *testing.T) {
	tab := expTable()
	for i, s := range tab {
		x := (float64(i)/expTableSize*2 - 1) * maxExp
		if want := 1 / (1 + math.Exp(-x)); math.Abs(float64(s)-want) > 1e-6 {
			t.Fatalf("table[%d] = %v, σ(%v) = %v", i, s, x, want)
		}
	}
	if idx := int((float32(maxExp) + maxExp) * expIndex); idx != 996 {
		t.Errorf("index at f = 6: %d, want 996 (word2vec.c's)", idx)
	}
	r := lcg(1)
	want := uint64(1)
	for range 5 {
		want = want*25214903917 + 11
		if got := r.next(); got != want {
			t.Fatalf("generator %d, want %d", got, want)
		}
	}
	init, threads := Seeds(0, 3)
	if init != 1 || !reflect.DeepEqual(threads, []uint64{0, 1, 2}) {
		t.Errorf("seed 0: init %d, threads %v; want word2vec.c's 1 and 0, 1, 2", init, threads)
	}
	init7, threads7 := Seeds(7, 2)
	if init7 == init || threads7[0] == 0 || threads7[0]&0xFFFF == 0 {
		t.Errorf("seed 7: init %#x, threads %#x", init7, threads7)
	}
}
