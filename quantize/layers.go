package quantize

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	fgemm "github.com/rnnkit/rnnkit/internal/gemm"
	"github.com/rnnkit/rnnkit/internal/qgemm"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// Matrix is a weight matrix W [N, K] (PyTorch's layout) applied to rows.
// An int8 Matrix keeps a buffer for the quantized activations, so one
// Matrix serves one goroutine at a time.
type Matrix interface {
	// Dims returns N and K.
	Dims() (n, k int)
	// Apply computes dst [m, N] = x [m, K]·Wᵀ + bias (bias may be nil).
	Apply(dst, x []float32, m int, bias []float32) error
}

// Int8Matrix is a Matrix of int8 weights: each call quantizes x per row
// and runs qgemm.Gemm.
type Int8Matrix struct {
	W   *qgemm.Weights
	act qgemm.Activations
}

// Dims implements Matrix.
func (q *Int8Matrix) Dims() (int, int) { return q.W.N, q.W.K }

// Apply implements Matrix.
func (q *Int8Matrix) Apply(dst, x []float32, m int, bias []float32) error {
	if err := q.act.Quantize(x, m, q.W.K); err != nil {
		return err
	}
	return qgemm.Gemm(dst, &q.act, q.W, bias)
}

// Float32Matrix is a Matrix of float32 weights, multiplied by
// internal/gemm's float32 GEMM: the reference the int8 one is measured
// against.
type Float32Matrix struct {
	N, K int
	W    []float32
}

// Dims implements Matrix.
func (f *Float32Matrix) Dims() (int, int) { return f.N, f.K }

// Apply implements Matrix.
func (f *Float32Matrix) Apply(dst, x []float32, m int, bias []float32) error {
	if len(x) != m*f.K || len(dst) != m*f.N || (bias != nil && len(bias) != f.N) {
		return errors.Errorf("quantize: [%d, %d] · [%d, %d]ᵀ into %d values with %d biases", m, len(x)/max(m, 1), f.N, f.K, len(dst), len(bias))
	}
	fgemm.Sgemm(false, true, m, f.N, f.K, 1, x, f.K, f.W, f.K, 0, dst, f.N)
	if bias != nil {
		for r := 0; r < m; r++ {
			row := dst[r*f.N : (r+1)*f.N]
			for c := range row {
				row[c] += bias[c]
			}
		}
	}
	return nil
}

// Embedding is a table [V, D] of int8 rows with a scale each (or float32
// rows).
type Embedding struct {
	V, D int
	q    *qgemm.Weights // int8, or nil
	f    []float32      // float32 when q is nil
}

// Lookup writes the rows of ids into dst (len(ids)·D values).
func (e *Embedding) Lookup(dst []float32, ids []int) error {
	if len(dst) != len(ids)*e.D {
		return errors.Errorf("quantize: %d values for %d embeddings of %d", len(dst), len(ids), e.D)
	}
	for i, id := range ids {
		if id < 0 || id >= e.V {
			return errors.Errorf("quantize: token id %d (position %d) outside the vocabulary of %d", id, i, e.V)
		}
		out := dst[i*e.D : (i+1)*e.D]
		if e.q == nil {
			copy(out, e.f[id*e.D:(id+1)*e.D])
			continue
		}
		s := e.q.Scale[id]
		for k, v := range e.q.Q[id*e.D : (id+1)*e.D] {
			out[k] = s * float32(v)
		}
	}
	return nil
}

// Layer is one recurrent layer (Elman tanh/ReLU, LSTM or GRU in PyTorch's
// layout and gate order) run forward for inference: the input projection
// W_ih·x for all time steps in one product, then per step W_hh·h and the
// gates in float32.
type Layer struct {
	Kind     cells.Kind
	In, H    int
	Wih, Whh Matrix
	Bih, Bhh []float32

	pre, out, rec, tmp []float32 // scratch, reused from call to call
}

