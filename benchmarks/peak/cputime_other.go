//go:build !unix

package main

// cpuSeconds cannot read the CPU time on this system.
func cpuSeconds() float64 { return -1 }
