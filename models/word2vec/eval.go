package word2vec

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// AnalogySection is one section of an analogy file (": name" and its
// questions).
type AnalogySection struct {
	Name     string  `json:"-"`
	Semantic bool    `json:"semantic"` // one of the first five sections
	Correct  int     `json:"correct"`
	Seen     int     `json:"seen"`     // questions whose four words have vectors
	Total    int     `json:"total"`    // questions in the section
	Accuracy float64 `json:"accuracy"` // Correct / Seen (0 when none seen)
}

// AnalogyResult is the outcome of [Analogy]. Accuracies are fractions of
// the questions seen.
type AnalogyResult struct {
	Accuracy                        float64 // Correct / Seen
	Semantic, Syntactic             float64 // the same over the semantic and the syntactic sections
	Correct, Seen, Total            int
	SemanticCorrect, SemanticSeen   int
	SyntacticCorrect, SyntacticSeen int
	Sections                        []AnalogySection // in the file's order
	Restrict                        int              // the words searched: the first Restrict of the file
}

// Analogy answers the word-analogy questions ("a b c d": a is to b as c is
// to d) of r with the vectors, with the semantics of word2vec's
// compute-accuracy: only the first restrict words are used (0: all);
// words are compared in ASCII upper case; every vector is scaled to unit
// length; the answer is the word w, other than a, b and c, of largest
// w·(b − a + c) (the first such word, and none unless that is above 0); a
// question with a word outside the restricted vocabulary is skipped and
// counted (Total against Seen). The first five sections are semantic, the
// others syntactic (compute-accuracy's rule; in questions-words.txt they
// are the capitals, currencies, cities and family sections). Unlike
// compute-accuracy, which reads the file as a stream of words, a line that
// is neither ": section" nor four words is an error.
func Analogy(v *Vectors, r io.Reader, restrict int) (*AnalogyResult, error) {
	if restrict < 0 {
		return nil, errors.Wrapf(ErrEval, "analogy: restrict %d", restrict)
	}
	n := v.Len()
	if restrict > 0 && restrict < n {
		n = restrict
	}
	upper := make(map[string]int32, n)
	for i, w := range v.Words[:n] {
		u := asciiUpper(w)
		if _, ok := upper[u]; !ok {
			upper[u] = int32(i)
		}
	}
	type question struct {
		section int
		w       [4]int32 // −1: unknown
	}
	res := &AnalogyResult{Restrict: n}
	var qs []question
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
			continue
		case f[0] == ":" || strings.HasPrefix(f[0], ":"):
			name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), ":"))
			res.Sections = append(res.Sections, AnalogySection{Name: name, Semantic: len(res.Sections) < 5})
			continue
		case len(f) != 4:
			return nil, errors.Wrapf(ErrEval, "analogy: line %d: %d words, want 4 or \": section\"", line, len(f))
		}
		if len(res.Sections) == 0 {
			res.Sections = append(res.Sections, AnalogySection{Semantic: true})
		}
		q := question{section: len(res.Sections) - 1}
		for j, w := range f {
			q.w[j] = -1
			if i, ok := upper[asciiUpper(w)]; ok {
				q.w[j] = i
			}
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrap(err, "analogy: questions")
	}
	dim := v.Dim
	unit := unitRows(v.Data[:n*dim], dim)
	var seen []question
	for _, q := range qs {
		res.Sections[q.section].Total++
		if q.w[0] >= 0 && q.w[1] >= 0 && q.w[2] >= 0 && q.w[3] >= 0 {
			seen = append(seen, q)
		}
	}
	// Score the questions in batches: queries [b, dim] × unitᵀ [dim, n].
	const batch = 128
	query := make([]float32, batch*dim)
	scores := make([]float32, batch*n)
	for s := 0; s < len(seen); s += batch {
		qb := seen[s:min(s+batch, len(seen))]
		for i, q := range qb {
			a, b, c := unit[int(q.w[0])*dim:][:dim], unit[int(q.w[1])*dim:][:dim], unit[int(q.w[2])*dim:][:dim]
			out := query[i*dim : (i+1)*dim]
			for j := range out {
				out[j] = (b[j] - a[j]) + c[j]
			}
		}
		blas.Gemm(false, true, len(qb), n, dim, 1, query, dim, unit, dim, 0, scores, n)
		for i, q := range qb {
			row := scores[i*n : (i+1)*n]
			best, bestD := int32(-1), float32(0)
			for c, d := range row {
				if d > bestD && int32(c) != q.w[0] && int32(c) != q.w[1] && int32(c) != q.w[2] {
					best, bestD = int32(c), d
				}
			}
			sec := &res.Sections[q.section]
			sec.Seen++
			if best == q.w[3] || best >= 0 && asciiUpper(v.Words[best]) == asciiUpper(v.Words[q.w[3]]) {
				sec.Correct++
			}
		}
	}
	for i := range res.Sections {
		sec := &res.Sections[i]
		sec.Accuracy = frac(sec.Correct, sec.Seen)
		res.Correct += sec.Correct
		res.Seen += sec.Seen
		res.Total += sec.Total
		if sec.Semantic {
			res.SemanticCorrect += sec.Correct
			res.SemanticSeen += sec.Seen
		} else {
			res.SyntacticCorrect += sec.Correct
			res.SyntacticSeen += sec.Seen
		}
	}
	res.Accuracy = frac(res.Correct, res.Seen)
	res.Semantic = frac(res.SemanticCorrect, res.SemanticSeen)
	res.Syntactic = frac(res.SyntacticCorrect, res.SyntacticSeen)
	return res, nil
}

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// asciiUpper upper-cases the ASCII letters of w (C's toupper in the "C"
// locale), leaving other bytes as they are.
func asciiUpper(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' {
			b := []byte(w)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return w
}

