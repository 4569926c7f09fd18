#!/usr/bin/python3
"""Generate tree-model fixtures in the schema of ../shared/fixtures/SCHEMA.md
(cases tree_rnn and tree_lstm), plus rnnkit's own case tree_childsum.

Run with Debian's PyTorch (/usr/bin/python3, package python3-torch):

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/make_tree_fixtures.py OUTDIR

Each model is written out in autograd from the equations in the public
fixtures' `doc` (copied below), independently of rnnkit's Go code: a node
at a time, in post-order, float64. The shapes are the ones the public
fixtures leave out: a single one-word tree, batch 1, a deep degenerate
chain, a batch of one-word trees only (the composition weights unused, their
gradients zero), other sizes (E != H, H = 1, C = 2), and for the child-sum
Tree-LSTM n-ary trees with unary nodes.
"""
import json
import random
import sys

import torch

torch.set_default_dtype(torch.float64)

WORDS = ["the", "film", "is", "not", "good", "bad", "very", "a", "movie", "at", "all", "funny", "dull", "and", "but"]

RNN_DOC = """Recursive neural network (Socher et al. 2011/2013), H = embedding size:
  leaf with word w:      h = embedding.weight[w]
  internal (L, R):       h = tanh(W.weight @ [h_L ; h_R] + W.bias)        ([h_L ; h_R] is 2H long, left first)
Params: embedding.weight [V,H], W.weight [H,2H], W.bias [H], linear.weight [C,H], linear.bias [C].
Trees: `trees` holds SST bracket strings, binary, a label 0..C-1 on every node; `vocab` maps word -> id (its index).
Node order everywhere (h, c, logits, labels): post-order (left subtree, right subtree, node), tree after tree.
`roots` gives each tree's root index in that order. Loss: mean cross-entropy of logits = linear(h) over ALL nodes of ALL trees
(labels = the node labels). Weights follow y = x @ W^T + b."""

LSTM_DOC = """Binary (N-ary, N=2) constituency Tree-LSTM (Tai et al. 2015, sec. 3.2), in the layout of DGL's tree_lstm example:
  leaf with word w (x = embedding.weight[w]; no children: h_L = h_R = c_L = c_R = 0, no forget gates):
      [i ; o ; u] = W_iou.weight @ x + b_iou            (i, o, u each H long, in that order)
  internal (children L, R; no word input):
      [i ; o ; u] = U_iou.weight @ [h_L ; h_R] + b_iou
      [f_L ; f_R] = sigmoid(U_f.weight @ [h_L ; h_R] + U_f.bias)
  then  i = sigmoid(i), o = sigmoid(o), u = tanh(u)
        c = i * u + f_L * c_L + f_R * c_R          (leaf: c = i * u)
        h = o * tanh(c)
Params: embedding.weight [V,E], W_iou.weight [3H,E], U_iou.weight [3H,2H], b_iou [1,3H] (one bias shared by leaves and internal nodes),
U_f.weight [2H,2H], U_f.bias [2H], linear.weight [C,H], linear.bias [C].
Trees: `trees` holds SST bracket strings, binary, a label 0..C-1 on every node; `vocab` maps word -> id (its index).
Node order everywhere (h, c, logits, labels): post-order (left subtree, right subtree, node), tree after tree.
`roots` gives each tree's root index in that order. Loss: mean cross-entropy of logits = linear(h) over ALL nodes of ALL trees
(labels = the node labels). Weights follow y = x @ W^T + b."""

CHILDSUM_DOC = """Child-sum Tree-LSTM (Tai et al. 2015, sec. 3.1), in the layout of DGL's ChildSumTreeLSTMCell; any number of children:
  leaf with word w (x = embedding.weight[w]; no children):
      [i ; o ; u] = W_iou.weight @ x + b_iou            (i, o, u each H long, in that order)
  internal (children k = 1..K; no word input):
      h_sum = sum_k h_k
      [i ; o ; u] = U_iou.weight @ h_sum + b_iou
      f_k = sigmoid(U_f.weight @ h_k + U_f.bias)         (one forget gate per child, one U_f for all)
  then  i = sigmoid(i), o = sigmoid(o), u = tanh(u)
        c = i * u + sum_k f_k * c_k                      (leaf: c = i * u)
        h = o * tanh(c)
Params: embedding.weight [V,E], W_iou.weight [3H,E], U_iou.weight [3H,H], b_iou [1,3H], U_f.weight [H,H], U_f.bias [H],
linear.weight [C,H], linear.bias [C]. (Constituency trees have words only at leaves, which have no children, so the paper's
W_f x term of the forget gate is zero wherever a forget gate exists.)
Trees: `trees` holds bracket strings, any number of children, a label 0..C-1 on every node; `vocab` maps word -> id (its index).
Node order everywhere (h, c, logits, labels): post-order (children left to right, then the node), tree after tree.
`roots` gives each tree's root index in that order. Loss: mean cross-entropy of logits = linear(h) over ALL nodes of ALL trees.
Weights follow y = x @ W^T + b."""


