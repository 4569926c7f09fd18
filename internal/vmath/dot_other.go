//go:build !amd64 || purego

package vmath

// dotAsm, axpyAsm and crossAxpyAsm stand in for the assembly drivers of
// dot_amd64.go; useAsm is false here, so they are never called.
func dotAsm(x, y []float32) float32 { return dotGo(x, y[:len(x)]) }

func axpyAsm(a float32, x, y []float32) { axpyGo(a, x, y[:len(x)]) }

func crossAxpyAsm(a float32, x, y, ex, dy []float32) {
	n := len(x)
	crossAxpyGo(a, x, y[:n], ex[:n], dy[:n])
}

// prefetchAsm stands in for the assembly prefetch: nothing to do.
func prefetchAsm(x []float32) {}
