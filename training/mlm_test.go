package training

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/mlm"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training/data"
)

// countingLines are runs of consecutive number words ("w3 w4 w5 …", 2
// to 12 long): every word follows from its neighbours, so a masked
// language model learns to fill them.
func countingLines(n int, seed uint64) []string {
	src := graph.NewSource(seed)
	lines := make([]string, n)
	for i := range lines {
		start, l := src.IntN(20), 2+src.IntN(11)
		ws := make([]string, l)
		for k := range ws {
			ws[k] = "W" + string(rune('a'+start+k))
		}
		lines[i] = strings.Join(ws, " ")
	}
	return lines
}

func smallMLM(dropout float64) func(t *testing.T) *Trainer {
	lines := countingLines(300, 3)
	cfg := MLMConfig{
		Model: mlm.Config{Layers: 1, MaxLen: 8, Tied: true,
			Layer: transformer.LayerConfig{Embed: 16, Heads: 2, FF: 32, NormFirst: true, Dropout: dropout}},
		Masking: mlm.BERT(), Batch: 16, BucketWidth: 4, EvalSeed: 5, Lower: true, Xavier: true,
	}
	return func(t *testing.T) *Trainer {
		t.Helper()
		vocab := must(MLMVocab(lines[:250], true, 1, 0))(t)
		m := must(NewMLM(cfg, vocab, MLMSequences(lines[:250], vocab, true, 8)))(t)
		test := must(m.Sequences(m.Text(lines[250:])))(t)
		return newTrainer(t, Config{Epochs: 2, LR: 0.01, Clip: 1, Seed: 7, Optimizer: "adam"}, m, test)
	}
}

