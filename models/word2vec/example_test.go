package word2vec_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/rnnkit/rnnkit/models/word2vec"
)

// Train skip-gram vectors on a small corpus with one thread (so the run is
// reproducible), write them in the C tool's binary format and read them
// back.
func Example() {
	var corpus strings.Builder
	for i := range 300 {
		fmt.Fprintf(&corpus, "the cat sat on the mat %d\nthe dog sat on the rug\n", i%3)
	}
	c, err := word2vec.ReadCorpus(strings.NewReader(corpus.String()), 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := word2vec.DefaultConfig()
	cfg.CBOW, cfg.Size, cfg.Seed = false, 20, 7
	m, sum, err := word2vec.Train(context.Background(), c, cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("vocabulary:", c.Vocab.Words)
	fmt.Println("words trained:", sum.Words) // 5 passes of 4,500 words ("</s>" included)
	var b bytes.Buffer
	if err := m.Vectors().Write(&b, word2vec.Binary); err != nil {
		fmt.Println(err)
		return
	}
	v, format, err := word2vec.ReadVectors(&b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(format, v.Len(), "vectors of size", v.Dim)
	// Output:
	// vocabulary: [</s> the sat on cat mat dog rug 0 1 2]
	// words trained: 22500
	// binary 11 vectors of size 20
}

// Evaluate vectors on word analogies as word2vec's compute-accuracy does.
func ExampleAnalogy() {
	v, err := word2vec.NewVectors([]string{"man", "woman", "king", "queen", "prince"}, 3,
		[]float32{1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0.9})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := word2vec.Analogy(v, strings.NewReader(": family\nman woman king queen\nman woman king princess\n"), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("accuracy %.2f, %d of %d questions seen\n", res.Accuracy, res.Seen, res.Total)
	// Output:
	// accuracy 1.00, 1 of 2 questions seen
}
