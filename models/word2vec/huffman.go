package word2vec

// Huffman is the binary Huffman tree over a vocabulary's counts that the
// hierarchical softmax walks, built as word2vec.c's CreateBinaryTree
// builds it (frequent words get short codes). Word w's path from the root
// has Len(w) inner nodes: Points(w)[d] is the row of the output matrix
// (syn1) of the d-th node, Codes(w)[d] ∈ {0, 1} the branch taken there;
// the word's probability is Π_d σ((1 − 2·code_d)·h·syn1[point_d]), and
// the C tool's training target for node d is 1 − code_d.
type Huffman struct {
	off    []int32 // word w's code is codes[off[w]:off[w+1]]
	codes  []uint8
	points []int32
}

// NewHuffman builds the tree over counts (at least two), as the C tool:
// the words are taken to be sorted by count, most frequent first (as a
// [Vocab] is, but for word 0), the two smallest of the words not yet merged
// (scanned from the end) and the inner nodes made so far are merged, the
// second smaller one getting code 1, and the inner node made last is the
// root, whose row is len(counts) − 2.
func NewHuffman(counts []int64) *Huffman {
	v := len(counts)
	count := make([]int64, 2*v)
	binary := make([]uint8, 2*v)
	parent := make([]int, 2*v)
	copy(count, counts)
	for a := v; a < 2*v; a++ {
		count[a] = 1e15
	}
	pos1, pos2 := v-1, v
	pick := func() int {
		if pos1 >= 0 && count[pos1] < count[pos2] {
			pos1--
			return pos1 + 1
		}
		pos2++
		return pos2 - 1
	}
	for a := 0; a < v-1; a++ {
		min1 := pick()
		min2 := pick()
		count[v+a] = count[min1] + count[min2]
		parent[min1], parent[min2] = v+a, v+a
		binary[min2] = 1
	}
	h := &Huffman{off: make([]int32, v+1)}
	var code []uint8
	var point []int
	for a := 0; a < v; a++ {
		code, point = code[:0], point[:0]
		for b := a; b != 2*v-2; b = parent[b] {
			code = append(code, binary[b])
			point = append(point, b)
		}
		n := len(code)
		// The C tool stores point[0] = root and point[n−b] = the b-th node
		// up from the word, minus v; the last (point[n]) is the word itself,
		// unused. The path from the root is therefore the reversed list.
		h.points = append(h.points, int32(v-2))
		for d := 1; d < n; d++ {
			h.points = append(h.points, int32(point[n-d]-v))
		}
		for d := 0; d < n; d++ {
			h.codes = append(h.codes, code[n-1-d])
		}
		h.off[a+1] = int32(len(h.codes))
	}
	return h
}

// Len returns the length of word w's code.
func (h *Huffman) Len(w int) int { return int(h.off[w+1] - h.off[w]) }

// Codes returns word w's branches from the root (do not modify).
func (h *Huffman) Codes(w int) []uint8 { return h.codes[h.off[w]:h.off[w+1]] }

// Points returns the output rows of word w's inner nodes from the root (do
// not modify).
func (h *Huffman) Points(w int) []int32 { return h.points[h.off[w]:h.off[w+1]] }
