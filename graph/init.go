package graph

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// Source is the random source every initialiser draws from. Give it a seed
// ([NewSource]); rnnkit never seeds from the clock.
type Source = *rand.Rand

// NewSource returns a PCG source seeded with seed. Equal seeds give equal
// streams on every platform.
func NewSource(seed uint64) Source {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// An Initializer fills a parameter tensor with values drawn from a Source.
type Initializer interface {
	Fill(src Source, t *tensor.Dense) error
}

// Uniform draws from U(Low, High).
type Uniform struct{ Low, High float64 }

// PyTorchDefault is PyTorch's initialisation of every recurrent weight and
// bias: U(−1/√hidden, 1/√hidden).
func PyTorchDefault(hidden int) Uniform {
	k := 1 / math.Sqrt(float64(hidden))
	return Uniform{Low: -k, High: k}
}

// Fill implements Initializer.
func (u Uniform) Fill(src Source, t *tensor.Dense) error {
	if !(u.Low <= u.High) || math.IsInf(u.Low, 0) || math.IsInf(u.High, 0) {
		return errors.Errorf("graph: uniform bounds [%v, %v]", u.Low, u.High)
	}
	return fill(src, t, func(src Source) float64 { return u.Low + (u.High-u.Low)*src.Float64() })
}

// Constant fills every element with one value (e.g. 0 for biases).
type Constant float64

// Fill implements Initializer.
func (c Constant) Fill(_ Source, t *tensor.Dense) error {
	data := make([]float64, t.Shape().TotalSize())
	for i := range data {
		data[i] = float64(c)
	}
	return SetFloat64s(t, data)
}

// GlorotUniform is Glorot and Bengio's U(−a, a), a = Gain·√(6/(fan_in+fan_out)),
// for a matrix of shape [fan_out, fan_in] (PyTorch's weight layout). A zero
// Gain means 1.
type GlorotUniform struct{ Gain float64 }

// Fill implements Initializer.
func (g GlorotUniform) Fill(src Source, t *tensor.Dense) error {
	s := t.Shape()
	if len(s) != 2 {
		return errors.Errorf("graph: glorot needs a matrix, got shape %v", s)
	}
	gain := g.Gain
	if gain == 0 {
		gain = 1
	}
	a := gain * math.Sqrt(6/float64(s[0]+s[1]))
	return Uniform{Low: -a, High: a}.Fill(src, t)
}

// Orthogonal fills a [G·H, H] recurrent matrix with G orthogonal H×H blocks
// (one per gate, as Keras and Saxe et al. recommend for recurrent weights),
// scaled by Gain (zero means 1). A matrix whose rows are not a multiple of
// its columns is made semi-orthogonal as a whole.
type Orthogonal struct{ Gain float64 }

// Fill implements Initializer.
func (o Orthogonal) Fill(src Source, t *tensor.Dense) error {
	if src == nil {
		return errors.New("graph: nil random source")
	}
	s := t.Shape()
	if len(s) != 2 {
		return errors.Errorf("graph: orthogonal needs a matrix, got shape %v", s)
	}
	gain := o.Gain
	if gain == 0 {
		gain = 1
	}
	rows, cols := s[0], s[1]
	blockRows := rows
	if rows%cols == 0 {
		blockRows = cols
	}
	out := make([]float64, 0, rows*cols)
	for start := 0; start < rows; start += blockRows {
		out = append(out, orthogonalBlock(src, blockRows, cols, gain)...)
	}
	return SetFloat64s(t, out)
}

// orthogonalBlock returns an r×c row-major matrix with orthonormal rows
// (r ≤ c) or columns (r > c), from the QR decomposition of a Gaussian
// matrix, signs fixed so the distribution is uniform (Mezzadri 2007).
func orthogonalBlock(src Source, r, c int, gain float64) []float64 {
	n, m := r, c
	if n < m {
		n, m = m, n // QR of the tall orientation
	}
	a := mat.NewDense(n, m, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			a.Set(i, j, src.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, rr mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	out := make([]float64, r*c)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			v := q.At(i, j) * gain
			if rr.At(j, j) < 0 {
				v = -v
			}
			if r >= c {
				out[i*c+j] = v
			} else {
				out[j*c+i] = v
			}
		}
	}
	return out
}

func fill(src Source, t *tensor.Dense, draw func(Source) float64) error {
	if src == nil {
		return errors.New("graph: nil random source")
	}
	switch d := t.Data().(type) {
	case []float64:
		for i := range d {
			d[i] = draw(src)
		}
	case []float32:
		for i := range d {
			d[i] = float32(draw(src))
		}
	default:
		return errors.Wrapf(ErrDtype, "%v", t.Dtype())
	}
	return nil
}
