package qgemm

import "github.com/pkg/errors"

// ErrPath is returned when the requested path is unknown or this CPU
// cannot run it.
var ErrPath = errors.New("qgemm: path unavailable")

// ErrShape is returned for matrices whose sizes do not fit together.
var ErrShape = errors.New("qgemm: shapes do not match")

// ErrValue is returned for a non-finite input or scale.
var ErrValue = errors.New("qgemm: non-finite value")
