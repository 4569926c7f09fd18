package decode_test

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
)

// batch is a state that holds nothing but its number of rows: the bigram
// model below needs no memory beyond the token it is fed.
type batch int

func (b batch) Rows() int { return int(b) }

func (b batch) Select(rows []int) (decode.State, error) { return batch(len(rows)), nil }

// bigram gives the probability of the next token after each token.
type bigram [][]float64

func (m bigram) Vocab() int { return len(m) }

func (m bigram) Step(s decode.State, tokens []int) ([][]float64, decode.State, error) {
	logits := make([][]float64, len(tokens))
	for i, tok := range tokens {
		logits[i] = make([]float64, len(m))
		for j, p := range m[tok] {
			logits[i][j] = math.Log(p) // log 0 = −Inf: never chosen
		}
	}
	return logits, s, nil
}

func Example() {
	const eos, bos = 0, 1
	names := []string{"</s>", "<s>", "a", "b"}
	m := bigram{
		{1, 0, 0, 0},         // after </s> (only fed to finished rows)
		{0, 0, 0.6, 0.4},     // after <s>: "a" is likelier than "b"…
		{0.3, 0, 0.36, 0.34}, // …but "a" leads nowhere in particular,
		{0.9, 0, 0.05, 0.05}, // while "b" almost surely ends the sentence
	}
	opt := decode.Options{BOS: bos, EOS: eos, MaxLen: 4}
	words := func(tokens []int) (out []string) {
		for _, t := range tokens {
			out = append(out, names[t])
		}
		return out
	}

	greedy, err := decode.Greedy(m, batch(1), opt)
	if err != nil {
		panic(err)
	}
	fmt.Println("greedy:", words(greedy[0]))

	hyps, err := decode.Beam(m, batch(1), opt, decode.BeamOptions{Width: 3, NBest: 3})
	if err != nil {
		panic(err)
	}
	for _, h := range hyps[0] {
		fmt.Printf("beam:   %v  p = %.4f\n", words(h.Tokens), math.Exp(h.LogProb))
	}

	samples, err := decode.Sample(m, batch(1), opt, decode.SampleOptions{Temperature: 1, TopK: 1, Source: graph.NewSource(1)})
	if err != nil {
		panic(err)
	}
	fmt.Println("top-1 sample:", words(samples[0]))
	// Output:
	// greedy: [a a a a]
	// beam:   [b]  p = 0.3600
	// beam:   [a b]  p = 0.1836
	// beam:   [a]  p = 0.1800
	// top-1 sample: [a a a a]
}
