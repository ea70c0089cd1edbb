module @jit_selu attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<8xf32>) -> (tensor<8xf32>) {
    %cst = stablehlo.constant dense<0.0> : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:30)
    %0 = stablehlo.compare GT, %arg0, %cst, FLOAT : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xi1> loc("tests/test_golden_stablehlo.py":40:30)
    %1 = stablehlo.exponential %arg0 : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:48)
    %cst_0 = stablehlo.constant dense<1.67> : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:40)
    %2 = stablehlo.multiply %cst_0, %1 : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:40)
    %3 = stablehlo.subtract %2, %cst_0 : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:40)
    %4 = stablehlo.select %0, %arg0, %3 : tensor<8xi1>, tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:20)
    %cst_1 = stablehlo.constant dense<1.05> : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:12)
    %5 = stablehlo.multiply %cst_1, %4 : tensor<8xf32> loc("tests/test_golden_stablehlo.py":40:12)
    return %5 : tensor<8xf32>
  }
}
