package metrics

import (
	"math"
	"slices"

	"github.com/pkg/errors"
)

// ExactMatch returns the fraction of predictions equal to their reference,
// token for token.
func ExactMatch(pred, ref [][]int) (float64, error) {
	if err := pairs(pred, ref); err != nil {
		return 0, err
	}
	n := 0
	for i := range pred {
		if equal(pred[i], ref[i]) {
			n++
		}
	}
	return float64(n) / float64(len(pred)), nil
}

// TokenAccuracy returns the fraction of reference positions whose token
// the prediction has at the same position (a missing position is wrong,
// extra predicted tokens are ignored).
func TokenAccuracy(pred, ref [][]int) (float64, error) {
	if err := pairs(pred, ref); err != nil {
		return 0, err
	}
	right, total := 0, 0
	for i := range ref {
		for j, t := range ref[i] {
			total++
			if j < len(pred[i]) && pred[i][j] == t {
				right++
			}
		}
	}
	if total == 0 {
		return 0, errors.New("metrics: references have no tokens")
	}
	return float64(right) / float64(total), nil
}

// Perplexity returns exp of a mean cross-entropy in nats.
func Perplexity(meanNats float64) float64 { return math.Exp(meanNats) }

// BitsPerToken returns a mean cross-entropy in nats as bits (per character
// for a character model).
func BitsPerToken(meanNats float64) float64 { return meanNats / math.Ln2 }

// BLEU returns corpus BLEU-4 in [0, 1]: the geometric mean of the modified
// n-gram precisions for n = 1…4, counts clipped by the reference and summed
// over the corpus, times the brevity penalty exp(1 − r/c) when the total
// candidate length c is below the reference length r. With smooth, each
// precision is (matches+1)/(total+1) for n > 1 (Lin & Och 2004), so short
// corpora do not score 0.
func BLEU(pred, ref [][]int, smooth bool) (float64, error) {
	if err := pairs(pred, ref); err != nil {
		return 0, err
	}
	const N = 4
	var match, total [N]float64
	c, r := 0, 0
	for i := range pred {
		c += len(pred[i])
		r += len(ref[i])
		for n := 1; n <= N; n++ {
			refCounts := ngrams(ref[i], n)
			for g, k := range ngrams(pred[i], n) {
				match[n-1] += math.Min(float64(k), float64(refCounts[g]))
				total[n-1] += float64(k)
			}
		}
	}
	if c == 0 {
		return 0, nil
	}
	logSum := 0.0
	for n := 0; n < N; n++ {
		m, t := match[n], total[n]
		if smooth && n > 0 {
			m, t = m+1, t+1
		}
		if m == 0 || t == 0 {
			return 0, nil
		}
		logSum += math.Log(m / t)
	}
	bp := 1.0
	if c < r {
		bp = math.Exp(1 - float64(r)/float64(c))
	}
	return bp * math.Exp(logSum/N), nil
}

func ngrams(s []int, n int) map[string]int {
	out := map[string]int{}
	for i := 0; i+n <= len(s); i++ {
		key := make([]byte, 0, 4*n)
		for _, t := range s[i : i+n] {
			key = append(key, byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
		}
		out[string(key)]++
	}
	return out
}

func pairs(pred, ref [][]int) error {
	if len(pred) != len(ref) {
		return errors.Errorf("metrics: %d predictions for %d references", len(pred), len(ref))
	}
	if len(pred) == 0 {
		return errors.New("metrics: no sequences")
	}
	return nil
}

func equal(a, b []int) bool { return slices.Equal(a, b) }
