//go:build !unix

package recurrent

// cpuSeconds cannot read the CPU time on this system.
func cpuSeconds() float64 { return -1 }
