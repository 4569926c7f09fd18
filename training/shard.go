package training

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/tree"
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

// Shard implements Sharder: part k of n of a batch of trees (sentences
// for the BiLSTM) is a contiguous range of its real trees, padded as a
// batch of their own (a BiLSTM part keeps the batch's length), weighted by
// their number (the loss is the mean over the batch's trees).
func (m *Tree) Shard(b Batch, k, n int) (Batch, float64, error) {
	switch tb := b.(type) {
	case *treeBatch:
		lo, hi, err := span(tb.trees, k, n)
		if err != nil || lo == hi {
			return nil, 0, err
		}
		ids := make([]int, 0, hi-lo)
		ts := make([]*tree.Node, 0, hi-lo)
		for _, r := range tb.b.Roots[lo:hi] {
			id := tb.rows[r].t
			if id < 0 || id >= len(m.train) {
				return nil, 0, errors.Errorf("training: tree %d of a batch outside the %d training trees", id, len(m.train))
			}
			ids, ts = append(ids, id), append(ts, m.train[id])
		}
		part, err := m.treeBatchOf(ts, ids, hi-lo)
		if err != nil {
			return nil, 0, err
		}
		return part, float64(hi - lo), nil
	case *seqBatch:
		lo, hi, err := span(tb.real, k, n)
		if err != nil || lo == hi {
			return nil, 0, err
		}
		part := &seqBatch{ids: tb.ids[lo:hi], lengths: tb.lengths[lo:hi], labels: tb.labels[lo:hi], rows: tb.rows[lo:hi],
			real: hi - lo, shape: Dims(hi-lo, len(tb.ids[0])), w: make([]float64, hi-lo)}
		for i := range part.w {
			part.w[i] = 1 / float64(hi-lo)
		}
		return part, float64(hi - lo), nil
	}
	return nil, 0, errors.Errorf("training: a %T given to a %s model", b, TreeKind)
}
