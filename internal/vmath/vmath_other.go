//go:build !amd64 || purego

package vmath

// canRun says which paths this build can run: only the portable code on
// this architecture (or with the purego build tag).
var canRun = [len(pathNames)]bool{true, false, false}

// sigmoidAsm, tanhAsm and expAsm stand in for the assembly drivers of
// vmath_amd64.go; they process no elements.
func sigmoidAsm(dst, src []float32) int { return 0 }

func tanhAsm(dst, src []float32) int { return 0 }

func expAsm(dst, src []float32) int { return 0 }

func lstmBackAsm(p *[13]*float32, n int) int { return 0 }

func gruBackAsm(p *[8]*float32, n int) int { return 0 }

func peepholeBackAsm(p *[10]*float32, n int) int { return 0 }

func adagradAsm(p, g, s []float32, wd, lr, eps float32) int { return 0 }

func nonFinite32Asm(xs []float32) bool { return true }

func max512(x []float32) float32 { return maxGo(x) }

func expShiftSum512(dst, src []float32, m float32) float64 {
	for j, v := range src {
		dst[j] = v - m
	}
	Exp32(dst, dst)
	return sum64(dst)
}

// gruPreAVX2, gruMidAVX2 and gruOutAVX2 are never called here (useAsm is
// false); they keep GRUForward32 portable.
func gruPreAVX2(gates, bias, gh, bhh, hn *float32, m, n int) { panic("vmath: no assembly") }

func gruMidAVX2(gates, hn *float32, m, n int) { panic("vmath: no assembly") }

func gruOutAVX2(gates, hp, h *float32, m, n int) { panic("vmath: no assembly") }

// peepPreAVX2, peepMidAVX2 and peepOutAVX2 are never called here either.
func peepPreAVX2(gates, bias, cp, pi, pf *float32, m, n int) { panic("vmath: no assembly") }

func peepMidAVX2(gates, cp, po, c *float32, m, n int) { panic("vmath: no assembly") }

func peepOutAVX2(gates, tc, h *float32, m, n int) { panic("vmath: no assembly") }
