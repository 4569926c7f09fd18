package qgemm_test

import (
	"fmt"

	"github.com/rnnkit/rnnkit/internal/qgemm"
)

// A 2×3 activation matrix times the transpose of a 2×3 weight matrix: the
// int8 result is within the quantization steps of the float one (1.5, 0.2,
// 2.8, 0.8), and every path gives the same bits.
func ExampleGemm() {
	w, _ := qgemm.QuantizeWeights([]float32{1, 0.5, -0.2, 0.3, -0.1, 0.4}, 2, 3)
	var a qgemm.Activations
	_ = a.Quantize([]float32{1, 1, 0, 2, 2, 1}, 2, 3)
	y := make([]float32, 4)
	if err := qgemm.Gemm(y, &a, w, nil); err != nil {
		panic(err)
	}
	fmt.Printf("%.2f\n", y)
	// Output:
	// [1.50 0.20 2.81 0.80]
}
