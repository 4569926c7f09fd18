//go:build !unix

package vmath

// cpuSeconds cannot read the CPU time on this system.
func cpuSeconds() float64 { return -1 }