# ---- trees -----------------------------------------------------------------

def parse(s):
    """(label word) | (label child ...) -> (label, word or None, [children])"""
    toks = s.replace("(", " ( ").replace(")", " ) ").split()
    pos = 0

    def node():
        nonlocal pos
        assert toks[pos] == "("
        label = int(toks[pos + 1])
        pos += 2
        if toks[pos] != "(":
            word = toks[pos]
            pos += 2  # word and ')'
            return (label, word, [])
        kids = []
        while toks[pos] == "(":
            kids.append(node())
        assert toks[pos] == ")"
        pos += 1
        return (label, None, kids)

    t = node()
    assert pos == len(toks)
    return t


def show(t):
    label, word, kids = t
    if word is not None:
        return "(%d %s)" % (label, word)
    return "(%d %s)" % (label, " ".join(show(k) for k in kids))


def postorder(t, out):
    for k in t[2]:
        postorder(k, out)
    out.append(t)
    return out


def random_tree(rng, leaves, C, words, nary):
    if leaves == 1 and (not nary or rng.random() < 0.75):
        return (rng.randrange(C), rng.choice(words), [])
    k = 2 if not nary else rng.randint(1, min(leaves, 4))
    sizes = [1] * k
    for _ in range(leaves - k):
        sizes[rng.randrange(k)] += 1
    return (rng.randrange(C), None, [random_tree(rng, s, C, words, nary) for s in sizes])


def chain(n, C, words, left):
    t = (0, words[0], [])
    for i in range(1, n):
        leaf = (i % C, words[i % len(words)], [])
        t = ((i + 1) % C, None, [t, leaf] if left else [leaf, t])
    return t


# ---- models, a node at a time ---------------------------------------------

def tensor(x):
    x = x.detach().contiguous()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def make(name, case, trees, V, E, H, C, seed):
    torch.manual_seed(seed)
    vocab = WORDS[:V]
    if case == "tree_rnn":
        E = H
        shapes = [("embedding.weight", [V, H]), ("W.weight", [H, 2 * H]), ("W.bias", [H])]
    else:
        k = 2 if case == "tree_lstm" else 1
        shapes = [("embedding.weight", [V, E]), ("W_iou.weight", [3 * H, E]), ("U_iou.weight", [3 * H, k * H]),
                  ("b_iou", [1, 3 * H]), ("U_f.weight", [k * H, k * H]), ("U_f.bias", [k * H])]
    shapes += [("linear.weight", [C, H]), ("linear.bias", [C])]
    p = {}
    for pn, s in shapes:
        scale = 1.0 if pn == "embedding.weight" else 0.6
        p[pn] = (torch.randn(*s) * scale).requires_grad_()

    hs, cs, labels, roots = run_model(case, trees, vocab, p, H)
    Hm = torch.stack(hs)
    logits = Hm @ p["linear.weight"].T + p["linear.bias"]
    y = torch.tensor(labels)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    N = len(hs)
    out = {
        "name": name, "case": case, "set": "generated", "seed": seed,
        "torch_version": torch.__version__, "dtype": "float64",
        "doc": {"tree_rnn": RNN_DOC, "tree_lstm": LSTM_DOC, "tree_childsum": CHILDSUM_DOC}[case],
        "dims": {"B": len(trees), "V": V, "E": E, "H": H, "C": C, "N": N},
        "trees": [show(t) for t in trees],
        "vocab": vocab,
        "roots": roots,
        "params": {pn: tensor(p[pn]) for pn, _ in shapes},
        "inputs": {"labels": {"shape": [N], "data": labels}},
        "outputs": {"h": tensor(Hm), "logits": tensor(logits), "h_root": tensor(Hm[roots])},
        "loss": {"definition": "mean cross-entropy over all nodes", "value": float(loss)},
        "grads": {"params": {pn: tensor(p[pn].grad if p[pn].grad is not None else torch.zeros(*s)) for pn, s in shapes}},
    }
    if case != "tree_rnn":
        out["outputs"]["c"] = tensor(torch.stack(cs))
    # The trees read back as they were written.
    for s, t in zip(out["trees"], trees):
        assert show(parse(s)) == s == show(t)
    return out


