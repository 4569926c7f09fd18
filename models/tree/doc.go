// Package tree is rnnkit's tree-structured networks over parse trees: a
// reader of PTB bracket trees as the Stanford Sentiment Treebank ships
// them, and three models that compose word vectors up a tree into one
// vector per phrase, with a softmax classifier on every node.
//
// # Trees
//
// [Parse], [Read] and [ReadFile] read one tree per line: "(label word)" for
// a leaf, "(label child child …)" for an internal node (any number of
// children; SST's trees are binary), a class label in 0..C−1 on every node.
// Unbalanced brackets, a missing label, a label outside 0..C−1, a word
// beside children, an empty line: a *ParseError naming the file, line and
// column. A [Node] knows its children, its post-order ([Node.PostOrder]:
// each subtree left to right, then the node; the root last) and where it
// was read. [BuildVocab] makes a vocabulary from (training) trees with
// [Unknown] at id 0; [NewBatch] flattens a batch of trees into one list of
// nodes in post-order, tree after tree: the layout of every output.
//
// # Models
//
// x_w is word w's row of embedding.weight. Weights are stored [out, in],
// y = x·Wᵀ + b, as PyTorch's (and DGL's) layers; σ is the logistic function.
//
// [RNN], the recursive neural network (Socher et al. 2011, 2013), binary
// trees, E = H:
//
//	leaf w:       h = x_w
//	node (L, R):  h = tanh(W [h_L; h_R] + b)        W.weight [H, 2H], W.bias [H]
//
// [BinaryLSTM], the binary constituency Tree-LSTM (Tai et al. 2015, §3.2,
// N = 2) in DGL's layout; a leaf has no children (h_k = c_k = 0, no forget
// gate), an internal node no word:
//
//	leaf w:       [i; o; u] = W_iou x_w + b_iou
//	node (L, R):  [i; o; u] = U_iou [h_L; h_R] + b_iou
//	              [f_L; f_R] = σ(U_f [h_L; h_R] + U_f.bias)     one forget gate per child
//	then          i = σ(i), o = σ(o), u = tanh(u)
//	              c = i⊙u + f_L⊙c_L + f_R⊙c_R                (a leaf: c = i⊙u)
//	              h = o⊙tanh(c)
//
// with W_iou.weight [3H, E], U_iou.weight [3H, 2H], b_iou [1, 3H] (one
// bias for leaves and internal nodes), U_f.weight [2H, 2H], U_f.bias [2H].
// Each child has its own forget gate, which reads both children: the node
// can keep one child's memory and drop the other's.
//
// [ChildSumLSTM], the child-sum Tree-LSTM (Tai et al. 2015, §3.1), any
// number of children k = 1..K, in DGL's layout:
//
//	h̃ = Σ_k h_k
//	[i; o; u] = W_iou x + U_iou h̃ + b_iou                   (x = x_w at a leaf, 0 elsewhere; h̃ = 0 at a leaf)
//	f_k = σ(U_f h_k + U_f.bias)                             one forget gate per child, one U_f for all
//	c = σ(i)⊙tanh(u) + Σ_k f_k⊙c_k,  h = σ(o)⊙tanh(c)
//
// with U_iou.weight [3H, H], U_f.weight [H, H], U_f.bias [H]. The paper's
// forget gate also reads the node's input, W_f x_j; in constituency trees
// only leaves have words and leaves have no children to forget, so that
// term is zero wherever a forget gate exists and the model carries no W_f.
// (DGL's example drops it too, where its nodes do have inputs: here it is
// not a shortcut.)
//
// Every model ends in the same classifier and loss:
//
//	logits = linear.weight h + linear.bias                  linear.weight [C, H], linear.bias [C]
//	loss = (1/N) Σ_nodes −log softmax(logits)[label]          over all N nodes of all trees
//
// [Config.Params] lists every parameter's name and shape; the names and
// layouts are those of the reference fixtures (cases tree_rnn and
// tree_lstm), so PyTorch weights load as they are.
//
// # How gradients flow through a tree
//
// Backpropagation through structure (Goller & Küchler 1996) is BPTT's
// tree-shaped counterpart. Every node receives the gradient of its own
// classifier's loss and, through its parent, the gradient of every
// ancestor's; nodes are visited in reverse post-order, so a node's whole
// upstream gradient is summed before it passes it on. At a recursive-net
// node, δ = (∂L/∂h)⊙(1 − h²) gives ∂L/∂W += δ [h_L; h_R]ᵀ and sends
// Wᵀδ, split in halves, to the left and right child. At a Tree-LSTM node,
// ∂L/∂c = ∂L/∂h⊙o⊙(1 − tanh²c) + (what the parent sent to c), and child k
// receives f_k⊙∂L/∂c on its memory cell — the constant error carousel
// along every root-to-leaf path, gated per child — and, on h, the gradient
// through the gates' pre-activations (U_iouᵀ and U_fᵀ times their deltas).
// A parameter's gradient is the sum over every node that uses it; the
// embedding's rows receive the gradients of the leaves of their word. In
// the definition ([BuildTrainGraph]) each node is a small Gorgonia subgraph
// and gorgonia.Grad does all of this symbolically.
//
// # Graphs: the definition and the level-batched path
//
// [BuildTrainGraph] builds a batch of trees as one Gorgonia graph (inside
// graph.Build, as every rnnkit graph), its outputs H, C, Logits, Roots and
// Loss laid out in the batch's post-order; it is the definition. Its graph
// has a few dozen Gorgonia nodes per tree node and depends on the shape of
// the trees; words and labels are side inputs ([TrainGraph.Set]).
//
// [BuildLevelGraph] is the speed path, with the same outputs. A node's
// height is 0 for a leaf and one more than its highest child otherwise;
// every node of one height depends only on lower ones, so one fused op
// computes, across all trees of the batch, the leaves with one product
// (X·W_iouᵀ for the Tree-LSTMs) and then each height with one product of
// the stacked children's states (A·U_iouᵀ and A·U_fᵀ, A's rows [h_L; h_R],
// or Σ_k h_k and the stacked h_k for the child-sum), as DGL and TensorFlow
// Fold batch trees. Its gradient op runs the heights back down with the
// transposed products, so a node has all of its upstream gradient when its
// height is reached; the weight gradients are one product per height
// (dPreᵀ·A). A forget gate is stored with the child it gates (each node has
// one parent), which serves binary and child-sum trees alike. The
// level-batched graph equals the definition to 1e-12 in float64 (tests on
// one leaf, degenerate chains, random and n-ary trees), matches finite
// differences and passes the fixtures (rnnkit parity -fused). It depends
// only on the numbers of trees, nodes and leaves: [TrainGraph.Set] takes
// any batch of those counts, so one compiled machine serves them all.
//
// # Training
//
// [BuildLevelGraphWith] adds dropout on every node's h before the
// classifier ([Options], its masks drawn by TrainGraph.Dropout), and
// [TrainGraph.SetWeighted] gives every node its own loss weight: the
// trainer (training.Tree, rnnkit train -preset sst-treelstm) weighs each
// real node 1/trees and pads a batch up to a multiple of a leaf count with
// a padding tree of weight 0, so that a few compiled graphs serve a whole
// epoch.
//
// # Raw sentences
//
// [Tokenize] splits a sentence as SST's trees are tokenized; a parser's
// constituent tree (link-grammar's link-parser, [ReadConstituents]) or,
// without one, [RightBranching] gives it a tree, and [Binarize] makes any
// tree binary for the binary models (rnnkit classify).
package tree
