// Package optim holds rnnkit's optimisers, learning-rate schedules and
// early stopping. An optimiser updates a [graph.Params] in place from
// gradients, and its whole state can be saved and restored bit for bit,
// so a training run resumed from a checkpoint ends with exactly the
// parameters of the run that never stopped. (Gorgonia's own solvers keep
// their state unexported, which is why rnnkit has its own.)
//
// # Optimisers
//
// [SGD], [Momentum], [Adam], [RMSProp] and [Adagrad] follow torch.optim's
// SGD, SGD with momentum (and Nesterov), Adam, RMSprop and Adagrad in
// PyTorch 1.13: the same equations, the same per-parameter state (created
// at a parameter's first update, with PyTorch's slot names) and, as far as
// it matters for the rounding, the same order of operations. With g the
// gradient, p the parameter:
//
//	SGD       p ← p − lr·g
//	Momentum  b ← g at the first update, then b ← μ·b + g;  p ← p − lr·b,  or p ← p − lr·(g + μ·b) (Nesterov)
//	Adam      t ← t+1;  m ← β₁·m + (1−β₁)·g;  v ← β₂·v + (1−β₂)·g²
//	          p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + eps)
//	RMSProp   v ← α·v + (1−α)·g²;  p ← p − lr·g/(√v + eps)
//	Adagrad   g ← g + wd·p;  s ← s + g²;  p ← p − lr·g/(√s + eps)
//
// PyTorch's defaults: NewAdam(1e-3, 0.9, 0.999, 1e-8),
// NewRMSProp(1e-2, 0.99, 1e-8), NewAdagrad(1e-2, 0, 1e-10); SGD has no
// default learning rate.
//
// Float64 parameters are updated in float64; float32 parameters keep their
// state in float32 and round every scalar to float32 before it meets a
// tensor, as PyTorch does. Where PyTorch's CPU kernel is a multiply-add
// (add_ with alpha, addcmul_) the update uses one fused multiply-add
// (math.FMA), as PyTorch's AVX2 kernels do; every other product is rounded
// explicitly, so Go never fuses on its own and the results are the same on
// every architecture. Adam's bias corrections use a correctly rounded βᵗ,
// as Python's ** is (Go's math.Pow is not). With that, the tests find the
// parameters after 5 steps bit-identical to PyTorch 1.13's on x86-64, in
// float64 and in float32; a PyTorch build without FMA differs in the last
// bits.
//
// # A training step
//
// Gorgonia adds each run's gradient to a parameter's dual value when the
// machine is compiled with gorgonia.BindDualValues; read the gradients
// with [GradsFrom], clip them if wanted, step, and zero them:
//
//	nodes := g.Learnables()
//	m, _ := graph.NewMachine(g, gorgonia.BindDualValues(nodes...))
//	opt, _ := optim.NewAdam(1e-3, 0.9, 0.999, 1e-8)
//	for each batch {
//		// set the inputs
//		m.Reset()
//		if err := graph.Run(m); err != nil { … }
//		grads, err := optim.GradsFrom(nodes)
//		if _, err := optim.ClipGlobalNorm(grads, 5); err != nil { … } // optional
//		if err := opt.Step(ps, grads); err != nil { … }
//		if err := optim.ZeroGrads(nodes); err != nil { … }
//	}
//
// # State
//
// [Optimizer.State] returns every piece of state as a named tensor:
// per-parameter tensors "<kind>.<slot>.<param name>" (for example
// "adam.exp_avg.weight_ih_l0") of the parameter's shape and dtype, and
// scalars — the learning rate, the other hyperparameters, per-parameter
// step counts "<kind>.step.<param name>" — as float64 tensors of shape
// [1]. [Optimizer.LoadState] validates such a map and restores it. The
// schedules keep their state in exported fields.
//
// # Schedules
//
// [StepLR] (lr = base·γ^⌊epoch/StepSize⌋) and [ReduceOnPlateau] compute a
// learning rate to pass to [Optimizer.SetLR]; [EarlyStopping] says when to
// stop. [ClipGlobalNorm] is torch.nn.utils.clip_grad_norm_.
//
// # Errors
//
// Nothing here panics on bad input. A non-finite gradient is
// [ErrNonFinite], and the Step that meets it changes nothing; a
// hyperparameter out of range is [ErrConfig]; a state map that does not fit
// is [ErrState].
package optim
