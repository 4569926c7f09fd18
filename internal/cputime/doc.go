// Package cputime reads the CPU time the process has used, for the
// benchmarks that report work per CPU-second beside wall-clock rates (on a
// shared machine the CPU time is the steadier of the two).
package cputime
