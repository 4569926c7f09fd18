// Package birnn is a bidirectional recurrent encoder over any two cells.
//
// # The encoder
//
// An [Encoder] pairs a forward cell f and a backward cell b of package
// cells (any kinds, each implementing cells.Sized, with equal input sizes)
// and a [Merge] mode. Over the time steps x_0 … x_{T−1}, each [B, I]:
//
//	→h_t = f(x_t, →h_{t−1}),  →h_{−1} = s0f        (t = 0 … T−1)
//	←h_t = b(x_t, ←h_{t+1}),  ←h_T    = s0b        (t = T−1 … 0)
//	y_t  = merge(→h_t, ←h_t)
//
// where merge is one of
//
//	Concat   y_t = [→h_t ; ←h_t]      [B, Hf+Hb], forward half first (PyTorch's layout)
//	Sum      y_t = →h_t + ←h_t        [B, H]
//	Mul      y_t = →h_t ⊙ ←h_t        [B, H]
//	Average  y_t = (→h_t + ←h_t)·½    [B, H]
//
// The outputs are indexed by original time: y_t sees x_0 … x_t through the
// forward half and x_t … x_{T−1} through the backward half. The final
// states are the forward cell's state after x_{T−1} and the backward cell's
// state after x_0 (PyTorch's h_n[0] and h_n[1] of a one-layer bidirectional
// module). Nil initial states are zeros.
//
// # Padded batches
//
// With masks (one [B] node of 0s and 1s per step; m_t[b] = 1 where sequence
// b has a token at step t, its tokens first and its padding after), each
// direction is unrolled with cells.UnrollMasked or cells.UnrollReverseMasked:
// at a padded step a sequence keeps its state and its output is zero. So
// each sequence's backward pass starts from s0b at its own last token, the
// merged output of a padded step is zero (for every merge mode), the final
// states are each sequence's own, and outputs, final states and parameter
// gradients are those of each sequence encoded alone.
//
// # Stacks
//
// [NewStack] binds L bidirectional layers of one cell kind from existing
// parameters named as torch.nn.LSTM(bidirectional=True, num_layers=L)
// names them (weight_ih_l{k} and weight_ih_l{k}_reverse, …, see
// [LayerConfigs] and [StackConfigs]); layer k > 0 consumes layer k−1's
// concatenated output, of size 2H. Initial and final states are listed in
// PyTorch's h_n order, index layer·2 + direction.
//
// # Gorgonia traps
//
// The concatenation is graph.ConcatCols, not gorgonia.Concat: the
// gradient of gorgonia.Concat slices its output gradient with
// gorgonia.Slice, whose hash keeps only the low byte of the bounds, so when
// both halves are multiples of 256 wide (hidden size 256, 512, …) the
// slices 0:256 and 256:512 merge into one node and the backward half
// receives the forward half's gradient. graph.ConcatCols differentiates
// through graph.Cols instead. Average's constant ½ is the node
// graph.Graph.Scalar(0.5) would return for the same graph (an Encoder is
// built from cells and does not hold their graph.Graph).
// Sum, Mul and Average are Gorgonia's Add, HadamardProd and Mul by a scalar
// constant (the second argument); their first argument, the forward
// output, is copied first if it is a parameter, an input or a view
// (Reshape, Transpose), whose memory Gorgonia may overwrite in place.
//
// # Errors
//
// Nothing here panics on bad input. A bad pairing of cells or a bad stack
// description is [ErrConfig]; bad arguments to Encode (wrong number of
// masks, nil or misshapen nodes, wrong number of initial states) are
// [ErrInput]; an empty sequence is cells.ErrEmpty. Errors from the cells
// are passed on with context. Test with errors.Is.
package birnn