def run_model(case, trees, vocab, p, H):
    ids = {w: i for i, w in enumerate(vocab)}
    hs, cs, labels, roots = [], [], [], []
    for t in trees:
        done = {}
        for n in postorder(t, []):
            label, word, kids = n
            c = None
            if case == "tree_rnn":
                if word is not None:
                    h = p["embedding.weight"][ids[word]]
                else:
                    h = torch.tanh(p["W.weight"] @ torch.cat([done[id(kids[0])][0], done[id(kids[1])][0]]) + p["W.bias"])
            else:
                if word is not None:
                    iou = p["W_iou.weight"] @ p["embedding.weight"][ids[word]] + p["b_iou"][0]
                    fc = torch.zeros(H)
                elif case == "tree_lstm":
                    (hl, cl), (hr, cr) = done[id(kids[0])], done[id(kids[1])]
                    hcat = torch.cat([hl, hr])
                    iou = p["U_iou.weight"] @ hcat + p["b_iou"][0]
                    f = torch.sigmoid(p["U_f.weight"] @ hcat + p["U_f.bias"])
                    fc = f[:H] * cl + f[H:] * cr
                else:
                    kh = [done[id(k)][0] for k in kids]
                    kc = [done[id(k)][1] for k in kids]
                    iou = p["U_iou.weight"] @ sum(kh) + p["b_iou"][0]
                    fc = sum(torch.sigmoid(p["U_f.weight"] @ hk + p["U_f.bias"]) * ck for hk, ck in zip(kh, kc))
                i, o, u = torch.sigmoid(iou[:H]), torch.sigmoid(iou[H:2 * H]), torch.tanh(iou[2 * H:])
                c = i * u + fc
                h = o * torch.tanh(c)
            done[id(n)] = (h, c)
            hs.append(h)
            cs.append(c)
            labels.append(label)
        roots.append(len(hs) - 1)
    return hs, cs, labels, roots


def shapes():
    rng = random.Random(11)
    W = WORDS
    out = []
    # name, case, trees, V, E, H, C
    out.append(("tree_rnn_one_leaf", "tree_rnn", [(3, "good", [])], 15, 4, 4, 5))
    out.append(("tree_rnn_B1_chain40", "tree_rnn", [chain(40, 5, W, left=True)], 15, 3, 3, 5))
    out.append(("tree_rnn_B4_H7_V9_C3", "tree_rnn",
                [random_tree(rng, n, 3, W[:9], False) for n in (5, 1, 8, 3)], 9, 7, 7, 3))
    out.append(("tree_rnn_leaves_only", "tree_rnn", [(1, "bad", []), (4, "funny", []), (2, "the", [])], 15, 2, 2, 5))
    out.append(("tree_lstm_one_leaf", "tree_lstm", [(0, "dull", [])], 15, 3, 4, 5))
    out.append(("tree_lstm_B1_chain40", "tree_lstm", [chain(40, 5, W, left=False)], 15, 3, 3, 5))
    out.append(("tree_lstm_B5_E6_H2_C2", "tree_lstm",
                [random_tree(rng, n, 2, W[:11], False) for n in (4, 1, 7, 2, 5)], 11, 6, 2, 2))
    out.append(("tree_lstm_H1", "tree_lstm", [random_tree(rng, n, 5, W, False) for n in (3, 6)], 15, 2, 1, 5))
    out.append(("tree_lstm_leaves_only", "tree_lstm", [(1, "bad", []), (4, "funny", [])], 15, 3, 2, 5))
    out.append(("tree_childsum_nary", "tree_childsum",
                [random_tree(rng, n, 5, W, True) for n in (6, 1, 9)] +
                [(1, None, [(0, "not", []), (2, None, [(3, "very", [])]), (4, "good", [])])], 15, 4, 3, 5))
    out.append(("tree_childsum_one_leaf", "tree_childsum", [(2, "film", [])], 15, 3, 2, 5))
    out.append(("tree_childsum_B1_chain30", "tree_childsum", [chain(30, 5, W, left=True)], 15, 2, 3, 5))
    return out


def main():
    outdir = sys.argv[1]
    for seed, (name, case, trees, V, E, H, C) in enumerate(shapes(), start=100):
        f = make(name, case, trees, V, E, H, C, seed)
        with open("%s/%s.json" % (outdir, name), "w") as out:
            json.dump(f, out)
        print(name, "N =", f["dims"]["N"], "loss", f["loss"]["value"])


if __name__ == "__main__":
    main()
