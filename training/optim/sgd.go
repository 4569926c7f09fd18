package optim

import (
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// SGD is plain stochastic gradient descent, torch.optim.SGD(params, lr)
// with momentum = 0:
//
//	p ← p − lr·g
//
// computed as PyTorch's param.add_(g, alpha=−lr) does: p + (−lr)·g as one
// fused multiply-add, with −lr rounded to the parameter's dtype. Its state is the learning rate alone: "sgd.lr".
type SGD struct{ c core }

// NewSGD returns plain SGD with learning rate lr ≥ 0 (PyTorch has no
// default). A negative or non-finite lr is ErrConfig.
func NewSGD(lr float64) (*SGD, error) {
	if err := checkLR(lr); err != nil {
		return nil, err
	}
	return &SGD{c: newCore("sgd", lr, false, nil, nil)}, nil
}

// Step implements [Optimizer]: p ← p − lr·g for each parameter with a gradient.
func (o *SGD) Step(ps *graph.Params, g Grads) error {
	return o.c.step(ps, g, func(j job, _ *pstate, _ bool) {
		if j.p.Dtype() == tensor.Float64 {
			sgdUpdate(floats[float64](j.p), floats[float64](j.g), o.c.lr)
		} else {
			sgdUpdate(floats[float32](j.p), floats[float32](j.g), o.c.lr)
		}
	})
}

func sgdUpdate[T float](p, g []T, lr float64) {
	a := T(-lr)
	for i := range p {
		p[i] = fma(a, g[i], p[i])
	}
}

// LR implements [Optimizer].
func (o *SGD) LR() float64 { return o.c.lr }

// SetLR implements [Optimizer].
func (o *SGD) SetLR(lr float64) { o.c.lr = lr }

// State implements [Optimizer]: {"sgd.lr"}.
func (o *SGD) State() map[string]*tensor.Dense { return o.c.save(nil) }

// LoadState implements [Optimizer].
func (o *SGD) LoadState(s map[string]*tensor.Dense) error { return o.c.load(s, nil) }
