package data

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func TestSplit(t *testing.T) {
	pairs := Addition(10, newSource(1))
	for _, c := range []struct {
		frac   float64
		nTrain int
	}{
		{0.9, 9}, {0.5, 5}, {0.29, 3}, {0.25, 3}, {0.24, 2}, {0, 0}, {1, 10},
		{-1, 0}, {2, 10}, {math.NaN(), 0}, {math.Inf(1), 10},
	} {
		train, test := Split(pairs, c.frac)
		if !slices.Equal(train, pairs[:c.nTrain]) || !slices.Equal(test, pairs[c.nTrain:]) {
			t.Errorf("Split(%v): %d and %d, want the first %d to train", c.frac, len(train), len(test), c.nTrain)
		}
	}
	// The book's 90/10 split of 50,000 problems.
	all := Addition(50000, newSource(2))
	train, test := Split(all, 0.9)
	if len(train) != 45000 || len(test) != 5000 || train[0] != all[0] || test[0] != all[45000] {
		t.Errorf("50,000 at 0.9: %d and %d", len(train), len(test))
	}
	// Copies: appending to train leaves test and pairs alone.
	before := slices.Clone(pairs)
	train, test = Split(pairs, 0.5)
	_ = append(train, Pair{"x", "y"})
	train[0] = Pair{"z", "z"}
	if test[0] != before[5] || !slices.Equal(pairs, before) {
		t.Error("Split's results share memory with pairs")
	}
	if a, b := Split(nil, 0.5); len(a) != 0 || len(b) != 0 {
		t.Error("Split(nil)")
	}
}

func TestShuffle(t *testing.T) {
	p := Shuffle(100, newSource(3))
	if !slices.Equal(p, Shuffle(100, newSource(3))) {
		t.Error("the same seed gave different permutations")
	}
	s := slices.Sorted(slices.Values(p))
	for i, v := range s {
		if v != i {
			t.Fatalf("not a permutation of [0, 100): %v", p)
		}
	}
	if slices.IsSorted(p) {
		t.Error("not shuffled")
	}
	if Shuffle(0, newSource(1)) != nil || Shuffle(-3, newSource(1)) != nil || Shuffle(5, nil) != nil {
		t.Error("bad arguments give a permutation")
	}
}

func TestBuckets(t *testing.T) {
	src := newSource(4)
	lengths := make([]int, 1000)
	for i := range lengths {
		lengths[i] = 1 + src.IntN(40)
	}
	lengths[7], lengths[8] = -5, 0 // count as 0
	for _, c := range []struct{ batch, width int }{{32, 5}, {32, 1}, {7, 100}, {1, 3}, {2000, 10}, {16, 0}} {
		batches := Buckets(lengths, c.batch, c.width, newSource(5))
		if !slices.EqualFunc(batches, Buckets(lengths, c.batch, c.width, newSource(5)), slices.Equal) {
			t.Errorf("%v: the same seed gave different batches", c)
		}
		w := max(c.width, 1)
		seen := make([]int, len(lengths))
		short := map[int]bool{} // buckets with a short batch
		buckets := map[int]bool{}
		for _, b := range batches {
			if len(b) < 1 || len(b) > c.batch {
				t.Fatalf("%v: batch of %d", c, len(b))
			}
			k := max(lengths[b[0]], 0) / w
			for _, i := range b {
				seen[i]++
				if max(lengths[i], 0)/w != k {
					t.Fatalf("%v: batch mixes lengths %d and %d", c, lengths[b[0]], lengths[i])
				}
			}
			if len(b) < c.batch {
				if short[k] {
					t.Errorf("%v: two short batches in bucket %d", c, k)
				}
				short[k] = true
			}
			buckets[k] = true
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("%v: index %d in %d batches", c, i, n)
			}
		}
		if c.batch <= 32 && len(batches) > len(lengths)/c.batch+len(buckets) {
			t.Errorf("%v: %d batches for %d buckets", c, len(batches), len(buckets))
		}
	}
	// Shuffled: batch order and contents differ with the seed, and the
	// batches do not come in length order.
	a, b := Buckets(lengths, 8, 4, newSource(6)), Buckets(lengths, 8, 4, newSource(7))
	if slices.EqualFunc(a, b, slices.Equal) {
		t.Error("different seeds gave the same batches")
	}
	firsts := make([]int, len(a))
	for i, batch := range a {
		firsts[i] = lengths[batch[0]]
	}
	if slices.IsSorted(firsts) {
		t.Error("batches come in length order")
	}
	if Buckets(nil, 4, 1, newSource(1)) != nil || Buckets(lengths, 0, 1, newSource(1)) != nil || Buckets(lengths, 4, 1, nil) != nil {
		t.Error("bad arguments give batches")
	}
	// Exact: lengths 1..6, width 2, batch 2: buckets {1}, {2,3}, {4,5}, {6}.
	got := Buckets([]int{1, 2, 3, 4, 5, 6}, 2, 2, newSource(8))
	slices.SortFunc(got, func(x, y []int) int { return slices.Min(x) - slices.Min(y) })
	for _, b := range got {
		slices.Sort(b)
	}
	if want := [][]int{{0}, {1, 2}, {3, 4}, {5}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("exact buckets %v, want %v", got, want)
	}
}

