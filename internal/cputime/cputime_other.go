//go:build !unix

package cputime

// Seconds returns −1: the process's CPU time cannot be read here.
func Seconds() float64 { return -1 }
