package vmath

// Adagrad32 applies Adagrad's update (torch.optim.Adagrad with weight
// decay wd, learning rate lr and eps; lr_decay 0) to the longest prefix of
// p, g and s (parameter, gradient, sum of squared gradients; one length)
// whose length is a multiple of 8, with AVX2 and FMA, and returns that
// length; the caller updates the rest. Without the assembly it updates
// nothing and returns 0. Each element's update is, every operation rounded
// once to float32,
//
//	g' = fma(p, wd, g) (g when wd = 0);  s = fma(g', g', s);  p = p + (−lr·g') / (√s + eps)
//
// which is what PyTorch 1.13's AVX2 kernels compute. g is not changed.
func Adagrad32(p, g, s []float32, wd, lr, eps float32) int {
	if !useAsm {
		return 0
	}
	return adagradAsm(p, g, s, wd, lr, eps)
}

// Adagrad32Asm reports whether Adagrad32 updates anything here (the CPU
// has AVX2 and FMA): a caller that must reproduce another's split between
// Adagrad32 and its own code needs to know.
func Adagrad32Asm() bool { return useAsm }
