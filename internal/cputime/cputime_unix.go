//go:build unix

package cputime

import "syscall"

// Seconds returns the user and system CPU time this process has used, in
// seconds, or a negative number where it cannot be read.
func Seconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
