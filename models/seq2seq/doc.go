// Package seq2seq is rnnkit's encoder–decoder: source tokens are embedded
// and encoded by a recurrent layer, the encoder's final state starts the
// decoder, and the decoder's outputs are projected onto the vocabulary.
//
//	emb   = embedding.weight [V, E]           (one table for source and target, as the fixture's model)
//	enc   = encoder (cell kind, Layers deep)   over emb[src], from zeros
//	dec   = decoder (same kind and depth)      over emb[dec_in], from enc's final state
//	logit = dec_out · fc.weightᵀ + fc.bias     [V]
//	loss  = mean over real target positions of −log softmax(logit)[label]
//
// Training uses teacher forcing: the decoder reads the reference target
// shifted right (start token first) and predicts the next token at every
// step. Variable-length batches are padded and masked: a finished source
// keeps its state, so the decoder starts from each source's own last
// token's state, and padded target positions add nothing to the loss or to
// any gradient.
//
// Parameter names follow PyTorch's state_dict for the equivalent modules:
// embedding.weight, encoder.weight_ih_l0 …, decoder.weight_ih_l0 …,
// fc.weight [V, H], fc.bias [V].
//
// # Files
//
// config.go holds the Config (decoder kinds, attention scores, validation,
// initialisation); encoder.go binds the model's parameters into a graph and
// encodes a source (step by step or through cells.Sequence, bidirectional
// with a bridge to the decoder's state); decoder.go is one decoder step
// (attention memory, scores, the output projection); traingraph.go the
// unrolled training graph with teacher forcing (TrainGraph, and its fused
// form over whole sequences); batch.go loads a padded batch into it
// (TrainGraph.Set, masks); generate.go the one-step graph that decoding
// runs in a loop; fused.go the float32 decoder step that replaces that
// graph for LSTM decoders (plain, or with dot or general attention),
// checked against it by fused_test.go.
package seq2seq
