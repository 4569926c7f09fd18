// Package mpi binds the little of Open MPI that data-parallel training
// needs (package distributed's Comm) through cgo: MPI_Init_thread,
// MPI_Comm_rank and _size, MPI_Allreduce (sum, in place), MPI_Bcast,
// MPI_Barrier, MPI_Abort and MPI_Finalize on MPI_COMM_WORLD.
//
// The binding is built only with the build tag mpi and needs Open MPI's
// headers and library (Debian: openmpi-bin, libopenmpi-dev; found with
// pkg-config ompi-c):
//
//	go build -tags mpi ./cmd/rnnkit
//	mpirun -np 2 ./rnnkit train -preset … -distributed
//
// The default build is pure Go: [Built] is false and [Init] returns an
// error wrapping [ErrNotBuilt], so a program can say what to do instead.
//
// Errors: MPI_COMM_WORLD's error handler is MPI_ERRORS_RETURN, so a
// failing call returns an error (with MPI's message) instead of killing
// the process. A rank that dies is noticed by mpirun, which stops the
// others; and each collective has a watchdog ([Init]'s timeout): a rank
// that waits longer for the others prints why and exits with status 3,
// which makes mpirun stop the rest.
//
// Threads: MPI is initialised with MPI_THREAD_SERIALIZED and every call
// holds a mutex, since Go moves goroutines between threads.
package mpi
