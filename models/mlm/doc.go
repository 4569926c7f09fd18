// Package mlm is a masked language model (Devlin et al. 2019, BERT's
// pre-training objective): an encoder-only Transformer that predicts
// hidden words from both sides.
//
// # The model
//
// For B sequences of T token ids (batch-major, position t of sequence b
// at row b·T + t, as in package transformer):
//
//	x      = embedding.weight[ids]·√E + PE[t]        (dropout after)
//	h      = encoder.layers.{0…L−1}(x)                (key padding masked)
//	h      = encoder.norm(h)                          (pre-norm layers only)
//	logits = h[selected]·Wᵀ + fc.bias                 W = fc.weight, or
//	                                                  embedding.weight (Tied)
//
// The encoder layers are those of package transformer (post- or pre-norm,
// ReLU or GELU, fused attention and LayerNorm or the op-by-op
// definition). A post-norm stack already ends in a LayerNorm, so only a
// pre-norm stack gets the final encoder.norm (PyTorch's
// TransformerEncoder(norm=…) as one would write it). The output head runs
// only on the P selected rows, gathered from h: the logits are [P, V], not
// [B·T, V], which is what makes the vocabulary-sized product affordable
// (BERT's gather of masked_lm_positions). The parameter names are those of
// a PyTorch module with fields embedding (nn.Embedding), encoder
// (nn.TransformerEncoder) and fc (nn.Linear).
//
// # The loss
//
// The mean cross-entropy (graph.CrossEntropy, a fused softmax
// cross-entropy) of the original token at the selected positions only:
// an unselected position's label does not enter the loss or any gradient.
// Padding (positions at or beyond a sequence's length) is masked as keys,
// so a padded batch computes what each sequence alone computes.
//
// # The masking
//
// [Masker] applies BERT's recipe (create_pretraining_data.py): of a
// sequence's n candidates (ordinary words: not padding, not a special
// token, not the unknown word), k = max(1, round(Rate·n)) positions (at
// most n) are drawn uniformly without replacement; each selected token becomes [MASK] with probability
// Mask (0.8), a word drawn uniformly from the vocabulary's ordinary words
// with probability Random (0.1), and stays as it is otherwise (0.1). The
// model sees the corrupted sequence and is scored on the selected
// originals. All draws come from a [graph.Source] the caller seeds: the
// training step's seed, or a fixed one for evaluation.
//
// # Errors
//
// An invalid configuration (ErrConfig), inputs that do not fit a graph
// (ErrShape) and invalid masking settings (ErrMasking) are errors naming
// what and where, never panics.
package mlm
