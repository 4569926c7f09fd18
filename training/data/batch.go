package data

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pkg/errors"
)

// maxBatchIDs bounds the ids one padded batch or window may hold.
const maxBatchIDs = 1 << 28

// Split returns the first round(trainFrac·len(pairs)) pairs as train and
// the rest as test, in their order: it does not shuffle (the book's
// generated files are already random). trainFrac is clamped to [0, 1]
// (NaN counts as 0). Both are copies; pairs is not modified.
func Split(pairs []Pair, trainFrac float64) (train, test []Pair) {
	f := trainFrac
	if !(f > 0) {
		f = 0
	} else if f > 1 {
		f = 1
	}
	k := int(math.Round(f * float64(len(pairs))))
	return slices.Clone(pairs[:k]), slices.Clone(pairs[k:])
}

// Shuffle returns a random permutation of [0, n) drawn from src. It returns
// nil if n < 1 or src is nil.
func Shuffle(n int, src *rand.Rand) []int {
	if n < 1 || src == nil {
		return nil
	}
	return src.Perm(n)
}

// Buckets groups the indices of lengths into batches of similar length:
// index i goes to bucket lengths[i]/bucketWidth (a negative length counts
// as 0, a bucketWidth below 1 as 1), so every batch's lengths lie in one
// [k·bucketWidth, (k+1)·bucketWidth) and a batch padded to its longest
// sequence wastes less than bucketWidth per row. Each bucket is cut into
// batches of batchSize indices, the last one of a bucket possibly shorter
// (skip batches shorter than batchSize to keep one batch size). The order
// within buckets and the order of the batches are shuffled by src.
//
// Every index appears in exactly one batch, once; the same lengths and seed
// give the same batches. It returns nil if lengths is empty, batchSize < 1
// or src is nil.
func Buckets(lengths []int, batchSize int, bucketWidth int, src *rand.Rand) [][]int {
	if len(lengths) == 0 || batchSize < 1 || src == nil {
		return nil
	}
	width := max(bucketWidth, 1)
	key := func(i int) int { return max(lengths[i], 0) / width }
	perm := src.Perm(len(lengths))
	slices.SortStableFunc(perm, func(a, b int) int { return cmp.Compare(key(a), key(b)) })
	var batches [][]int
	for start := 0; start < len(perm); {
		k, end := key(perm[start]), start+1
		for end < len(perm) && end-start < batchSize && key(perm[end]) == k {
			end++
		}
		batches = append(batches, perm[start:end:end])
		start = end
	}
	src.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	return batches
}

// Encoded holds sequences of token ids, one row per sequence: the
// encoder's input Src, the decoder's input TgtIn and its labels TgtOut,
// with SrcLen and TgtLen their real (unpadded) lengths. Rows may be longer
// than their lengths (padding); TgtIn and TgtOut share TgtLen. The fields
// are those of models/seq2seq's Batch, in its order, so seq2seq.Batch(b)
// converts a batch from [PadBatch].
type Encoded struct {
	Src    [][]int
	SrcLen []int
	TgtIn  [][]int
	TgtOut [][]int
	TgtLen []int
}

// EncodePairs encodes pairs with v's characters ([Vocab.EncodeChars];
// characters v lacks become UNK): Src is the question's characters,
// reversed if reverseSource (the book's trick: the first answer digits are
// then near the encoder's end), TgtIn is BOS followed by the answer's
// characters, TgtOut the answer's characters followed by EOS; SrcLen is
// the question's length, TgtLen the answer's plus one. A nil v, or a pair
// with an empty question or answer, is an error wrapping ErrInvalid.
func EncodePairs(pairs []Pair, v *Vocab, reverseSource bool) (Encoded, error) {
	if v == nil {
		return Encoded{}, errors.Wrap(ErrInvalid, "encode: nil vocabulary")
	}
	n := len(pairs)
	e := Encoded{
		Src: make([][]int, n), SrcLen: make([]int, n),
		TgtIn: make([][]int, n), TgtOut: make([][]int, n), TgtLen: make([]int, n),
	}
	for i, p := range pairs {
		if p.Question == "" || p.Answer == "" {
			return Encoded{}, errors.Wrapf(ErrInvalid, "encode: pair %d: empty question or answer", i)
		}
		src := v.EncodeChars(p.Question)
		if reverseSource {
			slices.Reverse(src)
		}
		ans := v.EncodeChars(p.Answer)
		in := make([]int, 0, len(ans)+1)
		in = append(append(in, BOS), ans...)
		out := make([]int, 0, len(ans)+1)
		out = append(append(out, ans...), EOS)
		e.Src[i], e.SrcLen[i] = src, len(src)
		e.TgtIn[i], e.TgtOut[i], e.TgtLen[i] = in, out, len(in)
	}
	return e, nil
}

