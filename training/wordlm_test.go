package training

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/data"
)

// A word language model: lines become their words and an EOS each, blank
// lines none; it learns a two-line text well enough to continue a line
// greedily, and Sample writes words after spaces and line ends as line
// breaks.
func TestWordLM(t *testing.T) {
	text := strings.Repeat("the cat sat on the mat .\n\nthe dog sat on the log .\n", 30)
	v := data.NewWordVocab([]string{text}, 1)
	m0 := must(NewLM(LMConfig{Model: lm.Config{Vocab: 1, Embed: 8, Hidden: 32, Cell: cells.LSTMKind}, Batch: 4, Steps: 8, Words: true}, v, nil))(t)
	ids := m0.Encode("the cat\n\n  \nsat zebra\n")
	want := []int{v.ID("the"), v.ID("cat"), data.EOS, v.ID("sat"), data.UNK, data.EOS}
	if !slices.Equal(ids, want) {
		t.Fatalf("Encode: %v, want %v", ids, want)
	}
	all := EncodeWordLines(v, text)
	cut := len(all) * 9 / 10
	s := lmSetup{cfg: Config{Epochs: 8, Optimizer: "adam", LR: 0.02, Clip: 5, Seed: 3},
		model: LMConfig{Model: lm.Config{Embed: 8, Hidden: 32, Cell: cells.LSTMKind, Seed: 2}, Batch: 4, Steps: 8, Words: true},
		vocab: v, train: all[:cut], test: all[cut:]}
	tr := s.new(t)
	ctx := context.Background()
	var last Metrics
	for range s.cfg.Epochs {
		st, err := tr.RunEpoch(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		last = st.Test
	}
	if !(last[MetricPerplexity] < 2) {
		t.Errorf("test perplexity %v on a text of two repeated lines", last[MetricPerplexity])
	}
	if d := tr.Model.Describe(); d.Metrics[1].Label != "bits/word" {
		t.Errorf("metric label %q", d.Metrics[1].Label)
	}
	m := lmOf(tr)
	got := must(m.Sample("the dog sat", 6, nil))(t)
	if got != " on the log .\nthe" {
		t.Errorf("greedy continuation of %q: %q", "the dog sat", got)
	}
	got = must(m.Sample("the dog ", 3, nil))(t)
	if got != "sat on the" {
		t.Errorf("after a prime ending in a space: %q", got)
	}
	smp := must(m.Sample("the", 40, &decode.SampleOptions{Temperature: 1, Source: graph.NewSource(1)}))(t)
	if n := len(strings.Fields(smp)); n > 40 || n < 10 {
		t.Errorf("%d words sampled of 40 tokens: %q", n, smp)
	}
	if _, err := m.Sample(" \n", 3, nil); err == nil {
		t.Error("a prime without words sampled")
	}
}

// EncodeWordLines on any text: ids within the vocabulary and never PAD or
// BOS, an EOS after every line with a word and for every "</s>", and each
// other word its vocabulary id or UNK.
func FuzzEncodeWordLines(f *testing.F) {
	for _, s := range []string{"", "a b\nc\n", "\n\n\n", "a\r\nb", "x \xff y\n<unk> </s> <s> <pad>", "a\tb\u00a0c\n"} {
		f.Add(s)
	}
	v := data.NewWordVocab([]string{"a b c x y"}, 1)
	f.Fuzz(func(t *testing.T, text string) {
		var want []int
		for l := range strings.Lines(text) {
			ws := strings.Fields(l)
			for _, w := range ws {
				id := v.ID(strings.ToValidUTF8(w, "\uFFFD"))
				if id == data.PAD || id == data.BOS {
					id = data.UNK
				}
				want = append(want, id)
			}
			if len(ws) > 0 {
				want = append(want, data.EOS)
			}
		}
		ids := EncodeWordLines(v, text)
		if !slices.Equal(ids, want) {
			t.Fatalf("%q: %v, want %v", text, ids, want)
		}
		for _, id := range ids {
			if id < 0 || id >= v.Len() || id == data.PAD || id == data.BOS {
				t.Fatalf("id %d", id)
			}
		}
	})
}
