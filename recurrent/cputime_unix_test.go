//go:build unix

package recurrent

import "syscall"

// cpuSeconds returns the user and system CPU time this process has used,
// in seconds, or a negative number where it cannot be read.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
