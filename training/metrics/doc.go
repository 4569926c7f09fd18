// Package metrics holds the evaluation measures of rnnkit's experiments:
// exact match and token accuracy of generated sequences, perplexity and
// bits per character of a language model, and corpus BLEU (Papineni et al.
// 2002) with the brevity penalty, as sacrebleu computes it without
// smoothing (and with add-one smoothing as an option).
package metrics
