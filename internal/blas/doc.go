// Package blas is the matrix multiply of rnnkit's own ops and fused
// kernels: [Gemm] for one product and [PackedB] for a B operand packed once
// and multiplied many times (a recurrent weight, at every time step). The
// default build uses internal/gemm (pure Go with AVX2/FMA assembly, no
// cgo); the build tag openblas (with cgo and Debian's libopenblas-dev) uses
// OpenBLAS, and [Name] says which. [OwnThreads] reports whether the BLAS
// runs its products on threads of its own (OpenBLAS does), which
// internal/parallel takes into account.
package blas