// unitRows returns a copy of the rows of data (dim columns) scaled to unit
// length; a zero row stays zero.
func unitRows(data []float32, dim int) []float32 {
	out := make([]float32, len(data))
	for o := 0; o+dim <= len(data); o += dim {
		row := data[o : o+dim]
		var s float64
		for _, x := range row {
			s += float64(x) * float64(x)
		}
		if s == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(s))
		for j, x := range row {
			out[o+j] = x * inv
		}
	}
	return out
}

// SimilarityResult is the outcome of [Similarity].
type SimilarityResult struct {
	Spearman float64 `json:"spearman"` // Spearman's ρ between the scores and the cosines
	Pearson  float64 `json:"pearson"`  // Pearson's r between the same
	Pairs    int     `json:"pairs"`    // pairs in the file
	Used     int     `json:"used"`     // pairs whose two words have vectors
	Skipped  int     `json:"skipped"`  // pairs with a word without a vector
}

// Similarity compares human similarity scores of word pairs (SimLex-999,
// WordSim-353: lines "word1 word2 score", tab- or space-separated; blank
// lines and lines starting with "#" are skipped) with the cosine
// similarity of the words' vectors, as Spearman's rank correlation (ties
// get their mean rank, as scipy's spearmanr) and Pearson's. Words are
// looked up as they are, else in lower case ([Vectors.IndexFold]); a pair
// with a word that has no vector is skipped and counted. A malformed line
// and fewer than two usable pairs are errors (wrapping [ErrEval]).
func Similarity(v *Vectors, r io.Reader) (*SimilarityResult, error) {
	res := &SimilarityResult{}
	var human, model []float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var f []string
		if strings.Contains(text, "\t") {
			f = strings.Split(text, "\t")
		} else {
			f = strings.Fields(text)
		}
		if len(f) < 3 {
			return nil, errors.Wrapf(ErrEval, "similarity: line %d: %d fields, want \"word1 word2 score\"", line, len(f))
		}
		score, err := strconv.ParseFloat(strings.TrimSpace(f[2]), 64)
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return nil, errors.Wrapf(ErrEval, "similarity: line %d: score %q is not a number", line, f[2])
		}
		res.Pairs++
		a, ok1 := v.IndexFold(strings.TrimSpace(f[0]))
		b, ok2 := v.IndexFold(strings.TrimSpace(f[1]))
		if !ok1 || !ok2 {
			res.Skipped++
			continue
		}
		human = append(human, score)
		model = append(model, cosine(v.Row(a), v.Row(b)))
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrap(err, "similarity: pairs")
	}
	res.Used = len(human)
	if res.Used < 2 {
		return res, errors.Wrapf(ErrEval, "similarity: %d of %d pairs have vectors for both words, want at least 2", res.Used, res.Pairs)
	}
	res.Pearson = pearson(human, model)
	res.Spearman = pearson(ranks(human), ranks(model))
	if math.IsNaN(res.Spearman) {
		return res, errors.Wrapf(ErrEval, "similarity: the scores or the cosines of the %d pairs are all equal", res.Used)
	}
	return res, nil
}

// cosine returns the cosine similarity of a and b (0 if either is zero).
func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i, x := range a {
		y := float64(b[i])
		ab += float64(x) * y
		aa += float64(x) * float64(x)
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// ranks returns the 1-based ranks of x, ties given their mean rank.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}

// pearson returns Pearson's correlation of x and y (NaN if either is
// constant).
func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Neighbor is a word and its cosine similarity to a query.
type Neighbor struct {
	Word       string  `json:"word"`
	Similarity float64 `json:"similarity"`
}

// Neighbors returns the k words most similar to word by cosine similarity,
// most similar first, the word itself left out. The word is looked up as
// it is, else in lower case; a word without a vector is an error wrapping
// [ErrUnknownWord].
func (v *Vectors) Neighbors(word string, k int) ([]Neighbor, error) {
	q, ok := v.IndexFold(word)
	if !ok {
		return nil, errors.Wrapf(ErrUnknownWord, "%q", word)
	}
	if k < 1 {
		return nil, errors.Errorf("word2vec: Neighbors: k = %d", k)
	}
	unit := unitRows(v.Data, v.Dim)
	qv := unit[q*v.Dim : (q+1)*v.Dim]
	var out []Neighbor
	for i := range v.Len() {
		if i == q {
			continue
		}
		s := float64(vmath.Dot32(qv, unit[i*v.Dim:(i+1)*v.Dim]))
		if len(out) == k && s <= out[k-1].Similarity {
			continue
		}
		j := sort.Search(len(out), func(j int) bool { return out[j].Similarity < s })
		if len(out) < k {
			out = append(out, Neighbor{})
		}
		copy(out[j+1:], out[j:])
		out[j] = Neighbor{Word: v.Words[i], Similarity: s}
	}
	return out, nil
}
