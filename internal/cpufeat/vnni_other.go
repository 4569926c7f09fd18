//go:build !amd64 || purego

package cpufeat

// AVX512VNNI is false off amd64 and with the purego build tag.
const AVX512VNNI = false