func TestEncodePairs(t *testing.T) {
	v := NewCharVocab([]string{"0123456789+"}) // + = 4, 0 = 5, …, 9 = 14
	pairs := []Pair{{"16+75", "91"}, {"8+4", "12"}}
	e, err := EncodePairs(pairs, v, false)
	if err != nil {
		t.Fatal(err)
	}
	want := Encoded{
		Src:    [][]int{{6, 11, 4, 12, 10}, {13, 4, 9}},
		SrcLen: []int{5, 3},
		TgtIn:  [][]int{{BOS, 14, 6}, {BOS, 6, 7}},
		TgtOut: [][]int{{14, 6, EOS}, {6, 7, EOS}},
		TgtLen: []int{3, 3},
	}
	checkEncoded(t, "forward", e, want)
	e, err = EncodePairs(pairs, v, true)
	if err != nil {
		t.Fatal(err)
	}
	want.Src = [][]int{{10, 12, 4, 11, 6}, {9, 4, 13}}
	checkEncoded(t, "reversed", e, want)
	if got := v.Decode(e.Src[0], ""); got != "57+61" {
		t.Errorf("reversed source decodes to %q", got)
	}
	e, err = EncodePairs([]Pair{{"1?", "x"}}, v, false)
	checkEncoded(t, "unknown", e, Encoded{Src: [][]int{{6, UNK}}, SrcLen: []int{2},
		TgtIn: [][]int{{BOS, UNK}}, TgtOut: [][]int{{UNK, EOS}}, TgtLen: []int{2}})
	if err != nil {
		t.Error(err)
	}
	if e, err := EncodePairs(nil, v, false); err != nil || len(e.Src) != 0 {
		t.Errorf("no pairs: %v", err)
	}
	if _, err := EncodePairs(pairs, nil, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil vocabulary: %v", err)
	}
	for _, p := range []Pair{{"", "1"}, {"1", ""}} {
		if _, err := EncodePairs([]Pair{{"1", "1"}, p}, v, false); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "pair 1") {
			t.Errorf("%q: %v", p, err)
		}
	}
}

func checkEncoded(t *testing.T, name string, got, want Encoded) {
	t.Helper()
	eq := func(a, b [][]int) bool { return slices.EqualFunc(a, b, slices.Equal) }
	if !eq(got.Src, want.Src) || !slices.Equal(got.SrcLen, want.SrcLen) || !eq(got.TgtIn, want.TgtIn) ||
		!eq(got.TgtOut, want.TgtOut) || !slices.Equal(got.TgtLen, want.TgtLen) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", name, got, want)
	}
}

