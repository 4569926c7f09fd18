//go:build !amd64 || purego

package main

// probes lists the loops this build can run: none off amd64.
func probes() []probe { return nil }

// missing says why no probe runs.
func missing() []string {
	return []string{"AVX2 and AVX-512: the probes are amd64 assembly (this build is not amd64, or uses the purego tag)"}
}
