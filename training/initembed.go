package training

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
	"github.com/rnnkit/rnnkit/models/word2vec"
)

// InitEmbedding starts the model's word embedding (its embedding.weight,
// [V, E]) from pre-trained word vectors: the file at path in word2vec's
// text or binary format, or safetensors (word2vec.ReadVectorsFile). Each
// vocabulary token found in the file, as it is or else case-folded, gets
// its vector; the other rows keep the values the model was initialised
// with. It returns how many of the vocabulary's rows were copied. The
// vectors must have E values each; a model without a vocabulary or an
// embedding, or vectors of another width, is an error and nothing is
// changed.
func (t *Trainer) InitEmbedding(path string) (copied, vocab int, err error) {
	v := t.Model.Describe().Vocab
	if v == nil {
		return 0, 0, errors.Errorf("training: -init-embedding: a %s model has no vocabulary", t.Model.Describe().Kind)
	}
	w, ok := t.Params.Get(embed.DefaultName)
	if !ok {
		return 0, 0, errors.Errorf("training: -init-embedding: a %s model has no %s", t.Model.Describe().Kind, embed.DefaultName)
	}
	shape := w.Shape()
	if len(shape) != 2 || shape[0] != v.Len() {
		return 0, 0, errors.Errorf("training: -init-embedding: %s is %v, want [%d, E]", embed.DefaultName, shape, v.Len())
	}
	vecs, _, err := word2vec.ReadVectorsFile(path)
	if err != nil {
		return 0, 0, errors.Wrapf(err, "training: -init-embedding %s", path)
	}
	E := shape[1]
	if vecs.Dim != E {
		return 0, 0, errors.Errorf("training: -init-embedding %s: vectors of %d values, the model's embedding has %d (set -embed %d)", path, vecs.Dim, E, vecs.Dim)
	}
	data, err := graph.Float64s(w)
	if err != nil {
		return 0, 0, err
	}
	for id, tok := range v.Tokens() {
		i, ok := vecs.Index(tok)
		if !ok {
			i, ok = vecs.IndexFold(tok)
		}
		if !ok {
			continue
		}
		for j, x := range vecs.Row(i) {
			data[id*E+j] = float64(x)
		}
		copied++
	}
	if err := graph.SetFloat64s(w, data); err != nil {
		return 0, 0, err
	}
	return copied, v.Len(), nil
}
