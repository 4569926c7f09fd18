package training

import (
	"slices"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training/data"
)

// RelabelTargets puts the given answers in place of the references, with
// BOS and EOS around them, in the questions' order, and counts the
// changes; a bad answer changes nothing.
func TestRelabelTargets(t *testing.T) {
	s := smallSetup(0)
	m := must(NewSeq2Seq(s.model, s.vocab, s.train))(t)
	before := m.train
	calls := 0
	// The answer to each question is its first token (as read).
	n, err := m.RelabelTargets(7, func(src [][]int) ([][]int, error) {
		calls++
		out := make([][]int, len(src))
		for i, q := range src {
			out[i] = []int{q[0]}
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (len(s.train) + 6) / 7; calls != want {
		t.Errorf("%d calls, want %d", calls, want)
	}
	if n < 1 || n > len(s.train) {
		t.Errorf("%d answers changed of %d", n, len(s.train))
	}
	for i := range m.train.Src {
		q := before.Src[i][0]
		if !slices.Equal(m.train.TgtIn[i], []int{data.BOS, q}) || !slices.Equal(m.train.TgtOut[i], []int{q, data.EOS}) || m.train.TgtLen[i] != 2 {
			t.Fatalf("pair %d: %v %v %d", i, m.train.TgtIn[i], m.train.TgtOut[i], m.train.TgtLen[i])
		}
	}
	kept := m.train
	if _, err := m.RelabelTargets(7, func(src [][]int) ([][]int, error) {
		return [][]int{{data.EOS}}, nil
	}); err == nil || !strings.Contains(err.Error(), "answers") && !strings.Contains(err.Error(), "token") {
		t.Errorf("bad answers: %v", err)
	}
	if !slices.Equal(kept.TgtLen, m.train.TgtLen) {
		t.Error("a failed relabelling changed the targets")
	}
}