// The MLM family trains (the masked loss falls, the accuracy rises well
// above chance), its evaluation is the same each time it runs and
// whatever the batch size, fills [MASK]s, and resumes bit for bit
// (masking and dropout drawn from the step's seed).
func TestMLMTrainsAndResumes(t *testing.T) {
	tr := smallMLM(0)(t)
	ctx := context.Background()
	m := tr.Model.(*MLM)
	m0 := must(tr.Evaluate(ctx, tr.Test))(t)
	again := must(tr.Evaluate(ctx, tr.Test))(t)
	if m0[MetricLoss] != again[MetricLoss] || m0[MetricMaskedAccuracy] != again[MetricMaskedAccuracy] {
		t.Fatalf("two evaluations of one model: %v, %v", m0, again)
	}
	var st EpochStats
	var err error
	for range 6 {
		if st, err = tr.RunEpoch(ctx, nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("epoch %d: %v", st.Epoch, st.Test)
	}
	acc := st.Test[MetricMaskedAccuracy]
	if !(st.TestLoss() < m0[MetricLoss]-0.5) || !(acc > 0.3) {
		t.Fatalf("loss %v → %v, masked accuracy %v (chance about 1/31)", m0[MetricLoss], st.TestLoss(), acc)
	}
	if d := st.Test[MetricMaskedPerplexity] - math.Exp(st.TestLoss()); math.Abs(d) > 1e-9 {
		t.Errorf("perplexity %v is not exp(loss %v)", st.Test[MetricMaskedPerplexity], st.TestLoss())
	}
	// Another evaluation batch size masks and scores the same.
	ts := tr.Test.(*MaskedSet)
	if ts.Probs(0) != nil || ts.Probs(-1) != nil {
		t.Error("a set of sequences keeps distributions")
	}
	m.Cfg.EvalBatch = 5
	other := must(m.Sequences(ts.Seqs))(t)
	m.Cfg.EvalBatch = 0
	for i := range ts.Masks {
		if !slices.Equal(ts.Masks[i].Inputs, other.Masks[i].Inputs) || !slices.Equal(ts.Masks[i].Selected, other.Masks[i].Selected) {
			t.Fatalf("sequence %d masked differently", i)
		}
	}
	mo := must(tr.Evaluate(ctx, other))(t)
	for _, k := range []string{MetricLoss, MetricMaskedAccuracy} {
		if math.Abs(mo[k]-st.Test[k]) > 1e-5 {
			t.Errorf("%s: %v in batches of 16, %v in batches of 5", k, st.Test[k], mo[k])
		}
	}
	// Fill: the distribution at each [MASK].
	ids, unknown := m.Encode("wc wd [MASK] wf [mask] wh zzz")
	if len(unknown) != 1 || unknown[0] != "zzz" {
		t.Errorf("unknown words %q, want [zzz]", unknown)
	}
	q := must(m.Queries([][]int{ids}))(t)
	if _, err := tr.Evaluate(ctx, q); err != nil {
		t.Fatal(err)
	}
	ps := q.Probs(0)
	if len(ps) != 2 {
		t.Fatalf("%d distributions for 2 masks", len(ps))
	}
	for _, p := range ps {
		s := 0.0
		for _, v := range p {
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("probabilities sum to %v", s)
		}
	}
	if we := m.Vocab.ID("we"); argmax(ps[0]) != we {
		tok, _ := m.Vocab.Token(argmax(ps[0]))
		t.Logf("wc wd [MASK] wf: filled %q (p %.3f), we has p %.3f", tok, ps[0][argmax(ps[0])], ps[0][we])
	}
	if _, err := m.Queries([][]int{{m.Vocab.ID("wa"), m.Vocab.ID("wb")}}); err == nil {
		t.Error("a query without [MASK]: no error")
	}
	if testing.Short() {
		return
	}
	checkResume(t, smallMLM(0.2), 5)
}

// Each step masks its batch afresh from the step's seed: the same batch
// at two steps gets two maskings, and the same step the same.
func TestMLMMaskingBySeed(t *testing.T) {
	tr := smallMLM(0)(t)
	m := tr.Model.(*MLM)
	bs := must(m.Batches(0, graph.NewSource(1)))(t)
	b := bs[0].(*mlmBatch)
	mask := func(seed uint64) [][]bool {
		src := graph.NewSource(seed ^ maskSalt)
		var out [][]bool
		for _, s := range b.seqs {
			out = append(out, m.masker.Apply(s, src).Selected)
		}
		return out
	}
	same := func(a, b [][]bool) bool {
		return slices.EqualFunc(a, b, func(x, y []bool) bool { return slices.Equal(x, y) })
	}
	if !same(mask(3), mask(3)) || same(mask(3), mask(4)) {
		t.Error("the masking is not a function of the step's seed")
	}
	// Batches: the same epoch seed gives the same batches.
	cs := must(m.Batches(0, graph.NewSource(1)))(t)
	for i := range bs {
		x, y := bs[i].(*mlmBatch), cs[i].(*mlmBatch)
		if x.shape != y.shape || len(x.seqs) != len(y.seqs) {
			t.Fatalf("batch %d: %s vs %s", i, x.shape, y.shape)
		}
	}
	shapes := map[Shape]bool{}
	for _, b := range bs {
		shapes[b.Shape()] = true
		mb := b.(*mlmBatch)
		for _, s := range mb.seqs {
			if len(s) > mb.T {
				t.Fatalf("a sequence of %d in a batch of length %d", len(s), mb.T)
			}
		}
	}
	if len(shapes) > 2 { // lengths 1..8 in buckets of 4
		t.Errorf("%d graph shapes: %v", len(shapes), shapes)
	}
}

func TestMLMVocabAndSequences(t *testing.T) {
	lines := []string{"The cat sat", "the [mask] CAT", "", "dog"}
	v := must(MLMVocab(lines, true, 1, 0))(t)
	toks := v.Tokens()
	if toks[MaskID] != MaskToken || !slices.Contains(toks, "cat") || slices.Contains(toks, "The") || slices.Contains(toks, "[mask]") {
		t.Fatalf("vocabulary %q", toks)
	}
	if toks[MaskID+1] != "cat" && toks[MaskID+1] != "the" {
		t.Errorf("the most frequent word first: %q", toks)
	}
	if w := must(MLMVocab(lines, true, 1, 2))(t); w.Len() != data.NumSpecial+3 {
		t.Errorf("at most 2 words: %q", w.Tokens())
	}
	if w := must(MLMVocab(lines, false, 1, 0))(t); !slices.Contains(w.Tokens(), "The") {
		t.Errorf("case kept: %q", w.Tokens())
	}
	long := "the cat sat the cat sat the"
	seqs := MLMSequences([]string{long, "zzz yyy", "", "[MASK]"}, v, true, 3)
	if len(seqs) != 3 || len(seqs[0]) != 3 || len(seqs[2]) != 1 {
		t.Fatalf("chunks %v", seqs)
	}
	var all []int
	for _, s := range seqs {
		all = append(all, s...)
	}
	want := make([]int, 0, 7)
	for _, w := range strings.Fields(long) {
		want = append(want, v.ID(w))
	}
	if !slices.Equal(all, want) {
		t.Errorf("chunks %v, want the line's ids %v", all, want)
	}
	if _, err := NewMLM(MLMConfig{Model: mlm.Config{Layers: 1, MaxLen: 4, Layer: transformer.LayerConfig{Embed: 4, Heads: 1, FF: 4}},
		Masking: mlm.BERT(), Batch: 2, BucketWidth: 2}, data.NewWordVocab(lines, 1), nil); err == nil {
		t.Error("a vocabulary without [MASK]: no error")
	}
}

// MLMSequences reads any text: it never panics, every piece holds 1 to
// maxLen ids of the vocabulary with an ordinary word among them, and the
// pieces of a line are its ids in order.
func FuzzMLMSequences(f *testing.F) {
	for _, s := range []string{"the cat sat on the mat", "", "  \t\n", "[MASK] [mask] <unk> <pad>", "a b c d e f g h i j k", "\xff\xfe bad utf8", "THE Cat"} {
		f.Add(s, 3)
	}
	v, err := MLMVocab([]string{"the cat sat on the mat a b c d e"}, true, 1, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string, maxLen int) {
		maxLen = 1 + (maxLen%16+16)%16
		seqs := MLMSequences([]string{line}, v, true, maxLen)
		for _, s := range seqs {
			if len(s) < 1 || len(s) > maxLen || !slices.ContainsFunc(s, func(id int) bool { return id > MaskID }) {
				t.Fatalf("piece %v (max %d)", s, maxLen)
			}
			for _, id := range s {
				if id < 0 || id >= v.Len() {
					t.Fatalf("id %d outside %d", id, v.Len())
				}
			}
		}
		m, err := NewMLM(MLMConfig{Model: mlm.Config{Layers: 1, MaxLen: maxLen, Layer: transformer.LayerConfig{Embed: 4, Heads: 1, FF: 4}},
			Masking: mlm.BERT(), Batch: 2, BucketWidth: 2, Lower: true}, v, seqs)
		if err != nil {
			t.Fatal(err)
		}
		if len(seqs) > 0 {
			if _, err := m.Sequences(seqs); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestTopKAndFillers(t *testing.T) {
	p := []float64{0.3, 0.01, 0.02, 0.03, 0.2, 0.1, 0.25, 0.05, 0.04}
	top := TopK(p, 3)
	if len(top) != 3 || top[0].ID != 0 || top[1].ID != 6 || top[2].ID != 4 {
		t.Errorf("TopK %v", top)
	}
	if n := len(TopK(p, 20)); n != len(p) {
		t.Errorf("TopK of 20 of %d: %d", len(p), n)
	}
	m := &MLM{}
	f := m.Fillers(p, 3)
	if len(f) != 3 || f[0].ID != 6 || f[1].ID != 5 || f[2].ID != 7 || f[0].P != 0.25 {
		t.Errorf("Fillers %v: want ids 6, 5, 7 (no special id, no [MASK])", f)
	}
}
