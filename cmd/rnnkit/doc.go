// Command rnnkit runs rnnkit's experiments and checks.
//
//	rnnkit demo      a small date-format Seq2Seq run with attention
//	rnnkit recall    an LSTM learns delayed recall by BPTT
//	rnnkit parity    check models against PyTorch reference fixtures
//	rnnkit train     train a preset experiment, with metrics, plots and checkpoints
//
// Every subcommand takes -h. Exit status: 0 on success, 1 when a check
// fails or a run goes wrong, 2 for a usage error or an unreadable input.
package main
