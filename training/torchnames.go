package training

// The PyTorch names of the models of this package (package interop loads
// PyTorch state_dicts with them; docs/models.md, "PyTorch names"). rnnkit
// names its parameters as PyTorch modules named embedding, rnn, encoder,
// decoder, fc, attn, bridge and memory would; these prefixes map the names
// that PyTorch's own examples and rnnkit's benchmarks give the same
// modules.

// TorchNames returns the PyTorch module prefixes a language model's
// state_dict may use for rnnkit's: those of PyTorch's word_language_model
// example (encoder for the embedding, decoder for the output layer) and
// of benchmarks/torch_models.py (emb), and lstm, gru for the recurrent
// layers. A module named as rnnkit names it (embedding, rnn, fc) needs
// none.
func (m *LM) TorchNames() map[string]string {
	return map[string]string{
		"emb.": "embedding.", "encoder.": "embedding.", "decoder.": "fc.",
		"lstm.": "rnn.", "gru.": "rnn.",
	}
}

// TorchTied returns, for a model with tied weights (Cfg.Model.Tied), the
// output layer's weight that PyTorch saves beside the embedding it shares:
// fc.weight (after TorchNames, so decoder.weight too) must equal
// embedding.weight.
func (m *LM) TorchTied() map[string]string {
	if !m.Cfg.Model.Tied {
		return nil
	}
	return map[string]string{"fc.weight": "embedding.weight"}
}

// TorchNames returns the PyTorch module prefixes a Seq2Seq state_dict may
// use for rnnkit's: those of benchmarks/torch_models.py (emb, enc, dec).
// Modules named as rnnkit names them (embedding, encoder, decoder, fc,
// attn, bridge, memory) need none.
func (m *Seq2Seq) TorchNames() map[string]string {
	return map[string]string{"emb.": "embedding.", "enc.": "encoder.", "dec.": "decoder."}
}

// TorchNames implements interop.TorchNamer: the tree models' PyTorch names
// are rnnkit's (the fixtures' layout), also under DGL's "cell." module.
func (m *Tree) TorchNames() map[string]string { return map[string]string{"cell.": ""} }
