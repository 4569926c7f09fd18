package optim

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Momentum is stochastic gradient descent with momentum,
// torch.optim.SGD(params, lr, momentum=μ, nesterov=…) with dampening = 0.
// Each parameter keeps a buffer b, created at its first update:
//
//	b ← g                 at the parameter's first update
//	b ← μ·b + g           after
//	p ← p − lr·b          (nesterov = false)
//	p ← p − lr·(g + μ·b)  (nesterov = true)
//
// in PyTorch's order of operations, with μ and −lr rounded to the
// parameter's dtype: b·μ is rounded before g is added, and g + μ·b and
// p + (−lr)·d are fused multiply-adds (add_ with alpha). Its state: "momentum.lr", "momentum.momentum" (μ),
// "momentum.nesterov" (0 or 1) and, for each parameter updated at least
// once, "momentum.momentum_buffer.<param>" (b, the parameter's shape and
// dtype).
type Momentum struct {
	c        core
	mu       float64
	nesterov bool
}

// NewMomentum returns SGD with momentum: lr ≥ 0, μ ≥ 0 (finite; PyTorch's
// usual choice is 0.9), and nesterov only with μ > 0, as PyTorch requires.
// A value out of range is ErrConfig.
func NewMomentum(lr, momentum float64, nesterov bool) (*Momentum, error) {
	if err := checkLR(lr); err != nil {
		return nil, err
	}
	if !finite(momentum) || momentum < 0 {
		return nil, errors.Wrapf(ErrConfig, "momentum %v (want a finite value ≥ 0)", momentum)
	}
	if nesterov && momentum == 0 {
		return nil, errors.Wrap(ErrConfig, "Nesterov momentum requires a momentum > 0")
	}
	return &Momentum{
		c:  newCore("momentum", lr, false, []string{"momentum_buffer"}, []bool{false}),
		mu: momentum, nesterov: nesterov,
	}, nil
}

// Step implements [Optimizer] with the update in the type's doc.
func (o *Momentum) Step(ps *graph.Params, g Grads) error {
	return o.c.step(ps, g, func(j job, st *pstate, first bool) {
		if j.p.Dtype() == tensor.Float64 {
			momentumUpdate(floats[float64](j.p), floats[float64](j.g), floats[float64](st.bufs[0]),
				first, o.c.lr, o.mu, o.nesterov)
		} else {
			momentumUpdate(floats[float32](j.p), floats[float32](j.g), floats[float32](st.bufs[0]),
				first, o.c.lr, o.mu, o.nesterov)
		}
	})
}

func momentumUpdate[T float](p, g, b []T, first bool, lr, mu float64, nesterov bool) {
	m, a := T(mu), T(-lr)
	for i := range p {
		if first {
			b[i] = g[i] // torch.clone(d_p)
		} else {
			b[i] = T(b[i]*m) + g[i] // buf.mul_(momentum).add_(d_p, alpha=1)
		}
		d := b[i]
		if nesterov {
			d = fma(m, b[i], g[i]) // d_p.add(buf, alpha=momentum)
		}
		p[i] = fma(a, d, p[i]) // param.add_(d_p, alpha=-lr)
	}
}

func (o *Momentum) hypers() []hyper {
	n := 0.0
	if o.nesterov {
		n = 1
	}
	return []hyper{{"momentum", o.mu}, {"nesterov", n}}
}

// LR implements [Optimizer].
func (o *Momentum) LR() float64 { return o.c.lr }

// SetLR implements [Optimizer].
func (o *Momentum) SetLR(lr float64) { o.c.lr = lr }

// State implements [Optimizer] with the names in the type's doc.
func (o *Momentum) State() map[string]*tensor.Dense { return o.c.save(o.hypers()) }

// LoadState implements [Optimizer]; μ and nesterov must be this optimiser's.
func (o *Momentum) LoadState(s map[string]*tensor.Dense) error { return o.c.load(s, o.hypers()) }
