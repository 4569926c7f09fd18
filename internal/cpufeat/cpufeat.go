// Package cpufeat reports the CPU features rnnkit's assembly kernels need
// (internal/gemm, internal/vmath), detected once at start-up with CPUID and
// XGETBV, so that a binary built for baseline amd64 uses the fast kernels
// where the CPU and the operating system support them.
package cpufeat
