// Package hred is rnnkit's hierarchical dialogue models: HRED, the
// hierarchical recurrent encoder–decoder (Serban et al. 2016), VHRED, its
// latent-variable extension (Serban et al. 2017), and the flat Seq2Seq
// baseline built from the same parts. Dialogue data is in models/hred/dialog.
//
// # Models
//
// An [Example] is a reply and the utterances before it (its context).
// Weights are stored [out, in], linear(x) = x·Wᵀ + b, as PyTorch's layers;
// every recurrence is a cell of package cells (any registered kind, one
// layer), run by cells.Sequence with masks:
//
//	utterance encoder   u_n = Enc(e(w_n,1 … w_n,T))        encoder.*     E → H, per utterance
//	context RNN         c_n = Ctx(u_n, c_{n−1}); c = c_N   context.*     H → C (HRED, VHRED)
//	condition           d = u_N (Seq2Seq) | c (HRED) | [c; z] (VHRED)
//	decoder init        s_0,k = tanh(init.k(d))              per state tensor k (h; c of an LSTM)
//	decoder             s_t = Dec([e(y_{t−1}); d], s_{t−1})   decoder.*     E + D → H
//	output              p(y_t) = softmax(fc(h_t))            fc            H → V
//
// The embedding (embedding.weight) is shared by encoder and decoder. The
// condition d is both the decoder's initial state (through init.k) and
// concatenated to every decoder input, so it cannot be forgotten over a
// long reply. Seq2Seq reads only the last utterance of the context, u_N.
//
// VHRED draws one z per reply. The prior p(z | c) and the posterior
// q(z | c, r), with r the utterance encoder's vector of the reply (and its
// end token), are diagonal Gaussians from one tanh layer each:
//
//	prior      h = tanh(prior.hidden(c)),          μp = prior.mu(h),     log σp² = prior.logvar(h)
//	posterior  h = tanh(posterior.hidden([c; r])), μq = posterior.mu(h), log σq² = posterior.logvar(h)
//	z = μq + exp(½ log σq²) ⊙ ε,  ε ~ N(0, I) an input of the graph (the reparameterisation)
//	KL(q ‖ p) = ½ Σ (log σp² − log σq² + (σq² + (μq − μp)²) / σp² − 1)
//
// In training z comes from the posterior; in generation ([Generator]) from
// the prior, z = μp + σp ⊙ ε with ε chosen by the caller (zero: the
// prior's mean).
//
// # Loss
//
// [TrainGraph.Loss] is the mean cross-entropy per reply token (each reply
// and its end token) of a batch, plus, for VHRED, β · Σ KL / reply tokens:
// with β = 1 the negative ELBO per token. KL annealing (β from 0 to 1) and
// word dropout (decoder inputs replaced by UNK, [SetOptions]) are the
// remedies for the posterior collapse that the training loop applies.
//
// # Batches and masks
//
// A batch of B examples is padded to [Dims]: N utterance slots of Tu
// tokens and Tr decoder steps. The utterance encoder runs over all N·B
// slots at once (slot n of example b is sequence n·B + b, time-major), so
// its final states are the context RNN's N steps of B rows directly. A
// padded token keeps its sequence's state, a padded slot has state zero
// and the context RNN keeps its state over it, a padded reply step has
// weight 0 in the loss, a padding row (fewer examples than B) weighs
// nothing: a padded batch computes what each example computes alone
// (tested).
package hred