// PadBatch returns the rows idx of e (in idx's order; repeats allowed)
// padded with PAD: Src rows to srcLen ids, TgtIn and TgtOut rows to tgtLen,
// batch-major ([B][srcLen], [B][tgtLen]), with their lengths. A length of 0
// pads to the longest sequence of the batch. Only the first SrcLen (TgtLen)
// ids of a row are copied, so a padded Encoded can be padded again. An
// empty idx, an index out of range, a sequence longer than srcLen (tgtLen),
// inconsistent e (rows and lengths of different counts, a length below 1
// or beyond its row) or a batch of more than 2²⁸ ids is an error wrapping
// ErrInvalid.
func PadBatch(e Encoded, idx []int, srcLen, tgtLen int) (Encoded, error) {
	if len(idx) == 0 {
		return Encoded{}, errors.Wrap(ErrInvalid, "pad: empty batch")
	}
	if srcLen < 0 || tgtLen < 0 {
		return Encoded{}, errors.Wrapf(ErrInvalid, "pad: lengths %d and %d, want ≥ 0", srcLen, tgtLen)
	}
	n := len(e.Src)
	if len(e.SrcLen) != n || len(e.TgtIn) != n || len(e.TgtOut) != n || len(e.TgtLen) != n {
		return Encoded{}, errors.Wrapf(ErrInvalid, "pad: %d Src, %d SrcLen, %d TgtIn, %d TgtOut, %d TgtLen rows",
			n, len(e.SrcLen), len(e.TgtIn), len(e.TgtOut), len(e.TgtLen))
	}
	maxSrc, maxTgt := 0, 0
	for _, i := range idx {
		if i < 0 || i >= n {
			return Encoded{}, errors.Wrapf(ErrInvalid, "pad: index %d outside [0, %d)", i, n)
		}
		sl, tl := e.SrcLen[i], e.TgtLen[i]
		if sl < 1 || sl > len(e.Src[i]) {
			return Encoded{}, errors.Wrapf(ErrInvalid, "pad: sequence %d: source length %d outside [1, %d]", i, sl, len(e.Src[i]))
		}
		if tl < 1 || tl > len(e.TgtIn[i]) || tl > len(e.TgtOut[i]) {
			return Encoded{}, errors.Wrapf(ErrInvalid, "pad: sequence %d: target length %d outside [1, %d]",
				i, tl, min(len(e.TgtIn[i]), len(e.TgtOut[i])))
		}
		maxSrc, maxTgt = max(maxSrc, sl), max(maxTgt, tl)
	}
	if srcLen == 0 {
		srcLen = maxSrc
	}
	if tgtLen == 0 {
		tgtLen = maxTgt
	}
	for _, i := range idx {
		if e.SrcLen[i] > srcLen {
			return Encoded{}, errors.Wrapf(ErrInvalid, "pad: sequence %d: source of %d tokens, longer than %d", i, e.SrcLen[i], srcLen)
		}
		if e.TgtLen[i] > tgtLen {
			return Encoded{}, errors.Wrapf(ErrInvalid, "pad: sequence %d: target of %d tokens, longer than %d", i, e.TgtLen[i], tgtLen)
		}
	}
	B := len(idx)
	if srcLen > maxBatchIDs/B || tgtLen > maxBatchIDs/B/2 || srcLen+2*tgtLen > maxBatchIDs/B {
		return Encoded{}, errors.Wrapf(ErrInvalid, "pad: %d rows of %d and %d ids: more than %d ids", B, srcLen, tgtLen, maxBatchIDs)
	}
	out := Encoded{
		Src: make([][]int, B), SrcLen: make([]int, B),
		TgtIn: make([][]int, B), TgtOut: make([][]int, B), TgtLen: make([]int, B),
	}
	srcBuf, inBuf, outBuf := make([]int, B*srcLen), make([]int, B*tgtLen), make([]int, B*tgtLen)
	for b, i := range idx {
		sl, tl := e.SrcLen[i], e.TgtLen[i]
		out.Src[b] = srcBuf[b*srcLen : (b+1)*srcLen : (b+1)*srcLen]
		out.TgtIn[b] = inBuf[b*tgtLen : (b+1)*tgtLen : (b+1)*tgtLen]
		out.TgtOut[b] = outBuf[b*tgtLen : (b+1)*tgtLen : (b+1)*tgtLen]
		copy(out.Src[b], e.Src[i][:sl])
		copy(out.TgtIn[b], e.TgtIn[i][:tl])
		copy(out.TgtOut[b], e.TgtOut[i][:tl])
		out.SrcLen[b], out.TgtLen[b] = sl, tl
	}
	return out, nil
}

