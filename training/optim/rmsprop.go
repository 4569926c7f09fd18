package optim

import (
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// RMSProp is torch.optim.RMSprop(params, lr, alpha=α, eps) with
// centered = False, momentum = 0 and weight_decay = 0. Each parameter keeps
// a running mean of squares v (square_avg), zero before its first update:
//
//	v ← α·v + (1−α)·g²
//	p ← p − lr·g / (√v + eps)
//
// in PyTorch's order of operations, v ← fma((1−α)·g, g, v·α) (addcmul_) and
// p ← p + ((−lr)·g) / (√v + eps) (addcdiv_), with every scalar rounded to
// the parameter's dtype. Note that eps is added outside the square root (unlike Keras and
// Gorgonia's RMSPropSolver).
//
// Its state: "rmsprop.lr", "rmsprop.alpha", "rmsprop.eps" and, for each
// parameter updated at least once, "rmsprop.square_avg.<param>" (v, the
// parameter's shape and dtype) and "rmsprop.step.<param>" (its number of
// updates, a float64 of shape [1], which PyTorch keeps too but does not
// use).
type RMSProp struct {
	c          core
	alpha, eps float64
}

// NewRMSProp returns RMSprop with lr ≥ 0, 0 ≤ α < 1 and eps ≥ 0. PyTorch's
// defaults are NewRMSProp(1e-2, 0.99, 1e-8). A value out of range is
// ErrConfig (PyTorch refuses only α < 0; α ≥ 1 never forgets, or diverges).
func NewRMSProp(lr, alpha, eps float64) (*RMSProp, error) {
	if err := checkLR(lr); err != nil {
		return nil, err
	}
	if err := checkUnit("alpha", alpha); err != nil {
		return nil, err
	}
	if err := checkEps(eps); err != nil {
		return nil, err
	}
	return &RMSProp{
		c:     newCore("rmsprop", lr, true, []string{"square_avg"}, []bool{true}),
		alpha: alpha, eps: eps,
	}, nil
}

// Step implements [Optimizer] with the update in the type's doc.
func (o *RMSProp) Step(ps *graph.Params, g Grads) error {
	return o.c.step(ps, g, func(j job, st *pstate, _ bool) {
		if j.p.Dtype() == tensor.Float64 {
			rmspropUpdate(floats[float64](j.p), floats[float64](j.g), floats[float64](st.bufs[0]),
				o.c.lr, o.alpha, o.eps)
		} else {
			rmspropUpdate(floats[float32](j.p), floats[float32](j.g), floats[float32](st.bufs[0]),
				o.c.lr, o.alpha, o.eps)
		}
	})
}

func rmspropUpdate[T float](p, g, v []T, lr, alpha, eps float64) {
	a, a1, e, l := T(alpha), T(1-alpha), T(eps), T(-lr)
	for i := range p {
		v[i] = fma(T(a1*g[i]), g[i], T(v[i]*a)) // square_avg.mul_(alpha).addcmul_(grad, grad, value=1-alpha)
		avg := sqrt(v[i]) + e                   // square_avg.sqrt().add_(eps)
		p[i] += T(T(l*g[i]) / avg)              // param.addcdiv_(grad, avg, value=-lr)
	}
}

func (o *RMSProp) hypers() []hyper {
	return []hyper{{"alpha", o.alpha}, {"eps", o.eps}}
}

// LR implements [Optimizer].
func (o *RMSProp) LR() float64 { return o.c.lr }

// SetLR implements [Optimizer].
func (o *RMSProp) SetLR(lr float64) { o.c.lr = lr }

// State implements [Optimizer] with the names in the type's doc.
func (o *RMSProp) State() map[string]*tensor.Dense { return o.c.save(o.hypers()) }

// LoadState implements [Optimizer]; α and eps must be this optimiser's.
func (o *RMSProp) LoadState(s map[string]*tensor.Dense) error { return o.c.load(s, o.hypers()) }
