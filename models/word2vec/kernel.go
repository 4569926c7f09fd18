package word2vec

import (
	"math"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// vecOps are the vector loops the kernel runs on: vmath's assembly for
// float32 training, plain Go for float64 (the gradient check).
type vecOps[T float32 | float64] struct {
	dot   func(x, y []T) T
	axpy  func(a T, x, y []T)         // y += a·x
	cross func(a T, x, y, ex, dy []T) // ex += a·y, dy += a·x (old values)
}

var ops32 = vecOps[float32]{dot: vmath.Dot32, axpy: vmath.Axpy32, cross: vmath.CrossAxpy32}

var ops64 = vecOps[float64]{
	dot: func(x, y []float64) float64 {
		var s float64
		for i, v := range x {
			s += v * y[i]
		}
		return s
	},
	axpy: func(a float64, x, y []float64) {
		for i, v := range x {
			y[i] += a * v
		}
	},
	cross: func(a float64, x, y, ex, dy []float64) {
		for i := range x {
			yi := y[i]
			ex[i] += a * yi
			dy[i] += a * x[i]
		}
	},
}

// kernel is word2vec.c's inner loop for one prediction: a hidden vector h
// (skip-gram: a context word's row of syn0; CBOW: the mean of the context
// words' rows) against the output rows of the centre word (hierarchical
// softmax: its Huffman path in syn1; negative sampling: the word and the
// negative samples in syn1neg), each a logistic unit with target t:
//
//	f = h·u,  g = α·(t − σ(f)),  e += g·u,  u += g·h
//
// and then every input row += e. g is α times minus the gradient of
// −log σ(±f), so the updates are one step of stochastic gradient descent;
// with α = −1 they are the gradient itself.
//
// The weights are read from w0 (syn0), w1 (syn1) and w2 (syn1neg) and the
// updates written to d0, d1, d2: the same slices when training, zeroed
// gradient buffers for [KernelGradients]. With table set, σ comes from the
// C tool's table, f beyond ±6 gives σ = 0 or 1 under negative sampling and
// skips the node under hierarchical softmax, as word2vec.c; otherwise σ is
// exact and every unit is trained (the definition).
type kernel[T float32 | float64] struct {
	ops         vecOps[T]
	dim         int
	w0, w1, w2  []T
	d0, d1, d2  []T
	hs          *Huffman
	neg         bool
	table       []T     // the C tool's σ table; nil for exact σ
	neu1, neu1e []T     // the hidden vector (CBOW) and its error
	loss        float64 // Σ −log σ(±f) over the units run, when trackLoss
	trackLoss   bool
}

func newKernel[T float32 | float64](ops vecOps[T], dim int, hs *Huffman, neg bool, table []T) *kernel[T] {
	return &kernel[T]{ops: ops, dim: dim, hs: hs, neg: neg, table: table, neu1: make([]T, dim), neu1e: make([]T, dim)}
}

func (k *kernel[T]) row(m []T, i int32) []T {
	o := int(i) * k.dim
	return m[o : o+k.dim : o+k.dim]
}

// skipGram trains one (context word in, centre word) pair of skip-gram:
// in's row of syn0 predicts word; negs are the negative samples drawn for
// it (the draws equal to word already dropped).
func (k *kernel[T]) skipGram(in, word int32, negs []int32, alpha T) {
	h := k.row(k.w0, in)
	e := k.neu1e
	clear(e)
	k.outputs(h, word, negs, alpha)
	k.ops.axpy(1, e, k.row(k.d0, in))
}

// cbow trains one CBOW prediction: the mean of the context words' rows
// predicts word; each context word's row then gets the whole error e (as
// word2vec.c: not divided by the number of context words).
func (k *kernel[T]) cbow(ctx []int32, word int32, negs []int32, alpha T) {
	h := k.neu1
	clear(h)
	for _, c := range ctx {
		k.ops.axpy(1, k.row(k.w0, c), h)
	}
	n := T(len(ctx))
	for i := range h {
		h[i] /= n
	}
	e := k.neu1e
	clear(e)
	k.outputs(h, word, negs, alpha)
	for _, c := range ctx {
		k.ops.axpy(1, e, k.row(k.d0, c))
	}
}

// outputs runs the output units of word for hidden vector h, adding to
// k.neu1e: first the hierarchical softmax's path, then negative sampling's
// word and samples, each in turn (a sample drawn twice sees the first
// update when training).
func (k *kernel[T]) outputs(h []T, word int32, negs []int32, alpha T) {
	e := k.neu1e
	if k.hs != nil {
		codes, points := k.hs.Codes(int(word)), k.hs.Points(int(word))
		for d, p := range points {
			u := k.row(k.w1, p)
			f := k.ops.dot(h, u)
			t := 1 - T(codes[d])
			var s T
			if k.table != nil {
				if f <= -maxExp || f >= maxExp {
					continue
				}
				s = k.table[int((f+maxExp)*expIndex)]
			} else {
				s = sigma(f)
			}
			k.track(f, t)
			k.ops.cross((t-s)*alpha, h, u, e, k.row(k.d1, p))
		}
	}
	if !k.neg {
		return
	}
	for d := -1; d < len(negs); d++ {
		target, t := word, T(1)
		if d >= 0 {
			target, t = negs[d], 0
		}
		u := k.row(k.w2, target)
		f := k.ops.dot(h, u)
		var g T
		switch {
		case k.table == nil:
			g = (t - sigma(f)) * alpha
		case f > maxExp:
			g = (t - 1) * alpha
		case f < -maxExp:
			g = t * alpha
		default:
			g = (t - k.table[int((f+maxExp)*expIndex)]) * alpha
		}
		k.track(f, t)
		k.ops.cross(g, h, u, e, k.row(k.d2, target))
	}
}

// track adds the unit's loss −log σ(±f) when the kernel keeps it.
func (k *kernel[T]) track(f, t T) {
	if !k.trackLoss {
		return
	}
	x := float64(f)
	if t == 0 {
		x = -x
	}
	// −log σ(x) = log(1 + e^−x), computed without overflow.
	if x > 0 {
		k.loss += math.Log1p(math.Exp(-x))
	} else {
		k.loss += -x + math.Log1p(math.Exp(x))
	}
}

// sigma is the logistic function.
func sigma[T float32 | float64](f T) T {
	return T(1 / (1 + math.Exp(-float64(f))))
}
