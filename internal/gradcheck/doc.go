// Package gradcheck compares the symbolic gradients Gorgonia computes with
// central finite differences, in float64.
package gradcheck
