package optim

import (
	"math"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Adam is torch.optim.Adam(params, lr, betas=(β₁, β₂), eps) with
// amsgrad = False and weight_decay = 0. Each parameter keeps a step count
// t and running means m (exp_avg) and v (exp_avg_sq), zero before its
// first update; an update is
//
//	t ← t + 1
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + (1−β₂)·g²
//	p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
//
// in PyTorch's order of operations: m ← fma(1−β₁, g, m·β₁) (add_ with
// alpha); v ← fma((1−β₂)·g, g, v·β₂) (addcmul_); denom = √v / √(1−β₂ᵗ) + eps;
// p ← p + ((−lr/(1−β₁ᵗ))·m) / denom (addcdiv_), where the bias corrections
// and the step size are computed in float64 (Python floats; βᵗ correctly
// rounded, as Python's ** is) and every scalar is rounded to the
// parameter's dtype before it meets a tensor. As in PyTorch, t
// counts the updates of each parameter, so a parameter skipped at some
// steps (no gradient) has its own, smaller t.
//
// Its state: "adam.lr", "adam.beta1", "adam.beta2", "adam.eps" and, for
// each parameter updated at least once, "adam.exp_avg.<param>" (m),
// "adam.exp_avg_sq.<param>" (v), both of the parameter's shape and dtype,
// and "adam.step.<param>" (t, a float64 of shape [1]; PyTorch keeps a
// per-parameter step too, as a float32 tensor).
type Adam struct {
	c                 core
	beta1, beta2, eps float64
}

// NewAdam returns Adam with lr ≥ 0, 0 ≤ β₁, β₂ < 1 and eps ≥ 0. PyTorch's
// defaults are NewAdam(1e-3, 0.9, 0.999, 1e-8). A value out of range is
// ErrConfig.
func NewAdam(lr, beta1, beta2, eps float64) (*Adam, error) {
	if err := checkLR(lr); err != nil {
		return nil, err
	}
	if err := checkUnit("beta1", beta1); err != nil {
		return nil, err
	}
	if err := checkUnit("beta2", beta2); err != nil {
		return nil, err
	}
	if err := checkEps(eps); err != nil {
		return nil, err
	}
	return &Adam{
		c:     newCore("adam", lr, true, []string{"exp_avg", "exp_avg_sq"}, []bool{false, true}),
		beta1: beta1, beta2: beta2, eps: eps,
	}, nil
}

// Step implements [Optimizer] with the update in the type's doc.
func (o *Adam) Step(ps *graph.Params, g Grads) error {
	return o.c.step(ps, g, func(j job, st *pstate, _ bool) {
		bc1 := 1 - powInt(o.beta1, st.step)
		bc2 := 1 - powInt(o.beta2, st.step)
		stepSize := o.c.lr / bc1
		bc2Sqrt := math.Sqrt(bc2)
		if j.p.Dtype() == tensor.Float64 {
			adamUpdate(floats[float64](j.p), floats[float64](j.g), floats[float64](st.bufs[0]),
				floats[float64](st.bufs[1]), o.beta1, o.beta2, o.eps, stepSize, bc2Sqrt)
		} else {
			adamUpdate(floats[float32](j.p), floats[float32](j.g), floats[float32](st.bufs[0]),
				floats[float32](st.bufs[1]), o.beta1, o.beta2, o.eps, stepSize, bc2Sqrt)
		}
	})
}

func adamUpdate[T float](p, g, m, v []T, beta1, beta2, eps, stepSize, bc2Sqrt float64) {
	b1, a1 := T(beta1), T(1-beta1)
	b2, a2 := T(beta2), T(1-beta2)
	s, d, e := T(-stepSize), T(bc2Sqrt), T(eps)
	for i := range p {
		m[i] = fma(a1, g[i], T(m[i]*b1))         // exp_avg.mul_(beta1).add_(grad, alpha=1-beta1)
		v[i] = fma(T(a2*g[i]), g[i], T(v[i]*b2)) // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
		den := T(sqrt(v[i])/d) + e               // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
		p[i] += T(T(s*m[i]) / den)               // param.addcdiv_(exp_avg, denom, value=-step_size)
	}
}

func (o *Adam) hypers() []hyper {
	return []hyper{{"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}}
}

// LR implements [Optimizer].
func (o *Adam) LR() float64 { return o.c.lr }

// SetLR implements [Optimizer].
func (o *Adam) SetLR(lr float64) { o.c.lr = lr }

// State implements [Optimizer] with the names in the type's doc.
func (o *Adam) State() map[string]*tensor.Dense { return o.c.save(o.hypers()) }

// LoadState implements [Optimizer]; β₁, β₂ and eps must be this optimiser's.
func (o *Adam) LoadState(s map[string]*tensor.Dense) error { return o.c.load(s, o.hypers()) }
