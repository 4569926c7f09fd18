// Package data holds what a recurrent model trains on: vocabularies,
// question–answer datasets in the format of "Deep Learning from Scratch 2"
// (ゼロから作るDeep Learning 2) chapter 7, seeded generators of the book's
// addition and date-format tasks, text corpora for language models, and
// batching (splits, permutations, length buckets, padding, truncated-BPTT
// windows). It is pure Go: nothing here depends on Gorgonia.
//
// # Vocabularies
//
// A [Vocab] maps tokens to ids. Ids 0 to 3 are always the special tokens
// [PAD] ("<pad>"), [BOS] ("<s>"), [EOS] ("</s>") and [UNK] ("<unk>"); the
// corpus's tokens follow in a deterministic order. [NewCharVocab] takes
// characters (runes), [NewWordVocab] whitespace-separated words. A Vocab
// marshals to and from JSON ({"tokens": [...]}), so it can be stored in a
// checkpoint's metadata; reading validates it.
//
// # Question–answer files
//
// Each line holds a question padded with spaces to a fixed width, an
// underscore, and the answer padded with spaces. The book's addition.txt
// (question width 7, answer width 4) holds lines such as
//
//	16+75  _91
//	52+607 _659
//
// (every line padded to 12 characters): the first line is the pair
// ("16+75", "91"). [ReadPairs] reads any such file, [WritePairs] writes one.
//
// # Generators
//
// [Addition] draws a+b problems as in the book's addition.txt, [Dates] a
// date-normalisation task (a date written in one of many human formats,
// answered as YYYY-MM-DD) like the book's date.txt.
//
// # Batching
//
// [EncodePairs] turns pairs into character ids (source, decoder input
// starting with BOS, labels ending with EOS); [Buckets] groups indices of
// similar length into batches; [PadBatch] pads one batch with PAD to fixed
// lengths. The resulting [Encoded] has the fields of models/seq2seq's Batch
// in the same order, so seq2seq.Batch(b) converts a padded batch. For
// language models, [Chunks] cuts a token stream into truncated-BPTT
// windows whose rows and lengths feed models/lm's TrainGraph.Set.
//
// # Randomness
//
// Every random choice draws from a math/rand/v2 generator passed by the
// caller, the same type as graph.Source, so graph.NewSource(seed) serves:
// the same seed gives the same data on every run and platform. Nothing
// here seeds from the clock.
//
// # Errors
//
// Malformed input (a bad file or JSON) gives errors wrapping [ErrFormat],
// with line numbers or byte offsets; invalid arguments give errors wrapping
// [ErrInvalid]. Functions without an error result document what they
// return for bad arguments. No function of this package panics.
package data

import "github.com/pkg/errors"

// ErrFormat is wrapped by every error about malformed input data: a
// question–answer file, a corpus or a vocabulary's JSON.
var ErrFormat = errors.New("data: bad format")

// ErrInvalid is wrapped by every error about invalid arguments.
var ErrInvalid = errors.New("data: invalid argument")