// grow returns buf resized to n values, reallocated only when it is too
// small (the contents are not cleared: every caller overwrites them).
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// gates returns the number of gate blocks of the kind (G in G·H rows).
func gates(k cells.Kind) (int, error) {
	switch k {
	case cells.RNNTanh, cells.RNNReLU:
		return 1, nil
	case cells.LSTMKind:
		return 4, nil
	case cells.GRUKind:
		return 3, nil
	}
	return 0, errors.Wrapf(ErrUnsupported, "cell kind %q (the int8 engine runs rnn_tanh, rnn_relu, lstm and gru)", string(k))
}

// States returns the number of state tensors (h, and c for an LSTM).
func (l *Layer) States() int {
	if l.Kind == cells.LSTMKind {
		return 2
	}
	return 1
}

// Forward runs the layer over x [T·B, In] (time-major: rows t·B … t·B+B−1
// are step t) from the state (States() tensors of B·H values, updated in
// place to the final state) and returns the outputs h_t [T·B, H], which
// stay valid until the layer's next Forward.
func (l *Layer) Forward(x []float32, T, B int, state [][]float32) ([]float32, error) {
	G, err := gates(l.Kind)
	if err != nil {
		return nil, err
	}
	H := l.H
	if len(x) != T*B*l.In || len(state) != l.States() {
		return nil, errors.Errorf("quantize: %s layer: %d inputs for %d×%d×%d, %d state tensors for %d", l.Kind, len(x), T, B, l.In, len(state), l.States())
	}
	for i, s := range state {
		if len(s) != B*H {
			return nil, errors.Errorf("quantize: %s layer: state %d holds %d values, want %d×%d", l.Kind, i, len(s), B, H)
		}
	}
	pre := grow(&l.pre, T*B*G*H)
	if err := l.Wih.Apply(pre, x, T*B, l.Bih); err != nil {
		return nil, errors.Wrapf(err, "quantize: %s layer: input projection", l.Kind)
	}
	out := grow(&l.out, T*B*H)
	rec := grow(&l.rec, B*G*H)
	tmp := grow(&l.tmp, H)
	h := state[0]
	for t := 0; t < T; t++ {
		if err := l.Whh.Apply(rec, h, B, l.Bhh); err != nil {
			return nil, errors.Wrapf(err, "quantize: %s layer: step %d", l.Kind, t)
		}
		for b := 0; b < B; b++ {
			p := pre[(t*B+b)*G*H : (t*B+b+1)*G*H]
			r := rec[b*G*H : (b+1)*G*H]
			hb := h[b*H : (b+1)*H]
			switch l.Kind {
			case cells.LSTMKind:
				for j := range r {
					r[j] += p[j]
				}
				i, f, g, o := r[:H], r[H:2*H], r[2*H:3*H], r[3*H:]
				vmath.Sigmoid32(i, i)
				vmath.Sigmoid32(f, f)
				vmath.Tanh32(g, g)
				vmath.Sigmoid32(o, o)
				cb := state[1][b*H : (b+1)*H]
				for j := range cb {
					cb[j] = f[j]*cb[j] + i[j]*g[j]
				}
				vmath.Tanh32(tmp, cb)
				for j := range hb {
					hb[j] = o[j] * tmp[j]
				}
			case cells.GRUKind:
				rz := r[:2*H]
				for j := range rz {
					rz[j] += p[j]
				}
				vmath.Sigmoid32(rz, rz)
				rg, z, n := r[:H], r[H:2*H], r[2*H:]
				for j := range n {
					n[j] = p[2*H+j] + rg[j]*n[j]
				}
				vmath.Tanh32(n, n)
				for j := range hb {
					hb[j] = (1-z[j])*n[j] + z[j]*hb[j]
				}
			case cells.RNNTanh:
				for j := range r {
					r[j] += p[j]
				}
				vmath.Tanh32(hb, r)
			case cells.RNNReLU:
				for j := range r {
					hb[j] = max(0, r[j]+p[j])
				}
			}
		}
		copy(out[t*B*H:(t+1)*B*H], h)
	}
	return out, nil
}

// quantizeMatrix quantizes w [n, k] per row into an Int8Matrix.
func quantizeMatrix(w []float32, n, k int) (*Int8Matrix, error) {
	q, err := qgemm.QuantizeWeights(w, n, k)
	if err != nil {
		return nil, err
	}
	return &Int8Matrix{W: q}, nil
}
