// Command rnnkit runs rnnkit's experiments and checks.
//
//	rnnkit demo      train a small LSTM by BPTT on a generated task
//	rnnkit parity    check models against PyTorch reference fixtures
//	rnnkit train     train a preset experiment, with metrics, plots and checkpoints
//
// Every subcommand takes -h. Exit status: 0 on success, 1 when a check
// fails or a run goes wrong, 2 for a usage error or an unreadable input.
package main
