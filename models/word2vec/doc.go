// Package word2vec is rnnkit's Word2Vec (Mikolov et al. 2013): skip-gram
// and continuous-bag-of-words word vectors trained with negative sampling
// or the hierarchical softmax, as the original C tool (word2vec.c) trains
// them, with its file formats and its evaluations.
//
// # Training
//
// [ReadCorpus] reads a corpus as the C tool does (words separated by
// spaces, tabs and newlines; a newline is the word "</s>" that ends a
// sentence) and builds its [Vocab]: "</s>" first, then the words of at
// least min-count occurrences, most frequent first. [Train] (or [New] and
// [Model.Train]) then runs Config.Iter passes with Config.Threads
// goroutines that update the shared weights without locks (Hogwild, as the
// C tool's threads). For every position of every sentence:
//
//	b = r mod window                      the dynamic window: 1..window words each side
//	skip-gram: for each context word c:   h = syn0[c] predicts the centre word w
//	CBOW:                                 h = mean of syn0[c] over the context predicts w
//
// and a prediction of w from h runs logistic units, each f = h·u,
// g = α(t − σ(f)), e += g·u, u += g·h, then adds e to the input rows:
//
//	negative sampling:       u = syn1neg[w] with t = 1, and syn1neg[n] with t = 0 for
//	                         Negative words n drawn from the unigram distribution ^0.75
//	hierarchical softmax:    u = syn1[p] for the inner nodes p on w's path in the
//	                         Huffman tree of the counts, t = 1 − (the branch taken)
//
// so that each step is stochastic gradient descent on −log σ(h·u_w) −
// Σ_n log σ(−h·u_n) (negative sampling) or −Σ_p log σ(±h·u_p) (the
// hierarchical softmax's path probability). Frequent words are sub-sampled:
// a token of a word of count c among T is kept with probability
// (√(c/(sT)) + 1)·sT/c for the threshold s = Config.Sample. The learning
// rate falls linearly from Config.StartAlpha to 10⁻⁴ of it over the run.
//
// Every choice is word2vec.c's, down to its arithmetic: the generator
// next = next·25214903917 + 11 and which bits each draw reads, the order
// of the draws, the 10⁸-slot unigram table (stored as slot ranges, same
// entries), the 1000-entry σ table and its clipping at ±6 (negative
// sampling uses σ = 0 or 1 beyond, the hierarchical softmax skips the
// node), CBOW's error added undivided to every context word, sentences of
// at most 1000 kept words, the update of α every 10,000 words, the Huffman
// construction. With one thread, rnnkit makes the C tool's random draws in
// the C tool's order; its float results differ in the last bits (the dot
// products are summed in another order), so runs are alike in their
// statistics, not bit for bit.
//
// # Reproducibility
//
// With Threads = 1 a run is a function of the corpus, the Config and the
// Seed: two runs write byte-identical vectors. With more threads each
// thread's random draws, its share of the corpus and its learning-rate
// schedule are still fixed by the seed (the C tool's schedule reads a
// count shared by all threads, which depends on timing; rnnkit's thread k
// decays α with its own progress × Threads), but the threads' updates to
// the shared rows interleave as the scheduler runs them, so the vectors
// differ from run to run by the order of those updates, and the
// evaluations vary by a few tenths of a point (docs/models.md gives the
// measured spread).
//
// # The definition and the fast path
//
// The fast path is the float32 kernel above, with its dot products and
// axpys in AVX2/FMA assembly (internal/vmath's Dot32, CrossAxpy32,
// Axpy32) and the output rows of the next prediction prefetched while the
// current one trains. The objective is also written as a Gorgonia graph,
// [Loss]: for a batch of [Example]s with their negative samples drawn, the
// sum of the units' −log σ(±h·u). [KernelGradients] runs the same kernel
// code in float64, with the exact σ and its updates written to zeroed
// buffers (α = −1), and gives the gradient of that sum: the tests check it
// against gorgonia.Grad of [Loss] and against finite differences. (For
// CBOW the kernel adds the hidden vector's gradient to each context word
// undivided, as the C tool does, which is the graph's gradient times the
// number of context words.)
//
// # Files
//
// [Vectors] hold the word vectors; [ReadVectors] and [Vectors.Write] read
// and write the C tool's text format (as gensim's and fastText's .vec
// files) and binary format (gensim's binary=True), and safetensors (one
// F32 tensor "embedding.weight" [words, size], the words in the metadata).
// The readers detect the format, check every field and refuse damaged
// files with a *[FormatError] naming the row.
//
// # Evaluations
//
// [Analogy] is word2vec's compute-accuracy (3CosAdd over the first
// restrict words; semantic and syntactic sections), [Similarity] the
// Spearman correlation of cosines with human scores (SimLex-999,
// WordSim-353), [Vectors.Neighbors] the C tool's distance.
package word2vec