// Chunk is one truncated-BPTT window of a language-model batch: row b of
// Seqs holds steps+1 ids of stream b, whose first steps are the inputs and
// last steps the next-token targets (Seqs[b][t+1] follows Seqs[b][t]), and
// Lengths[b] is the number of real predictions, in [1, steps]; ids past
// Lengths[b]+1 are PAD. This is what models/lm's TrainGraph.Set takes.
type Chunk struct {
	Seqs    [][]int
	Lengths []int
}

// Chunks prepares language-model training by truncated backpropagation
// through time. It cuts ids into batch contiguous streams of
// len(ids)/batch tokens each (stream b starts at b·(len(ids)/batch); the
// last len(ids) mod batch tokens are dropped), and walks the streams
// together in consecutive windows of steps+1 tokens that overlap by one
// token: window k holds tokens [k·steps, k·steps+steps] of each stream, so
// its last token is the next window's first. Row b of window k continues
// row b of window k−1, so a model carries each row's final state from one
// window into the next (detached from the previous graph: truncated BPTT).
//
// All windows but the last are full (Lengths = steps); the last may be
// shorter and is padded with PAD, all its rows the same length (skip it to
// keep one shape). The windows hold copies of ids. batch < 1, steps < 1,
// streams shorter than 2 tokens (no prediction to make) or windows of more
// than 2²⁸ ids are errors wrapping ErrInvalid.
func Chunks(ids []int, batch, steps int) ([]Chunk, error) {
	if batch < 1 || steps < 1 {
		return nil, errors.Wrapf(ErrInvalid, "chunks: batch %d and steps %d, want ≥ 1", batch, steps)
	}
	streamLen := len(ids) / batch
	if streamLen < 2 {
		return nil, errors.Wrapf(ErrInvalid, "chunks: %d tokens in %d streams: fewer than 2 per stream", len(ids), batch)
	}
	if steps >= maxBatchIDs/batch {
		return nil, errors.Wrapf(ErrInvalid, "chunks: %d rows of %d ids: more than %d ids", batch, steps+1, maxBatchIDs)
	}
	var chunks []Chunk
	for start := 0; start+1 < streamLen; start += steps {
		n := min(steps+1, streamLen-start) // real tokens in each row
		c := Chunk{Seqs: make([][]int, batch), Lengths: make([]int, batch)}
		buf := make([]int, batch*(steps+1))
		for b := range batch {
			row := buf[b*(steps+1) : (b+1)*(steps+1) : (b+1)*(steps+1)]
			off := b*streamLen + start
			copy(row, ids[off:off+n])
			c.Seqs[b], c.Lengths[b] = row, n-1
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
}
