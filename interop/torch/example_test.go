package torch_test

import (
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/interop/torch"
)

// Read the state_dict of a 2-layer torch.nn.LSTM(3, 4), saved by
// torch.save(lstm.state_dict(), "lstm.pt").
func Example() {
	sd, err := torch.Load("testdata/lstm.pt")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range sd.Tensors {
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	w, err := sd.Get("weight_hh_l1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d values, first %.6f\n", w.Name, w.Size(), w.Data[0])
	// Output:
	// weight_ih_l0 float32 [16 3]
	// weight_hh_l0 float32 [16 4]
	// bias_ih_l0 float32 [16]
	// bias_hh_l0 float32 [16]
	// weight_ih_l1 float32 [16 4]
	// weight_hh_l1 float32 [16 4]
	// bias_ih_l1 float32 [16]
	// bias_hh_l1 float32 [16]
	// weight_hh_l1: 64 values, first 0.084997
}

// A model wrapped in torch.nn.DataParallel saves its keys under "module.";
// Strip removes the prefix.
func ExampleStateDict_Strip() {
	sd, err := torch.Load("testdata/nested.pt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sd.Keys()[0])
	sd, err = sd.Strip("module.")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sd.Keys())
	// Output:
	// module.encoder.0.weight
	// [encoder.0.weight encoder.1.weight_ih_l0 encoder.1.weight_hh_l0 encoder.1.bias_ih_l0 encoder.1.bias_hh_l0 decoder.proj.weight decoder.proj.bias]
}

// Integer and boolean buffers, such as BatchNorm's num_batches_tracked,
// are listed in Skipped and refused by Get.
func ExampleStateDict_Get() {
	sd, err := torch.Load("testdata/buffers.pt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sd.Keys())
	for _, s := range sd.Skipped {
		fmt.Println("skipped:", s.Name, s.DType, s.Shape)
	}
	_, err = sd.Get("bn.num_batches_tracked")
	fmt.Println(err)
	// Output:
	// [scale lin.weight lin.bias bn.weight bn.bias bn.running_mean bn.running_var]
	// skipped: mask bool [3]
	// skipped: ids int32 [2 2]
	// skipped: bn.num_batches_tracked int64 []
	// tensor "bn.num_batches_tracked" is int64: torch: not a floating-point tensor
}
