// Package distill trains a small model (the student) from a trained one
// (the teacher), for rnnkit's language-model and Seq2Seq families, through
// the one training.Trainer.
//
// # Word-level distillation
//
// Hinton, Vinyals & Dean (2015): the student minimises, at each target
// position,
//
//	(1 − α)·CE(y, softmax(z_s)) + α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T))
//
// with z_s and z_t the student's and the teacher's logits, y the data's
// token and T the temperature; both terms are means over the real
// positions, as the student's own loss is. The factor T² keeps the soft
// term's gradient, α·T·(softmax(z_s/T) − softmax(z_t/T)), on the scale of
// the hard term's as T changes. [Model] wraps the student's
// training.Model: its training graphs add the soft term ([SoftKL]) to the
// student's loss; the teacher runs forward on the same batch (its own
// compiled graph, dropout off) to give softmax(z_t/T). Evaluation graphs
// are the student's own, so the metrics are the student's.
//
// # Sequence-level distillation
//
// Kim & Rush (2016): the student of a Seq2Seq teacher trains on the
// teacher's beam-search answers to the training questions instead of the
// references ([Relabel]); word-level distillation can be added on top.
//
// A distillation run's checkpoints are the student's ordinary checkpoints:
// eval, translate and sample read them as they are. The teacher's carried
// state is not in them: a language model's distillation resumes only from
// the end of an epoch (Seq2Seq carries nothing).
package distill
