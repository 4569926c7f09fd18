package optim

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/parallel"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// Adagrad is torch.optim.Adagrad(params, lr, weight_decay=wd, eps) with
// lr_decay = 0 and initial_accumulator_value = 0 (the defaults). Each
// parameter keeps a sum of squared gradients s, zero before its first
// update; an update is
//
//	g ← g + wd·p                  (only when wd ≠ 0)
//	s ← s + g²
//	p ← p − lr·g / (√s + eps)
//
// in PyTorch's order of operations (its single-tensor path, the default in
// 1.13): g ← fma(p, wd, g) (grad.add(param, alpha=wd)), s ← fma(g, g, s)
// (addcmul_ with value 1), std = √s + eps, p ← p + ((−lr)·g) / std
// (addcdiv_), every scalar rounded to the parameter's dtype. Weight decay
// is thus an L2 penalty ½·wd·‖p‖² added to the loss, whose gradient also
// enters the sum of squares.
//
// Its state: "adagrad.lr", "adagrad.weight_decay", "adagrad.eps" and, for
// each parameter updated at least once, "adagrad.sum.<param>" (s, the
// parameter's shape and dtype; PyTorch's name) and "adagrad.step.<param>"
// (its number of updates, a float64 of shape [1], which PyTorch keeps too
// and uses only for lr_decay).
type Adagrad struct {
	c       core
	wd, eps float64
}

// NewAdagrad returns Adagrad with lr ≥ 0, weight decay wd ≥ 0 and eps ≥ 0.
// PyTorch's defaults are NewAdagrad(1e-2, 0, 1e-10). A value out of range
// is ErrConfig.
func NewAdagrad(lr, wd, eps float64) (*Adagrad, error) {
	if err := checkLR(lr); err != nil {
		return nil, err
	}
	if !finite(wd) || wd < 0 {
		return nil, errors.Wrapf(ErrConfig, "weight decay %v (want a finite value ≥ 0)", wd)
	}
	if err := checkEps(eps); err != nil {
		return nil, err
	}
	return &Adagrad{
		c:  newCore("adagrad", lr, true, []string{"sum"}, []bool{true}),
		wd: wd, eps: eps,
	}, nil
}

// Step implements [Optimizer] with the update in the type's doc. A large
// parameter (an embedding table: with weight decay every element changes
// at every step) is updated by all cores, each a range of its elements;
// the result is the same bit for bit. Float32 parameters go through
// internal/vmath's AVX2 kernel where the CPU has AVX2 and FMA: its
// multiply-adds are rounded once to float32, as PyTorch's AVX2 kernels
// round them, where the portable code rounds the float64 fused result to
// float32 (the two differ only when that double rounding meets a tie).
func (o *Adagrad) Step(ps *graph.Params, g Grads) error {
	return o.c.step(ps, g, func(j job, st *pstate, _ bool) {
		if j.p.Dtype() == tensor.Float64 {
			p, g, s := floats[float64](j.p), floats[float64](j.g), floats[float64](st.bufs[0])
			parallel.For(len(p), 16, func(lo, hi int) { adagradUpdate(p[lo:hi], g[lo:hi], s[lo:hi], o.c.lr, o.wd, o.eps) })
		} else {
			p, g, s := floats[float32](j.p), floats[float32](j.g), floats[float32](st.bufs[0])
			parallel.For(len(p), 16, func(lo, hi int) {
				k := lo + vmath.Adagrad32(p[lo:hi], g[lo:hi], s[lo:hi], float32(o.wd), float32(o.c.lr), float32(o.eps))
				adagradUpdate(p[k:hi], g[k:hi], s[k:hi], o.c.lr, o.wd, o.eps)
			})
		}
	})
}

// adagradUpdate applies one update; the gradient g is not changed (the
// decayed gradient is a temporary, as PyTorch's grad.add is).
func adagradUpdate[T float](p, g, s []T, lr, wd, eps float64) {
	w, e, l := T(wd), T(eps), T(-lr)
	for i := range p {
		gi := g[i]
		if wd != 0 {
			gi = fma(p[i], w, gi) // grad.add(param, alpha=weight_decay)
		}
		s[i] = fma(gi, gi, s[i]) // state_sum.addcmul_(grad, grad, value=1)
		std := sqrt(s[i]) + e    // state_sum.sqrt().add_(eps)
		p[i] += T(T(l*gi) / std) // param.addcdiv_(grad, std, value=-clr)
	}
}

func (o *Adagrad) hypers() []hyper {
	return []hyper{{"weight_decay", o.wd}, {"eps", o.eps}}
}

// LR implements [Optimizer].
func (o *Adagrad) LR() float64 { return o.c.lr }

// SetLR implements [Optimizer].
func (o *Adagrad) SetLR(lr float64) { o.c.lr = lr }

// State implements [Optimizer] with the names in the type's doc.
func (o *Adagrad) State() map[string]*tensor.Dense { return o.c.save(o.hypers()) }

// LoadState implements [Optimizer]; the weight decay and eps must be this
// optimiser's.
func (o *Adagrad) LoadState(s map[string]*tensor.Dense) error { return o.c.load(s, o.hypers()) }
