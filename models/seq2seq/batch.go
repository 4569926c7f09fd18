package seq2seq

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// Set loads a batch: token ids, masks, and targets weighted 1/N over the N
// real target positions, so Loss is their mean cross-entropy.
func (t *TrainGraph) Set(b Batch) error {
	if len(b.Src) != t.B || len(b.SrcLen) != t.B || len(b.TgtIn) != t.B || len(b.TgtOut) != t.B || len(b.TgtLen) != t.B {
		return errors.Errorf("seq2seq: batch of %d sources, %d lengths, %d/%d targets, %d lengths; want %d each",
			len(b.Src), len(b.SrcLen), len(b.TgtIn), len(b.TgtOut), len(b.TgtLen), t.B)
	}
	if err := t.src.SetBatchMajor(b.Src); err != nil {
		return errors.Wrap(err, "seq2seq: source")
	}
	if t.Dropout != nil {
		if err := t.Dropout.Resample(); err != nil {
			return err
		}
	}
	if err := t.tgt.SetBatchMajor(b.TgtIn); err != nil {
		return errors.Wrap(err, "seq2seq: decoder input")
	}
	n := 0
	for i := 0; i < t.B; i++ {
		if b.SrcLen[i] < 1 || b.SrcLen[i] > t.Ts || b.TgtLen[i] < 1 || b.TgtLen[i] > t.Tt {
			return errors.Errorf("seq2seq: sequence %d: lengths %d and %d outside [1, %d] and [1, %d]", i, b.SrcLen[i], b.TgtLen[i], t.Ts, t.Tt)
		}
		if len(b.TgtOut[i]) != t.Tt {
			return errors.Errorf("seq2seq: labels of sequence %d have %d tokens, want %d", i, len(b.TgtOut[i]), t.Tt)
		}
		n += b.TgtLen[i]
	}
	if t.fused {
		return t.setFused(b, n)
	}
	if err := setMasks(t.srcMask, b.SrcLen); err != nil {
		return err
	}
	if err := setMasks(t.tgtMask, b.TgtLen); err != nil {
		return err
	}
	if err := graph.Set(t.srcMaskMat, maskMatrix(b.SrcLen, t.Ts)); err != nil {
		return err
	}
	for s, tg := range t.targets {
		ids, w := make([]int, t.B), make([]float64, t.B)
		for i := 0; i < t.B; i++ {
			ids[i] = b.TgtOut[i][s]
			if s < b.TgtLen[i] {
				w[i] = 1 / float64(n)
			}
		}
		if err := tg.Set(ids, w); err != nil {
			return errors.Wrapf(err, "seq2seq: labels at step %d", s)
		}
	}
	return nil
}

// setFused loads the masks and labels of the fused graph (n real target
// positions in all).
func (t *TrainGraph) setFused(b Batch, n int) error {
	if err := graph.Set(t.srcSeq, seqMask(b.SrcLen, t.Ts)); err != nil {
		return err
	}
	if err := graph.Set(t.tgtSeq, seqMask(b.TgtLen, t.Tt)); err != nil {
		return err
	}
	if t.srcMaskMat != nil {
		row := maskMatrix(b.SrcLen, t.Ts) // [B, Ts]
		all := make([]float64, 0, t.Tt*len(row))
		for s := 0; s < t.Tt; s++ {
			all = append(all, row...)
		}
		if err := graph.Set(t.srcMaskMat, all); err != nil {
			return err
		}
	}
	ids, w := make([]int, t.Tt*t.B), make([]float64, t.Tt*t.B)
	for s := 0; s < t.Tt; s++ {
		for i := 0; i < t.B; i++ {
			ids[s*t.B+i] = b.TgtOut[i][s]
			if s < b.TgtLen[i] {
				w[s*t.B+i] = 1 / float64(n)
			}
		}
	}
	return errors.Wrap(t.target.Set(ids, w), "seq2seq: labels")
}

// seqMask returns the [T·B] time-major 0/1 mask of real positions.
func seqMask(lengths []int, T int) []float64 {
	B := len(lengths)
	out := make([]float64, T*B)
	for i, l := range lengths {
		for s := 0; s < l && s < T; s++ {
			out[s*B+i] = 1
		}
	}
	return out
}

func setMasks(ms []*gorgonia.Node, lengths []int) error {
	for s, m := range ms {
		v := make([]float64, len(lengths))
		for i, l := range lengths {
			if s < l {
				v[i] = 1
			}
		}
		if err := graph.Set(m, v); err != nil {
			return err
		}
	}
	return nil
}

// maskMatrix returns the [B, T] row-major 0/1 matrix of real positions.
func maskMatrix(lengths []int, T int) []float64 {
	out := make([]float64, len(lengths)*T)
	for i, l := range lengths {
		for s := 0; s < l && s < T; s++ {
			out[i*T+s] = 1
		}
	}
	return out
}
