// Package lm is rnnkit's recurrent language model: tokens are embedded,
// run through a stack of recurrent cells, and projected onto the
// vocabulary to predict the next token,
//
//	x_t = embedding.weight[w_t]            [E]
//	h_t = cells (Layers deep) over x_≤t    [H]
//	p(w_{t+1} | w_≤t) = softmax(fc.weight · h_t + fc.bias)
//
// trained by backpropagation through time on the mean cross-entropy of the
// next token. With Tied, the output layer reuses the embedding table
// (Press & Wolf 2017; requires E = H). Generation runs a one-step graph in
// a Go loop through models/decode (greedy, sampling with temperature,
// top-k and top-p, beam search).
package lm