func TestPadBatch(t *testing.T) {
	v := NewCharVocab([]string{"0123456789+"})
	e, err := EncodePairs([]Pair{{"16+75", "91"}, {"8+4", "12"}, {"999+999", "1998"}}, v, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PadBatch(e, []int{1, 0}, 7, 5)
	if err != nil {
		t.Fatal(err)
	}
	checkEncoded(t, "padded", b, Encoded{
		Src:    [][]int{{13, 4, 9, 0, 0, 0, 0}, {6, 11, 4, 12, 10, 0, 0}},
		SrcLen: []int{3, 5},
		TgtIn:  [][]int{{BOS, 6, 7, 0, 0}, {BOS, 14, 6, 0, 0}},
		TgtOut: [][]int{{6, 7, EOS, 0, 0}, {14, 6, EOS, 0, 0}},
		TgtLen: []int{3, 3},
	})
	// Length 0: the batch's longest; repeats allowed; padding again.
	b, err = PadBatch(e, []int{2, 1, 1}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkEncoded(t, "longest", b, Encoded{
		Src:    [][]int{{14, 14, 14, 4, 14, 14, 14}, {13, 4, 9, 0, 0, 0, 0}, {13, 4, 9, 0, 0, 0, 0}},
		SrcLen: []int{7, 3, 3},
		TgtIn:  [][]int{{BOS, 6, 14, 14, 13}, {BOS, 6, 7, 0, 0}, {BOS, 6, 7, 0, 0}},
		TgtOut: [][]int{{6, 14, 14, 13, EOS}, {6, 7, EOS, 0, 0}, {6, 7, EOS, 0, 0}},
		TgtLen: []int{5, 3, 3},
	})
	again, err := PadBatch(b, []int{1}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkEncoded(t, "again", again, Encoded{Src: [][]int{{13, 4, 9}}, SrcLen: []int{3},
		TgtIn: [][]int{{BOS, 6, 7}}, TgtOut: [][]int{{6, 7, EOS}}, TgtLen: []int{3}})
	// The batch does not share memory with e, nor rows with each other.
	b.Src[1][0] = 99
	if e.Src[1][0] != 13 || b.Src[2][0] != 13 {
		t.Error("padded rows share memory")
	}
	b.Src[1] = append(b.Src[1], 5)
	if b.Src[2][0] != 13 {
		t.Error("appending to a row overwrites the next")
	}
}

func TestPadBatchErrors(t *testing.T) {
	v := NewCharVocab([]string{"0123456789+"})
	e, _ := EncodePairs([]Pair{{"16+75", "91"}, {"8+4", "12"}}, v, false)
	bad := func(mut func(*Encoded)) Encoded {
		c := Encoded{Src: slices.Clone(e.Src), SrcLen: slices.Clone(e.SrcLen), TgtIn: slices.Clone(e.TgtIn),
			TgtOut: slices.Clone(e.TgtOut), TgtLen: slices.Clone(e.TgtLen)}
		mut(&c)
		return c
	}
	for _, c := range []struct {
		e              Encoded
		idx            []int
		srcLen, tgtLen int
		want           string
	}{
		{e, nil, 7, 5, "empty batch"},
		{e, []int{0}, -1, 5, "lengths -1 and 5"},
		{e, []int{0}, 7, -1, "lengths 7 and -1"},
		{e, []int{0, 2}, 7, 5, "index 2 outside [0, 2)"},
		{e, []int{-1}, 7, 5, "index -1 outside [0, 2)"},
		{e, []int{1, 0}, 4, 5, "sequence 0: source of 5 tokens, longer than 4"},
		{e, []int{0}, 7, 2, "sequence 0: target of 3 tokens, longer than 2"},
		{bad(func(c *Encoded) { c.TgtLen = c.TgtLen[:1] }), []int{0}, 7, 5, "2 Src, 2 SrcLen, 2 TgtIn, 2 TgtOut, 1 TgtLen"},
		{bad(func(c *Encoded) { c.SrcLen[1] = 0 }), []int{1}, 7, 5, "sequence 1: source length 0 outside [1, 3]"},
		{bad(func(c *Encoded) { c.SrcLen[1] = 4 }), []int{1}, 7, 5, "sequence 1: source length 4 outside [1, 3]"},
		{bad(func(c *Encoded) { c.TgtOut[1] = c.TgtOut[1][:2] }), []int{1}, 7, 5, "sequence 1: target length 3 outside [1, 2]"},
		{e, []int{0}, 1 << 28, 5, "more than 268435456 ids"},
		{e, []int{0, 1}, 7, 1 << 26, "more than 268435456 ids"},
	} {
		_, err := PadBatch(c.e, c.idx, c.srcLen, c.tgtLen)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PadBatch(%v, %d, %d): %v, want %q", c.idx, c.srcLen, c.tgtLen, err, c.want)
		}
	}
}

func TestChunks(t *testing.T) {
	ids := make([]int, 23) // 4..26: three streams of 7, two tokens dropped
	for i := range ids {
		ids[i] = 4 + i
	}
	chunks, err := Chunks(ids, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []Chunk{
		{Seqs: [][]int{{4, 5, 6, 7}, {11, 12, 13, 14}, {18, 19, 20, 21}}, Lengths: []int{3, 3, 3}},
		{Seqs: [][]int{{7, 8, 9, 10}, {14, 15, 16, 17}, {21, 22, 23, 24}}, Lengths: []int{3, 3, 3}},
	}
	checkChunks(t, "3×3", chunks, want)
	// A short last window, padded.
	chunks, err = Chunks(ids[:20], 2, 4) // streams 4..13, 14..23
	if err != nil {
		t.Fatal(err)
	}
	want = []Chunk{
		{Seqs: [][]int{{4, 5, 6, 7, 8}, {14, 15, 16, 17, 18}}, Lengths: []int{4, 4}},
		{Seqs: [][]int{{8, 9, 10, 11, 12}, {18, 19, 20, 21, 22}}, Lengths: []int{4, 4}},
		{Seqs: [][]int{{12, 13, PAD, PAD, PAD}, {22, 23, PAD, PAD, PAD}}, Lengths: []int{1, 1}},
	}
	checkChunks(t, "2×4", chunks, want)
	// One stream, windows longer than it.
	chunks, err = Chunks([]int{5, 6, 7}, 1, 10)
	checkChunks(t, "1×10", chunks, []Chunk{{Seqs: [][]int{{5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0}}, Lengths: []int{2}}})
	if err != nil {
		t.Error(err)
	}
	// Every prediction of every stream is made exactly once, in order.
	long := make([]int, 1000)
	for i := range long {
		long[i] = i
	}
	chunks, _ = Chunks(long, 7, 35)
	streamLen := len(long) / 7
	for b := range 7 {
		var targets []int
		for _, c := range chunks {
			targets = append(targets, c.Seqs[b][1:1+c.Lengths[b]]...)
			if c.Seqs[b][0] != b*streamLen+len(targets)-c.Lengths[b] {
				t.Fatalf("stream %d: window starts at %d", b, c.Seqs[b][0])
			}
		}
		if len(targets) != streamLen-1 || targets[0] != b*streamLen+1 || !slices.IsSorted(targets) || targets[len(targets)-1] != (b+1)*streamLen-1 {
			t.Fatalf("stream %d: targets %v", b, targets)
		}
	}
	for _, c := range []struct {
		n, batch, steps int
		want            string
	}{
		{10, 0, 3, "batch 0 and steps 3"},
		{10, 2, 0, "batch 2 and steps 0"},
		{10, -1, -1, "batch -1 and steps -1"},
		{5, 3, 2, "5 tokens in 3 streams"},
		{0, 1, 1, "0 tokens in 1 streams"},
		{10, 2, 1 << 27, "more than 268435456 ids"},
	} {
		if _, err := Chunks(long[:c.n], c.batch, c.steps); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Chunks(%d, %d, %d): %v, want %q", c.n, c.batch, c.steps, err, c.want)
		}
	}
}

func checkChunks(t *testing.T, name string, got, want []Chunk) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b Chunk) bool {
		return slices.EqualFunc(a.Seqs, b.Seqs, slices.Equal) && slices.Equal(a.Lengths, b.Lengths)
	}) {
		t.Errorf("%s:\ngot  %v\nwant %v", name, got, want)
	}
}
