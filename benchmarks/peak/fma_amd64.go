//go:build amd64 && !purego

package main

import "github.com/rnnkit/rnnkit/internal/cpufeat"

// fmaAVX2 runs n iterations of 12 independent VFMADD231PS on YMM registers
// (acc = x*y + acc, 8 float32 lanes each), starting from zero accumulators,
// and returns lane 0 of the first accumulator: n·x·y where that is exact.
//
//go:noescape
func fmaAVX2(n int, x, y float32) float32

// fmaAVX512 runs n iterations of 16 independent VFMADD231PS on ZMM
// registers (16 float32 lanes each), as fmaAVX2 does.
//
//go:noescape
func fmaAVX512(n int, x, y float32) float32

// fmaAVX2f64 is fmaAVX2 with VFMADD231PD (4 float64 lanes).
//
//go:noescape
func fmaAVX2f64(n int, x, y float64) float64

// fmaAVX512f64 is fmaAVX512 with VFMADD231PD (8 float64 lanes).
//
//go:noescape
func fmaAVX512f64(n int, x, y float64) float64

// probes lists the loops this CPU can run.
func probes() []probe {
	var ps []probe
	if cpufeat.AVX2FMA {
		ps = append(ps, probe{name: "AVX2 f32", flopsPerIter: 12 * 8 * 2, loop: fmaAVX2},
			probe{name: "AVX2 f64", flopsPerIter: 12 * 4 * 2, loop: f64(fmaAVX2f64)})
	}
	if cpufeat.AVX512 {
		ps = append(ps, probe{name: "AVX-512 f32", flopsPerIter: 16 * 16 * 2, loop: fmaAVX512},
			probe{name: "AVX-512 f64", flopsPerIter: 16 * 8 * 2, loop: f64(fmaAVX512f64)})
	}
	return ps
}

// missing says which probes this CPU cannot run, and why.
func missing() []string {
	var m []string
	if !cpufeat.AVX2FMA {
		m = append(m, "AVX2: the CPU (or the OS) does not support AVX2 and FMA")
	}
	if !cpufeat.AVX512 {
		m = append(m, "AVX-512: the CPU (or the OS) does not support AVX-512 F, DQ, BW and VL")
	}
	return m
}

// f64 adapts a float64 loop to probe.loop.
func f64(loop func(n int, x, y float64) float64) func(n int, x, y float32) float32 {
	return func(n int, x, y float32) float32 { return float32(loop(n, float64(x), float64(y))) }
}
