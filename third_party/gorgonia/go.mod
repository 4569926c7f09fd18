module gorgonia.org/gorgonia

go 1.16

require (
	github.com/awalterschulze/gographviz v2.0.3+incompatible
	github.com/chewxy/hm v1.0.0
	github.com/chewxy/math32 v1.10.1
	github.com/pkg/errors v0.9.1
	github.com/xtgo/set v1.0.0
	gonum.org/v1/gonum v0.11.0
	gorgonia.org/dawson v1.2.0
	gorgonia.org/tensor v0.9.23
	gorgonia.org/vecf32 v0.9.0
	gorgonia.org/vecf64 v0.9.0
)
