// Command peak measures this machine's floating-point peak: the float32 and
// float64 multiply-adds per second that register-only FMA loops reach, with AVX2
// (256-bit) and, where the CPU has it, AVX-512 (512-bit) instructions, on
// one core and on all of them. Each loop keeps 12 (AVX2) or 16 (AVX-512)
// independent accumulators in registers and touches no memory, so it runs
// at the FMA units' throughput; one FMA counts as two floating-point
// operations per lane.
//
//	go run ./benchmarks/peak [-runs 5] [-seconds 0.5]
//
// It prints one line per probe, the median GFLOP/s of the runs with their
// minimum and maximum, and the GEMM paths' share of it is stated in
// docs/performance.md. On a machine shared with other work the all-core
// figure is what the other load leaves over.
package main
