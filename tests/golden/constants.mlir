module @jit_constants attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<2x3xf32>) -> (tensor<2x3xf32>) {
    %cst = stablehlo.constant dense<[[1.0, -2.0, 3.5], [0x7F800000, -0.0, 0.001]]> : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:28)
    %0 = stablehlo.multiply %arg0, %cst : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:28)
    %cst_0 = stablehlo.constant dense<2.0> : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:28)
    %1 = stablehlo.add %0, %cst_0 : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:28)
    %c = stablehlo.constant dense<[true, false, true]> : tensor<3xi1> loc("tests/test_golden_stablehlo.py":61:12)
    %2 = stablehlo.broadcast_in_dim %c, dims = [1] : (tensor<3xi1>) -> tensor<2x3xi1> loc("tests/test_golden_stablehlo.py":61:12)
    %cst_1 = stablehlo.constant dense<0xFF800000> : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:12)
    %3 = stablehlo.select %2, %1, %cst_1 : tensor<2x3xi1>, tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:12)
    %cst_2 = stablehlo.constant dense<0x7FC00000> : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:12)
    %4 = stablehlo.add %3, %cst_2 : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:12)
    %cst_3 = stablehlo.constant dense<7.0> : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:12)
    %5 = stablehlo.add %4, %cst_3 : tensor<2x3xf32> loc("tests/test_golden_stablehlo.py":61:12)
    return %5 : tensor<2x3xf32>
  }
}
