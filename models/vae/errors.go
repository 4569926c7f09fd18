package vae

import "github.com/pkg/errors"

// ErrConfig is returned (wrapped) for an invalid Config or Options.
var ErrConfig = errors.New("vae: invalid config")

// ErrInput is returned (wrapped) for a batch that does not fit the graph:
// too many or too long sentences, token ids outside the vocabulary, ε of
// the wrong shape, a non-finite β.
var ErrInput = errors.New("vae: invalid input")

// The special token ids the model uses: those of every rnnkit vocabulary
// (training/data's PAD, BOS, EOS and UNK; training checks they agree).
const (
	PAD = 0 // padding (never read: masked)
	BOS = 1 // the decoder's first input
	EOS = 2 // the decoder's last label
	UNK = 3 // what word dropout puts in a word's place
)
