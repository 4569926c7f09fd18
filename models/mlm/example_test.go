package mlm_test

import (
	"fmt"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/mlm"
)

// BERT's masking of a sequence of twenty ordinary words (ids 5 and up;
// id 4 is [MASK]): three positions selected, each replaced by [MASK], by
// a random word, or kept.
func ExampleMasker() {
	k := mlm.Masker{Masking: mlm.BERT(), MaskID: 4, Words: 5, Vocab: 100}
	seq := make([]int, 20)
	for i := range seq {
		seq[i] = 10 + i
	}
	m := k.Apply(seq, graph.NewSource(1))
	for _, t := range m.Positions() {
		fmt.Printf("position %d: %d → %d\n", t, seq[t], m.Inputs[t])
	}
	fmt.Println(k.Count(len(seq)), "selected")
	// Output:
	// position 0: 10 → 4
	// position 14: 24 → 4
	// position 18: 28 → 4
	// 3 selected
}
