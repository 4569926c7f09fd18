package dialog_test

import (
	"fmt"
	"strings"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/hred/dialog"
)

func ExampleRead() {
	in := "Good morning , sir . __eou__ Good morning ! __eou__ How can I help ? __eou__\n"
	ds, err := dialog.Read(strings.NewReader(in), dialog.Options{})
	fmt.Println(len(ds), err)
	for _, u := range ds[0] {
		fmt.Printf("%q\n", u)
	}
	_, err = dialog.Read(strings.NewReader("Hello . __eou__ Hi\n"), dialog.Options{})
	fmt.Println(err)
	// Output:
	// 1 <nil>
	// "Good morning , sir ."
	// "Good morning !"
	// "How can I help ?"
	// dialog: line 1: text after the last __eou__: "Hi" (a missing " __eou__"?)
}

func ExampleSynthetic() {
	d := dialog.Synthetic(1, graph.NewSource(1), dialog.SynthOptions{MinDistractors: 2, MaxDistractors: 2})[0]
	fmt.Println(len(d), dialog.SynthAnswer(d)+" ." == d[len(d)-1])
	// Output: 5 true
}
