//go:build !unix

package transformer

// cpuSeconds returns -1 where the process's CPU time cannot be read.
func cpuSeconds() float64 { return -1 }
