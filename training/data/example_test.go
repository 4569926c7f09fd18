package data_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/rnnkit/rnnkit/training/data"
)

// Example generates the book's addition task, encodes it with a character
// vocabulary (source reversed, the book's trick) and pads one batch.
func Example() {
	// The same generator as graph.NewSource(3).
	src := rand.New(rand.NewPCG(3, 0x9e3779b97f4a7c15))
	pairs := data.Addition(3, src)
	v := data.NewCharVocab([]string{"0123456789+"}) // <pad> <s> </s> <unk> + 0 … 9
	enc, err := data.EncodePairs(pairs, v, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := data.PadBatch(enc, []int{0, 1, 2}, 7, 5) // the book's widths: 7 and 1 + 4
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, p := range pairs {
		fmt.Printf("%-7s = %-4s src %v  in %v  out %v\n", p.Question, p.Answer, b.Src[i], b.TgtIn[i], b.TgtOut[i])
	}
	fmt.Println(v.Len(), "tokens; source 0 reads back as", v.Decode(b.Src[0], ""))
	// Output:
	// 129+693 = 822  src [8 14 11 4 14 7 6]  in [1 13 7 7 0]  out [13 7 7 2 0]
	// 15+979  = 994  src [14 12 14 4 10 6 0]  in [1 14 14 9 0]  out [14 14 9 2 0]
	// 0+75    = 75   src [10 12 4 5 0 0 0]  in [1 12 10 0 0]  out [12 10 2 0 0]
	// 15 tokens; source 0 reads back as 396+921
}
