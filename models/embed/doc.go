// Package embed is rnnkit's embedding layer: a table of one vector per
// token id, looked up by a differentiable gather (graph.Gather), as
// torch.nn.Embedding.
//
// The table is the parameter Config.ParamName() ("embedding.weight" by
// default) of shape [Vocab, Dim], drawn from N(0, 1) like PyTorch's. With a
// padding id, that row starts at zero and never receives a gradient
// (PyTorch's padding_idx). Token ids are checked when they are set, so an id
// out of range is an error before the graph runs, never a panic.
//
// Weight tying (Press & Wolf 2017): [Embedding.Logits] projects hidden
// states onto the vocabulary with the same table, h·Wᵀ + b, so a model's
// input and output embeddings share one parameter.
package embed
