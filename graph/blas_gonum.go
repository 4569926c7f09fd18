//go:build !openblas || !cgo

package graph

// BLAS names the BLAS implementation this build uses: gonum's pure-Go one
// by default, OpenBLAS with the build tag openblas (and cgo, and Debian's
// libopenblas-dev installed): go build -tags openblas ./...
const BLAS = "gonum"
