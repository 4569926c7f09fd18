package metrics

import (
	"math"
	"testing"
)

func TestExactAndTokenAccuracy(t *testing.T) {
	pred := [][]int{{1, 2, 3}, {1, 2}, {4}}
	ref := [][]int{{1, 2, 3}, {1, 3}, {4, 5}}
	em, err := ExactMatch(pred, ref)
	if err != nil || math.Abs(em-1.0/3) > 1e-15 {
		t.Fatalf("exact match %v, %v", em, err)
	}
	acc, err := TokenAccuracy(pred, ref)
	if err != nil || math.Abs(acc-5.0/7) > 1e-15 {
		t.Fatalf("token accuracy %v, %v", acc, err)
	}
	if _, err := ExactMatch(pred, ref[:2]); err == nil {
		t.Error("mismatched lengths accepted")
	}
	if _, err := ExactMatch(nil, nil); err == nil {
		t.Error("empty corpus accepted")
	}
	if _, err := TokenAccuracy([][]int{{}}, [][]int{{}}); err == nil {
		t.Error("no reference tokens accepted")
	}
}

func TestPerplexityAndBits(t *testing.T) {
	if p := Perplexity(math.Log(8)); math.Abs(p-8) > 1e-12 {
		t.Errorf("perplexity %v", p)
	}
	if b := BitsPerToken(math.Log(8)); math.Abs(b-3) > 1e-12 {
		t.Errorf("bits %v", b)
	}
}

func TestBLEU(t *testing.T) {
	ref := [][]int{{1, 2, 3, 4, 5, 6}}
	if b, _ := BLEU(ref, ref, false); math.Abs(b-1) > 1e-12 {
		t.Errorf("identical: %v", b)
	}
	if b, _ := BLEU([][]int{{7, 8, 9, 10}}, ref, false); b != 0 {
		t.Errorf("disjoint: %v", b)
	}
	// Hand-computed: candidate 1 2 3 4 5 (5 tokens) against 1 2 3 4 5 6:
	// precisions 5/5, 4/4, 3/3, 2/2; brevity penalty exp(1 − 6/5).
	b, _ := BLEU([][]int{{1, 2, 3, 4, 5}}, ref, false)
	if want := math.Exp(1 - 6.0/5); math.Abs(b-want) > 1e-12 {
		t.Errorf("short candidate: %v, want %v", b, want)
	}
	// Clipping: "the the the the" against "the cat": unigram 1/4, no bigrams match.
	if b, _ := BLEU([][]int{{1, 1, 1, 1}}, [][]int{{1, 2}}, false); b != 0 {
		t.Errorf("clipped: %v", b)
	}
	s, _ := BLEU([][]int{{1, 1, 1, 1}}, [][]int{{1, 2}}, true)
	// smoothed: p1 = 1/4, p2 = (0+1)/(3+1), p3 = 1/3, p4 = 1/2; c ≥ r: no penalty.
	want := math.Exp((math.Log(0.25) + math.Log(0.25) + math.Log(1.0/3) + math.Log(0.5)) / 4)
	if math.Abs(s-want) > 1e-12 {
		t.Errorf("smoothed: %v, want %v", s, want)
	}
}
