//go:build !amd64 || purego

package vmath

import "os"

// useAsm reports whether assembly kernels are used. There are none on this
// architecture (or with the purego build tag), so it is always false
// (initialAsm reports a forcing EnvPath value it cannot honour).
var useAsm = initialAsm(os.Getenv(EnvPath), false)

// sigmoidAsm, tanhAsm and expAsm stand in for the assembly drivers of
// vmath_amd64.go; they process no elements.
func sigmoidAsm(dst, src []float32) int { return 0 }

func tanhAsm(dst, src []float32) int { return 0 }

func expAsm(dst, src []float32) int { return 0 }

func lstmBackAsm(s *[13][]float32) int { return 0 }

func adagradAsm(p, g, s []float32, wd, lr, eps float32) int { return 0 }

func nonFinite32Asm(xs []float32) bool { return true }
