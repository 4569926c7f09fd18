package word2vec

import (
	"math"
	"sort"
)

// lcg is word2vec.c's pseudo-random generator: next = next·25214903917 +
// 11 (mod 2⁶⁴). Its low bits have short periods; the C tool's draws read
// them anyway (sub-sampling the low 16 bits, the window the remainder mod
// window), and so does rnnkit, to draw the same numbers.
type lcg uint64

func (r *lcg) next() uint64 {
	*r = *r*25214903917 + 11
	return uint64(*r)
}

// The C tool's logistic table: σ at EXP_TABLE_SIZE points over
// [−MAX_EXP, MAX_EXP), looked up at int((f + 6)·83). (The index scale, 83,
// is EXP_TABLE_SIZE/MAX_EXP/2 in integer arithmetic, where 83.33 would
// match the table's spacing: the looked-up σ is that of about 0.996·f.
// rnnkit keeps it, to train the same function.)
const (
	expTableSize = 1000
	maxExp       = 6
	expIndex     = expTableSize / maxExp / 2 // 83
)

// expTable returns the C tool's table in float32, computed as word2vec.c
// computes it (each step rounded to float, exp in double).
func expTable() []float32 {
	t := make([]float32, expTableSize)
	for i := range t {
		x := (float32(i)/expTableSize*2 - 1) * maxExp
		e := float32(math.Exp(float64(x)))
		t[i] = e / (e + 1)
	}
	return t
}

// keepThresholds returns, for each word, the C tool's sub-sampling
// threshold: a token of word w is kept when keep[w] ≥ (r & 0xFFFF)/65536
// for the generator's next value r, where keep[w] =
// (√(c/(tT)) + 1)·tT/c, rounded as word2vec.c rounds it (tT in float, the
// rest in double, the result in float). keep[w] ≥ 1 keeps every token.
func keepThresholds(counts []int64, sample float64, trainWords int64) []float32 {
	keep := make([]float32, len(counts))
	st := float32(sample) * float32(trainWords)
	for w, c := range counts {
		if c == 0 {
			keep[w] = float32(math.Inf(1))
			continue
		}
		keep[w] = float32((math.Sqrt(float64(float32(c)/st)) + 1) * float64(st) / float64(c))
	}
	return keep
}

// unigramTableSize is the C tool's table_size: negative samples are drawn
// as table[(r >> 16) % 1e8].
const unigramTableSize = 100_000_000

// unigram is the C tool's unigram table (word w in proportion to
// count^0.75), stored as where each word's run of slots starts instead of
// the table's 10⁸ entries: word w fills slots start[w] ≤ i < start[w+1].
// A coarse index (the word at every 1024th slot) makes a lookup a short
// scan. Lookups give exactly the table's entries.
type unigram struct {
	size   int     // the table's number of slots
	start  []int32 // len(counts)+1; start[len] = size
	bucket []int32 // bucket[i] = the word in slot i << bucketShift
}

const bucketShift = 10

// newUnigram builds the table over counts as word2vec.c's InitUnigramTable
// fills it, with the same float rounding: word i takes slots while
// a/size ≤ d1 (a in float, d1 the float running sum of count^0.75 over the
// integer total), so each word gets at least one slot, and the last word
// takes whatever the others leave.
func newUnigram(counts []int64, size int) *unigram {
	const power = 0.75
	v := len(counts)
	var total int64 // train_words_pow: a long long summed by truncation
	for _, c := range counts {
		total = int64(float64(total) + math.Pow(float64(c), power))
	}
	ftotal := float64(float32(total))
	u := &unigram{size: size, start: make([]int32, v+1)}
	fsize := float32(size)
	d1 := float32(math.Pow(float64(counts[0]), power) / ftotal)
	a, i := 0, 0
	for ; i < v-1 && a < size; i++ {
		u.start[i] = int32(a)
		// The C loop puts word i in slot a, then moves to word i+1 after
		// the first slot a with a/size > d1: find that slot.
		d := d1
		last := a + sort.Search(size-a, func(k int) bool { return float32(a+k)/fsize > d })
		if last == size {
			break // word i fills the rest
		}
		a = last + 1
		d1 = float32(float64(d1) + math.Pow(float64(counts[i+1]), power)/ftotal)
	}
	if a < size || i == v-1 {
		u.start[i] = int32(a)
		i++
	}
	for ; i <= v; i++ {
		u.start[i] = int32(size)
	}
	u.bucket = make([]int32, (size-1)>>bucketShift+1)
	w := int32(0)
	for b := range u.bucket {
		slot := int32(b << bucketShift)
		for u.start[w+1] <= slot {
			w++
		}
		u.bucket[b] = w
	}
	return u
}

// word returns the word in slot i (0 ≤ i < size).
func (u *unigram) word(i int) int32 {
	w := u.bucket[i>>bucketShift]
	for int(u.start[w+1]) <= i {
		w++
	}
	return w
}
