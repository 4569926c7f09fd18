// Package vae is the sentence variational autoencoder of Bowman et al.
// (2016), "Generating Sentences from a Continuous Space", built from
// rnnkit's cells and embedding, and its baseline, the same decoder without
// a latent variable (a sentence language model).
//
// # Model
//
// An RNN encoder reads a sentence x = w₁ … wₙ; two linear maps of its final
// hidden state give the mean μ and the log-variance log σ² of the diagonal
// Gaussian posterior q(z | x). The latent code is reparameterised,
//
//	z = μ + σ ⊙ ε,   ε ~ N(0, I),
//
// where ε is an input of the graph (drawn by the caller from a seeded
// source), so the graph is a deterministic function of its parameters and
// ε and differentiates through μ and σ. The decoder's initial state is
// tanh(W z + b) (one block per state tensor of the cell: h, and c for an
// LSTM), and with Config.ZInput z is also joined to every decoder input.
// The decoder reads <s> w₁ … wₙ and predicts w₁ … wₙ </s>.
//
// # Loss
//
// The training loss of a batch is the negative ELBO averaged over its
// sentences:
//
//	L = 1/B Σ_b [ Σ_t −log p(x_bt | x_b,<t, z_b) ] + β · KL
//	KL(q ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)
//
// with the reconstruction term summed over each sentence's tokens (padding
// masked) and the KL in closed form. β is set per step by an annealing
// schedule ([Anneal]); with free bits (Options.FreeBits = λ) the KL term is
// Σ_j max(λ, 1/B Σ_b KL_bj), Kingma et al. (2016), so that no dimension is
// pushed below λ nats. Word dropout (replacing decoder inputs with <unk>,
// [WordDropout]) is applied to the decoder's input tokens before Set.
//
// With Config.Latent = 0 there is no encoder and no z: the decoder starts
// from zeros and the loss is the sentence's negative log-likelihood, the
// baseline the VAE is compared with.
//
// # Graphs
//
// [BuildTrainGraph] builds the loss graph of a batch shape (B sentences,
// up to T words each) inside [graph.Build]; [Generator] runs the decoder
// one step at a time for models/decode (sampling from the prior,
// reconstruction, interpolation), and [Encode] returns the posterior of
// sentences.
package vae
