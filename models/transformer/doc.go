// Package transformer is the Transformer (Vaswani et al. 2017) as
// Gorgonia graphs, in PyTorch's parameter names and layout, so that
// torch.nn.Transformer weights load as they are.
//
// # The blocks
//
// Scaled dot-product attention over B sequences, per head h of d = E/heads
// columns:
//
//	A_h = softmax(Q_h K_hᵀ / √d + mask) · V_h
//
// with Q, K, V the rows of in_proj_weight [3E, E] (and in_proj_bias)
// applied to the query and key/value inputs, the heads joined along the
// columns and projected by out_proj. The √d keeps the scores' variance
// near one whatever d, so the softmax does not saturate. Masks are 0/1
// "keep" matrices [B·Tq, Tk] ([KeepMask]): a causal mask (a decoder
// position sees itself and the past), PyTorch's float attn_mask (0 or
// −∞), and key padding (a padded key gets weight 0).
//
// LayerNorm normalises each row: (x − μ)/√(σ² + ε)·γ + β (biased σ², ε =
// 1e-5). The position-wise feed-forward block is linear2(act(linear1(x)))
// with ReLU or the exact GELU x·Φ(x). An encoder layer is self-attention
// then feed-forward, a decoder layer self-attention (causal), attention
// over the encoder's memory, then feed-forward; each sub-layer has a
// residual connection and a LayerNorm, after it (post-norm, the paper's
// and PyTorch's default) or before it (pre-norm, norm_first=True). The
// stacks end in a final LayerNorm (encoder.norm, decoder.norm). Dropout
// (graph.Dropout) is applied where PyTorch applies it: on the attention
// weights, inside the feed-forward block, on each sub-layer's output
// before the residual, and after the positional encoding.
//
// The sinusoidal positional encoding is PE[pos, 2i] = sin(pos/10000^(2i/E)),
// PE[pos, 2i+1] = cos(…); a sequence longer than the table (Config.MaxLen)
// is ErrTooLong.
//
// # Layout
//
// Activations are batch-major matrices [B·T, E] (row b·T + t); PyTorch's
// sequence-first tensors [T, B, E] are reordered by the caller
// (internal/parity does it for the fixtures). Linear layers and LayerNorm
// act on rows, so only attention sees the sequences.
//
// # Definition and fast path
//
// [Net] builds every block op by op (the definition: per sequence and
// head, rnnkit's MatMul, Rows, Cols and the masked softmax of package
// attention; LayerNorm from matrix products). With Net.Fused set,
// attention over all heads and LayerNorm are single ops with their own
// backward passes ([AttentionOp], [LayerNormOp]), checked against the
// definition and finite differences. The loss is graph.CrossEntropy, a
// fused softmax cross-entropy.
//
// # The Seq2Seq model
//
// [Config] describes the model of PyTorch's translation tutorial: one
// embedding shared by source and target, scaled by √E, plus the
// positional encoding; nn.Transformer; a generator Linear "fc" to the
// vocabulary. [BuildSeq2Seq] builds it with its loss (the mean
// cross-entropy of the next token over the target positions that are not
// padding).
//
// # Errors
//
// E not divisible by the heads, an unknown activation (ErrConfig), a mask
// of the wrong shape or values (ErrMask), a sequence beyond the positional
// table (ErrTooLong) are errors naming what and where, never panics.
package transformer
