package training

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/data"
)

// span returns part k of n of [0, size): the parts are contiguous, in
// order, and differ in length by at most one.
func span(size, k, n int) (lo, hi int, err error) {
	if n < 1 || k < 0 || k >= n {
		return 0, 0, errors.Errorf("training: part %d of %d", k+1, n)
	}
	return k * size / n, (k + 1) * size / n, nil
}

// Shard implements Sharder: part k of n of a window is a contiguous
// range of its streams, weighted by their predicted tokens (the loss is
// the mean over the window's tokens).
func (m *LM) Shard(b Batch, k, n int) (Batch, float64, error) {
	w, err := batchOf[window](b, LMKind)
	if err != nil {
		return nil, 0, err
	}
	lo, hi, err := span(w.hi-w.lo, k, n)
	if err != nil {
		return nil, 0, err
	}
	if lo == hi {
		return nil, 0, nil
	}
	c := data.Chunk{Seqs: w.c.Seqs[lo:hi], Lengths: w.c.Lengths[lo:hi]}
	weight := 0
	for _, l := range c.Lengths {
		weight += l
	}
	return window{c: c, shape: Dims(hi-lo, m.Cfg.Steps), lo: w.lo + lo, hi: w.lo + hi}, float64(weight), nil
}

// ShardCarry implements ShardCarrier: the state rows of the streams of
// part k of n.
func (m *LM) ShardCarry(c [][]float64, k, n int) [][]float64 {
	lo, hi, err := span(m.Cfg.Batch, k, n)
	h := m.Cfg.Model.Hidden
	out := make([][]float64, len(c))
	for i, v := range c {
		out[i] = make([]float64, len(v))
		if err == nil && hi*h <= len(v) {
			copy(out[i][lo*h:hi*h], v[lo*h:hi*h])
		}
	}
	return out
}

// Shard implements Sharder: part k of n of a batch of pairs is a
// contiguous range of its pairs, padded to the batch's lengths (so every
// part runs the batch's graph lengths), weighted by their target tokens
// (the loss is the mean over the batch's target tokens).
func (m *Seq2Seq) Shard(b Batch, k, n int) (Batch, float64, error) {
	pb, err := batchOf[pairBatch](b, Seq2SeqKind)
	if err != nil {
		return nil, 0, err
	}
	lo, hi, err := span(len(pb.idx), k, n)
	if err != nil {
		return nil, 0, err
	}
	if lo == hi {
		return nil, 0, nil
	}
	part := pairBatch{e: pb.e, idx: pb.idx[lo:hi], ts: pb.ts, tt: pb.tt}
	weight := 0
	for _, i := range part.idx {
		if i < 0 || i >= len(pb.e.TgtLen) {
			return nil, 0, errors.Errorf("training: pair %d of a batch outside the %d pairs", i, len(pb.e.TgtLen))
		}
		weight += pb.e.TgtLen[i]
	}
	return part, float64(weight), nil
}
