// Command rnnkit runs rnnkit's experiments and checks.
//
//	rnnkit demo       a small date-format Seq2Seq run with attention
//	rnnkit recall     an LSTM learns delayed recall by BPTT
//	rnnkit parity     check models against PyTorch reference fixtures
//	rnnkit train      train a preset experiment (-list shows them), with metrics, plots and checkpoints
//	rnnkit eval       evaluate any checkpoint of train on a data file (-json: one JSON object)
//	rnnkit translate  answer questions with a Seq2Seq checkpoint
//	rnnkit sample     generate text with a language model checkpoint
//	rnnkit gradflow   how far back in time each cell's gradient reaches
//	rnnkit import     turn a PyTorch state_dict (torch.save) into an rnnkit checkpoint
//
// Every subcommand takes -h. Exit status: 0 on success, 1 when a check
// fails or a run goes wrong, 2 for a usage error (every flag is checked
// before any work; parity also for a fixture it cannot read). SIGINT and
// SIGTERM stop train after the current step, with a checkpoint.
package main
