package training

import (
	"slices"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/data"
)

// RelabelTargets replaces the answers of the model's training pairs by
// those answer gives (sequence-level distillation, training/distill): it
// calls answer with the questions' token ids as the model reads them
// (reversed under Cfg.ReverseSource), at most batch at a time, in order,
// and takes back the answers' ids without BOS and EOS (an empty answer is
// allowed: the target is then EOS alone). It returns how many answers
// differ from the references. On an error nothing changes.
func (m *Seq2Seq) RelabelTargets(batch int, answer func(src [][]int) ([][]int, error)) (int, error) {
	if batch < 1 {
		return 0, errors.Errorf("training: relabelling in batches of %d", batch)
	}
	e := m.train
	n := len(e.Src)
	out := data.Encoded{Src: e.Src, SrcLen: e.SrcLen, TgtIn: make([][]int, n), TgtOut: make([][]int, n), TgtLen: make([]int, n)}
	V := m.Vocab.Len()
	changed := 0
	for start := 0; start < n; start += batch {
		end := min(n, start+batch)
		srcs := make([][]int, 0, end-start)
		for i := start; i < end; i++ {
			srcs = append(srcs, e.Src[i][:e.SrcLen[i]])
		}
		ans, err := answer(srcs)
		if err != nil {
			return 0, err
		}
		if len(ans) != len(srcs) {
			return 0, errors.Errorf("training: %d answers for %d questions", len(ans), len(srcs))
		}
		for k, a := range ans {
			i := start + k
			for _, id := range a {
				if id < 0 || id >= V || id == data.BOS || id == data.EOS {
					return 0, errors.Errorf("training: answer %d holds token %d (vocabulary %d, BOS and EOS excluded)", i, id, V)
				}
			}
			out.TgtIn[i] = append([]int{data.BOS}, a...)
			out.TgtOut[i] = append(slices.Clone(a), data.EOS)
			out.TgtLen[i] = len(a) + 1
			if !slices.Equal(out.TgtOut[i], e.TgtOut[i][:e.TgtLen[i]]) {
				changed++
			}
		}
	}
	m.train = out
	return changed, nil
}

// TrainingPairs returns the number of training pairs.
func (m *Seq2Seq) TrainingPairs() int { return len(m.train.Src) }
