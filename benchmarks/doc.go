// Package benchmarks holds rnnkit's throughput benchmarks. Run them with
//
//	go test ./benchmarks -run '^$' -bench . -benchmem
//
// Each of BenchmarkRNN, BenchmarkLSTM, BenchmarkGRU and BenchmarkBiLSTM
// has sub-benchmarks forward/S1 … and train/S1 …, where the shapes are
//
//	S1: batch 32, 35 steps, input 128, hidden 256
//	S2: batch 64, 35 steps, input 256, hidden 512
//	S3: batch 1,  35 steps, input 32,  hidden 32
//
// all float32. BenchmarkCells runs every registered cell kind
// (cells.Kinds) the same way, as KIND/forward/S1 … and KIND/train/S1 …:
// through its fused kernel if it has one, its step-by-step subgraph
// otherwise. forward runs the unrolled layer; train runs forward and
// backward of the sum of all outputs (no optimiser step), as
// torch_layers.py does for PyTorch. Each reports tokens/s,
// where tokens = batch × steps. The graph is built and compiled once per
// benchmark, outside the timed loop, as a training run would.
package benchmarks
