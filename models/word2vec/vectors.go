package word2vec

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// Vectors are word vectors: row i of Data (Dim values) is Words[i]'s
// vector. Words come in the file's order (the C tool's: by count, most
// frequent first, "</s>" first).
type Vectors struct {
	Words []string
	Dim   int
	Data  []float32
	index map[string]int
	lower map[string]int
}

// NewVectors returns the vectors of words, Dim values each, in data (which
// is kept, not copied). Words must be non-empty valid UTF-8 without spaces
// or newlines (they could not be written otherwise); a word repeated is
// found at its first row.
func NewVectors(words []string, dim int, data []float32) (*Vectors, error) {
	if dim < 1 {
		return nil, errors.Errorf("word2vec: vectors of size %d", dim)
	}
	if len(data) != len(words)*dim {
		return nil, errors.Errorf("word2vec: %d words of size %d need %d values, have %d", len(words), dim, len(words)*dim, len(data))
	}
	for i, w := range words {
		if err := checkWord(w); err != nil {
			return nil, errors.Wrapf(err, "word2vec: word %d", i)
		}
	}
	v := &Vectors{Words: words, Dim: dim, Data: data}
	v.buildIndex()
	return v, nil
}

// checkWord refuses a word that a vector file cannot hold.
func checkWord(w string) error {
	switch {
	case w == "":
		return errors.New("empty word")
	case !utf8.ValidString(w):
		return errors.Errorf("%q is not valid UTF-8", w)
	case strings.ContainsAny(w, " \t\n\r"):
		return errors.Errorf("%q contains a space or a line break", w)
	}
	return nil
}

func (v *Vectors) buildIndex() {
	v.index = make(map[string]int, len(v.Words))
	v.lower = make(map[string]int, len(v.Words))
	for i, w := range v.Words {
		if _, ok := v.index[w]; !ok {
			v.index[w] = i
		}
		if l := strings.ToLower(w); l != w {
			if _, ok := v.lower[l]; !ok {
				v.lower[l] = i
			}
		}
	}
}

// Vectors returns a copy of the model's word vectors (syn0) with its
// vocabulary.
func (m *Model) Vectors() *Vectors {
	v := &Vectors{Words: append([]string(nil), m.Vocab.Words...), Dim: m.Config.Size, Data: append([]float32(nil), m.Syn0...)}
	v.buildIndex()
	return v
}

// Len returns the number of words.
func (v *Vectors) Len() int { return len(v.Words) }

// Row returns word i's vector (not a copy).
func (v *Vectors) Row(i int) []float32 { return v.Data[i*v.Dim : (i+1)*v.Dim : (i+1)*v.Dim] }

// Index returns the row of word w (its first, if repeated).
func (v *Vectors) Index(w string) (int, bool) {
	i, ok := v.index[w]
	return i, ok
}

// IndexFold returns the row of w, or else of the first word whose lower
// case is w's lower case (the evaluations' lookup).
func (v *Vectors) IndexFold(w string) (int, bool) {
	if i, ok := v.index[w]; ok {
		return i, true
	}
	l := strings.ToLower(w)
	i, ok := v.index[l]
	if j, ok2 := v.lower[l]; ok2 && (!ok || j < i) {
		return j, true
	}
	return i, ok
}

// Format is a vector file format.
type Format int

const (
	// Text is the C tool's text format: a header "V D\n", then per word
	// "word v1 v2 … vD \n" with "%lf" (six decimals) values. The reader
	// takes any decimal or exponent notation, separators of spaces or tabs,
	// with or without the trailing space, and "\r\n" (gensim writes repr()
	// values with no trailing space).
	Text Format = iota
	// Binary is the C tool's binary format: the header "V D\n", then per
	// word "word " and D little-endian float32 values, and "\n". The reader
	// also takes rows without the "\n" (gensim's).
	Binary
	// Safetensors is a safetensors file with one F32 tensor
	// "embedding.weight" [V, D] (the name of rnnkit's embedding tables) and
	// the words, as a JSON array, in the metadata key "words".
	Safetensors
)

// String returns the format's name: text, binary or safetensors.
func (f Format) String() string {
	switch f {
	case Text:
		return "text"
	case Binary:
		return "binary"
	case Safetensors:
		return "safetensors"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format a path's extension suggests: Safetensors for
// ".safetensors", Binary for ".bin", Text otherwise.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		return Safetensors
	case ".bin":
		return Binary
	}
	return Text
}

// Write writes the vectors in format f. Every word must be one that
// [NewVectors] accepts, and Data must hold Len()·Dim values.
func (v *Vectors) Write(w io.Writer, f Format) error {
	if v.Dim < 1 || len(v.Data) != v.Len()*v.Dim {
		return errors.Errorf("word2vec: write vectors: %d values for %d words of size %d", len(v.Data), v.Len(), v.Dim)
	}
	for i, word := range v.Words {
		if err := checkWord(word); err != nil {
			return errors.Wrapf(err, "word2vec: write vectors: word %d", i)
		}
	}
	switch f {
	case Text, Binary:
		return v.writeC(w, f == Binary)
	case Safetensors:
		return v.writeSafetensors(w)
	}
	return errors.Errorf("word2vec: unknown vector format %v", f)
}

// writeC writes the C tool's text or binary format, byte for byte as
// word2vec.c writes it.
func (v *Vectors) writeC(w io.Writer, bin bool) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, "%d %d\n", v.Len(), v.Dim)
	var buf []byte
	for i, word := range v.Words {
		buf = append(buf[:0], word...)
		buf = append(buf, ' ')
		for _, x := range v.Row(i) {
			if bin {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			} else {
				buf = strconv.AppendFloat(buf, float64(x), 'f', 6, 64)
				buf = append(buf, ' ')
			}
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return errors.Wrap(err, "word2vec: write vectors")
		}
	}
	return errors.Wrap(bw.Flush(), "word2vec: write vectors")
}

// WriteFile writes the vectors to path in format f, through a temporary
// file renamed over path, so that a failure never leaves half a file.
func (v *Vectors) WriteFile(path string, f Format) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return errors.Wrap(err, "word2vec: write vectors")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := v.Write(tmp, f); err != nil {
		return errors.Wrapf(err, "%s", path)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return errors.Wrap(err, "word2vec: write vectors")
	}
	if err := tmp.Close(); err != nil {
		return errors.Wrap(err, "word2vec: write vectors")
	}
	return errors.Wrap(os.Rename(tmp.Name(), path), "word2vec: write vectors")
}
